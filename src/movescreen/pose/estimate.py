"""Run a pose backend over a frame source and build one :class:`LandmarkSequence`.

Decoding runs in a background thread while the model infers in the calling thread (MediaPipe
releases the GIL while it infers), with a small bounded queue between them. The decode thread
also does each frame's preparatory work (:meth:`movescreen.step.FrameStep.prepare`: the picture
signature, and the model's RGB input once the content box is known), so the calling thread
does little besides inference.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from movescreen.errors import InputError
from movescreen.pose.backend import PoseBackend
from movescreen.pose.subject import BBox, count_others
from movescreen.sources import FrameSource
from movescreen.step import FrameResult, PreparedFrame
from movescreen.types import Box, Frame, LandmarkSequence, VideoInfo

BackendFactory = Callable[[], PoseBackend]


class _BackgroundScanner:
    """Runs the multi-person scan on a second thread, on the newest due frame only.

    The tracking loop never waits for it (MediaPipe releases the GIL while it infers, so the
    scan uses the otherwise idle core). The scan's model is loaded on that thread too, while
    the tracker starts. A due frame replaces any frame still waiting; ``finish`` runs what is
    left, closes the model and returns the counts (or raises what went wrong, model loading
    included).
    """

    def __init__(self, make_backend: BackendFactory) -> None:
        self._make_backend = make_backend
        self.backend: PoseBackend | None = None
        self._crop: Box | None = None
        self.max_others = 0
        self.frames_with_others = 0
        self.scans = 0
        self._slot: tuple[Frame, BBox | None] | None = None
        self._cv = threading.Condition()
        self._closing = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="movescreen-scan", daemon=True)
        self._thread.start()

    def set_crop(self, box: Box | None) -> None:
        """Run the scan inside ``box`` (the content box) from now on."""
        with self._cv:
            self._crop = box
            if self.backend is not None:
                self.backend.crop = box

    def submit(self, frame: Frame, subject: BBox | None) -> None:
        with self._cv:
            self._slot = (frame, subject)
            self._cv.notify()

    def _run(self) -> None:
        try:
            backend = self._make_backend()
        except BaseException as e:  # noqa: BLE001 - reported by finish()
            self._error = e
            return
        with self._cv:
            backend.crop = self._crop
            self.backend = backend
        while True:
            with self._cv:
                while self._slot is None and not self._closing:
                    self._cv.wait()
                if self._slot is None:
                    return
                frame, subject = self._slot
                self._slot = None
            try:
                seen = backend.process(frame.image, int(round(frame.time_s * 1000)))
            except BaseException as e:  # noqa: BLE001 - reported by finish()
                self._error = e
                return
            others = count_others(seen, subject)
            self.scans += 1
            if others:
                self.frames_with_others += 1
                self.max_others = max(self.max_others, others)

    def finish(self) -> None:
        with self._cv:
            self._closing = True
            self._cv.notify()
        self._thread.join()
        if self.backend is not None:
            self.backend.close()
        if self._error is not None:
            raise self._error


@dataclass
class PoseRun:
    """The pose stage's result: the subject's landmarks plus what was noticed on the way."""

    sequence: LandmarkSequence
    info: VideoInfo
    warnings: list[str] = field(default_factory=list)
    max_people_seen: int = 1
    frames_with_others: int = 0
    scans: int = 0
    mask_columns: dict[str, np.ndarray] | None = None  # per-frame numbers measured on the masks
    back_traces: dict[int, dict[str, dict[str, Any] | None]] | None = None  # row -> facing -> trace
    frame_change: np.ndarray | None = None  # per row: picture change since the previous frame (cuts)


def _threaded(
    it: Iterator[Frame], maxsize: int = 8, prepare: Callable[[Frame], Frame] | None = None
) -> Iterator[Frame]:
    """Iterate ``it`` in a background thread; exceptions are re-raised in the consumer.

    ``prepare``, when given, is applied to every item on that thread (work taken off the
    consumer's thread).
    """
    q: queue.Queue[object] = queue.Queue(maxsize=maxsize)
    done = object()
    stop = threading.Event()

    def worker() -> None:
        try:
            for item in it:
                if prepare is not None:
                    item = prepare(item)
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer thread
            q.put(e)

    t = threading.Thread(target=worker, name="movescreen-decode", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        t.join(timeout=5)


def estimate_landmarks(
    source: FrameSource,
    make_backend: BackendFactory,
    *,
    make_scanner: BackendFactory | None = None,
    scan_interval_s: float = 2.0,
    detect_bars: bool = True,
    progress: Callable[[int], None] | None = None,
    on_frame: Callable[[Frame, FrameResult], None] | None = None,
) -> PoseRun:
    """Find the subject's pose in every frame of ``source`` (one :class:`FrameStep` per frame).

    Parameters
    ----------
    source : FrameSource
    make_backend : callable() -> PoseBackend
        Builds the tracking backend; its ``crop`` is set to the picture inside black bars.
    make_scanner : callable, optional
        Builds a multi-person backend (IMAGE mode) run on a background thread every
        ``scan_interval_s`` seconds to see whether other people are in the picture; None
        switches the scan off.
    detect_bars : bool
        Look for black pillar-/letter-box bars in the first frames and run the model inside them.
    on_frame : callable(Frame, FrameResult), optional
        Called with every frame and its result, in order (e.g. to hand the decoded frame to a
        renderer instead of decoding the video again).

    Masks are measured as they come (:func:`movescreen.step.mask_measures`) and not kept: the
    sequence's ``masks`` is empty, and ``PoseRun.mask_columns`` / ``back_traces`` hold the
    per-frame numbers.

    Raises
    ------
    InputError
        When the source yields no frames.
    """
    from movescreen.step import FrameStep, prepare_frame

    # the decode thread also does each frame's preparatory work (picture signature, the letterbox
    # rule's per-frame part, the model's RGB input once the content box is known): the inference
    # thread then only infers. Before the step exists (the model is loading) nothing is decided.
    steps: list[FrameStep] = []

    def prepare(fr: Frame) -> Frame:
        return steps[0].prepare(fr) if steps else prepare_frame(fr, bars=detect_bars)

    frames = _threaded(iter(source), prepare=prepare)
    # load the models while the decode thread fills the first frames
    scanner = _BackgroundScanner(make_scanner) if make_scanner else None  # loads on its thread
    try:
        backend = make_backend()
    except BaseException:
        if scanner is not None:
            with contextlib.suppress(Exception):
                scanner.finish()
        raise
    boxes: list[Box | None] = []

    def content_box(box: Box | None) -> None:
        boxes.append(box)
        if scanner is not None:
            scanner.set_crop(box)

    # the mask work runs on one worker thread: it overlaps inference (MediaPipe releases the GIL).
    # It includes cropping the mask out of MediaPipe's buffer, when the backend can leave that
    # (a float32 mask the picture's size is kept until then: fewer may wait)
    deferred = hasattr(backend, "defer_masks") and on_frame is None  # on_frame gets MaskCrops
    if deferred:
        backend.defer_masks = True  # type: ignore[attr-defined]
    max_pending = 8 if deferred else 64  # the worker is ~4x faster than inference
    step = FrameStep(backend, detect_bars=detect_bars, on_content_box=content_box, mask_work=False)
    steps.append(step)
    acc = _Rows()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="movescreen-mask")
    pending: list[tuple[int, Future[Any]]] = []
    held: dict[int, Frame] = {}
    next_scan = 0.0

    def take(results: list[FrameResult]) -> None:
        nonlocal next_scan
        for res in results:
            fr = held.pop(res.index)
            if isinstance(fr, PreparedFrame):
                fr = fr.plain()  # the model input is used: whoever keeps the frame keeps only it
            if res.mask is not None:
                pending.append((acc.n, pool.submit(_measure_mask, res.mask, res.image_xyz)))
                while len(pending) > max_pending:  # bounded
                    acc.set_mask_work(*_resolve(pending.pop(0)))
            acc.add(res)
            if scanner is not None and fr.time_s >= next_scan:
                next_scan = fr.time_s + scan_interval_s
                scanner.submit(fr, res.bbox)
            if on_frame is not None:
                on_frame(fr, res)
            if progress is not None:
                progress(1)

    try:
        for fr in frames:
            held[fr.index] = fr
            take(step.update(fr))
        take(step.flush())
        for item in pending:
            acc.set_mask_work(*_resolve(item))
        pending.clear()
        if acc.n == 0:
            raise InputError(f"{source.info.path} contains no frames; nothing to analyse.")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        try:
            backend.close()
        finally:
            if scanner is not None:
                scanner.finish()
    info = replace(source.info, content_box=boxes[0] if boxes else None)
    max_people, frames_with_others = acc.max_people, acc.frames_with_others
    scans = 0
    if scanner is not None:
        scans = scanner.scans
        if scanner.max_others:
            max_people = max(max_people, scanner.max_others + 1)
            frames_with_others += scanner.frames_with_others
    n = acc.n
    info = replace(info, frame_count=n, duration_s=max(info.duration_s, acc.t[-1] if n else 0.0))
    seq = LandmarkSequence(
        frame_index=np.array(acc.idx, np.int64),
        time_s=np.array(acc.t, np.float64),
        image_xyz=np.stack(acc.image).astype(np.float32),
        visibility=np.stack(acc.vis).astype(np.float32),
        presence=np.stack(acc.pres).astype(np.float32),
        world_xyz=np.stack(acc.world).astype(np.float32),
        width=info.width,
        height=info.height,
        fps=info.fps,
    )
    run_warnings: list[str] = []
    if max_people > 1:
        run_warnings.append(
            f"Up to {max_people} people were seen (in {frames_with_others} checked frames); "
            "movescreen followed the largest person, kept consistently over time. Film one "
            "person at a time for a reliable screen."
        )
    return PoseRun(seq, info, run_warnings, max_people, frames_with_others, scans,
                   acc.mask_columns(), acc.back if acc.masked else None,
                   np.array(acc.change, np.float64))


MASK_WORK_DELAY_S = 0.001
"""The mask worker lets this much time pass before each job. A job is submitted just before the
next frame's inference, whose start needs the GIL on MediaPipe's dispatch thread; a worker that
started its (mostly Python) job at once could hold the GIL for up to the 5 ms switch interval
first. Waiting a millisecond lets the inference start, and the job then runs during it (measured
on squat_side_barbell_back_02: the inference thread's time between inferences 0.8 -> 0.5-0.6 ms
per frame, its 90th percentile 1.2-2.1 -> 0.6-0.7 ms)."""


def _measure_mask(mask: Any, image_xyz: np.ndarray) -> tuple[dict[str, float], dict[str, Any]]:
    from movescreen.pose.mediapipe_backend import resolve_mask
    from movescreen.step import mask_measures

    time.sleep(MASK_WORK_DELAY_S)
    return mask_measures(resolve_mask(mask), image_xyz)


def _resolve(item: tuple[int, Future[Any]]) -> tuple[int, dict[str, float], dict[str, Any]]:
    row, fut = item
    columns, back = fut.result()
    return row, columns, back


class _Rows:
    """Accumulates FrameResults into columns (masks are never kept: only their numbers)."""

    def __init__(self) -> None:
        self.idx: list[int] = []
        self.t: list[float] = []
        self.image: list[np.ndarray] = []
        self.world: list[np.ndarray] = []
        self.vis: list[np.ndarray] = []
        self.pres: list[np.ndarray] = []
        self.columns: dict[int, dict[str, float]] = {}
        self.back: dict[int, dict[str, dict[str, Any] | None]] = {}
        self.masked = False
        self.max_people, self.frames_with_others = 1, 0
        self.change: list[float] = []

    @property
    def n(self) -> int:
        return len(self.idx)

    def add(self, r: FrameResult) -> None:
        row = self.n
        self.idx.append(r.index)
        self.t.append(r.time_s)
        self.image.append(r.image_xyz)
        self.world.append(r.world_xyz)
        self.vis.append(r.visibility)
        self.pres.append(r.presence)
        self.change.append(r.frame_change)
        if r.mask is not None:
            self.masked = True
            self.columns[row] = r.mask_columns
            if r.back is not None:
                self.back[row] = r.back
        if r.others:
            self.frames_with_others += 1
            self.max_people = max(self.max_people, r.others + int(r.has_pose))

    def set_mask_work(self, row: int, columns: dict[str, float], back: dict[str, Any]) -> None:
        self.columns[row] = columns
        self.back[row] = back

    def mask_columns(self) -> dict[str, np.ndarray] | None:
        if not self.masked:
            return None
        out = {f"{s}_foot_in_mask": np.full(self.n, np.nan) for s in ("left", "right")}
        for row, cols in self.columns.items():
            for name, v in cols.items():
                out.setdefault(name, np.full(self.n, np.nan))[row] = v
        return out
