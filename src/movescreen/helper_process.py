"""One helper process beside live's pose model: the per-frame mask measures and the judging of
each finished rep run there, not on threads of the process that runs the model.

Why a process and not a thread: both jobs are mostly Python (the back-outline trace, the
kinematics and rules on a rep's window). On a thread they hold the interpreter lock in slices
that the model's thread then waits for, which showed as the live latency tail: on the 2-core
development machine, headless 640x480, p50 48 ms and p95 75 ms with both jobs on threads
against p50 27 ms and p95 35 ms with neither (``benchmarks/bench_live.py``; docs/live.md). A
separate interpreter has its own lock; the operating system shares the CPU, and the helper runs
at a lower priority (``nice`` +5), so under load the model is served first.

The helper is started at once (``spawn``: a fresh interpreter, never a fork of one running
MediaPipe's threads), ignores Ctrl-C (the live loop handles it and still needs the helper to
judge the last rep), and runs jobs one at a time in the order given. Results come back through
``on_done`` callbacks on a thread of the calling process. If the helper dies (killed, out of
memory), later jobs run inline in the caller: slower, never lost. Jobs that may be dropped
(``droppable``) are refused while ``max_pending`` of them wait, so a slow machine skips work
instead of queueing without bound.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any

OnDone = Callable[[Any, BaseException | None], None]

NICE_INCREMENT = 5
"""The helper's priority below the caller's (Linux ``nice``): the model's frames come first."""


def _init_helper() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the caller decides when to stop
    try:
        os.nice(NICE_INCREMENT)
    except (AttributeError, OSError):  # not on this platform, or not allowed: same priority
        pass


def _ready() -> int:
    return os.getpid()


class HelperProcess:
    """Run pure functions in one helper process (or inline, when ``asynchronous`` is False).

    Parameters
    ----------
    asynchronous : bool
        False runs every job inline in :meth:`submit` (deterministic; tests, and files played
        as fast as possible).
    max_pending : int
        Droppable jobs refused while this many droppable jobs are waiting or running.
    """

    def __init__(self, *, asynchronous: bool = True, max_pending: int = 64) -> None:
        self.max_pending = max_pending
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        # jobs given to the pool whose callback has not returned yet; a job the helper died
        # under counts until it has been redone in this process and its callback has run
        self._active = 0
        self._droppable = 0
        self.fell_back = False  # the helper died and jobs now run inline
        self._pool: cf.ProcessPoolExecutor | None = None
        if asynchronous:
            self._pool = cf.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_init_helper)
            # start the interpreter now (while the model loads), not at the first frame's job
            self._pool.submit(_ready)

    @property
    def asynchronous(self) -> bool:
        return self._pool is not None

    def submit(self, fn: Callable[..., Any], args: tuple[Any, ...], on_done: OnDone, *,
               droppable: bool = False) -> bool:
        """Run ``fn(*args)``; ``on_done(result, None)`` or ``on_done(None, exception)`` follows.

        Returns False (and runs nothing) when ``droppable`` and ``max_pending`` droppable jobs
        already wait.
        """
        pool = self._pool
        fut: cf.Future[Any] | None = None
        if pool is not None:
            with self._lock:
                if droppable and self._droppable >= self.max_pending:
                    return False
                try:
                    fut = pool.submit(fn, *args)
                except (BrokenProcessPool, RuntimeError):
                    self._fall_back()
                else:
                    self._active += 1
                    self._droppable += droppable
        if fut is not None:
            # outside the lock: a job already done calls back at once, in this thread
            fut.add_done_callback(lambda f: self._done(f, on_done, droppable, fn, args))
            return True
        _run_inline(fn, args, on_done)
        return True

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait until every job given so far has called back (a job redone in this process
        after the helper died included); False if some had not at the timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout_s)

    def close(self, timeout_s: float = 60.0) -> None:
        """Wait for the jobs (up to ``timeout_s``), then stop the helper (idempotent)."""
        self.wait(timeout_s)
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    # ------------------------------------------------------------------ internals

    def _done(self, fut: cf.Future[Any], on_done: OnDone, droppable: bool,
              fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        with self._lock:
            self._droppable -= droppable
        try:
            if fut.cancelled():
                return
            err = fut.exception()
            if isinstance(err, BrokenProcessPool):
                # the helper died under this job: do it here, and the next ones too
                self._fall_back()
                _run_inline(fn, args, on_done)
                return
            on_done(None if err is not None else fut.result(), err)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def _fall_back(self) -> None:
        self.fell_back = True
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=False)


def _run_inline(fn: Callable[..., Any], args: tuple[Any, ...], on_done: OnDone) -> None:
    try:
        result = fn(*args)
    except Exception as e:  # noqa: BLE001 - handed to the caller's callback, as from the helper
        on_done(None, e)
        return
    on_done(result, None)


__all__ = ["HelperProcess", "NICE_INCREMENT"]
