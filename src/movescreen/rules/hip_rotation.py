"""Hip rotation family: the knee/ankle or the low back moving in place of hip rotation, and
left-right differences of the hip rotation ranges (seated rotation test and figure-4).

Each rule judges the clip's single trial (see
:func:`movescreen.kinematics.hip_rotation.apply_hip_rotation_test`) from the ``hip_rot_*``
columns of the angle table and the measures of :mod:`movescreen.kinematics.hip_rotation`. All
of them need a front view (``views = ["front"]`` in defaults.toml): from the side the shin's
rotation, the thigh's sideways drift, the pelvis hike and the trunk's side lean happen in a
plane the camera sees edge-on, so the engine reports them "not assessed" with that reason.
"""

from __future__ import annotations

import numpy as np

from movescreen.config import RuleConfig
from movescreen.kinematics.hip_rotation import (
    SIDES,
    figure4_measures,
    hip_rotation_measures,
    running_median,
)
from movescreen.rules.base import Measurement, Rule, not_assessed
from movescreen.rules.context import VIEW_SUITABILITY, RuleContext
from movescreen.rules.finding import NotAssessed
from movescreen.rules.uncertainty import scatter
from movescreen.types import Rep

STATIC_9090 = ("The 90/90 is a static position: its front and back shin angles are reported "
               "(report.json hip_rotation), not judged.")
_SMOOTH_S = 0.2
"""Series are read through a 0.2 s running median: one bad frame cannot make a finding."""


def _held_peak(x: np.ndarray, fps: float) -> tuple[float, int | None]:
    """Largest |x| held for ~0.2 s (running median), and its row."""
    sm = np.abs(running_median(np.asarray(x, np.float64), int(round(_SMOOTH_S * fps))))
    if not np.isfinite(sm).any():
        return float("nan"), None
    row = int(np.nanargmax(np.where(np.isfinite(sm), sm, -np.inf)))
    return float(sm[row]), row


def _scatter_near(x: np.ndarray, row: int, fps: float, half_s: float = 0.5) -> float:
    """Frame-to-frame scatter (one SD) of ``x`` within +-``half_s`` of ``row``."""
    h = max(3, int(round(half_s * fps)))
    return scatter(np.asarray(x, np.float64)[max(0, row - h): row + h + 1])


def _fps(ctx: RuleContext) -> float:
    return float(ctx.kin.sequence.fps or 30.0)


def _clip_rows(ctx: RuleContext, rep: Rep) -> slice:
    return ctx.rows(rep)


def judge_knee_twist_for_hip_rotation(ctx: RuleContext, rep: Rep, cfg: RuleConfig) -> list[Measurement] | NotAssessed:
    """Per side: the larger of the thigh's sideways drift and the foot's turn against the shin
    (both from the start of the clip, deg, held peaks), with the shin angle at that frame."""
    if ctx.kin.movement == "hip_9090":
        return not_assessed("knee_twist_for_hip_rotation", rep, STATIC_9090)
    if ctx.kin.movement == "figure4":
        return not_assessed("knee_twist_for_hip_rotation", rep,
                            "In the figure-4 the thigh moves as part of the test and the crossed foot rests "
                            "on the other knee, so knee or ankle twist cannot be told from hip rotation "
                            "here; it is judged in the seated rotation test.")
    sl = _clip_rows(ctx, rep)
    fps = _fps(ctx)
    out: list[Measurement] = []
    for side in SIDES:
        drift = ctx.col(f"hip_rot_{side}_thigh_drift_deg")[sl]
        sickle = ctx.col(f"hip_rot_{side}_foot_sickle_deg")[sl]
        shin = ctx.col(f"hip_rot_{side}_shin_image_deg")[sl]
        d_val, d_row = _held_peak(drift, fps)
        s_val, s_row = _held_peak(sickle, fps)
        leg_vis = ctx.visibility((f"{side}_hip", f"{side}_knee", f"{side}_ankle"), sl)
        foot_vis = ctx.visibility((f"{side}_ankle", f"{side}_heel", f"{side}_foot_index"), sl)
        cands = []
        if d_row is not None:
            cands.append(("thigh drift", d_val, d_row, leg_vis))
        if s_row is not None and foot_vis >= cfg.params.get("min_foot_visibility_fraction", 0.5):
            cands.append(("foot sickle", s_val, s_row, foot_vis))
        if not cands:
            continue
        what, value, row, vis = max(cands, key=lambda c: c[1])
        series = drift if what == "thigh drift" else sickle
        marks: tuple[str, ...] = (f"{side}_hip", f"{side}_knee", f"{side}_ankle")
        if what == "foot sickle":
            marks += (f"{side}_heel", f"{side}_foot_index")
        out.append(Measurement(
            value=value, worst_row=sl.start + row, first_row=sl.start, last_row=sl.stop - 1,
            side=side,  # type: ignore[arg-type]
            confidence=float(np.clip(vis * VIEW_SUITABILITY.get(rep.view, 0.5), 0, 1)),
            evidence={
                "component": what,
                "column": f"hip_rot_{side}_{'thigh_drift' if what == 'thigh drift' else 'foot_sickle'}_deg",
                "thigh_drift_deg": round(d_val, 2) if np.isfinite(d_val) else None,
                "foot_sickle_deg": round(s_val, 2) if np.isfinite(s_val) else None,
                "shin_deg": round(float(abs(shin[row])), 2) if np.isfinite(shin[row]) else None,
                "foot_visibility": round(foot_vis, 2),
            },
            scatter=_scatter_near(series, row, fps), landmarks=marks,
        ))
    if not out:
        return not_assessed("knee_twist_for_hip_rotation", rep,
                            "The thighs and feet were not seen well enough to tell knee or ankle twist from hip rotation.")
    return out


