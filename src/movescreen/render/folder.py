"""An analysis folder (``report.json``, ``angles.csv``, ``landmarks.csv``) read back for rendering.

Everything under :mod:`movescreen.render` works from such a folder (plus the input video), so
``movescreen analyze`` and ``movescreen report DIR`` produce the same pictures and page.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from movescreen.errors import InputError
from movescreen.sinks import read_landmarks_csv
from movescreen.types import LandmarkSequence

FloatArray = npt.NDArray[np.float64]

# Columns of angles.csv that are not numeric angle columns.
NON_ANGLE_COLUMNS = frozenset({"frame", "time_s", "view"})


@dataclass(frozen=True)
class AnalysisFolder:
    """What an analysis wrote, read back.

    Attributes
    ----------
    path : Path
        The folder.
    report : dict
        ``report.json`` as parsed JSON. Fields written by later stages (``reps``, ``findings``,
        ``joints`` ...) may be absent; use the accessors, which default to empty.
    angles : dict[str, ndarray]
        ``angles.csv`` column -> values, shape (T,) each; ``frame`` is int64, ``view`` is an
        array of str, every other column float64 with NaN for empty cells. Empty when the file
        is absent.
    landmarks : LandmarkSequence or None
        ``landmarks.csv``, or None when absent.
    """

    path: Path
    report: dict[str, Any]
    angles: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    landmarks: LandmarkSequence | None = None

    @property
    def reps(self) -> list[dict[str, Any]]:
        return list(self.report.get("reps") or [])

    @property
    def findings(self) -> list[dict[str, Any]]:
        return list(self.report.get("findings") or [])

    @property
    def input_info(self) -> dict[str, Any]:
        return dict(self.report.get("input") or {})

    @property
    def fps(self) -> float:
        fps = self.input_info.get("fps")
        if isinstance(fps, (int, float)) and fps > 0:
            return float(fps)
        if self.landmarks is not None:
            return float(self.landmarks.fps)
        return 30.0

    @property
    def angle_space(self) -> str:
        """'image' or 'world': which measurements the analysis trusts for its view."""
        space = (self.report.get("view") or {}).get("angle_space")
        return space if space in ("image", "world") else "image"

    def angle_columns(self) -> list[str]:
        """Numeric columns of ``angles.csv`` (everything but frame, time_s and view)."""
        return [c for c in self.angles if c not in NON_ANGLE_COLUMNS]

    def landmark_row(self, frame: int) -> int | None:
        """Row of ``landmarks`` holding source frame ``frame``, or None."""
        if self.landmarks is None:
            return None
        idx = np.searchsorted(self.landmarks.frame_index, frame)
        if idx < len(self.landmarks.frame_index) and self.landmarks.frame_index[idx] == frame:
            return int(idx)
        return None

    def angle_at(self, column: str, frame: int) -> float:
        """Value of ``column`` at source frame ``frame``; NaN when absent."""
        if column not in self.angles or "frame" not in self.angles:
            return float("nan")
        frames = self.angles["frame"]
        hit = np.flatnonzero(frames == frame)
        if hit.size == 0:
            return float("nan")
        try:
            return float(self.angles[column][hit[0]])
        except (TypeError, ValueError):
            return float("nan")


def read_angles_csv(path: str | os.PathLike[str]) -> dict[str, npt.NDArray[Any]]:
    """Read ``angles.csv`` into column arrays.

    Parameters
    ----------
    path : path-like
        A CSV with a header row; ``frame`` and ``time_s`` columns are expected.

    Returns
    -------
    dict[str, ndarray]
        Each column, shape (T,): ``frame`` int64, ``view`` str, others float64 (empty or
        unparseable cells are NaN).
    """
    p = Path(path)
    try:
        with open(p, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{p.name} could not be read as CSV ({e}).") from e
    if not header:
        raise InputError(f"{p.name} is empty; expected a header row with frame,time_s,...")
    if "frame" not in header:
        raise InputError(f"{p.name} has no 'frame' column; expected a movescreen angles file.")
    cols: dict[str, npt.NDArray[Any]] = {}
    for j, name in enumerate(header):
        cells = [r[j] if j < len(r) else "" for r in rows]
        if name == "view":
            cols[name] = np.array(cells, dtype=object)
        elif name == "frame":
            cols[name] = np.array([int(float(c)) for c in cells], dtype=np.int64)
        else:
            cols[name] = np.array([_to_float(c) for c in cells], dtype=np.float64)
    return cols


def _to_float(cell: str) -> float:
    try:
        return float(cell) if cell.strip() else float("nan")
    except ValueError:
        return float("nan")


def load_analysis_folder(path: str | os.PathLike[str]) -> AnalysisFolder:
    """Read an analysis folder written by ``movescreen analyze``.

    Parameters
    ----------
    path : path-like
        Folder with ``report.json`` and, when present, ``angles.csv`` and ``landmarks.csv``.

    Raises
    ------
    InputError
        When the folder or its ``report.json`` is missing or not valid JSON.
    """
    folder = Path(path)
    report_path = folder / "report.json"
    if not folder.is_dir():
        raise InputError(f"No analysis folder at {folder}; run `movescreen analyze` first.")
    if not report_path.is_file():
        raise InputError(
            f"{folder} has no report.json; it is not a finished analysis folder "
            "(run `movescreen analyze` on the video first)."
        )
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{report_path} is not valid JSON ({e}); re-run the analysis.") from e
    if not isinstance(report, dict):
        raise InputError(f"{report_path} should hold a JSON object, got {type(report).__name__}.")
    angles_path = folder / "angles.csv"
    angles = read_angles_csv(angles_path) if angles_path.is_file() else {}
    lm_path = folder / "landmarks.csv"
    landmarks = read_landmarks_csv(lm_path) if lm_path.is_file() else None
    return AnalysisFolder(path=folder, report=report, angles=angles, landmarks=landmarks)
