"""The annotated video: every input frame with skeleton, angles, rep/phase and findings drawn,
encoded as H.264 (yuv420p) in MP4 so browsers play it.
"""

from __future__ import annotations

import os
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from movescreen.errors import InputError
from movescreen.render.annotate import (
    draw_angle_labels,
    draw_finding,
    draw_rep_banner,
    draw_skeleton,
    phase_at,
)
from movescreen.render.folder import AnalysisFolder
from movescreen.render.privacy import blur_region, compute_face_regions
from movescreen.sinks import H264Writer, atomic_path
from movescreen.sources import open_source

Image = npt.NDArray[np.uint8]
T = TypeVar("T")
R = TypeVar("R")

# Which angle columns are written next to the joints, by view (regexes, image columns first).
# ``{space}`` is the analysis's trusted angle space ('image' or 'world').
LABEL_COLUMNS: dict[str, tuple[str, ...]] = {
    "front": (r"^(left|right)_(knee_)?fppa_{space}_deg$", r"^pelvic_drop_{space}_deg$"),
    "side": (
        r"^(left|right)_hip_flexion_{space}_deg$",
        r"^(left|right)_knee_flexion_{space}_deg$",
        r"^trunk_inclination_{space}_deg$",
    ),
}
LABEL_COLUMNS["oblique"] = LABEL_COLUMNS["side"]


class FrameAnnotator:
    """Draws everything known about one source frame; shared by the video and the key frames.

    Parameters
    ----------
    folder : AnalysisFolder
    blur_faces : bool
        Blur the face region (carried over up to ``hold_s`` where the face is missing).
    """

    def __init__(self, folder: AnalysisFolder, *, blur_faces: bool = False, hold_s: float = 1.0) -> None:
        self.folder = folder
        self.blur = blur_faces
        self.reps = folder.reps
        self.findings = folder.findings
        self.fps = folder.fps
        lm = folder.landmarks
        self._regions = (
            compute_face_regions(lm.image_xyz, lm.time_s, hold_s=hold_s)
            if (lm is not None and blur_faces)
            else None
        )
        self._angle_rows: dict[int, int] = {}
        if "frame" in folder.angles:
            self._angle_rows = {int(f): i for i, f in enumerate(folder.angles["frame"])}
        cols = folder.angle_columns()
        self._label_cols = {
            view: [c for p in pats for c in cols if re.search(p.replace("{space}", folder.angle_space), c)]
            for view, pats in LABEL_COLUMNS.items()
        }
        self._view = str((folder.report.get("view") or {}).get("name") or "side")
        self._last_region: npt.NDArray[np.float64] | None = None
        self._last_time: float = -np.inf
        self.hold_s = hold_s

    def row_xyz(self, frame: int) -> npt.NDArray[np.floating] | None:
        r = self.folder.landmark_row(frame)
        return None if r is None or self.folder.landmarks is None else self.folder.landmarks.image_xyz[r]

    def face_region(self, frame: int, time_s: float) -> npt.NDArray[np.float64] | None:
        """The face ellipse to blur at this frame, or None (no blur asked, or no face near)."""
        if not self.blur or self._regions is None:
            return None
        r = self.folder.landmark_row(frame)
        region = self._regions[r] if r is not None else None
        if region is not None and np.isfinite(region).all():
            self._last_region, self._last_time = region, time_s
            return region
        # frames the landmark file does not list at all: hold the last region for a while
        if self._last_region is not None and time_s - self._last_time <= self.hold_s:
            return self._last_region
        return None

    def angle_values(self, frame: int, view: str | None = None) -> dict[str, float]:
        row = self._angle_rows.get(frame)
        if row is None:
            return {}
        if view is None and "view" in self.folder.angles:
            view = str(self.folder.angles["view"][row] or "")
        cols = self._label_cols.get(view or self._view) or self._label_cols.get(self._view) or []
        return {c: float(self.folder.angles[c][row]) for c in cols}

    def anonymise(self, image: Image, frame: int, time_s: float) -> Image:
        region = self.face_region(frame, time_s)
        return blur_region(image, region) if region is not None else image

    def annotate(self, image: Image, frame: int, time_s: float) -> Image:
        """Blur (if asked), then draw skeleton, angle labels, rep/phase and findings."""
        out = self.anonymise(image, frame, time_s)
        out = out.copy() if out is image else out  # one copy (the input frame is not changed)
        row = self.row_xyz(frame)
        if row is not None:
            out = draw_skeleton(out, row, copy=False)
            out = draw_angle_labels(out, row, self.angle_values(frame), copy=False)
        rep, phase = phase_at(self.reps, frame, self.fps)
        lines = [f"t {time_s:5.2f} s  frame {frame}"]
        if rep is not None:
            lines.insert(0, f"rep {rep.get('index', '?')}/{len(self.reps)}: {phase}")
        elif self.reps:
            lines.insert(0, phase)
        if row is None or not np.isfinite(row[:, :2]).any():
            lines.append("no pose in this frame")
        out = draw_rep_banner(out, lines, copy=False)
        active = [f for f in self.findings if _covers(f, frame)]
        for i, f in enumerate(active):
            out = draw_finding(out, row, f, line=len(active) - 1 - i, copy=False)
        return out


