"""``landmarks.c3d`` (optional extra ``movescreen[c3d]``: ezc3d, the C3D library of the pyomeca
project).

The 33 world landmarks plus the derived ``Hip`` and ``Neck`` midpoints, named as in the TRC
export, in metres (``POINT:UNITS = m``), y up exactly as ``landmarks_m.trc`` (X = x, Y = -y,
Z = -z of MediaPipe; origin between the hips in every frame: for joint angles, not
trajectories). Missing points and points below ``min_visibility`` have residual -1 (C3D's
"invalid"), which readers return as NaN. The point rate is the sequence's fps.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from movescreen.interop.trc import WORLD_COMMENT, _marker_table
from movescreen.sinks import atomic_path
from movescreen.types import LandmarkSequence


def _ezc3d() -> Any:
    try:
        import ezc3d
    except ImportError as e:
        raise ImportError("C3D needs ezc3d: pip install 'movescreen[c3d]'") from e
    return ezc3d


def write_c3d(path: str | os.PathLike[str], seq: LandmarkSequence, *,
              min_visibility: float | None = 0.5) -> Path:
    """Write the world landmarks as a C3D file (atomic).

    Parameters
    ----------
    path : path-like
        Usually ``landmarks.c3d``.
    seq : LandmarkSequence
        Not modified.
    min_visibility : float or None
        As in :func:`movescreen.interop.trc.write_trc_m`.
    """
    ezc3d = _ezc3d()
    w = np.asarray(seq.world_xyz, np.float64)
    xyz = np.stack([w[..., 0], -w[..., 1], -w[..., 2]], axis=-1)
    names, vals = _marker_table(seq, xyz, min_visibility)  # (T, M, 3)
    t_n, m_n = vals.shape[:2]
    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [float(seq.fps)]
    c["parameters"]["POINT"]["LABELS"]["value"] = names
    c["parameters"]["POINT"]["DESCRIPTIONS"]["value"] = [WORLD_COMMENT[:120]] * m_n
    c["parameters"]["POINT"]["UNITS"]["value"] = ["m"]
    pts = np.ones((4, m_n, t_n))
    pts[:3] = np.transpose(vals, (2, 1, 0))
    valid = np.isfinite(pts[:3]).all(axis=0)
    pts[:3, ~valid] = 0.0
    c["data"]["points"] = pts
    residuals = np.where(valid, 0.0, -1.0)[None]
    c["data"]["meta_points"]["residuals"] = residuals
    c["data"]["meta_points"]["camera_masks"] = np.zeros((7, m_n, t_n), bool)
    with atomic_path(path) as tmp:
        c.write(str(tmp.with_suffix(".c3d")))
        os.replace(tmp.with_suffix(".c3d"), tmp)
    return Path(path)
