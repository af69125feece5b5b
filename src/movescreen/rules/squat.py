"""Squat family: depth, heel lift, forward lean and left-right asymmetry."""

from __future__ import annotations

import numpy as np

from movescreen.config import RuleConfig
from movescreen.rules.base import Measurement, Rule, finite, not_assessed
from movescreen.rules.context import VIEW_SUITABILITY, RuleContext
from movescreen.rules.finding import NotAssessed
from movescreen.rules.uncertainty import around, scatter
from movescreen.types import Rep


def _conf(ctx: RuleContext, rep: Rep, marks: tuple[str, ...], rows: slice) -> float:
    return float(np.clip(ctx.visibility(marks, rows) * VIEW_SUITABILITY.get(rep.view, 0.5), 0, 1))


def judge_insufficient_depth(ctx: RuleContext, rep: Rep, cfg: RuleConfig) -> Measurement | NotAssessed:
    """Knee flexion at the bottom of a squat."""
    v = rep.metrics.get("knee_flexion_bottom_deg", np.nan)
    if not finite(v):
        return not_assessed("insufficient_depth", rep, "The knees were not visible at the bottom of this rep.")
    row = ctx.row_of(rep.bottom_frame)
    marks = ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
    left, right = ctx.col(f"left_knee_flexion_{ctx.space}_deg"), ctx.col(f"right_knee_flexion_{ctx.space}_deg")
    knee = np.where(np.isnan(left), right, np.where(np.isnan(right), left, 0.5 * (left + right)))
    return Measurement(
        value=float(v), worst_row=row, first_row=row, last_row=row, side="none",
        confidence=_conf(ctx, rep, marks, ctx.window(rep.bottom_frame, 0.1)),
        scatter=scatter(around(knee, row, 4)), landmarks=marks,
        evidence={
            "column": f"left_knee_flexion_{ctx.space}_deg",
            "hip_flexion_deg": rep.metrics.get("hip_flexion_bottom_deg"),
            "hip_above_knee_thigh_lengths": rep.metrics.get("depth_hip_above_knee_bottom_ratio"),
        },
    )


def _toe_rise(ctx: RuleContext, side: str) -> np.ndarray:
    """Height of the toe tip above its lowest level in the clip, in shank lengths (image)."""
    from movescreen.landmarks import INDEX

    img = ctx.kin.sequence.image_xyz
    toe_y = img[:, INDEX[f"{side}_foot_index"], 1].astype(np.float64)
    shank = np.linalg.norm(img[:, INDEX[f"{side}_knee"], :2] - img[:, INDEX[f"{side}_ankle"], :2], axis=1)
    if not (np.isfinite(toe_y).any() and np.isfinite(shank).any()):
        return np.full(len(toe_y), np.nan)
    floor = np.nanpercentile(toe_y, 95)  # y grows downwards: the lowest toe position
    return (floor - toe_y) / np.nanpercentile(shank, 90)


def judge_heel_lift(ctx: RuleContext, rep: Rep, cfg: RuleConfig) -> list[Measurement] | NotAssessed:
    """Heel rise above the flat foot, held for ``min_duration_s`` (image, side view).

    Only frames where both foot points lie on the person's segmentation mask count: a plate in
    front of the feet hides them, and BlazePose then guesses foot points with high visibility.
    """
    sp = "image"
    hold_s = cfg.params.get("min_duration_s", 0.15)
    sl = ctx.rows(rep)
    t = ctx.col("time_s")[sl]
    out = []
    for side in ("left", "right"):
        h = ctx.col(f"{side}_heel_lift_{sp}_ratio")[sl]
        on_mask = ctx.col(f"{side}_foot_in_mask")[sl]
        if np.isfinite(on_mask).any():
            h = np.where(on_mask == 1.0, h, np.nan)
        # a foot in the air (the free leg of a single-leg RDL, a step) is not a heel lift: keep
        # only frames whose toe tip is near its own lowest level in the clip
        toe_up = _toe_rise(ctx, side)[sl]
        with np.errstate(invalid="ignore"):
            h = np.where(toe_up <= cfg.params.get("toe_on_floor_max", 0.1), h, np.nan)
        if not np.isfinite(h).any():
            continue
        # the largest rise that is held: the max over frames of the min over a hold window
        held = np.full_like(h, np.nan)
        for i in range(len(h)):
            j = int(np.searchsorted(t, t[i] + hold_s - 1e-9))
            w = h[i : max(j, i + 1)]
            if j <= len(h) and w.size and np.isfinite(w).all():
                held[i] = w.min()
        if not np.isfinite(held).any():
            continue
        k = int(np.nanargmax(held))
        marks = (f"{side}_heel", f"{side}_ankle", f"{side}_foot_index")
        out.append(Measurement(
            value=float(held[k]), worst_row=sl.start + k, first_row=sl.start, last_row=sl.stop - 1,
            side=side,  # type: ignore[arg-type]
            confidence=_conf(ctx, rep, marks, sl),
            scatter=scatter(around(h, k, 6)), landmarks=marks,
            evidence={"column": f"{side}_heel_lift_{sp}_ratio", "held_for_s": hold_s,
                      "peak_unheld": float(np.nanmax(h))},
        ))
    if not out:
        return not_assessed("heel_lift", rep, "The feet were hidden (e.g. behind the plates) or unclear for the whole rep.")
    return out


