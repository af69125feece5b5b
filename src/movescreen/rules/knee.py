"""Knee family: the knee caving in or twisting in place of hip rotation (front/oblique views)."""

from __future__ import annotations

import numpy as np

from movescreen.config import RuleConfig
from movescreen.rules.base import Measurement, Rule, finite, not_assessed
from movescreen.rules.context import VIEW_SUITABILITY, RuleContext
from movescreen.rules.finding import NotAssessed
from movescreen.rules.uncertainty import around, scatter
from movescreen.types import Rep

_KNEE_MARKS = ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")


def judge_knee_valgus(ctx: RuleContext, rep: Rep, cfg: RuleConfig) -> list[Measurement] | NotAssessed:
    """FPPA (world landmarks, valgus positive) on the way down while the knee bend is shallow.

    Only frames of the descent whose knee flexion lies between ``fppa_knee_flexion_min_deg`` and
    ``fppa_knee_flexion_max_deg`` count: with a nearly straight knee the FPPA is undefined noise,
    and at a deep bottom it mostly shows knee flexion seen head-on. The value is the 80th
    percentile over those frames (one bad frame cannot make a finding). Image-plane FPPA is
    reported as evidence only: with the body turned even 20-30 deg it mixes in knee flexion.
    """
    lo_deg = cfg.params.get("fppa_knee_flexion_min_deg", 20.0)
    hi_deg = cfg.params.get("fppa_knee_flexion_max_deg", 60.0)
    descent = ctx.rows(rep)
    bottom = ctx.row_of(rep.bottom_frame)
    if rep.order == "top_first":
        descent = slice(descent.start, bottom + 1)
    else:  # a floor deadlift goes down at the end of the rep
        descent = slice(ctx.row_of(rep.turn_frame), descent.stop)
    vis = ctx.visibility(_KNEE_MARKS, ctx.rows(rep))
    out = []
    for side in ("left", "right"):
        fppa = ctx.col(f"{side}_knee_fppa_world_deg")[descent]
        flex = ctx.col(f"{side}_knee_flexion_world_deg")[descent]
        with np.errstate(invalid="ignore"):
            shallow = np.isfinite(fppa) & (flex >= lo_deg) & (flex <= hi_deg)
        if not shallow.any():
            continue
        vals = fppa[shallow]
        value = float(np.percentile(vals, 80))
        k = int(np.flatnonzero(shallow)[int(np.argmax(np.where(shallow, fppa, -np.inf)[shallow]))])
        out.append(
            Measurement(
                value=value,
                worst_row=descent.start + k,
                first_row=descent.start + int(np.flatnonzero(shallow)[0]),
                last_row=descent.start + int(np.flatnonzero(shallow)[-1]),
                side=side,  # type: ignore[arg-type]
                confidence=float(np.clip(vis * VIEW_SUITABILITY.get(rep.view, 0.5), 0, 1)),
                scatter=scatter(around(fppa, k, 6)),
                landmarks=(f"{side}_hip", f"{side}_knee", f"{side}_ankle"),
                evidence={
                    "column": f"{side}_knee_fppa_world_deg",
                    "measure": "frontal plane projection angle at shallow knee bend",
                    "frames_used": int(shallow.sum()),
                    "knee_flexion_window_deg": [lo_deg, hi_deg],
                    "fppa_image_deg": rep.metrics.get(f"{side}_knee_fppa_shallow_image_deg"),
                },
            )
        )
    if not out:
        return not_assessed(
            "knee_valgus", rep,
            f"No frame of the descent had the knee bent between {lo_deg:.0f} and {hi_deg:.0f} deg with both knees seen, "
            "so the knee's frontal angle could not be judged.",
        )
    return out


