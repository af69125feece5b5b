"""The lumbar-flexion estimate as angle-table columns (pure).

Wraps :mod:`movescreen.kinematics.back_contour`: the back-outline bend per frame, relative to the
person's own upright (standing or lockout) value where the clip has one, plus its confidence and
the landmark-only measures as secondary columns.
"""

from __future__ import annotations

import numpy as np

from movescreen.kinematics.back_contour import (
    compute_back_bend,
    find_upright_rows,
    summarize_bend,
)
from movescreen.types import LandmarkSequence

LUMBAR_COLUMN = "lumbar_flexion_est_deg"


def compute_lumbar_columns(seq: LandmarkSequence) -> dict[str, np.ndarray]:
    """Per-frame lumbar columns for the angle table.

    Returns
    -------
    dict of ndarray, each shape (T,)
        ``lumbar_flexion_est_deg``: back-outline bend relative to the upright baseline (absolute
        when the clip has no usable upright frame; see ``lumbar_baseline_deg``), convex/rounded
        positive; ``lumbar_bend_abs_deg``: the bend itself; ``lumbar_baseline_deg``: the
        baseline used (constant, NaN when none); ``lumbar_confidence`` (0..1);
        ``trunk_chord_ratio_image`` and ``trunk_chord_ratio_world`` (shoulder-hip distance
        against upright) and ``ear_shoulder_hip_deg``: landmark-only secondary measures.
    """
    bend = compute_back_bend(seq)
    summary = summarize_bend(bend, find_upright_rows(bend))
    base = summary.value_deg
    rel = bend.bend_deg - base if np.isfinite(base) else bend.bend_deg.copy()
    n = len(seq)
    return {
        LUMBAR_COLUMN: rel,
        "lumbar_bend_abs_deg": bend.bend_deg,
        "lumbar_baseline_deg": np.full(n, base, np.float64),
        "lumbar_confidence": bend.confidence,
        "trunk_chord_ratio_image": bend.chord_ratio,
        "trunk_chord_ratio_world": bend.chord_3d_ratio,
        "ear_shoulder_hip_deg": bend.ear_shoulder_hip_deg,
    }
