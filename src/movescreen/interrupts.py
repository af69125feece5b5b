"""Ctrl-C and SIGTERM: stop at the next frame, keep what was measured, exit 130 / 143.

One process-wide state, set by the signal handlers this module installs (only the CLI and the
batch driver install them; library callers keep Python's usual ``KeyboardInterrupt``).

- **analyze** (:func:`install`, ``mode="flag"``): the first SIGINT or SIGTERM sets a flag. The
  frame source wrapped by :func:`stoppable` then stops handing out frames; the few frames already
  decoded are analysed, and :func:`keep_partial` writes ``landmarks.csv`` and a ``report.json``
  with ``status: "interrupted"`` and the frame reached, then raises :class:`Interrupted`. While
  the review outputs are drawn (:func:`stop_now`), the first signal raises at once instead: the
  measurements are complete and are kept, the half-drawn video is dropped.
  A second signal raises ``KeyboardInterrupt`` at once; every file is written through
  :func:`movescreen.sinks.atomic_path`, so unwinding deletes the temporary file and leaves the
  old file (or none), never half of one.
- **batch parent** (``mode="poll"``): handlers only count signals; the driver polls
  :func:`requested` / :func:`count` and tells its workers with SIGUSR1 (stop at the next frame)
  and SIGUSR2 (stop now). Workers (:func:`install_worker`) ignore SIGINT and SIGTERM themselves,
  so a Ctrl-C that reaches the whole process group is counted once, by the parent.

The exit code is ``128 + signal number``: 130 for SIGINT, 143 for SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

SIGNALS = (signal.SIGINT, signal.SIGTERM)
# parent -> batch worker; Windows has neither: there the workers finish their video (first
# signal) or are killed (second)
STOP_SOFT: int | None = getattr(signal, "SIGUSR1", None)
STOP_NOW: int | None = getattr(signal, "SIGUSR2", None)
Mode = Literal["flag", "poll", "raise"]


def exit_code(signum: int) -> int:
    """128 + the signal's number (130 for SIGINT, 143 for SIGTERM).

    >>> exit_code(signal.SIGINT), exit_code(signal.SIGTERM)
    (130, 143)
    """
    return 128 + int(signum)


def _plain_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return str(signum)


def signal_name(signum: int) -> str:
    """'Ctrl-C (SIGINT)', 'SIGTERM', or the signal's name."""
    if signum == signal.SIGINT:
        return "Ctrl-C (SIGINT)"
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


@dataclass
class _State:
    signum: int | None = None  # the first signal received
    count: int = 0
    mode: Mode = "flag"
    urgent: bool = False  # inside stop_now(): the first signal raises at once
    frames_expected: int | None = None  # what the stoppable source announced
    frames_given: int = 0


_state = _State()


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; ``str(e)`` is the one-sentence account.

    A ``KeyboardInterrupt`` so that no ``except Exception`` on the way swallows it.

    Attributes
    ----------
    signum : int
    exit_code : int
        130 (SIGINT) or 143 (SIGTERM).
    kept : bool
        Whether the measured part was written (``landmarks.csv`` and ``report.json``).
    paths : dict of str to Path
        The files written for it (``landmarks``, ``angles``, ``report``).
    """

    def __init__(self, message: str, signum: int = signal.SIGINT, *, kept: bool = False,
                 paths: dict[str, Path] | None = None) -> None:
        super().__init__(message)
        self.signum = signum
        self.exit_code = exit_code(signum)
        self.kept = kept
        self.paths = dict(paths or {})

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "Interrupted."


def requested() -> int | None:
    """The first signal received (a stop was asked for), or None."""
    return _state.signum


def count() -> int:
    """How many stop signals arrived since :func:`install` (or :func:`reset`)."""
    return _state.count


def record(signum: int = signal.SIGINT) -> None:
    """Count a stop as if ``signum`` had arrived (e.g. a ``KeyboardInterrupt`` seen by a caller
    that installed no handler)."""
    _state.count += 1
    if _state.signum is None:
        _state.signum = signum


def reset() -> None:
    """Forget any signal received (a new run starts)."""
    global _state
    _state = _State(mode=_state.mode)


def _handler(signum: int, frame: Any) -> None:
    st = _state
    st.count += 1
    first = st.signum is None
    if first:
        st.signum = signum
    if st.mode == "poll":
        return
    if not first or st.mode == "raise":
        raise KeyboardInterrupt
    if st.urgent:
        raise Interrupted(_sentence_urgent(signum), signum)
    # say at once that the signal was heard (os.write: no lock a handler could deadlock on)
    _say(f"movescreen: {signal_name(signum)}: stopping at the next frame and keeping what was "
         "measured; press Ctrl-C again to stop at once.\n")


def _say(text: str) -> None:
    try:  # Python's stderr descriptor: fd 2 may be silenced for native log lines just now
        fd = sys.stderr.fileno() if sys.stderr is not None else 2
    except (AttributeError, OSError, ValueError):
        fd = 2
    try:
        os.write(fd, text.encode("utf-8", "replace"))
    except OSError:
        pass


def _sentence_urgent(signum: int) -> str:
    return f"Stopped by {signal_name(signum)} while drawing the review outputs."


@contextlib.contextmanager
def install(mode: Mode = "flag") -> Iterator[None]:
    """Handle SIGINT and SIGTERM as described in the module docstring, then restore the old
    handlers. Does nothing outside the main thread (signals can only be handled there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    global _state
    old = {s: signal.getsignal(s) for s in SIGNALS}
    before = _state
    _state = _State(mode=mode)
    for s in SIGNALS:
        signal.signal(s, _handler)
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        _state = before  # a later run in this process starts unstopped


def install_worker() -> None:
    """In a batch worker process: ignore SIGINT/SIGTERM (the parent decides) and obey the
    parent's SIGUSR1 (stop at the next frame, keep what was measured) and SIGUSR2 (stop now)."""
    global _state
    _state = _State(mode="flag")
    for s in SIGNALS:
        signal.signal(s, signal.SIG_IGN)

    def soft(signum: int, frame: Any) -> None:
        st = _state
        st.count += 1
        if st.signum is None:
            st.signum = signal.SIGINT  # the batch was interrupted; the parent chooses the exit code
        if st.urgent:
            raise Interrupted(_sentence_urgent(signal.SIGINT), signal.SIGINT)

    def now(signum: int, frame: Any) -> None:
        _state.count += 2
        if _state.signum is None:
            _state.signum = signal.SIGINT
        if not _worker_busy:  # idle between videos: nothing to stop, no traceback to print
            os._exit(130)
        raise KeyboardInterrupt

    if STOP_SOFT is not None and STOP_NOW is not None:
        signal.signal(STOP_SOFT, soft)
        signal.signal(STOP_NOW, now)


_worker_busy = False


@contextlib.contextmanager
def worker_job() -> Iterator[None]:
    """Around one job in a batch worker: a "stop now" signal (SIGUSR2) then interrupts the job;
    outside a job the idle worker just exits. (Raised while the worker waits for its next job,
    the KeyboardInterrupt escaped the process pool's loop and printed a traceback.)"""
    global _worker_busy
    before, _worker_busy = _worker_busy, True
    try:
        yield
    finally:
        _worker_busy = before


@contextlib.contextmanager
def stop_now() -> Iterator[None]:
    """Inside this block (drawing the review outputs), the first signal raises
    :class:`Interrupted` at once instead of waiting for the next frame; a signal already
    received raises on entry."""
    if _state.signum is not None and _state.mode != "poll":
        raise Interrupted(_sentence_urgent(_state.signum), _state.signum)
    before = _state.urgent
    _state.urgent = True
    try:
        yield
    finally:
        _state.urgent = before


class _StoppableSource:
    """A frame source that stops handing out frames once a stop was asked for."""

    def __init__(self, source: Any) -> None:
        self._source = source
        _state.frames_given = 0
        _state.frames_expected = getattr(getattr(source, "info", None), "frame_count", None) or None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)

    def __iter__(self) -> Iterator[Any]:
        for frame in self._source:
            if _state.signum is not None:
                return
            _state.frames_given += 1
            yield frame