def judge_knee_valgus_width(ctx: RuleContext, rep: Rep, cfg: RuleConfig) -> Measurement | NotAssessed:
    """Knee width over ankle width at the bottom (image and world; the smaller one)."""
    vals = [rep.metrics.get(f"knee_ankle_width_ratio_bottom_{sp}", np.nan) for sp in ("image", "world")]
    vals = [v for v in vals if finite(v)]
    if not vals:
        return not_assessed("knee_valgus", rep, "The knees or ankles were not visible at the bottom of this rep.")
    row = ctx.row_of(rep.bottom_frame)
    vis = ctx.visibility(_KNEE_MARKS, ctx.window(rep.bottom_frame, 0.1))
    return Measurement(
        value=float(np.mean(vals)),
        worst_row=row,
        first_row=row,
        last_row=row,
        side="both",
        confidence=float(np.clip(vis * VIEW_SUITABILITY.get(rep.view, 0.5), 0, 1)),
        scatter=scatter(around(ctx.col("knee_ankle_width_ratio_image"), row, 4)),
        landmarks=("left_knee", "right_knee", "left_ankle", "right_ankle"),
        evidence={
            "column": "knee_ankle_width_ratio_image",
            "measure": "knee width / ankle width at the bottom",
            "image_ratio": rep.metrics.get("knee_ankle_width_ratio_bottom_image"),
            "world_ratio": rep.metrics.get("knee_ankle_width_ratio_bottom_world"),
        },
    )


def judge_knee_twist(ctx: RuleContext, rep: Rep, cfg: RuleConfig) -> list[Measurement] | NotAssessed:
    """Angle between where the knee points and where the foot points, at the bottom (world)."""
    out = []
    zone = ctx.bottom_zone(rep)
    for side in ("left", "right"):
        col = ctx.col(f"{side}_knee_foot_angle_world_deg")[zone]
        if not np.isfinite(col).any():
            continue
        marks = (f"{side}_knee", f"{side}_ankle", f"{side}_heel", f"{side}_foot_index")
        vis = ctx.visibility(marks, zone)
        value = float(np.nanmedian(col))
        k = int(np.nanargmax(np.where(np.isfinite(col), np.abs(col), -np.inf)))
        out.append(
            Measurement(
                value=value,
                worst_row=int(zone[k]),
                first_row=int(zone.min()),
                last_row=int(zone.max()),
                side=side,  # type: ignore[arg-type]
                confidence=float(np.clip(vis * VIEW_SUITABILITY.get(rep.view, 0.5), 0, 1)),
                scatter=scatter(col),
                landmarks=marks,
                evidence={"column": f"{side}_knee_foot_angle_world_deg", "measure": "knee direction against foot direction"},
            )
        )
    if not out:
        return not_assessed("knee_twist", rep, "Knee and foot directions could not be measured at the bottom of this rep.")
    return out


RULES = (
    Rule(
        id="knee_valgus",
        joint="knee",
        instead_of="hip",
        measures="frontal plane projection angle at shallow knee bend (valgus positive)",
        client="Keep your {side} knee in line with your toes; it is caving in.",
        clinician=(
            "Rep {rep}, {side} knee: frontal plane projection angle {value:.0f} deg at shallow bend "
            "(threshold {threshold:.0f} deg): the knee (meant to be stable) moved medially, usually "
            "because the hip does not control rotation/abduction."
        ),
        judge=judge_knee_valgus,
    ),
    Rule(
        id="knee_valgus_width",
        joint="knee",
        instead_of="hip",
        measures="knee width over ankle width at the bottom",
        client="Push your knees out over your feet at the bottom.",
        clinician=(
            "Rep {rep}: at the bottom the knees were {value:.2f} times the ankle width (threshold "
            "{threshold:.2f}; normal squats here read at least 1.1): the knees drifted in, the hips "
            "did not hold them out."
        ),
        judge=judge_knee_valgus_width,
        reports_as="knee_valgus",
    ),
    Rule(
        id="knee_twist",
        joint="knee",
        instead_of="hip",
        measures="angle between knee and foot direction at the bottom",
        client="Point your {side} knee the same way as your foot.",
        clinician=(
            "Rep {rep}, {side}: the knee pointed {value:.0f} deg away from the foot at the bottom "
            "(threshold {threshold:.0f} deg): rotation happened at the knee (meant to be stable) "
            "rather than at the hip (meant to rotate)."
        ),
        judge=judge_knee_twist,
    ),
)
