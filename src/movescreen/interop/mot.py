"""``angles.mot``: the angle table in OpenSim's storage format (what Sports2D writes too).

Every column of the angle table measured in degrees (the names ending in ``_deg``), with
movescreen's own names: OpenSim's coordinate names (``hip_flexion_r``...) have sign conventions
and zero positions of their own, so borrowing them would mislead. Ratio columns (``_ratio``) are
not angles and stay in ``angles.csv`` / ``angles.parquet``. ``inDegrees=yes``; missing values
are written ``nan``, which OpenSim and pandas read as NaN.

Layout (tab-separated)::

    angles.mot
    version=1
    nRows=65
    nColumns=41
    inDegrees=yes
    <comment lines>
    endheader
    time  left_hip_flexion_image_deg  ...
    0.000000  12.345  ...
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO

import numpy as np

from movescreen.errors import InputError
from movescreen.sinks import write_atomic

MOT_COMMENT = (
    "movescreen joint angles in degrees; 0 = standing upright, flexion positive; names and sign "
    "conventions are movescreen's (see docs/kinematics.md), not OpenSim's coordinates."
)


def degree_columns(table: dict[str, np.ndarray]) -> list[str]:
    """The angle columns of a table: numeric, named ``*_deg``, in table order."""
    return [c for c in table if c.endswith("_deg") and np.asarray(table[c]).dtype.kind in "fiu"]


def write_mot(path: str | os.PathLike[str], table: dict[str, np.ndarray]) -> Path:
    """Write every degree column of the angle table as an OpenSim ``.mot`` file (atomic).

    Parameters
    ----------
    path : path-like
        Usually ``angles.mot``.
    table : dict[str, ndarray of shape (T,)]
        The angle table (:attr:`movescreen.kinematics.Kinematics.table`); needs ``time_s``.
        Not modified.
    """
    if "time_s" not in table:
        raise ValueError("expected an angle table with a time_s column, got none")
    cols = degree_columns(table)
    time_s = np.asarray(table["time_s"], np.float64)
    data = np.column_stack([time_s] + [np.asarray(table[c], np.float64) for c in cols]) if len(time_s) else np.zeros((0, len(cols) + 1))

    def write(f: IO[str]) -> None:
        f.write(f"{Path(path).name}\nversion=1\nnRows={data.shape[0]}\nnColumns={data.shape[1]}\n")
        f.write(f"inDegrees=yes\n{MOT_COMMENT}\nendheader\n")
        f.write("time\t" + "\t".join(cols) + "\n")
        buf = io.StringIO()
        for row in data:
            buf.write(f"{row[0]:.6f}\t" + "\t".join("nan" if not np.isfinite(v) else f"{v:.4f}" for v in row[1:]) + "\n")
        f.write(buf.getvalue())

    return write_atomic(path, write)


def read_mot(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read an OpenSim ``.mot`` / ``.sto`` file: (columns as float64 arrays, header fields).

    Raises
    ------
    InputError
        When the file has no ``endheader`` line.
    """
    p = Path(path)
    lines = p.read_text(encoding="utf-8").splitlines()
    try:
        end = next(i for i, ln in enumerate(lines) if ln.strip().lower() == "endheader")
    except StopIteration as e:
        raise InputError(f"{p.name} is not an OpenSim storage file: no endheader line.") from e
    header = dict(ln.split("=", 1) for ln in lines[:end] if "=" in ln)
    names = lines[end + 1].split("\t")
    rows = [ln.split("\t") for ln in lines[end + 2:] if ln.strip()]
    cols = {n: np.array([float(r[j]) for r in rows], np.float64) for j, n in enumerate(names)}
    return cols, header
