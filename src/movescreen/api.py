"""The Python API: ``movescreen.analyze(path) -> Analysis``, ``movescreen.load(folder)``.

:class:`Analysis` is a thin facade over the pipeline's in-memory result
(:class:`movescreen.pipeline.Analysis`) or over an analysis folder read back; nothing is written
unless :meth:`Analysis.save` is called. Tables come as pandas DataFrames when pandas is installed
(``pip install 'movescreen[analysis]'``), otherwise as dicts of NumPy arrays.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from movescreen.types import LandmarkSequence


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:
        return None
    return pd


class Analysis:
    """One analysis: report sections, angle table and landmarks.

    Attributes
    ----------
    report : dict
        What ``report.json`` holds (plain JSON types).
    folder : Path or None
        Where it was loaded from or last saved to.
    """

    def __init__(self, report: dict[str, Any], angles: dict[str, np.ndarray],
                 sequence: LandmarkSequence | None, *, pipeline_analysis: Any = None,
                 folder: Path | None = None) -> None:
        self.report = report
        self._angles = angles
        self._sequence = sequence
        self._analysis = pipeline_analysis
        self.folder = folder

    @classmethod
    def _from_pipeline(cls, analysis: Any) -> Analysis:
        from movescreen.pipeline import analysis_folder, build_report
        from movescreen.sinks import clean_for_json

        report = json.loads(json.dumps(clean_for_json(build_report(analysis)), default=str))
        rounded = analysis_folder(analysis, Path("."), report)  # rounded as the files store them
        angles = dict(rounded.angles)
        order = ([c for c in ("frame", "time_s") if c in angles]  # the column order of angles.csv
                 + [c for c in angles if c not in ("frame", "time_s", "view")]
                 + [c for c in ("view",) if c in angles])
        return cls(report, {c: angles[c] for c in order}, rounded.landmarks, pipeline_analysis=analysis)

    # ----- what notebooks use
    @property
    def findings(self) -> list[dict[str, Any]]:
        """Findings (``report.json`` ``findings``): rule, severity, rep, side, frames, value..."""
        return list(self.report.get("findings") or [])

    @property
    def reps(self) -> list[dict[str, Any]]:
        """Repetitions with frames, tempo and per-rep metrics."""
        return list(self.report.get("reps") or [])

    @property
    def angles(self) -> Any:
        """The per-frame angle table: a DataFrame (pandas installed) or a dict of arrays."""
        pd = _pandas()
        return pd.DataFrame(self._angles) if pd is not None else dict(self._angles)

    @property
    def landmark_sequence(self) -> LandmarkSequence | None:
        return self._sequence

    @property
    def landmarks(self) -> Any:
        """One row per frame and landmark (the ``landmarks.csv`` columns): a DataFrame, or the
        :class:`~movescreen.types.LandmarkSequence` without pandas."""
        pd = _pandas()
        seq = self._sequence
        if pd is None or seq is None:
            return seq
        from movescreen.landmarks import LANDMARK_NAMES, NUM_LANDMARKS

        n = len(seq)
        img, wld = seq.image_xyz.reshape(-1, 3), seq.world_xyz.reshape(-1, 3)
        return pd.DataFrame({
            "frame": np.repeat(seq.frame_index, NUM_LANDMARKS),
            "time_s": np.repeat(seq.time_s, NUM_LANDMARKS),
            "landmark": pd.Categorical(np.tile(np.array(LANDMARK_NAMES), n), categories=list(LANDMARK_NAMES)),
            "x_px": img[:, 0], "y_px": img[:, 1], "z": img[:, 2],
            "visibility": seq.visibility.reshape(-1), "presence": seq.presence.reshape(-1),
            "world_x_m": wld[:, 0], "world_y_m": wld[:, 1], "world_z_m": wld[:, 2],
        })

    @property
    def movement(self) -> str | None:
        return (self.report.get("movement") or {}).get("name")

    @property
    def view(self) -> str | None:
        return (self.report.get("view") or {}).get("name")

    # ----- saving
    def save(self, folder: str | os.PathLike[str], *, exports: str | list[str] | None = None,
             render: bool = False) -> dict[str, Path]:
        """Write ``landmarks.csv``, ``angles.csv``, ``report.json`` and the chosen exports.

        Parameters
        ----------
        folder : path-like
        exports : str or list of str, optional
            Any of ``trc, mot, parquet, c3d`` (see :mod:`movescreen.interop.exports`).
        render : bool
            Also the annotated video, key frames and report.html (needs the analysis made in
            this process, with its input video).
        """
        from dataclasses import replace

        from movescreen.interop.exports import parse_exports, write_exports
        from movescreen.sinks import write_angles_csv, write_json_atomic, write_landmarks_csv

        names = parse_exports(exports)  # a bad name fails before anything is written
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        if self._analysis is not None:
            from movescreen.pipeline import write_all

            a = self._analysis
            on = bool(render)
            a = replace(a, options=replace(a.options, video=on, key_frames=on, html=on, exports=names))
            report, _ = write_all(a, out)
            paths.update({k: out / v for k, v in report["outputs"].items()})
            paths["report"] = out / "report.json"
        else:
            if self._sequence is not None:
                paths["landmarks"] = write_landmarks_csv(out / "landmarks.csv", self._sequence)
            if self._angles:
                paths["angles"] = write_angles_csv(out / "angles.csv", self._angles)
            if names and self._sequence is not None:
                paths.update(write_exports((self._sequence, self._angles or None), out, names))
            report = dict(self.report)
            report["outputs"] = {**(report.get("outputs") or {}),
                                 **{k: p.name for k, p in paths.items()}}
            paths["report"] = write_json_atomic(out / "report.json", report)
        self.folder = out
        return paths

    # ----- comparison
    def _comparable(self) -> tuple[Any, ...]:
        def strip(r: dict[str, Any]) -> dict[str, Any]:
            r = json.loads(json.dumps(r))
            r.pop("outputs", None)
            (r.get("provenance") or {}).pop("created_utc", None)
            return r

        return (strip(self.report),)

    def __eq__(self, other: object) -> bool:
        """Equal reports (but the creation time and the outputs list), angle tables and landmarks
        (at the precision the files store)."""
        if not isinstance(other, Analysis):
            return NotImplemented
        if self._comparable() != other._comparable():
            return False
        a, b = self._angles, other._angles
        if list(a) != list(b):
            return False
        for k in a:
            x, y = np.asarray(a[k]), np.asarray(b[k])
            if x.dtype.kind in "fiu" and y.dtype.kind in "fiu":
                if not np.allclose(x.astype(float), y.astype(float), atol=1e-9, equal_nan=True):
                    return False
            elif [str(v) for v in x] != [str(v) for v in y]:
                return False
        s, t = self._sequence, other._sequence
        if (s is None) != (t is None):
            return False
        if s is not None and t is not None:
            # landmarks.csv keeps 4 decimals of visibility, presence and world coordinates
            for f, tol in (("frame_index", 0), ("time_s", 1e-6), ("image_xyz", 1e-4),
                           ("visibility", 5.1e-5), ("presence", 5.1e-5), ("world_xyz", 5.1e-5)):
                if not np.allclose(np.asarray(getattr(s, f), float), np.asarray(getattr(t, f), float),
                                   rtol=0, atol=tol, equal_nan=True):
                    return False
        return True

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        src = (self.report.get("input") or {}).get("path")
        return (f"<movescreen.Analysis {src!r}: {self.movement}, {self.view} view, "
                f"{len(self.reps)} reps, {len(self.findings)} findings>")


def analyze(path: str | os.PathLike[str], **options: Any) -> Analysis:
    """Analyse a video, image folder or landmarks file in memory; nothing is written.

    Parameters
    ----------
    path : path-like
    **options
        Fields of :class:`movescreen.pipeline.AnalyzeOptions` (``movement="squat"``,
        ``masks=False``, ``config="my.toml"``, ``pain="left knee"``...).

    Raises
    ------
    TypeError
        For an unknown option.
    InputError, ModelError, ConfigError, NoPersonError
        As ``movescreen analyze``.
    """
    from movescreen.pipeline import AnalyzeOptions, analyze_input

    for render in ("video", "key_frames", "html"):  # made only by save(render=True)
        options.setdefault(render, False)
    return Analysis._from_pipeline(analyze_input(path, AnalyzeOptions(**options)))


def load(folder: str | os.PathLike[str]) -> Analysis:
    """Read an analysis folder written by ``movescreen analyze`` or :meth:`Analysis.save`."""
    from movescreen.render.folder import load_analysis_folder

    f = load_analysis_folder(folder)
    return Analysis(f.report, dict(f.angles), f.landmarks, folder=Path(folder))