def judge_trunk_for_hip_rotation(ctx: RuleContext, rep: Rep, cfg: RuleConfig) -> Measurement | NotAssessed:
    """The largest of pelvis hike and trunk side lean (image, deg from the start; front view),
    and in the figure-4 also the trunk's forward flexion beyond ``figure4_flexion_allowance_deg``
    while the leg is crossed (front view: world sagittal angle; side view: the image trunk angle,
    which from the side is the forward lean, and the only part judged from there)."""
    if ctx.kin.movement == "hip_9090":
        return not_assessed("trunk_for_hip_rotation", rep, STATIC_9090)
    side_view = rep.view == "side"
    if side_view and ctx.kin.movement != "figure4":
        return not_assessed("trunk_for_hip_rotation", rep,
                            "Needs a front view: the pelvis hike and the trunk's side lean happen in the frontal "
                            "plane, which a camera at the side sees edge-on.")
    sl = _clip_rows(ctx, rep)
    fps = _fps(ctx)
    comps: dict[str, np.ndarray] = {}
    if not side_view:
        comps = {"pelvis hike": ctx.col("hip_rot_pelvis_hike_deg")[sl],
                 "trunk side lean": ctx.col("hip_rot_trunk_lean_deg")[sl]}
    rows = np.arange(sl.stop - sl.start)
    if ctx.kin.movement == "figure4":
        rows = np.flatnonzero(ctx.col("hip_rot_crossed_side")[sl] > 0)
        if rows.size == 0:
            return not_assessed("trunk_for_hip_rotation", rep, "No frame with an ankle resting on the other knee was found.")
        # forward only, beyond the slight lean the stretch allows (defaults.toml)
        if side_view:
            flex = float(ctx.kin.view.facing_sign or 0) * ctx.col("hip_rot_trunk_lean_deg")[sl]
            if not ctx.kin.view.facing_sign:
                return not_assessed("trunk_for_hip_rotation", rep, "The way the person faces could not be told, "
                                    "so forward and backward lean cannot be told apart.")
        else:
            flex = ctx.col("hip_rot_trunk_flexion_deg")[sl]
        allow = cfg.params.get("figure4_flexion_allowance_deg", 0.0)
        with np.errstate(invalid="ignore"):
            comps["trunk forward flexion"] = np.where(np.isfinite(flex), np.maximum(flex - allow, 0.0), np.nan)
    peaks = {}
    for name, x in comps.items():
        masked = np.full_like(x, np.nan)
        masked[rows] = x[rows]
        peaks[name] = _held_peak(masked, fps)
    ok = {k: v for k, v in peaks.items() if v[1] is not None}
    if not ok:
        return not_assessed("trunk_for_hip_rotation", rep, "The hips and shoulders were not seen well enough to follow the pelvis and trunk.")
    what, (value, row) = max(ok.items(), key=lambda kv: kv[1][0])
    assert row is not None
    vis = ctx.visibility(("left_hip", "right_hip", "left_shoulder", "right_shoulder"), sl)
    side = "none"
    if ctx.kin.movement == "hip_rotation_seated":  # the leg that was turning at that moment
        turn = {s: abs(float(ctx.col(f"hip_rot_{s}_shin_image_deg")[sl][row])) for s in SIDES}
        if all(np.isfinite(v) for v in turn.values()):
            side = max(turn, key=lambda s: turn[s])
    return Measurement(
        value=value, worst_row=sl.start + row, first_row=sl.start, last_row=sl.stop - 1,
        side=side,  # type: ignore[arg-type]
        confidence=float(np.clip(vis * VIEW_SUITABILITY.get(rep.view, 0.5), 0, 1)),
        evidence={"component": what, **{k.replace(" ", "_") + "_deg": (round(v[0], 2) if v[1] is not None else None)
                                        for k, v in peaks.items()}},
        scatter=_scatter_near(comps[what], row, fps),
        landmarks=("left_hip", "right_hip", "left_shoulder", "right_shoulder"),
    )


