"""Key frames: a PNG of the worst frame of every finding and of the bottom of every rep, with the
measured angle drawn as an arc, its value and the threshold.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import cv2
import numpy as np
import numpy.typing as npt

from movescreen.errors import InputError
from movescreen.render.annotate import (
    draw_angle_arc,
    draw_finding,
    draw_rep_banner,
    draw_skeleton,
    finding_title,
)
from movescreen.render.folder import AnalysisFolder
from movescreen.render.joints import SEVERITY_BGR, columns_for_finding
from movescreen.render.video import FrameAnnotator
from movescreen.sinks import write_atomic
from movescreen.sources import open_source

Image = npt.NDArray[np.uint8]

# Columns drawn on a rep's bottom frame, by view (regexes; first match per pattern and side).
BOTTOM_COLUMNS: dict[str, tuple[str, ...]] = {
    "side": (r"hip_flexion_{space}_deg$", r"knee_flexion_{space}_deg$", r"^trunk_inclination_{space}_deg$"),
    "front": (r"fppa_{space}_deg$",),
}
BOTTOM_COLUMNS["oblique"] = BOTTOM_COLUMNS["side"]


@dataclass(frozen=True)
class KeyFrame:
    """One key frame to write.

    Attributes
    ----------
    name : str
        File name under ``frames/`` (``rep01_bottom.png``, ``finding01_knee_valgus_rep1.png``).
    frame : int
        Source frame number.
    kind : {"rep", "finding"}
    item : dict
        The rep or finding from ``report.json``.
    """

    name: str
    frame: int
    kind: str
    item: dict[str, Any]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "x"


def plan_key_frames(folder: AnalysisFolder) -> list[KeyFrame]:
    """The key frames an analysis calls for, in report order (reps, then findings).

    Items without a usable frame number are skipped.
    """
    out: list[KeyFrame] = []
    for rep in folder.reps:
        try:
            frame, index = int(rep["bottom_frame"]), int(rep["index"])
        except (KeyError, TypeError, ValueError):
            continue
        out.append(KeyFrame(f"rep{index:02d}_bottom.png", frame, "rep", rep))
    for i, f in enumerate(folder.findings, start=1):
        try:
            frame = int(f["worst_frame"])
        except (KeyError, TypeError, ValueError):
            continue
        rep_no = f.get("rep")
        rep_txt = f"_rep{int(rep_no)}" if isinstance(rep_no, (int, float)) else ""
        out.append(KeyFrame(f"finding{i:02d}_{_slug(str(f.get('rule', 'finding')))}{rep_txt}.png",
                            frame, "finding", f))
    return out


def _bottom_columns(folder: AnalysisFolder, rep: dict[str, Any]) -> list[str]:
    view = str(rep.get("view") or (folder.report.get("view") or {}).get("name") or "side")
    cols = folder.angle_columns()
    chosen: list[str] = []
    for pattern in BOTTOM_COLUMNS.get(view, BOTTOM_COLUMNS["side"]):
        pattern = pattern.replace("{space}", folder.angle_space)
        chosen += [c for c in sorted(cols) if re.search(pattern, c) and c not in chosen]
    return chosen


def render_key_frame(annotator: FrameAnnotator, key: KeyFrame, image: Image, time_s: float) -> Image:
    """Draw one key frame (returns a new image)."""
    folder = annotator.folder
    out = annotator.anonymise(image, key.frame, time_s)
    row = annotator.row_xyz(key.frame)
    if row is not None:
        out = draw_skeleton(out, row)
    if key.kind == "rep":
        rep = key.item
        findings = [f for f in folder.findings if f.get("rep") == rep.get("index")]
        for line, col in enumerate(_bottom_columns(folder, rep)):
            thr = next((f.get("threshold") for f in findings
                        if columns_for_finding(f, folder.angle_columns(), space=folder.angle_space)[:1] == [col]), None)
            if row is not None:
                out = draw_angle_arc(out, row, col, folder.angle_at(col, key.frame),
                                     threshold=_num(thr), label_line=line)
        out = draw_rep_banner(out, [f"rep {rep.get('index')}: bottom", f"frame {key.frame}  t {time_s:.2f} s"])
    else:
        f = key.item
        color = SEVERITY_BGR.get(str(f.get("severity")), SEVERITY_BGR["note"])
        out = draw_finding(out, row, f)
        cols = columns_for_finding(f, folder.angle_columns(), space=folder.angle_space)
        column = cols[0] if cols else str(f.get("rule", "value"))
        value = _num(f.get("value"))
        if value is None:
            value = folder.angle_at(column, key.frame)
        if row is not None or not cols:
            out = draw_angle_arc(
                out, row if row is not None else np.full((33, 3), np.nan), column,
                value if value is not None else float("nan"),
                threshold=_num(f.get("threshold")), unit=str(f.get("unit") or "deg"), color=color,
            )
        out = draw_rep_banner(out, [finding_title(f), f"worst frame {key.frame}  t {time_s:.2f} s"])
    return out


def _writer(data: bytes) -> Callable[[IO[Any]], None]:
    def write(f: IO[Any]) -> None:
        f.write(data)

    return write


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and np.isfinite(v) else None


class KeyFrameCollector:
    """Writes the key frames as the frames of one decode pass go by (see ``write_key_frames``).

    ``offer(frame)`` with every decoded frame in order; ``done`` is True once the last key frame
    was passed; ``written()`` lists the files in :func:`plan_key_frames` order.
    """

    def __init__(self, folder: AnalysisFolder, out_dir: str | os.PathLike[str], *, blur_faces: bool = False) -> None:
        self.plan = plan_key_frames(folder)
        self.wanted: dict[int, list[KeyFrame]] = {}
        for k in self.plan:
            self.wanted.setdefault(k.frame, []).append(k)
        self.annotator = FrameAnnotator(folder, blur_faces=blur_faces)
        self.blur = blur_faces
        self.out = Path(out_dir)
        self._written: dict[str, Path] = {}
        self.last = max(self.wanted) if self.wanted else -1
        self.done = not self.plan
        if self.plan:
            self.out.mkdir(parents=True, exist_ok=True)

    def offer(self, frame: Any) -> None:
        if self.done:
            return
        if self.blur:  # keep the carried-over face region up to date on every frame
            self.annotator.face_region(frame.index, frame.time_s)
        for key in self.wanted.get(frame.index, []):
            image = render_key_frame(self.annotator, key, frame.image, frame.time_s)
            ok, buf = cv2.imencode(".png", image)
            if not ok:
                raise InputError(f"could not encode key frame {key.name} as PNG")
            self._written[key.name] = write_atomic(self.out / key.name, _writer(buf.tobytes()), binary=True)
        if frame.index >= self.last:
            self.done = True

    def written(self) -> list[Path]:
        return [self._written[k.name] for k in self.plan if k.name in self._written]


def write_key_frames(
    folder: AnalysisFolder,
    video_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    blur_faces: bool = False,
) -> list[Path]:
    """Write the key-frame PNGs of an analysis.

    Parameters
    ----------
    folder : AnalysisFolder
    video_path : path-like
        The input video (decoded once, front to back).
    out_dir : path-like
        Usually ``<analysis>/frames``; created when needed.
    blur_faces : bool
        Blur the face on every picture.

    Returns
    -------
    list of Path
        The files written, in :func:`plan_key_frames` order. Frames the video does not have
        are skipped.
    """
    collector = KeyFrameCollector(folder, out_dir, blur_faces=blur_faces)
    if collector.done:
        return []
    source = open_source(video_path)
    try:
        for frame in source:
            collector.offer(frame)
            if collector.done:
                break
    finally:
        source.close()
    return collector.written()
