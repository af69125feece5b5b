"""Hinge family: the low back or the knees doing the hips' job, hips rising first, arching at lockout."""

from __future__ import annotations

import numpy as np

from movescreen.config import RuleConfig
from movescreen.rules.base import Measurement, Rule, finite, nan_argmax, not_assessed
from movescreen.rules.context import VIEW_SUITABILITY, RuleContext
from movescreen.rules.finding import NotAssessed
from movescreen.rules.uncertainty import around, scatter
from movescreen.types import Rep

LUMBAR = "lumbar_flexion_est_deg"
TRUNK_MARKS = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
LEG_MARKS = ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")


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
        # over +-6 frames around the worst frame (the zone alone can be 3-5 frames: too few)
        scatter=scatter(around(np.where(ctx.col("lumbar_confidence") >= cfg.min_confidence, ctx.col(LUMBAR), np.nan),
                               worst, 6)),
        landmarks=TRUNK_MARKS,
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
    sp = "image" if rep.view == "side" else ctx.space
    series = ctx.col(f"left_hip_above_knee_{sp}_ratio")
    return Measurement(
        value=float(value),
        worst_row=row,
        first_row=row,
        last_row=row,
        side="none",
        confidence=float(np.clip(vis * VIEW_SUITABILITY.get(rep.view, 0.5), 0, 1)),
        scatter=scatter(around(series, row, 4)),
        landmarks=LEG_MARKS,
        evidence={
            "column": f"left_hip_above_knee_{'image' if rep.view == 'side' else ctx.space}_ratio",
            "knee_flexion_deg": knee,
            "hip_flexion_deg": hip,
            "knee_to_hip_flexion_ratio": ratio,
        },
    )


SCENE_TILT = "scene_vertical_tilt_deg"
SCENE_SD = "scene_vertical_sd_deg"


def scene_vertical_towards_facing(ctx: RuleContext, rows: slice) -> tuple[float, float]:
    """Tilt of the true vertical towards the way the person faces over ``rows``, and its SD (deg).

    From the ``scene_vertical_tilt_deg`` / ``scene_vertical_sd_deg`` columns (background lines,
    :mod:`movescreen.kinematics.scene`) when the clip has them; ``(nan, nan)`` otherwise.
    """
    from movescreen.kinematics.scene import vertical_tilt_towards_facing

    tilt = ctx.col(SCENE_TILT)[rows]
    sd = ctx.col(SCENE_SD)[rows]
    ok = np.isfinite(tilt) & np.isfinite(sd)
    facing = int(getattr(ctx.kin.view, "facing_sign", 0) or 0)
    if not ok.any() or facing not in (1, -1):
        return float("nan"), float("nan")
    return vertical_tilt_towards_facing(float(np.median(tilt[ok])), facing), float(np.median(sd[ok]))


def judge_lockout_hyperextension(ctx: RuleContext, rep: Rep, cfg: RuleConfig) -> Measurement | NotAssessed:
    """Backward lean of the trunk past upright at the lockout (median over +-0.15 s).

    The back-outline bend is reported as evidence but not graded: standing outlines are
    concave by anatomy (-5 to -35 deg on the dev clips), so an arch cannot be told from normal
    lordosis with it; leaning back past vertical is what the camera can see.

    "Upright" is the true vertical: the trunk angle is measured from the picture's columns, which
    a camera held rolled (or pitched, so verticals converge) tilts by the same amount. When the
    clip has a scene-vertical reference (``scene_vertical_tilt_deg``: background lines), the lean
    is corrected by it and its SD is the value's ``reference_sd``; without one the picture's
    vertical is taken as true and the roll of a hand-held camera, ``camera_roll_sd_deg``
    (measured, ``defaults.toml``), is the ``reference_sd``. Both are in the evidence.
    """
    rows = ctx.lockout_rows(rep)
    trunk = ctx.col(f"trunk_inclination_{ctx.space}_deg")[rows]
    lean_back = -trunk  # trunk inclination is positive forward
    if not np.isfinite(lean_back).any():
        return not_assessed("lockout_hyperextension", rep, "The trunk was not visible at lockout in this rep.")
    tilt, tilt_sd = (float("nan"), float("nan"))
    if ctx.space == "image":  # world angles take up from the pose model, not from the picture
        tilt, tilt_sd = scene_vertical_towards_facing(ctx, rows)
    if np.isfinite(tilt):
        # a true vertical tipped towards the facing side makes an upright trunk read forward
        lean_back = lean_back + tilt
        reference = "scene lines"
        ref_sd = tilt_sd
    else:
        reference = "picture vertical (no scene lines)"
        ref_sd = float(cfg.params.get("camera_roll_sd_deg", 0.0)) if ctx.space == "image" else 0.0
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
        scatter=scatter(lean_back),
        landmarks=TRUNK_MARKS,
        reference_sd=ref_sd,
        evidence={
            "column": f"trunk_inclination_{ctx.space}_deg",
            "measure": "backward lean past upright",
            "back_outline_bend_deg": float(np.nanmedian(bend)) if np.isfinite(bend).any() else None,
            "vertical_reference": reference,
            "scene_vertical_correction_deg": tilt if np.isfinite(tilt) else None,
            "vertical_reference_sd_deg": ref_sd,
        },
    )