def stoppable(source: Any) -> Any:
    """Wrap a :class:`movescreen.sources.FrameSource` so that iteration ends after a stop signal
    (the frames already handed out are still analysed)."""
    return _StoppableSource(source)


def keep_partial(analysis: Any, out_dir: str | Path, write: Callable[..., Any], *,
                 stage: Literal["frames", "review"] = "frames") -> Interrupted:
    """Write what ``analysis`` holds with ``write`` (:func:`movescreen.pipeline.write_outputs`)
    as ``status: "interrupted"`` and return the :class:`Interrupted` to raise.

    ``stage="frames"``: stopped in the frame loop (landmarks so far, no findings);
    ``"review"``: the analysis was complete and the review outputs were being drawn.
    """
    signum = _state.signum if _state.signum is not None else signal.SIGINT
    seq = analysis.sequence
    n = len(seq)
    last = int(seq.frame_index[-1]) if n else None
    t_s = round(float(seq.time_s[-1]), 3) if n else None
    expected = _state.frames_expected if stage == "frames" else n
    of = f" of about {expected}" if expected and stage == "frames" else ""
    if stage == "frames":
        message = (
            f"Stopped by {signal_name(signum)} at frame {last}{of} ({t_s} s, {n} frame(s) analysed); "
            "the landmarks measured so far are kept in landmarks.csv and report.json says "
            "\"interrupted\"; run the same command again to analyse the whole clip."
        )
    else:
        message = (
            f"Stopped by {signal_name(signum)} while drawing the review outputs; all {n} frames "
            "were measured and the findings are in report.json (status \"interrupted\"); run "
            "movescreen report on the output folder to draw the video, key frames and HTML."
        )
    analysis.extra["interrupted"] = {
        "signal": _plain_name(signum),
        "stage": stage,
        "frame_reached": last,
        "time_reached_s": t_s,
        "frames_analysed": n,
        "frames_expected": expected,
    }
    from movescreen.sinks import all_or_nothing

    with all_or_nothing():  # a second Ctrl-C meanwhile leaves the earlier files, not half of each
        paths = write(analysis, out_dir, status="interrupted", error=message)
    return Interrupted(message, signum, kept=True, paths=paths if isinstance(paths, dict) else None)


def nothing_kept(signum: int | None = None) -> Interrupted:
    """The :class:`Interrupted` for a stop before any frame was analysed."""
    s = signum if signum is not None else (_state.signum or signal.SIGINT)
    return Interrupted(
        f"Stopped by {signal_name(s)} before any frame was analysed; nothing was written.", s
    )


@contextlib.contextmanager
def sigterm_as_sigint() -> Iterator[Callable[[], bool]]:
    """Deliver SIGTERM as SIGINT (for code that handles only Ctrl-C, e.g. ``live``); yields a
    function telling whether a SIGTERM arrived."""
    seen = {"term": False}
    if threading.current_thread() is not threading.main_thread():
        yield lambda: seen["term"]
        return
    old = signal.getsignal(signal.SIGTERM)

    def handler(signum: int, frame: Any) -> None:
        seen["term"] = True
        signal.raise_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield lambda: seen["term"]
    finally:
        signal.signal(signal.SIGTERM, old)