def map_in_thread(fn: Callable[[T], R], items: Iterable[T], maxsize: int = 4) -> Iterator[R]:
    """``map(fn, items)`` with ``fn`` run in order on one background thread, at most ``maxsize``
    results ahead of the consumer (bounded memory); an exception is re-raised in the consumer,
    and stopping early (break, an exception here) stops the thread."""
    q: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=maxsize)
    stop = threading.Event()
    end = object()

    def put(item: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def worker() -> None:
        try:
            for item in items:
                if not put((True, fn(item))):
                    return
            put((True, end))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            put((False, e))

    t = threading.Thread(target=worker, name="movescreen-draw", daemon=True)
    t.start()
    try:
        while True:
            ok, value = q.get()
            if not ok:
                raise value
            if value is end:
                return
            yield value
    finally:
        stop.set()
        t.join(timeout=5)


def _covers(finding: dict[str, Any], frame: int) -> bool:
    try:
        return int(finding["frame_start"]) <= frame <= int(finding["frame_end"])
    except (KeyError, TypeError, ValueError):
        return False


def write_annotated_video(
    folder: AnalysisFolder,
    video_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    blur_faces: bool = False,
    crf: int = 23,
    preset: str = "veryfast",
    on_frame: Any = None,
) -> Path:
    """Write the annotated video (H.264, yuv420p, MP4 with the index at the front).

    Parameters
    ----------
    folder : AnalysisFolder
        The analysis to draw.
    video_path : path-like
        The input video the analysis was made from (decoded with
        :func:`movescreen.sources.open_source`: upright frames, container times).
    out_path : path-like
        Where to write; written to a temporary file beside it, then renamed.
    blur_faces : bool
        Blur the face on every frame.
    on_frame : callable(Frame), optional
        Also called with every decoded input frame (the key frames use the same decode pass).

    Returns
    -------
    Path
        ``out_path``.

    Notes
    -----
    The output has one frame per decoded input frame, with the input's timestamps (so
    variable frame rates survive) and its nominal frame rate. Odd frame sizes are padded with
    one black row/column (yuv420p needs even sizes).
    """
    target = Path(out_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = open_source(video_path)
    annotator = FrameAnnotator(folder, blur_faces=blur_faces)
    fps = float(source.info.fps) or folder.fps
    try:
        with atomic_path(target) as tmp:
            with H264Writer(tmp, fps, crf=crf, preset=preset) as writer:
                from movescreen.pose.estimate import _threaded

                def draw(frame: Any) -> tuple[Any, float]:
                    if on_frame is not None:
                        on_frame(frame)
                    image = annotator.annotate(frame.image, frame.index, frame.time_s)
                    return writer.prepare(image), frame.time_s

                # three stages side by side: decode (thread) -> draw (thread) -> x264 (here)
                for image, time_s in map_in_thread(draw, _threaded(iter(source))):
                    writer.write(image, time_s)
            if writer.frames == 0:
                raise InputError(f"{Path(video_path).name} gave no frames; no annotated video was written.")
    finally:
        source.close()
    return target