def _ascent_rows(ctx: RuleContext, rep: Rep) -> tuple[int, int]:
    """First and last row of the way up: bottom -> end (squat, RDL) or start -> lockout (floor pull)."""
    if rep.order == "bottom_first":
        # the rep starts where the depth signal leaves the floor position, which a hips-first
        # start (hips up, knees straight, trunk still down) can delay: look from 0.5 s before
        # (the judge takes the deepest knee bend in the first half of these rows as the start)
        return ctx.window(rep.start_frame, 0.5).start, ctx.row_of(rep.turn_frame)
    # the bottom is the deepest depth signal, which a forward tip of the trunk can move later
    # than the knees' deepest bend: look from 0.5 s before it (not before the rep's start)
    return max(ctx.window(rep.bottom_frame, 0.5).start, ctx.row_of(rep.start_frame)), ctx.row_of(rep.end_frame)


def judge_hips_rise_first(ctx: RuleContext, rep: Rep, cfg: RuleConfig) -> Measurement | NotAssessed:
    """How far the trunk has risen when the knees have done the first part of their extension.

    Over the ascent (from the deepest knee bend to the straightest knee), ``K`` is the knee
    extension still to come and ``T`` the trunk inclination from vertical. At the first frame
    where the knees have done ``knee_share`` (0.4) of their extension, the trunk has done a share
    ``(T0 - T) / (T0 - T_min)`` of its rise. The value is that share divided by ``knee_share``:
    1 when trunk and knees straighten in step, 0 when the trunk has not risen at all (the hips
    came up with the knees while the chest stayed down), negative when the trunk tipped further
    forward (the hips rose faster than the shoulders). Needs enough knee bend to straighten
    (``min_knee_extension_deg``) and enough trunk rise (``min_trunk_rise_deg``), else "not
    assessed": in a stiff-legged hinge the hips cannot rise ahead of the chest.

    The value's scatter is propagated from the angles' noise: ``angle_noise_deg`` plus the
    scatter of each angle around the two frames, through the trunk difference and the timing of
    the knee-share frame (``docs/uncertainty.md``).
    """
    share = float(cfg.params.get("knee_share", 0.4))
    a, b = _ascent_rows(ctx, rep)
    knee = _mean_sides(ctx, f"knee_flexion_{ctx.space}_deg")[a: b + 1]
    trunk = ctx.col(f"trunk_inclination_{ctx.space}_deg")[a: b + 1]
    ok = np.isfinite(knee) & np.isfinite(trunk)
    if len(knee) < 5 or ok.mean() < 0.8:
        return not_assessed(
            "hips_rise_first", rep,
            "The knees or trunk were not seen for part of the way up in this rep (often the knees hidden behind "
            "the plates at the start of a pull), so the order of knees and trunk could not be judged.")
    half = max(1, len(knee) // 2)
    s = int(np.nanargmax(np.where(ok[:half], knee[:half], -np.inf)))
    e = s + int(np.nanargmin(np.where(ok[s:], knee[s:], np.inf)))
    k0, ke = float(knee[s]), float(knee[e])
    knee_range = k0 - ke
    t0 = float(trunk[s])
    t_min = float(np.nanmin(np.where(ok[s:], trunk[s:], np.inf)))
    trunk_range = t0 - t_min
    min_knee = cfg.params.get("min_knee_extension_deg", 20.0)
    min_trunk = cfg.params.get("min_trunk_rise_deg", 20.0)
    if knee_range < min_knee:
        return not_assessed(
            "hips_rise_first", rep,
            f"The knees straightened only {knee_range:.0f} deg on the way up (needs {min_knee:.0f}): in a stiff-legged "
            "hinge the hips cannot rise ahead of the chest, so the order was not judged.")
    if trunk_range < min_trunk:
        return not_assessed(
            "hips_rise_first", rep,
            f"The trunk rose only {trunk_range:.0f} deg on the way up (needs {min_trunk:.0f}), too little to compare "
            "with the knees.")
    done = k0 - knee[s: e + 1]
    with np.errstate(invalid="ignore"):
        hit = np.flatnonzero(done >= share * knee_range)
    j = s + int(hit[0])
    trunk_share = (t0 - float(trunk[j])) / trunk_range
    value = trunk_share / share
    # propagated scatter: the trunk difference (two readings) and the timing of frame j (knee noise
    # times the trunk's slope against the knee there), over the trunk range and the knee share
    noise = cfg.params.get("angle_noise_deg", 2.0)
    s_t = np.nan_to_num(scatter(around(trunk, j, 6)), nan=0.0)
    s_k = np.nan_to_num(scatter(around(knee, j, 6)), nan=0.0)
    s_t0 = np.nan_to_num(scatter(around(trunk, s, 6)), nan=0.0)
    lo, hi = max(j - 2, s), min(j + 2, e)
    dk = float(knee[lo] - knee[hi])
    slope = abs(float(trunk[lo] - trunk[hi]) / dk) if abs(dk) > 1e-6 else 1.0
    sd_trunk = np.sqrt(s_t**2 + s_t0**2 + 2 * noise**2)
    # a knee that stalls near frame j makes the timing loose, but the trunk cannot be misread by
    # more than it moves around there (+-6 frames)
    near = trunk[max(j - 6, s): min(j + 7, e + 1)]
    spread = float(np.nanmax(near) - np.nanmin(near)) if np.isfinite(near).any() else 0.0
    sd_timing = min(slope * np.sqrt(s_k**2 + noise**2), max(spread, noise))
    sd_value = float(np.hypot(sd_trunk, sd_timing) / (trunk_range * share))
    tip = float(np.nanmax(trunk[s: j + 1]) - t0)
    marks = TRUNK_MARKS + ("left_knee", "right_knee", "left_ankle", "right_ankle")
    vis = ctx.visibility(marks, slice(a + s, a + j + 1))
    return Measurement(
        value=float(value),
        worst_row=a + j,
        first_row=a + s,
        last_row=a + j,
        side="none",
        confidence=float(np.clip(vis * VIEW_SUITABILITY.get(rep.view, 0.5), 0, 1)),
        scatter=sd_value,
        landmarks=marks,
        evidence={
            "column": f"trunk_inclination_{ctx.space}_deg",
            "knee_share": share,
            "knee_extension_deg": float(k0 - float(knee[j])),
            "knee_extension_total_deg": knee_range,
            "trunk_rise_deg": float(t0 - float(trunk[j])),
            "trunk_rise_total_deg": trunk_range,
            "trunk_tipped_forward_deg": max(tip, 0.0),
            "trunk_share_percent": 100.0 * trunk_share,
            "knee_share_percent": 100.0 * share,
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
    Rule(
        id="hips_rise_first",
        joint="lumbar_spine",
        instead_of="hip",
        measures="trunk rise over knee extension early in the ascent (1 = in step, 0 = chest stayed down)",
        client="Lift your chest and hips together; don't let your hips shoot up first.",
        clinician=(
            "Rep {rep}: by the time the knees had done {knee_share_percent:.0f}% of their extension "
            "({knee_extension_deg:.0f} of {knee_extension_total_deg:.0f} deg) the trunk had done only "
            "{trunk_share_percent:.0f}% of its rise ({trunk_rise_deg:.0f} of {trunk_rise_total_deg:.0f} deg; "
            "ratio {value:.2f}, threshold {threshold:.2f}): the hips rose first and the back lifted the load "
            "with the trunk inclined, the lumbar spine doing the hips' extension."
        ),
        judge=judge_hips_rise_first,
    ),
)
