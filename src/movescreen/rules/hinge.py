"""Hinge family: the low back or the knees doing the hips' job, and arching at lockout."""

from __future__ import annotations

import numpy as np

from movescreen.config import RuleConfig
from movescreen.rules.base import Measurement, Rule, finite, nan_argmax, not_assessed
from movescreen.rules.context import VIEW_SUITABILITY, RuleContext
from movescreen.rules.finding import NotAssessed
from movescreen.types import Rep

LUMBAR = "lumbar_flexion_est_deg"


def _mean_sides(ctx: RuleContext, stem: str) -> np.ndarray:
    left = ctx.col(f"left_{stem}")
    right = ctx.col(f"right_{stem}")
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(left), right, np.where(np.isnan(right), left, 0.5 * (left + right)))


def _most_inclined(ctx: RuleContext, rep: Rep, within_deg: float = 5.0) -> np.ndarray:
    """Rows of the rep where the trunk is within ``within_deg`` of its largest inclination."""
    sl = ctx.rows(rep)
    trunk = ctx.col(f"trunk_inclination_{ctx.space}_deg")[sl]
    if not np.isfinite(trunk).any():
        return ctx.bottom_zone(rep)
    k = int(np.nanargmax(trunk))
    with np.errstate(invalid="ignore"):
        rows = set((np.flatnonzero(trunk >= trunk[k] - within_deg) + sl.start).tolist())
    around = ctx.window(ctx.frame_of(sl.start + k), 0.1)
    rows |= set(range(around.start, around.stop))
    return np.array(sorted(r for r in rows if sl.start <= r < sl.stop), dtype=np.intp)


def judge_lumbar_rounding(ctx: RuleContext, rep: Rep, cfg: RuleConfig) -> Measurement | NotAssessed:
    """Back-outline bend where the trunk is most inclined in the rep (absolute; rounded positive).

    The value is the confidence-filtered median over the frames whose trunk inclination is within
    5 deg of the rep's largest (at least +-0.1 s around it): the bottom of the hinge, where the
    back carries the most load. A single noisy frame cannot make a finding; the worst frame is the
    zone's largest bend. Absolute, not relative to standing: standing outlines are concave by anatomy
    and the relative value did not separate rounded from neutral hinges (docs/lumbar.md).
    """
    if LUMBAR not in ctx.table:
        return not_assessed("lumbar_rounding", rep, "No back-outline measure (segmentation masks were off or missing).")
    zone = _most_inclined(ctx, rep)
    bend = ctx.col(LUMBAR)[zone]
    conf = ctx.col("lumbar_confidence")[zone]
    use = np.isfinite(bend) & (conf >= cfg.min_confidence)
    if not use.any():
        return not_assessed(
            "lumbar_rounding", rep,
            "The outline of the back could not be traced at the bottom of this rep (hidden, cut off or unclear).",
        )
    value = float(np.median(bend[use]))
    k = nan_argmax(np.where(use, bend, np.nan))
    worst = int(zone[k]) if k is not None else int(zone[0])
    hip = _mean_sides(ctx, f"hip_flexion_{ctx.space}_deg")[worst]
    trunk = ctx.col(f"trunk_inclination_{ctx.space}_deg")[worst]
    rel = ctx.col("lumbar_flexion_rel_standing_deg")[zone]
    conf_v = float(np.median(conf[use])) * VIEW_SUITABILITY.get(rep.view, 0.5)
    return Measurement(
        value=value,
        worst_row=worst,
        first_row=int(zone.min()),
        last_row=int(zone.max()),
        side="none",
        confidence=float(np.clip(conf_v, 0, 1)),
        evidence={
            "column": LUMBAR,
            "hip_flexion_deg": hip,
            "trunk_inclination_deg": trunk,
            "relative_to_standing_deg": float(np.nanmedian(rel[use])) if np.isfinite(rel[use]).any() else None,
            "frames_used": int(use.sum()),
        },
    )


