"""``movescreen live``: feedback while someone moves in front of a webcam (or a file played as one).

Latency first. A capture thread keeps only the newest frame (a one-slot mailbox) and counts the
frames it had to drop, so the loop never works through stale frames. A file given with
``--source`` is played at its own frame rate as if it were a camera (``pace=True``), or as fast
as possible without dropping anything (``pace=False``: deterministic, for tests and batch use).

Per frame: pose (MediaPipe, with segmentation masks for the back outline) -> the subject ->
:class:`movescreen.stream.LiveStep` (causal filter, phase, rep detection, mid-rep cues; each
finished rep judged with the same kinematics and rules as ``analyze``) -> the overlay in a window
(skeleton, key angles, rep count and phase, fps and latency, the latest cue), or JSON lines on
``out`` with ``headless=True``. Cues can be spoken (:mod:`movescreen.speech`). With the window,
the loop runs on a thread of its own and the main thread draws and shows the pictures
(:class:`LiveWindow`), so drawing and the window's event handling do not delay the next frame.

``record_dir`` saves the frames processed to ``session.mp4`` (H.264, their own timestamps) and,
when the session ends for any reason (end of file, q, Ctrl-C, the camera gone), runs the full
``analyze`` pipeline on it into the same folder, so the report is exactly ``analyze``'s.

Window keys: q (or Esc) quits, r resets the rep count (a new set), space pauses.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from movescreen.errors import InputError, MovescreenError, NoPersonError
from movescreen.pose.backend import PoseCandidate
from movescreen.safety import DISCLAIMER, PAIN_GUIDANCE
from movescreen.sources import FrameSource, open_source
from movescreen.step import LETTERBOX_FRAMES, FrameResult, FrameStep
from movescreen.stream import (
    HIP_TESTS,
    LIVE_MOVEMENTS,
    Event,
    LiveStep,
    StepOutput,
    nan_safe,
    summarize_session,
)
from movescreen.types import Frame

Image = npt.NDArray[np.uint8]
WINDOW_NAME = "movescreen live"
MAX_WINDOW = (1280, 720)  # the window starts at the frame size, shrunk to fit this
CUE_SHOW_S = 4.0
SESSION_VIDEO = "session.mp4"
EVENTS_FILE = "live_events.jsonl"
SIMULATE_DELAY_ENV = "MOVESCREEN_SIMULATE_INFERENCE_DELAY_MS"
"""Tests and benchmarks only: extra milliseconds after each pose inference, to play a machine
that infers more slowly. ``"40"`` adds 40 ms to every frame; ``"20-80"`` a delay drawn uniformly
from 20-80 ms (seeded, so a run is repeatable)."""


class _SimulatedDelay:
    """The inference delay of :data:`SIMULATE_DELAY_ENV` (nothing when it is unset)."""

    def __init__(self, spec: str | None) -> None:
        self.lo = self.hi = 0.0
        if spec:
            try:
                a, _, b = spec.partition("-")
                self.lo = float(a) / 1000.0
                self.hi = float(b) / 1000.0 if b else self.lo
            except ValueError as e:
                raise InputError(f"{SIMULATE_DELAY_ENV} must be milliseconds ('40') or a range "
                                 f"('20-80'), got {spec!r}.") from e
            if not 0 <= self.lo <= self.hi:
                raise InputError(f"{SIMULATE_DELAY_ENV} must be a non-negative range, got {spec!r}.")
        self._rng = np.random.default_rng(0)

    def __bool__(self) -> bool:
        return self.hi > 0

    def __call__(self) -> None:
        if self.hi > 0:
            time.sleep(self.lo if self.hi == self.lo else float(self._rng.uniform(self.lo, self.hi)))


# --------------------------------------------------------------------------- capture


class FrameGrabber:
    """Reads a frame source on a thread and hands over only the newest frame.

    Parameters
    ----------
    source : FrameSource
    pace : bool
        Release file frames at their own timestamps (wall clock), as a camera would deliver
        them. Ignored for cameras, which pace themselves.
    lossless : bool
        Never drop: the reader waits until the previous frame was taken (``pace=False`` on a
        file). Otherwise a newer frame replaces one not yet taken and ``dropped`` counts it.
    clock : callable
        Monotonic clock in seconds.

    Attributes
    ----------
    dropped : int
        Frames replaced before the loop took them.
    error : BaseException or None
        What stopped the reader, when it was not simply the end of the source.
    """

    def __init__(self, source: FrameSource, *, pace: bool, lossless: bool,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.source = source
        self.pace = pace
        self.lossless = lossless
        self.clock = clock
        self.dropped = 0
        self.delivered = 0
        self.error: BaseException | None = None
        self.ended = False
        self._slot: tuple[Frame, float] | None = None
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="movescreen-capture", daemon=True)

    def start(self) -> FrameGrabber:
        self._thread.start()
        return self

    def _run(self) -> None:
        t0: float | None = None
        first_t = 0.0
        try:
            for frame in self.source:
                if self._stop.is_set():
                    break
                if self.pace:
                    if t0 is None:
                        t0, first_t = self.clock(), frame.time_s
                    wait = t0 + (frame.time_s - first_t) - self.clock()
                    if wait > 0 and self._stop.wait(wait):
                        break
                with self._cv:
                    if self.lossless:
                        while self._slot is not None and not self._stop.is_set():
                            self._cv.wait(0.1)
                    elif self._slot is not None:
                        self.dropped += 1
                    self._slot = (frame, self.clock())
                    self.delivered += 1
                    self._cv.notify_all()
        except BaseException as e:  # noqa: BLE001 - handed to the loop, which reports it
            self.error = e
        finally:
            with self._cv:
                self.ended = True
                self._cv.notify_all()

    def get(self, timeout_s: float = 0.1) -> tuple[Frame, float] | None:
        """The newest frame and the clock time it was captured, or None when none came in time.

        Check :attr:`finished` to tell the end of the source from a short wait.
        """
        with self._cv:
            if self._slot is None and not self.ended:
                self._cv.wait(timeout_s)
            item, self._slot = self._slot, None
            self._cv.notify_all()
            return item

    @property
    def finished(self) -> bool:
        with self._cv:
            return self.ended and self._slot is None

    def stop(self, timeout_s: float = 3.0) -> None:
        self._stop.set()
        with self._cv:
            self._cv.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout_s)


# --------------------------------------------------------------------------- recording


class SessionRecorder:
    """Writes the frames processed to an H.264 MP4 on a thread, with their own timestamps.

    The encoder is single-threaded and fast (x264 ``ultrafast``, CRF 18): it must not take the
    CPU the pose model needs. Frames wait in a bounded queue; when it is full ``write`` blocks,
    so every processed frame is recorded.
    """

    def __init__(self, path: str | os.PathLike[str], fps: float, *, max_queue: int = 256) -> None:
        import queue

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fps = fps
        self.frames = 0
        self.error: BaseException | None = None
        self._q: queue.Queue[Frame | None] = queue.Queue(maxsize=max_queue)
        self._thread = threading.Thread(target=self._run, name="movescreen-record", daemon=True)
        self._thread.start()

    def write(self, frame: Frame) -> None:
        if self.error is None:
            self._q.put(frame)

    def _run(self) -> None:
        from movescreen.sinks import H264Writer

        try:
            # fast, single-threaded x264: the encoder must not take the CPU the pose model needs
            with H264Writer(self.path, self.fps, crf=18, preset="ultrafast", threads=1,
                            faststart=False) as writer:
                while True:
                    frame = self._q.get()
                    if frame is None:
                        break
                    writer.write(frame.image, frame.time_s)
                    self.frames += 1
        except BaseException as e:  # noqa: BLE001 - reported when the session is saved
            self.error = e
            while True:  # unblock writers
                try:
                    if self._q.get_nowait() is None:
                        break
                except Exception:  # noqa: BLE001 - queue.Empty
                    break

    def close(self, timeout_s: float = 60.0) -> Path | None:
        """Finish the file; returns its path, or None when nothing was recorded."""
        self._q.put(None)
        self._thread.join(timeout=timeout_s)
        if self.frames == 0:
            self.path.unlink(missing_ok=True)
            return None
        return self.path


# --------------------------------------------------------------------------- overlay


SEVERITY_TEXT_BGR = {"flag": (60, 60, 255), "caution": (0, 200, 255), "note": (255, 220, 120)}


def draw_live_overlay(image: Image, out: StepOutput, status: dict[str, Any]) -> Image:
    """The live picture: skeleton, angles, rep count and phase, fps/latency, cue or message.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), uint8
        The camera frame (not modified).
    out : StepOutput
        What the live step made of this frame.
    status : dict
        ``fps``, ``latency_ms``, ``dropped``, ``movement``, optional ``cue`` (text),
        ``cue_severity``, ``message`` (calibration or fault text), ``paused``.
    """
    from movescreen.render.annotate import (
        draw_angle_labels,
        draw_rep_banner,
        draw_skeleton,
        put_text,
        ui_scale,
    )

    img = image
    if out.row_xyz is not None:
        img = draw_skeleton(img, out.row_xyz)
        img = draw_angle_labels(img, out.row_xyz, out.angles)
    else:
        img = img.copy()
    lines = [f"rep {out.rep_count}  {out.phase}",
             (f"{status.get('fps', 0):.0f} fps  {status.get('latency_ms', 0):.0f} ms  "
              f"dropped {status.get('dropped', 0)}"),
             f"{status.get('movement', 'auto')}, {out.view} view"]
    img = draw_rep_banner(img, lines)
    s = ui_scale(img)
    h = img.shape[0]
    message = status.get("message") or ""
    cue = status.get("cue") or ""
    if status.get("paused"):
        put_text(img, "PAUSED (space to go on)", (10 * s, h - 60 * s), scale=1.1 * s, background=True)
    if message:
        put_text(img, message, (10 * s, h - (60 if cue else 20) * s), scale=0.9 * s, background=True)
    if cue:
        color = SEVERITY_TEXT_BGR.get(str(status.get("cue_severity")), (255, 255, 255))
        put_text(img, cue, (10 * s, h - 20 * s), color=color, scale=1.2 * s, background=True)
    return img


def draw_summary_screen(image: Image, lines: list[str]) -> Image:
    """The end-of-set summary over a darkened last frame."""
    from movescreen.render.annotate import put_text, ui_scale

    img = (image.astype(np.float32) * 0.35).astype(np.uint8)
    s = ui_scale(img)
    y = 40 * s
    for i, line in enumerate(lines):
        put_text(img, line, (14 * s, y), scale=(1.2 if i == 0 else 0.85) * s)
        y += (40 if i == 0 else 30) * s
    return img


def summary_lines(summary: LiveSummary) -> list[str]:
    """Plain lines for the end-of-set summary (window and CLI)."""
    lines = [f"Set summary: {summary.reps} rep(s)"
             + (f" + {summary.partial_reps} partial" if summary.partial_reps else "")]
    if summary.findings_by_rule:
        for rule, sev in summary.findings_by_rule.items():
            counts = ", ".join(f"{n} {k}" for k, n in sev.items())
            lines.append(f"  {rule.replace('_', ' ')}: {counts}")
    else:
        lines.append("  No compensation reached a threshold.")
    lines.append(f"{summary.fps:.0f} fps, latency p50 {summary.latency_p50_ms:.0f} ms, "
                 f"p95 {summary.latency_p95_ms:.0f} ms, {summary.frames_dropped} frames dropped")
    # the pain guidance, wrapped for the screen
    words, cur = PAIN_GUIDANCE.split(), ""
    for w in words:
        if len(cur) + len(w) > 70:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    lines.append(cur)
    return lines


# --------------------------------------------------------------------------- summary


@dataclass
class LiveSummary:
    """How a live session went.

    Attributes
    ----------
    reps, partial_reps : int
        Full and partial reps judged.
    findings_by_rule : dict[str, dict[str, int]]
        Rule -> severity -> count.
    cues : int
        Cues given (shown; ``spoken`` of them said aloud).
    frames_processed, frames_dropped, frames_paused : int
        Frames that went through the pose model, frames the capture replaced before the loop
        could take them, frames skipped while paused.
    fps : float
        Frames processed per second of session (sustained).
    latency_p50_ms, latency_p95_ms, latency_max_ms : float
        Capture -> overlay shown (or JSON written), milliseconds.
    duration_s : float
    stopped_by : str
        'end' (file finished), 'quit' (q), 'interrupted' (Ctrl-C), 'camera_lost', 'error',
        'time_limit'.
    saved : dict[str, str]
        Paths written with ``record_dir`` (empty otherwise).
    warnings : list of str
    """

    reps: int = 0
    partial_reps: int = 0
    findings_by_rule: dict[str, dict[str, int]] = field(default_factory=dict)
    cues: int = 0
    spoken: int = 0
    frames_processed: int = 0
    frames_dropped: int = 0
    frames_paused: int = 0
    fps: float = 0.0
    latency_p50_ms: float = math.nan
    latency_p95_ms: float = math.nan
    latency_max_ms: float = math.nan
    judge_delay_max_ms: float = math.nan
    duration_s: float = 0.0
    movement: str = "auto"
    view: str = "unknown"
    stopped_by: str = "end"
    error: str | None = None
    saved: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list, repr=False)
    latency_series: list[tuple[float, float]] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The ``summary`` event (JSON-ready)."""
        def r(v: float) -> float | None:
            return round(float(v), 2) if math.isfinite(v) else None

        return {
            "reps": self.reps, "partial_reps": self.partial_reps,
            "findings_by_rule": self.findings_by_rule, "cues": self.cues, "spoken": self.spoken,
            "movement": self.movement, "view": self.view,
            "frames_processed": self.frames_processed, "frames_dropped": self.frames_dropped,
            "frames_paused": self.frames_paused, "fps": r(self.fps),
            "latency_ms": {"p50": r(self.latency_p50_ms), "p95": r(self.latency_p95_ms),
                           "max": r(self.latency_max_ms)},
            "judge_delay_max_ms": r(self.judge_delay_max_ms),
            "duration_s": r(self.duration_s), "stopped_by": self.stopped_by, "error": self.error,
            "pain_guidance": PAIN_GUIDANCE, "disclaimer": DISCLAIMER,
        }