def judge_hip_rotation_asymmetry(ctx: RuleContext, rep: Rep, cfg: RuleConfig) -> list[Measurement] | NotAssessed:
    """Left-right difference of each range (seated: internal and external; figure-4: the
    crossed shin's angle), deg. Confidence falls when the difference is within twice the two
    sides' combined uncertainty."""
    if ctx.kin.movement == "hip_9090":
        return not_assessed("hip_rotation_asymmetry", rep, STATIC_9090)
    sl = _clip_rows(ctx, rep)
    seq = ctx.kin.sequence
    suit = VIEW_SUITABILITY.get(rep.view, 0.5)
    min_range = cfg.params.get("min_tested_range_deg", 3.0)
    if ctx.kin.movement == "figure4":
        f4 = figure4_measures(seq, crossed=ctx.col("hip_rot_crossed_side"))
        if len(f4) < 2:
            crossed = " and ".join(f4) or "neither"
            return not_assessed("hip_rotation_asymmetry", rep,
                                f"Only {crossed} leg was crossed in this clip; cross both (one after the other) for a left-right comparison.")
        a, b = f4["left"]["shin_from_horizontal"], f4["right"]["shin_from_horizontal"]
        pairs = [("crossed shin from horizontal", a, b)]
    else:
        m = hip_rotation_measures(seq)
        untested = [s for s in SIDES if all(m.ranges[s][d].value < min_range for d in ("internal", "external"))]
        if untested:
            return not_assessed("hip_rotation_asymmetry", rep,
                                f"The {' and '.join(untested)} leg did not rotate in this clip (both ranges under "
                                f"{min_range:.0f} deg), so the sides cannot be compared; test both legs.")
        pairs = [(d, m.ranges["left"][d], m.ranges["right"][d]) for d in ("internal", "external")]
    out = []
    for what, left, right in pairs:
        if not (np.isfinite(left.value) and np.isfinite(right.value)):
            continue
        diff = abs(left.value - right.value)
        u = float(np.hypot(left.uncertainty, right.uncertainty))
        sure = float(np.clip(diff / (2 * u), 0, 1)) if u > 0 else 1.0
        smaller = "left" if left.value < right.value else "right"
        row = left.row if smaller == "left" else right.row
        row = sl.start if row is None else int(np.clip(row, sl.start, sl.stop - 1))
        out.append(Measurement(
            value=diff, worst_row=row, first_row=sl.start, last_row=sl.stop - 1,
            side=smaller,  # type: ignore[arg-type]
            confidence=float(np.clip(min(left.visibility, right.visibility) * suit * max(sure, 0.0), 0, 1)),
            evidence={"direction": what, "left_deg": round(left.value, 2), "right_deg": round(right.value, 2),
                      "combined_uncertainty_deg": round(u, 2)},
            scatter=u,  # the two ranges' own uncertainties (scatter at the extremes, visibility)
            landmarks=(f"{smaller}_hip", f"{smaller}_knee", f"{smaller}_ankle"),
        ))
    if not out:
        return not_assessed("hip_rotation_asymmetry", rep, "The ranges of both sides could not be measured.")
    return out


RULES = (
    Rule(
        id="knee_twist_for_hip_rotation",
        joint="knee",
        instead_of="hip",
        measures="thigh sideways drift or foot turn against the shin during the seated rotation test",
        client="Keep your {side} thigh still and let the foot turn only as far as the hip allows.",
        clinician=(
            "{side} leg, seated rotation: {component} of {value:.0f} deg (threshold {threshold:.0f} deg; "
            "thigh drift {thigh_drift_deg} deg, foot against shin {foot_sickle_deg} deg) while the "
            "shin turned {shin_deg} deg: the knee and ankle (meant to be stable) twisted in place of "
            "the hip rotating."
        ),
        judge=judge_knee_twist_for_hip_rotation,
    ),
    Rule(
        id="trunk_for_hip_rotation",
        joint="lumbar_spine",
        instead_of="hip",
        measures="pelvis hike, trunk side lean (or figure-4 forward rounding) during the hip rotation",
        client="Keep your pelvis flat on the seat and your trunk tall while the leg turns.",
        clinician=(
            "{component} of {value:.0f} deg from the start (threshold {threshold:.0f} deg) during the "
            "hip rotation ({side} leg moving): the lumbar spine (meant to be stable) moved in place "
            "of the hip rotating."
        ),
        judge=judge_trunk_for_hip_rotation,
    ),
    Rule(
        id="hip_rotation_asymmetry",
        joint="hip",
        instead_of="hip",
        measures="left-right difference of the hip rotation range",
        client="Your {side} hip turns less than the other one.",
        clinician=(
            "{direction}: left {left_deg:.0f} deg, right {right_deg:.0f} deg, a difference of "
            "{value:.0f} deg (threshold {threshold:.0f} deg; combined uncertainty "
            "{combined_uncertainty_deg:.1f} deg): the {side} hip rotates less."
        ),
        judge=judge_hip_rotation_asymmetry,
    ),
)