def judge_excessive_forward_lean(ctx: RuleContext, rep: Rep, cfg: RuleConfig) -> Measurement | NotAssessed:
    """Trunk inclination minus shin inclination at the bottom of a squat."""
    trunk = ctx.col(f"trunk_inclination_{ctx.space}_deg")
    left = ctx.col(f"left_ankle_dorsiflexion_{ctx.space}_deg")
    right = ctx.col(f"right_ankle_dorsiflexion_{ctx.space}_deg")
    zone = ctx.bottom_zone(rep)
    with np.errstate(invalid="ignore"):
        shin = np.nanmean(np.stack([left[zone], right[zone]]), axis=0) if zone.size else np.array([])
        diff = trunk[zone] - shin
    if not np.isfinite(diff).any():
        return not_assessed("excessive_forward_lean", rep, "Trunk or shins were not visible at the bottom of this rep.")
    value = float(np.nanmedian(diff))
    k = int(np.nanargmax(np.where(np.isfinite(diff), diff, -np.inf)))
    marks = ("left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
    return Measurement(
        value=value, worst_row=int(zone[k]), first_row=int(zone.min()), last_row=int(zone.max()),
        side="none", confidence=_conf(ctx, rep, marks, ctx.rows(rep)),
        scatter=scatter(diff), landmarks=marks,
        evidence={"column": f"trunk_inclination_{ctx.space}_deg",
                  "trunk_inclination_deg": float(np.nanmedian(trunk[zone])),
                  "shin_inclination_deg": float(np.nanmedian(shin)) if np.isfinite(shin).any() else None},
    )


def judge_asymmetry(ctx: RuleContext, rep: Rep, cfg: RuleConfig) -> Measurement | NotAssessed:
    """Left-right knee-flexion difference at the bottom (world landmarks), degrees."""
    zone = ctx.bottom_zone(rep)
    diff = ctx.col("left_knee_flexion_world_deg")[zone] - ctx.col("right_knee_flexion_world_deg")[zone]
    if not np.isfinite(diff).any():
        return not_assessed("asymmetry", rep, "Both knees were not visible at the bottom of this rep.")
    knee_diff = float(np.nanmedian(diff))
    marks = ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
    return Measurement(
        value=abs(knee_diff), worst_row=ctx.row_of(rep.bottom_frame), first_row=int(zone.min()),
        last_row=int(zone.max()), side="left" if knee_diff > 0 else "right",
        confidence=_conf(ctx, rep, marks, ctx.rows(rep)),
        scatter=scatter(diff), landmarks=marks,
        evidence={"column": "left_knee_flexion_world_deg", "measure": "knee flexion difference",
                  "knee_flexion_difference_deg": knee_diff},
    )


def judge_asymmetry_shift(ctx: RuleContext, rep: Rep, cfg: RuleConfig) -> Measurement | NotAssessed:
    """Side-to-side shift of the pelvis at the bottom against the rep's start, % of hip width."""
    zone = ctx.bottom_zone(rep)
    sl = ctx.rows(rep)
    max_yaw = cfg.params.get("max_yaw_deg", 15.0)
    yaw = float(np.nanmedian(ctx.col("yaw_deg")[sl])) if np.isfinite(ctx.col("yaw_deg")[sl]).any() else np.nan
    if not finite(yaw) or yaw > max_yaw:
        return not_assessed(
            "asymmetry", rep,
            f"The body was turned {yaw:.0f} deg from the camera (more than {max_yaw:.0f}); when the hips move back "
            "in a squat that looks like a sideways shift, so the shift was not judged.",
        )
    shift = ctx.col("lateral_shift_image_ratio")
    start = shift[sl][:3]
    if not (np.isfinite(start).any() and np.isfinite(shift[zone]).any()):
        return not_assessed("asymmetry", rep, "The hips were not visible at the start and bottom of this rep.")
    delta = float(np.nanmedian(shift[zone]) - np.nanmedian(start))
    marks = ("left_hip", "right_hip", "left_ankle", "right_ankle")
    return Measurement(
        value=100 * abs(delta), worst_row=ctx.row_of(rep.bottom_frame), first_row=int(zone.min()),
        last_row=int(zone.max()), side="both", confidence=_conf(ctx, rep, marks, sl),
        scatter=100 * scatter(shift[zone]), landmarks=marks,
        evidence={"column": "lateral_shift_image_ratio", "measure": "hip shift", "yaw_deg": yaw,
                  "direction": "towards their left" if delta > 0 else "towards their right"},
    )


RULES = (
    Rule(
        id="insufficient_depth",
        joint="hip",
        instead_of="hip",
        measures="knee flexion at the bottom of the squat",
        client="Sit a little deeper if it feels comfortable.",
        clinician=(
            "Rep {rep}: knee flexion at the bottom was {value:.0f} deg (threshold {threshold:.0f} deg); "
            "limited depth often reflects limited ankle dorsiflexion or hip flexion (the mobile joints)."
        ),
        judge=judge_insufficient_depth,
    ),
    Rule(
        id="heel_lift",
        joint="ankle",
        instead_of="ankle",
        measures="heel rise above standing, held, in shank lengths",
        client="Keep your {side} heel down; press through the whole foot.",
        clinician=(
            "Rep {rep}, {side}: the heel rose {value:.2f} shank lengths above standing for at least "
            "{held_for_s:.2f} s (threshold {threshold:.2f}): motion was taken from the forefoot when the "
            "ankle (meant to be mobile) ran out of dorsiflexion, or weight shifted forward."
        ),
        judge=judge_heel_lift,
    ),
    Rule(
        id="excessive_forward_lean",
        joint="hip",
        instead_of="ankle",
        measures="trunk inclination minus shin inclination at the bottom",
        client="Keep your chest up; let your knees travel forward over your toes.",
        clinician=(
            "Rep {rep}: at the bottom the trunk was {value:.0f} deg more inclined than the shins "
            "(threshold {threshold:.0f} deg): the hips and back took the load the ankles (meant to be "
            "mobile) did not allow the knees to share."
        ),
        judge=judge_excessive_forward_lean,
    ),
    Rule(
        id="asymmetry",
        joint="pelvis",
        instead_of="hip",
        measures="left-right knee-flexion difference at the bottom",
        client="Share the weight evenly between both legs.",
        clinician=(
            "Rep {rep}: the knees bent {value:.0f} deg differently at the bottom (threshold "
            "{threshold:.0f} deg; the {side} bent more): one side is avoiding or taking more load."
        ),
        judge=judge_asymmetry,
    ),
    Rule(
        id="asymmetry_shift",
        joint="pelvis",
        instead_of="hip",
        measures="side-to-side hip shift at the bottom, percent of hip width",
        client="Keep your hips centred between your feet.",
        clinician=(
            "Rep {rep}: the pelvis shifted {value:.0f}% of hip width {direction} at the bottom "
            "(threshold {threshold:.0f}%): load moved onto one leg, often to spare the other hip or knee."
        ),
        judge=judge_asymmetry_shift,
        reports_as="asymmetry",
    ),
)