# --------------------------------------------------------------------------- the loop


def _has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class _Stop:
    """Ctrl-C sets a flag the loop checks (a second Ctrl-C interrupts as usual)."""

    def __init__(self) -> None:
        self.flag = False
        self._old: Any = None

    def __enter__(self) -> _Stop:  # noqa: PYI034 - a private, final class
        if threading.current_thread() is threading.main_thread():
            self._old = signal.getsignal(signal.SIGINT)

            def handler(signum: int, frame: Any) -> None:
                if self.flag:
                    raise KeyboardInterrupt
                self.flag = True

            signal.signal(signal.SIGINT, handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def run_live(
    source: str | os.PathLike[str] | FrameSource,
    *,
    movement: str = "auto",
    record_dir: str | os.PathLike[str] | None = None,
    headless: bool = False,
    speak: bool = False,
    pace: bool = True,
    config: str | os.PathLike[str] | None = None,
    model: str | os.PathLike[str] | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
    on_event: Callable[[Event], None] | None = None,
    backend: Any = None,
    calibration_s: float = 0.5,
    max_duration_s: float | None = None,
    summary_hold_s: float = 10.0,
) -> LiveSummary:
    """Run a live session until the source ends, q is pressed, Ctrl-C, or the camera is gone.

    Parameters
    ----------
    source : str, path or FrameSource
        ``camera:N`` (or ``N``) for a webcam, a video file, a folder of images, or an open
        frame source.
    movement : {'auto', 'squat', 'hinge', 'hip_rotation_seated', 'figure4', 'hip_9090'}
        'auto' decides at the first rep and keeps it for the session. A hip rotation test first
        emits a ``protocol`` event (its safety text, then where the camera goes and what the
        person does; the window shows the safety sentence), counts no reps, and is judged over
        the whole session in the saved report (``record_dir``).
    record_dir : path, optional
        Save ``session.mp4`` (the frames processed), ``live_events.jsonl`` and, at the end,
        everything ``analyze`` writes for that video (report.json, annotated.mp4, report.html
        ...). The analysis runs after the session and takes about as long as ``analyze`` on the
        recording.
    headless : bool
        No window: events as JSON lines on ``out`` (one object per line, an ``event`` key).
    speak : bool
        Say cues aloud (espeak-ng, else a tone), at most one every 3 s.
    pace : bool
        Play a file at its own frame rate as a camera would (dropping frames the loop cannot
        keep up with); False processes every frame as fast as possible.
    config, model : path, optional
        Rule thresholds TOML and pose model, as for ``analyze``.
    out, err : text streams
        JSON lines (headless) and warnings; default stdout and stderr.
    on_event : callable, optional
        Receives every event dict (also in window mode, where it is called from the loop's
        thread, not the main thread, until the session's summary).
    backend : PoseBackend, optional
        A pose backend to use instead of MediaPipe (tests).
    calibration_s : float
        Seconds of standing still used as the baseline at the start.
    max_duration_s : float, optional
        End the session after this many seconds.
    summary_hold_s : float
        How long the window shows the end-of-set summary (any key closes it earlier).

    Returns
    -------
    LiveSummary

    Raises
    ------
    CameraError
        No camera at that index (nothing was started).
    InputError, ModelError, ConfigError
        The file, the model or the configuration cannot be used.

    Notes
    -----
    A camera that stops sending pictures, or Ctrl-C, ends the session normally: the summary is
    emitted and, with ``record_dir``, everything recorded so far is saved with its report.
    """
    from movescreen.config import load_config

    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    if movement not in LIVE_MOVEMENTS:
        raise InputError(f"expected movement {', '.join(LIVE_MOVEMENTS)}, got {movement!r}")
    if not headless and not _has_display():
        raise InputError("There is no display to show the live window on; use --headless "
                         "(JSON lines on stdout) or run it from a desktop session.")
    # a bad config fails before the camera is opened
    rules_config = load_config(os.fspath(config) if config is not None else None)
    if not headless:
        _open_window(err)  # before the source: PyAV must not load first (see _open_window)
    try:
        src: FrameSource = open_source(source) if isinstance(source, (str, os.PathLike)) else source
    except BaseException:
        if not headless:
            _close_window()
        raise
    summary = LiveSummary(movement=movement)
    speaker = None
    recorder: SessionRecorder | None = None
    grabber: FrameGrabber | None = None
    window: LiveWindow | None = None
    step: LiveStep | None = None
    own_backend = backend is None
    last_image: Image | None = None
    events_f: IO[str] | None = None
    record_path = Path(record_dir) if record_dir is not None else None

    def warn(message: str) -> None:
        summary.warnings.append(message)
        print(f"movescreen: warning: {message}", file=err, flush=True)

    t_start = time.perf_counter()

    def emit(ev: Event) -> None:
        # every event is JSON-ready here, whichever part made it (NaN -> null): a NaN that
        # slipped through must not end the session
        ev = {"event": ev["event"], "t_s": round(time.perf_counter() - t_start, 3),
              **{k: v for k, v in nan_safe(ev).items() if k != "event"}}
        summary.events.append(ev)
        line = json.dumps(ev, allow_nan=False, default=str)
        if headless:
            out.write(line + "\n")
            out.flush()
        if events_f is not None:
            events_f.write(line + "\n")
            events_f.flush()
        if on_event is not None:
            on_event(ev)

    try:
        if own_backend:
            from movescreen.pose.mediapipe_backend import MediaPipePoseBackend
            from movescreen.pose.model import resolve_model

            backend = MediaPipePoseBackend(resolve_model(os.fspath(model) if model else None),
                                           with_masks=True)
        info = src.info
        is_camera = info.kind == "camera"
        if record_path is not None:
            record_path.mkdir(parents=True, exist_ok=True)
            events_f = open(record_path / EVENTS_FILE, "w", encoding="utf-8")  # noqa: SIM115
            recorder = SessionRecorder(record_path / SESSION_VIDEO, info.fps)
        if speak:
            from movescreen.speech import Speaker

            speaker = Speaker(on_warning=warn)
        step = LiveStep(width=info.width, height=info.height, fps=info.fps, movement=movement,
                        config=rules_config, calibration_s=calibration_s,
                        judge_async=pace or is_camera,
                        on_error=lambda e: warn(f"A rep could not be judged: {e}"))
        emit({"event": "start", "source": info.path, "kind": info.kind, "fps": info.fps,
              "width": info.width, "height": info.height, "movement": movement,
              "paced": bool(pace or is_camera), "headless": headless, "recording": record_path is not None,
              "speech": None if speaker is None else speaker.engine})
        if movement in HIP_TESTS:  # the test's protocol, safety first, before it starts
            from movescreen.kinematics.hip_rotation import protocol_text

            emit({"event": "protocol", "movement": movement, "text": protocol_text(movement)})
        if own_backend and (pace or is_camera):
            # the model's first call takes about 3 frames' time (its graph starts): make it on
            # an empty picture now, not on the first frame of the session (which it would
            # make the next frames wait for, and drop)
            backend.process(np.zeros((info.height, info.width, 3), np.uint8), 0)
        grabber = FrameGrabber(src, pace=pace and not is_camera, lossless=not pace and not is_camera).start()
        timing = _Timing(t_start)
        window = None if headless else LiveWindow(timing, wait_for_window=grabber.lossless)
        try:
            with _Stop() as stop:
                def loop() -> Image | None:
                    return _loop(src, grabber, backend, step, emit, summary, speaker, recorder,
                                 window=window, timing=timing, stop=stop, is_camera=is_camera,
                                 max_duration_s=max_duration_s, t_start=t_start)

                last_image = loop() if window is None else _run_windowed(loop, window, stop)
        finally:
            _finish_timing(summary, timing, t_start)
    except BaseException as e:  # the session so far is still summarised and saved below
        interrupted = isinstance(e, KeyboardInterrupt)
        summary.stopped_by = "interrupted" if interrupted else "error"
        summary.error = None if interrupted else str(e)
        if step is not None and not interrupted:
            emit({"event": "error", "message": str(e) if isinstance(e, MovescreenError)
                  else f"The live loop failed ({type(e).__name__}: {e})."})
        raise
    finally:
        if grabber is not None:
            grabber.stop()
            summary.frames_dropped = grabber.dropped
        try:
            src.close()
        except Exception as e:  # noqa: BLE001 - closing must not hide what happened
            warn(f"The source did not close cleanly ({e}).")
        abandoned = window is not None and window.loop_abandoned
        if own_backend and backend is not None and not abandoned:
            backend.close()
        if step is not None and not abandoned:
            for ev in step.finish():
                _handle(ev, emit, summary, speaker)
            if step.mask_measures.skipped:
                warn(f"The back outline and the feet were not measured on {step.mask_measures.skipped} "
                     "frames (the computer fell behind); the lower back and the feet are judged on "
                     "the other frames.")
            if step.helper.fell_back:
                warn("The helper process stopped during the session; its work was done in the "
                     "main loop from then on, which may have dropped more frames.")
            for k, v in summarize_session(step).items():
                if hasattr(summary, k):
                    setattr(summary, k, v)
        for w in getattr(src, "warnings", []):
            if w not in summary.warnings:
                warn(w)
        if speaker is not None:
            speaker.close()
            summary.spoken = len(speaker.spoken)
        if step is not None:
            emit({"event": "summary", **summary.as_dict()})
        show = not headless and last_image is not None and summary.stopped_by != "interrupted"
        if show and last_image is not None:
            lines = summary_lines(summary)
            saving = ["Saving the session and its report..."] if recorder is not None else []
            _show_summary(last_image, lines + saving, 0.0)
        if recorder is not None:
            _save(recorder, record_path, movement, config, model, summary, emit, warn, step)
        if events_f is not None:
            events_f.close()
        if not headless:
            if show and last_image is not None and summary_hold_s > 0:
                saved = [f"Saved in {record_path}"] if recorder is not None else []
                _show_summary(last_image, lines + saved + ["Press any key to close."],
                              summary_hold_s)
            _close_window()
    return summary


def _handle(ev: Event, emit: Callable[[Event], None], summary: LiveSummary, speaker: Any) -> None:
    if ev.get("event") == "cue":
        summary.cues += 1
        ev = {**ev, "spoken": bool(speaker.say(str(ev["text"]))) if speaker is not None else False}
    emit(ev)


class _Timing:
    """Capture -> result-shown latencies, and the processing rate shown in the overlay."""

    def __init__(self, t_start: float) -> None:
        self.t_start = t_start
        self.latencies: list[float] = []
        self.series: list[tuple[float, float]] = []
        self._recent: deque[float] = deque(maxlen=30)

    def record(self, caps: list[float], t_done: float) -> None:
        for tc in caps:  # one frame, or several: the letterbox rule's, a replaced picture's
            self.latencies.append(t_done - tc)
            self.series.append((t_done - self.t_start, 1000 * (t_done - tc)))
            self._recent.append(t_done)

    def status(self) -> dict[str, float]:
        r = self._recent
        fps = (len(r) - 1) / (r[-1] - r[0]) if len(r) > 1 and r[-1] > r[0] else 0.0
        return {"fps": fps,
                "latency_ms": 1000 * float(np.median(self.latencies[-15:])) if self.latencies else 0.0}


@dataclass
class _Picture:
    """One picture for the window: the frame, what the step made of it (None: show it as it is)
    and the capture times of the frames whose results it is the first to show."""

    image: Image
    out: StepOutput | None
    status: dict[str, Any]
    caps: list[float]


class LiveWindow:
    """The live window, drawn on the main thread while the loop runs on another.

    The loop hands over each picture with :meth:`show` and goes on with the next frame: drawing
    the overlay, ``imshow`` and the key poll (about 4-5 ms a frame, most of it Qt's event
    handling) no longer add to the time between two inferences. Paced or from a camera, a picture
    not yet shown is replaced by the newer one (the loop never waits for the window; the newer
    picture carries the older one's capture times, so its latency still counts). Unpaced, the
    loop waits until the window has taken the previous picture, so every frame is shown.

    All of OpenCV's window calls stay on the thread that made the window (Qt's rule); the keys
    reach the loop as flags: :attr:`quit`, :attr:`paused`, :meth:`take_resets`.
    """

    def __init__(self, timing: _Timing, *, wait_for_window: bool) -> None:
        import cv2

        self._cv2 = cv2
        self._timing = timing
        self._wait = wait_for_window
        self._cond = threading.Condition()
        self._pending: _Picture | None = None
        self._sized = False
        self.quit = False
        self.paused = False
        self._resets = 0
        self.loop_abandoned = False

    # --- the loop's side -------------------------------------------------------------------
    def show(self, picture: _Picture) -> None:
        with self._cond:
            if self._wait:
                while self._pending is not None and not self.quit:
                    self._cond.wait(0.1)
            elif self._pending is not None:
                picture.caps = self._pending.caps + picture.caps
            self._pending = picture
            self._cond.notify_all()

    def take_resets(self) -> int:
        with self._cond:
            n, self._resets = self._resets, 0
            return n

    # --- the window's side (the main thread) ----------------------------------------------
    def run(self, loop: threading.Thread) -> None:
        """Show pictures until the loop ends; a key poll at least every 30 ms keeps the window alive."""
        while True:
            with self._cond:
                alive = loop.is_alive()  # before taking the picture: the last one is never left
                if self._pending is None and alive:
                    self._cond.wait(0.03)
                picture, self._pending = self._pending, None
                self._cond.notify_all()
            if picture is None:
                if not alive:
                    return
                self._key(self._cv2.waitKey(1))
                continue
            self._show(picture)

    def _show(self, p: _Picture) -> None:
        cv2 = self._cv2
        if p.out is None:
            img = p.image
        else:
            img = draw_live_overlay(p.image, p.out, {**p.status, **self._timing.status()})
            if not self._sized:  # the first overlaid picture sets the window's size
                h, w = img.shape[:2]
                k = min(1.0, MAX_WINDOW[0] / w, MAX_WINDOW[1] / h)
                cv2.resizeWindow(WINDOW_NAME, round(w * k), round(h * k))
                self._sized = True
        cv2.imshow(WINDOW_NAME, img)
        key = cv2.waitKey(1)
        self._timing.record(p.caps, time.perf_counter())
        self._key(key)

    def _key(self, key: int) -> None:
        key &= 0xFF
        closed = self._sized and self._cv2.getWindowProperty(WINDOW_NAME, self._cv2.WND_PROP_VISIBLE) < 1
        with self._cond:
            if key in (ord("q"), 27) or closed:
                self.quit = True
            elif key == ord("r"):
                self._resets += 1
            elif key == ord(" "):
                self.paused = not self.paused
            self._cond.notify_all()


def _run_windowed(loop: Callable[[], Image | None], window: LiveWindow, stop: _Stop) -> Image | None:
    """Run ``loop`` on a thread while this (the main) thread runs the window; its result or error."""
    result: list[Image | None] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(loop())
        except BaseException as e:  # noqa: BLE001 - handed to the main thread below
            error.append(e)

    th = threading.Thread(target=target, name="movescreen-live-loop", daemon=True)
    th.start()
    try:
        window.run(th)
    except BaseException:  # a second Ctrl-C, or the window failing: end the loop first
        stop.flag = True
        window.quit = True
        th.join(timeout=3)
        # a loop still busy (a rep judged inline, a full recording queue) keeps the model and
        # the step: run_live then leaves them to the end of the process instead of closing
        # them under it
        window.loop_abandoned = th.is_alive()
        raise
    th.join()
    if error:
        raise error[0]
    return result[0] if result else None


def _loop(src: FrameSource, grabber: FrameGrabber, backend: Any, step: LiveStep,
          emit: Callable[[Event], None],
          summary: LiveSummary, speaker: Any, recorder: SessionRecorder | None, *,
          window: LiveWindow | None, timing: _Timing, stop: _Stop, is_camera: bool,
          max_duration_s: float | None, t_start: float) -> Image | None:
    paused = False
    last_out: StepOutput | None = None
    last_image: Image | None = None
    cue_text, cue_sev, cue_until = "", "", 0.0
    message = "Stand still for a moment" + (", side on" if step.requested_movement == "hinge" else "")
    if step.requested_movement in HIP_TESTS:
        from movescreen.kinematics.hip_rotation import protocol_text

        # the overlay has one line: the safety sentence first; the whole protocol is an event
        message = protocol_text(step.requested_movement).splitlines()[0]
    submitted_at: dict[int, float] = {}
    judge_delays: list[float] = []
    slow = _SimulatedDelay(os.environ.get(SIMULATE_DELAY_ENV))
    fstep = FrameStep(backend, letterbox_frames=LETTERBOX_FRAMES, mask_work=False)
    held: dict[int, tuple[Frame, float]] = {}
    done_caps: list[float] = []
    box_frames: list[Image] = []

    def _push(r: FrameResult, frame: Frame, t_cap: float) -> StepOutput:
        nonlocal message, cue_text, cue_sev, cue_until
        cand = (PoseCandidate(r.image_xyz, r.visibility, r.presence, r.world_xyz, r.mask)
                if r.has_pose else None)
        before = step.reps_submitted
        res = step.push(r.index, r.time_s, cand)
        if step.reps_submitted > before:
            submitted_at[step.reps_submitted + 1000 * step.set_index] = t_cap
        if recorder is not None:
            recorder.write(frame)
        now = time.perf_counter()
        for ev in res.events:
            if ev["event"] == "calibration":
                message = "" if ev.get("ok") else str(ev.get("message"))
            if ev["event"] == "rep":
                key_ = int(ev["rep"]) + 1000 * int(ev["set"])
                if key_ in submitted_at:
                    judge_delays.append(now - submitted_at.pop(key_))
            if ev["event"] == "cue":
                cue_text, cue_sev, cue_until = str(ev["text"]), str(ev["severity"]), now + CUE_SHOW_S
            _handle(ev, emit, summary, speaker)
        summary.frames_processed += 1
        return res

    while True:
        if window is not None:  # the keys pressed since the last frame
            for _ in range(window.take_resets()):
                emit(step.reset_count())
            paused = window.paused
        if stop.flag:
            summary.stopped_by = "interrupted"
            break
        if window is not None and window.quit:
            summary.stopped_by = "quit"
            break
        if max_duration_s is not None and time.perf_counter() - t_start >= max_duration_s:
            summary.stopped_by = "time_limit"
            break
        item = grabber.get(0.1)
        if item is None:
            if grabber.finished:
                if grabber.error is not None:
                    e = grabber.error
                    summary.stopped_by, summary.error = "error", str(e)
                    emit({"event": "error", "message": str(e) if isinstance(e, MovescreenError)
                          else f"The video source failed ({type(e).__name__}: {e})."})
                elif is_camera:
                    msg = (src.warnings[-1] if src.warnings else
                           "The camera stopped sending pictures; the session was ended.")
                    summary.stopped_by, summary.error = "camera_lost", msg
                    emit({"event": "error", "message": msg})
                break
            continue
        frame, t_cap = item
        early = not fstep.decided and not grabber.lossless
        if early:
            # Paced or from a camera, the first frames decide the letterbox rule (the picture
            # inside black bars, from 12 frames as analyze does) and are meanwhile inferred
            # inside the box the first frame gives (FrameStep.update_early): holding them and
            # inferring all 12 at once, as analyze does, would make the newest-frame mailbox
            # drop the ~0.4 s that follow, where a lift may start.
            box_frames.append(frame.image)
            if len(box_frames) >= LETTERBOX_FRAMES:
                fstep.decide_content_box(box_frames)
                box_frames.clear()
                early = False
        if paused:
            summary.frames_paused += 1
        else:
            # the one per-frame step analyze and batch use: letterbox rule (first frames),
            # pose, subject; the mask work is LiveStep's (in the helper process)
            held[frame.index] = (frame, t_cap)
            for r in [fstep.update_early(frame)] if early else fstep.update(frame):
                slow()
                f_cap = held.pop(r.index)
                last_out = _push(r, *f_cap)
                done_caps.append(f_cap[1])
        if last_out is None:
            if window is not None:  # the first frames, before the content box is known
                window.show(_Picture(frame.image, None, {}, []))
            continue
        if window is not None:
            now = time.perf_counter()
            status = {"dropped": grabber.dropped, "movement": step.movement,
                      "cue": cue_text if now < cue_until else "", "cue_severity": cue_sev,
                      "message": message, "paused": paused}
            shown = frame.image if not paused or last_image is None else last_image
            if not paused:
                last_image = frame.image
            window.show(_Picture(shown, last_out, status, done_caps))
            done_caps = []
        else:
            timing.record(done_caps, time.perf_counter())
            done_caps.clear()
    for r in fstep.flush():  # a source shorter than the letterbox rule's frames
        _push(r, *held.pop(r.index))
    if window is not None:  # r pressed after the last frame still starts a new set
        for _ in range(window.take_resets()):
            emit(step.reset_count())
    if judge_delays:
        summary.judge_delay_max_ms = 1000 * max(judge_delays)
    return last_image


def _finish_timing(summary: LiveSummary, timing: _Timing, t_start: float) -> None:
    summary.duration_s = time.perf_counter() - t_start
    summary.fps = summary.frames_processed / summary.duration_s if summary.duration_s > 0 else 0.0
    summary.latency_series = timing.series
    if timing.latencies:
        lat = np.asarray(timing.latencies) * 1000
        summary.latency_p50_ms = float(np.percentile(lat, 50))
        summary.latency_p95_ms = float(np.percentile(lat, 95))
        summary.latency_max_ms = float(lat.max())


def _show_summary(image: Image, lines: list[str], hold_s: float) -> None:
    """Show the end-of-set summary; wait up to ``hold_s`` for a key (or the window closing)."""
    import cv2

    cv2.imshow(WINDOW_NAME, draw_summary_screen(image, lines))
    t_end = time.perf_counter() + hold_s
    cv2.waitKey(1)
    while time.perf_counter() < t_end:
        if cv2.waitKey(50) & 0xFF != 255:
            break
        if cv2.getWindowProperty(WINDOW_NAME, cv2.WND_PROP_VISIBLE) < 1:
            break


def _open_window(err: IO[str]) -> None:
    """Create the live window.

    OpenCV's Qt window livelocks when PyAV (which bundles its own libxcb) was loaded first
    (PyAV issues #978 and #1050), so the window is created before any video is opened. When
    PyAV is already loaded there is nothing left to do but say so.
    """
    import cv2

    if "av" in sys.modules:
        print("movescreen: warning: PyAV was loaded before the live window was created; on some "
              "systems OpenCV's window then freezes. Start `movescreen live` in a fresh process.",
              file=err, flush=True)
    cv2.namedWindow(WINDOW_NAME, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
    cv2.resizeWindow(WINDOW_NAME, 640, 480)
    # draw once now: Qt loads the rest of its X11 support on the first picture shown
    from movescreen.render.annotate import put_text

    blank = np.zeros((480, 640, 3), np.uint8)
    cv2.imshow(WINDOW_NAME, put_text(blank, "Starting the camera and the pose model...", (20, 240)))
    cv2.waitKey(1)


def _close_window() -> None:
    import cv2

    try:
        cv2.destroyWindow(WINDOW_NAME)
        cv2.waitKey(1)
    except cv2.error:  # already closed by the user
        pass


def _save(recorder: SessionRecorder, record_path: Path | None, movement: str,
          config: str | os.PathLike[str] | None, model: str | os.PathLike[str] | None,
          summary: LiveSummary, emit: Callable[[Event], None], warn: Callable[[str], None],
          step: LiveStep | None = None) -> None:
    """Close the recording and write the session's report into the same folder.

    The report comes from what the live run measured (the landmarks of the processed frames
    and the mask measures taken while the masks were fresh), judged with ``analyze``'s
    zero-phase kinematics and rules, and drawn over the recording: the pose model does not run
    a second time. Only when the recording does not hold exactly the processed frames (it
    failed part-way) is the recording analysed afresh.
    """
    from movescreen.pipeline import AnalyzeOptions, run_analysis

    video = recorder.close()
    if record_path is None:
        return
    saved: dict[str, str] = {"events": str(record_path / EVENTS_FILE)}
    if recorder.error is not None:
        warn(f"The session video could not be written ({recorder.error}).")
    if video is None:
        warn("No frame was processed, so there is no session video or report to save.")
        summary.saved = saved
        emit({"event": "saved", "dir": str(record_path), "paths": saved, "error": "no frames"})
        return
    saved["session_video"] = str(video)
    error = None
    analysis_s = None
    t0 = time.perf_counter()
    try:
        options = AnalyzeOptions(model=os.fspath(model) if model else None, movement=movement,
                                 config=os.fspath(config) if config else None)
        measured = step.session_measurements() if step is not None else None
        if measured is not None and recorder.error is None and len(measured[0]) == recorder.frames:
            report = _report_from_live(video, record_path, options, measured)
            source = "live"
        else:
            report = run_analysis(video, record_path, options)
            source = "recording"
        for w in report.pop("_warnings", []):
            warn(w)
        for k, name in (report.get("outputs") or {}).items():
            saved[k] = str(record_path / name)
        saved["report"] = str(record_path / "report.json")
        saved["measured_from"] = source
        analysis_s = round(time.perf_counter() - t0, 1)
    except NoPersonError as e:
        error = str(e)
        saved["report"] = str(record_path / "report.json")
        warn(error)
    except MovescreenError as e:
        error = str(e)
        warn(f"The session was recorded but could not be analysed: {e}")
    summary.saved = saved
    emit({"event": "saved", "dir": str(record_path), "paths": saved, "analysis_s": analysis_s,
          "error": error})


def _report_from_live(video: Path, out: Path, options: Any, measured: tuple[Any, Any, Any]) -> dict[str, Any]:
    """``run_analysis`` for a live session, from the live measurements instead of the model."""
    from dataclasses import replace

    from movescreen.kinematics.scene_lines import SceneLineSampler
    from movescreen.pipeline import (
        Analysis,
        add_scene_vertical,
        compute_kinematics,
        write_all,
        write_outputs,
    )
    from movescreen.pose.model import resolve_model
    from movescreen.quality import assess_quality
    from movescreen.rules.engine import evaluate_rules
    from movescreen.sinks import file_sha256
    from movescreen.sources import open_source

    seq, columns, back = measured
    src = open_source(video)
    lines = SceneLineSampler(src)  # background lines of the recording: the true vertical
    try:
        info = replace(src.info, frame_count=len(seq))
        for _ in lines:  # decode only (a few frames go to the line detector)
            pass
    finally:
        src.close()
    analysis = Analysis(info, seq, assess_quality(seq), [], resolve_model(options.model), options,
                        file_sha256(video), mask_columns=columns, back_traces=back,
                        scene_samples=lines.samples)
    analysis.extra["measured_from"] = (
        "the live session: the landmarks and mask measures of the frames it processed, as the "
        "session recorded them; the pose model was not run again on the recording")
    if analysis.quality.frames_with_pose == 0:
        err = NoPersonError("No person was found in any frame of the live session; film the "
                            "whole body, well lit, with one person in the picture.")
        write_outputs(analysis, out, status="failed", error=str(err))
        raise err
    from movescreen.config import load_config

    analysis.config = load_config(options.config)
    analysis.kinematics = compute_kinematics(seq, options, analysis=analysis)
    add_scene_vertical(analysis)
    analysis.rules = evaluate_rules(analysis.kinematics, analysis.config, pain=options.pain)
    report, render_warnings = write_all(analysis, out)
    report["_warnings"] = list(analysis.quality.warnings) + render_warnings
    return report


__all__ = ["FrameGrabber", "LiveSummary", "LiveWindow", "SessionRecorder", "draw_live_overlay", "run_live",
           "summary_lines"]
