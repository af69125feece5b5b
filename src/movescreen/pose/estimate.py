"""Run a pose backend over a frame source and build one :class:`LandmarkSequence`.

Decoding runs in a background thread while the model infers in the calling thread (MediaPipe
releases the GIL while it infers), with a small bounded queue between them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from itertools import chain

import numpy as np

from movescreen.errors import InputError
from movescreen.landmarks import NUM_LANDMARKS
from movescreen.pose.backend import PoseBackend, PoseCandidate
from movescreen.pose.subject import BBox, choose_subject, count_others
from movescreen.sources import FrameSource, detect_content_box
from movescreen.types import Frame, LandmarkSequence, MaskCrop, VideoInfo

BackendFactory = Callable[[], PoseBackend]


class _BackgroundScanner:
    """Runs the multi-person scan on a second thread, on the newest due frame only.

    The tracking loop never waits for it (MediaPipe releases the GIL while it infers, so the
    scan uses the otherwise idle core). A due frame replaces any frame still waiting; ``finish``
    runs what is left and returns the counts.
    """

    def __init__(self, backend: PoseBackend) -> None:
        self.backend = backend
        self.max_others = 0
        self.frames_with_others = 0
        self.scans = 0
        self._slot: tuple[Frame, BBox | None] | None = None
        self._cv = threading.Condition()
        self._closing = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="movescreen-scan", daemon=True)
        self._thread.start()

    def submit(self, frame: Frame, subject: BBox | None) -> None:
        with self._cv:
            self._slot = (frame, subject)
            self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while self._slot is None and not self._closing:
                    self._cv.wait()
                if self._slot is None:
                    return
                frame, subject = self._slot
                self._slot = None
            try:
                seen = self.backend.process(frame.image, int(round(frame.time_s * 1000)))
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


def _threaded(it: Iterator[Frame], maxsize: int = 8) -> Iterator[Frame]:
    """Iterate ``it`` in a background thread; exceptions are re-raised in the consumer."""
    q: queue.Queue[object] = queue.Queue(maxsize=maxsize)
    done = object()
    stop = threading.Event()

    def worker() -> None:
        try:
            for item in it:
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
) -> PoseRun:
    """Find the subject's pose in every frame of ``source``.

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

    Raises
    ------
    InputError
        When the source yields no frames.
    """
    frames = _threaded(iter(source))
    # load the models while the decode thread fills the first frames
    backend = make_backend()
    scanner = _BackgroundScanner(make_scanner()) if make_scanner else None
    head: list[Frame] = []
    try:
        for fr in frames:
            head.append(fr)
            if len(head) >= 12:
                break
        if not head:
            raise InputError(f"{source.info.path} contains no frames; nothing to analyse.")
    except BaseException:
        backend.close()
        if scanner is not None:
            scanner.finish()
        raise
    box = detect_content_box([f.image for f in head]) if detect_bars else None
    info = replace(source.info, content_box=box)
    backend.crop = box
    if scanner is not None:
        scanner.backend.crop = box
    rows_idx: list[int] = []
    rows_t: list[float] = []
    image: list[np.ndarray] = []
    world: list[np.ndarray] = []
    vis: list[np.ndarray] = []
    pres: list[np.ndarray] = []
    masks: dict[int, MaskCrop] = {}
    prev_box: BBox | None = None
    run_warnings: list[str] = []
    max_people, frames_with_others = 1, 0
    next_scan = 0.0
    nan3 = np.full((NUM_LANDMARKS, 3), np.nan, np.float32)
    nan1 = np.full(NUM_LANDMARKS, np.nan, np.float32)
    try:
        for fr in chain(head, frames):
            cands = backend.process(fr.image, int(round(fr.time_s * 1000)))
            k = choose_subject(cands, prev_box)
            row = len(rows_idx)
            rows_idx.append(fr.index)
            rows_t.append(fr.time_s)
            if k is None:
                row_arrays = (nan3, nan3, nan1, nan1)
            else:
                c: PoseCandidate = cands[k]
                row_arrays = (c.image_xyz, c.world_xyz, c.visibility, c.presence)
                if c.mask is not None:
                    masks[row] = c.mask
                prev_box = c.bbox()
            for store, arr in zip((image, world, vis, pres), row_arrays):
                store.append(arr)
            others = count_others(cands, prev_box if k is not None else None)
            if scanner is not None and fr.time_s >= next_scan:
                next_scan = fr.time_s + scan_interval_s
                scanner.submit(fr, prev_box if k is not None else None)
            if others:
                frames_with_others += 1
                max_people = max(max_people, others + (k is not None))
            if progress is not None:
                progress(1)
    finally:
        backend.close()
        if scanner is not None:
            scanner.finish()
    scans = 0
    if scanner is not None:
        scans = scanner.scans
        if scanner.max_others:
            max_people = max(max_people, scanner.max_others + 1)
            frames_with_others += scanner.frames_with_others
    n = len(rows_idx)
    info = replace(info, frame_count=n, duration_s=max(info.duration_s, rows_t[-1] if n else 0.0))
    seq = LandmarkSequence(
        frame_index=np.array(rows_idx, np.int64),
        time_s=np.array(rows_t, np.float64),
        image_xyz=np.stack(image).astype(np.float32),
        visibility=np.stack(vis).astype(np.float32),
        presence=np.stack(pres).astype(np.float32),
        world_xyz=np.stack(world).astype(np.float32),
        width=info.width,
        height=info.height,
        fps=info.fps,
        masks=masks,
    )
    if max_people > 1:
        run_warnings.append(
            f"Up to {max_people} people were seen (in {frames_with_others} checked frames); "
            "movescreen followed the largest person, kept consistently over time. Film one "
            "person at a time for a reliable screen."
        )
    return PoseRun(seq, info, run_warnings, max_people, frames_with_others, scans)