def judge_squatting_the_hinge(ctx: RuleContext, rep: Rep, cfg: RuleConfig) -> Measurement | NotAssessed:
    """Hip height above the knee at the bottom of a hinge, in thigh lengths (0 = parallel)."""
    m = rep.metrics
    value = m.get("depth_hip_above_knee_bottom_ratio", np.nan)
    knee = m.get("knee_flexion_bottom_deg", np.nan)
    hip = m.get("hip_flexion_bottom_deg", np.nan)
    if not finite(value):
        return not_assessed("squatting_the_hinge", rep, "The hips or knees were not visible at the bottom of this rep.")
    row = ctx.row_of(rep.bottom_frame)
    vis = ctx.visibility(("left_hip", "right_hip", "left_knee", "right_knee"), ctx.window(rep.bottom_frame, 0.1))
    ratio = knee / hip if finite(knee, hip) and hip > 1 else np.nan
    return Measurement(
        value=float(value),
        worst_row=row,
        first_row=row,
        last_row=row,
        side="none",
        confidence=float(np.clip(vis * VIEW_SUITABILITY.get(rep.view, 0.5), 0, 1)),
        evidence={
            "column": f"left_hip_above_knee_{'image' if rep.view == 'side' else ctx.space}_ratio",
            "knee_flexion_deg": knee,
            "hip_flexion_deg": hip,
            "knee_to_hip_flexion_ratio": ratio,
        },
    )


def judge_lockout_hyperextension(ctx: RuleContext, rep: Rep, cfg: RuleConfig) -> Measurement | NotAssessed:
    """Backward lean of the trunk past upright at the lockout (median over +-0.15 s).

    The back-outline bend is reported as evidence but not graded: standing outlines are
    concave by anatomy (-5 to -35 deg on the dev clips), so an arch cannot be told from normal
    lordosis with it; leaning back past vertical is what the camera can see.
    """
    rows = ctx.lockout_rows(rep)
    trunk = ctx.col(f"trunk_inclination_{ctx.space}_deg")[rows]
    lean_back = -trunk  # trunk inclination is positive forward
    if not np.isfinite(lean_back).any():
        return not_assessed("lockout_hyperextension", rep, "The trunk was not visible at lockout in this rep.")
    value = float(np.nanmedian(lean_back))
    upright_max = cfg.params.get("lockout_max_forward_deg", 20.0)
    if value < -upright_max:
        # still leaning well forward at the frames we call lockout: the lockout itself was not
        # seen (e.g. the person was lost when the head left the picture), so it cannot be judged
        return not_assessed(
            "lockout_hyperextension", rep,
            f"The lockout was not seen in this rep (the trunk was still {-value:.0f} deg forward at the "
            "last frames with a pose near the top).",
        )
    k = nan_argmax(lean_back)
    worst = rows.start + (k or 0)
    vis = ctx.visibility(("left_shoulder", "right_shoulder", "left_hip", "right_hip"), rows)
    bend = ctx.col(LUMBAR)[rows]
    return Measurement(
        value=value,
        worst_row=worst,
        first_row=rows.start,
        last_row=rows.stop - 1,
        side="none",
        confidence=float(np.clip(vis * VIEW_SUITABILITY.get(rep.view, 0.5), 0, 1)),
        evidence={
            "column": f"trunk_inclination_{ctx.space}_deg",
            "measure": "backward lean past upright",
            "back_outline_bend_deg": float(np.nanmedian(bend)) if np.isfinite(bend).any() else None,
        },
    )


RULES = (
    Rule(
        id="lumbar_rounding",
        joint="lumbar_spine",
        instead_of="hip",
        measures="bend of the back outline at the bottom, relative to standing (rounded positive)",
        client="Hinge at your hips; your low back is rounding.",
        clinician=(
            "Rep {rep}: the back outline was bent (rounded) {value:.0f} deg at the bottom "
            "(threshold {threshold:.0f} deg) with {hip_flexion_deg:.0f} deg of hip flexion: the lumbar "
            "spine (meant to stay stable) supplied motion the hips (meant to be mobile) did not."
        ),
        judge=judge_lumbar_rounding,
    ),
    Rule(
        id="squatting_the_hinge",
        joint="knee",
        instead_of="hip",
        measures="hip height above the knee at the bottom of a hinge, in thigh lengths",
        client="Push your hips back and keep them higher; this is a hinge, not a squat.",
        clinician=(
            "Rep {rep}: at the bottom of the hinge the hips were only {value:.2f} thigh lengths above "
            "the knees (threshold {threshold:.2f}); knee flexion {knee_flexion_deg:.0f} deg against hip "
            "flexion {hip_flexion_deg:.0f} deg: the knees took over the hip's role in the hinge."
        ),
        judge=judge_squatting_the_hinge,
    ),
    Rule(
        id="lockout_hyperextension",
        joint="lumbar_spine",
        instead_of="hip",
        measures="backward lean of the trunk past upright at lockout",
        client="Finish tall by squeezing your glutes; don't lean back at the top.",
        clinician=(
            "Rep {rep}: at lockout the trunk leaned back {value:.0f} deg past upright (threshold {threshold:.0f} deg): "
            "the lumbar spine extended to finish the lift instead of the hips completing extension."
        ),
        judge=judge_lockout_hyperextension,
    ),
)
