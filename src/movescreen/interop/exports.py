"""``--export trc,mot,parquet,c3d``: which files each export name writes, and one call for all."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from movescreen.errors import InputError
from movescreen.types import LandmarkSequence

#: Export name -> the files it writes (report.json ``outputs`` keys are these file stems).
EXPORTS: dict[str, tuple[str, ...]] = {
    "trc": ("landmarks_px.trc", "landmarks_m.trc"),
    "mot": ("angles.mot",),
    "parquet": ("landmarks.parquet", "angles.parquet"),
    "c3d": ("landmarks.c3d",),
}


def parse_exports(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"trc,mot"`` (or a list) -> ``("trc", "mot")``, checked; empty for None or ``""``.

    >>> parse_exports("mot, trc,mot")
    ('trc', 'mot')
    >>> parse_exports(None)
    ()
    """
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    names = {s.strip().lower() for s in items if s and s.strip()}
    if "all" in names:
        names = set(EXPORTS)
    unknown = sorted(names - set(EXPORTS))
    if unknown:
        raise InputError(f"Unknown export {', '.join(unknown)}; expected some of {', '.join(EXPORTS)} (comma-separated).")
    return tuple(n for n in EXPORTS if n in names)


def _parts(analysis_or_parts: Any) -> tuple[LandmarkSequence, dict[str, np.ndarray] | None]:
    """(raw landmark sequence, angle table) from an Analysis, an api.Analysis or a tuple."""
    obj = getattr(analysis_or_parts, "_analysis", analysis_or_parts)  # the API facade
    if isinstance(obj, tuple):
        seq, table = obj
        return seq, table
    if isinstance(obj, LandmarkSequence):
        return obj, None
    seq = obj.sequence
    kin = getattr(obj, "kinematics", None)
    return seq, (kin.table if kin is not None else None)


def write_exports(analysis_or_parts: Any, folder: str | os.PathLike[str],
                  exports: str | Iterable[str] | None) -> dict[str, Path]:
    """Write the chosen exports into ``folder``; return ``{file stem key: path}``.

    Parameters
    ----------
    analysis_or_parts : pipeline.Analysis, movescreen.Analysis, LandmarkSequence or tuple
        The in-memory result, or ``(sequence, angle_table)``. Landmarks are the raw ones (as in
        ``landmarks.csv``); angles the kinematics table (as in ``angles.csv``).
    folder : path-like
    exports : str or iterable of str
        Names from :data:`EXPORTS` (``"trc,mot"``); nothing is written for None or ``""``.

    Returns
    -------
    dict[str, Path]
        Keys like ``"landmarks_px_trc"`` -> path, for ``report.json``'s ``outputs``.

    Notes
    -----
    Each file is written atomically. ``mot`` and ``angles.parquet`` need the angle table and
    are skipped without one (no reps could be analysed). Parquet and C3D need their extras; a
    missing library raises ImportError before anything is written.
    """
    names = parse_exports(exports)
    if not names:
        return {}
    if "parquet" in names:
        from movescreen.interop.parquet import _pa

        _pa()
    if "c3d" in names:
        from movescreen.interop.c3d import _ezc3d

        _ezc3d()
    seq, table = _parts(analysis_or_parts)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}

    def key(fname: str) -> str:
        return fname.replace(".", "_")

    if "trc" in names:
        from movescreen.interop.trc import write_trc_m, write_trc_px

        paths[key("landmarks_px.trc")] = write_trc_px(out / "landmarks_px.trc", seq)
        paths[key("landmarks_m.trc")] = write_trc_m(out / "landmarks_m.trc", seq)
    if "mot" in names and table is not None:
        from movescreen.interop.mot import write_mot

        paths[key("angles.mot")] = write_mot(out / "angles.mot", table)
    if "parquet" in names:
        from movescreen.interop.parquet import write_angles_parquet, write_landmarks_parquet

        paths[key("landmarks.parquet")] = write_landmarks_parquet(out / "landmarks.parquet", seq)
        if table is not None:
            paths[key("angles.parquet")] = write_angles_parquet(out / "angles.parquet", table)
    if "c3d" in names:
        from movescreen.interop.c3d import write_c3d

        paths[key("landmarks.c3d")] = write_c3d(out / "landmarks.c3d", seq)
    return paths


def export_option_callback(ctx: Any, param: Any, value: str | None) -> tuple[str, ...]:
    """click callback for ``--export``: the checked names, or a usage error (exit 2)."""
    import click

    try:
        return parse_exports(value)
    except InputError as e:
        raise click.BadParameter(str(e)) from e


EXPORT_HELP = ("Also write these formats: trc (landmarks_px.trc, landmarks_m.trc), mot (angles.mot), "
               "parquet (landmarks/angles.parquet; movescreen[parquet]), c3d (landmarks.c3d; "
               "movescreen[c3d]); comma-separated, or all.")
