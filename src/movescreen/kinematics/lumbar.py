"""The lumbar-flexion estimate as angle-table columns (pure).

Wraps :mod:`movescreen.kinematics.back_contour`: the back-outline bend per frame (absolute, and
relative to the person's own upright value where the clip has one), its confidence, and the
landmark-only measures as secondary columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from movescreen.kinematics.back_contour import (
    compute_back_bend,
    find_upright_rows,
    part_bends,
    summarize_bend,
)
from movescreen.types import LandmarkSequence, MaskCrop

LUMBAR_COLUMN = "lumbar_flexion_est_deg"
UPPER_BACK_COLUMN = "upper_back_bend_deg"
"""Bend within the upper (thoracic) part of the back outline: upper-back rounding (reported, not
judged: see docs/lumbar.md)."""
LOWER_BACK_COLUMN = "lower_back_bend_deg"
"""Bend within the lower (lumbar) part of the back outline."""


def compute_lumbar_columns(
    seq: LandmarkSequence, *, traces: Mapping[int, Mapping[str, dict[str, Any] | None]] | None = None
) -> dict[str, np.ndarray]:
    """Per-frame lumbar columns for the angle table.

    Returns
    -------
    dict of ndarray, each shape (T,)
        ``lumbar_flexion_est_deg``: the back-outline bend (convex/rounded positive, arched
        negative), absolute. This is the estimate the rules use: on the labelled hinges it
        separates rounded from neutral backs at the bottom, while the value relative to standing
        does not (standing outlines read concave, -5 to -35 deg, from lordosis and the buttocks,
        so every hinge looks "more rounded" than standing; see docs/lumbar.md).
        ``lumbar_flexion_rel_standing_deg``: the same relative to the person's upright (standing
        or lockout) value, NaN when the clip has no usable upright frame;
        ``lumbar_baseline_deg``: that upright value (constant); ``lumbar_confidence`` (0..1);
        ``trunk_chord_ratio_image``, ``trunk_chord_ratio_world`` (shoulder-hip distance against
        upright) and ``ear_shoulder_hip_deg``: landmark-only secondary measures.
        ``upper_back_bend_deg`` and ``lower_back_bend_deg``: the bend within the upper
        (thoracic) and the lower (lumbar) part of the outline
        (:func:`movescreen.kinematics.back_contour.part_bends`).
    """
    bend = compute_back_bend(seq, traces=traces)  # traces: per-frame results, masks not kept
    base = summarize_bend(bend, find_upright_rows(bend)).value_deg
    n = len(seq)
    upper, lower = part_bends(bend, seq)
    return {
        UPPER_BACK_COLUMN: upper,
        LOWER_BACK_COLUMN: lower,
        LUMBAR_COLUMN: bend.bend_deg,
        "lumbar_flexion_rel_standing_deg": bend.bend_deg - base if np.isfinite(base) else np.full(n, np.nan),
        "lumbar_baseline_deg": np.full(n, base, np.float64),
        "lumbar_confidence": bend.confidence,
        "trunk_chord_ratio_image": bend.chord_ratio,
        "trunk_chord_ratio_world": bend.chord_3d_ratio,
        "ear_shoulder_hip_deg": bend.ear_shoulder_hip_deg,
    }


def compute_foot_in_mask(seq: LandmarkSequence, *, radius_px: int = 4) -> dict[str, np.ndarray]:
    """Whether each foot's heel and toe tip lie on the person's segmentation mask, per frame.

    A plate, a bar or a bench in front of the feet is not part of the person mask, while
    BlazePose still places (guesses) the foot points there with high visibility. Measures that
    need the feet (heel lift) use only frames where both points are on the mask.

    Returns
    -------
    dict of ndarray, shape (T,), float64
        ``left_foot_in_mask`` and ``right_foot_in_mask``: 1.0 on the mask, 0.0 off it, NaN
        where there is no mask or no landmark.
    """
    n = len(seq)
    out = {f"{s}_foot_in_mask": np.full(n, np.nan) for s in ("left", "right")}
    for row, crop in seq.masks.items():
        for col, v in foot_in_mask_frame(crop, seq.image_xyz[row], radius_px=radius_px).items():
            out[col][row] = v
    return out


def foot_in_mask_frame(crop: MaskCrop, image_xyz: np.ndarray, *, radius_px: int = 4) -> dict[str, float]:
    """One frame of :func:`compute_foot_in_mask`, while its mask is fresh: ``{"left_foot_in_mask":
    1.0 or 0.0, "right_foot_in_mask": ...}`` from the landmarks (33, 3) of that frame."""
    from movescreen.landmarks import INDEX

    h, w = crop.mask.shape
    out: dict[str, float] = {}
    for s in ("left", "right"):
        ok = True
        for name in (f"{s}_heel", f"{s}_foot_index"):
            x, y = image_xyz[INDEX[name], :2]
            if not (np.isfinite(x) and np.isfinite(y)):
                ok = False
                break
            cx, cy = int(round(x)) - crop.x0, int(round(y)) - crop.y0
            x0, x1 = max(cx - radius_px, 0), min(cx + radius_px + 1, w)
            y0, y1 = max(cy - radius_px, 0), min(cy + radius_px + 1, h)
            if x0 >= x1 or y0 >= y1 or crop.mask[y0:y1, x0:x1].max() < 128:
                ok = False
                break
        out[f"{s}_foot_in_mask"] = 1.0 if ok else 0.0
    return out
