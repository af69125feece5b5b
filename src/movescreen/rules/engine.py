"""The rule engine: run every rule on every rep, grade, and say what could not be judged."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from movescreen.config import RuleConfig, RulesConfig
from movescreen.kinematics import Kinematics
from movescreen.kinematics.movement import not_applicable_reason
from movescreen.landmarks import INDEX
from movescreen.rules import hinge, hip_rotation, knee, squat
from movescreen.rules.base import Measurement, Rule
from movescreen.rules.context import RuleContext
from movescreen.rules.finding import Finding, NotAssessed
from movescreen.rules.joints import summarize_joints
from movescreen.rules.uncertainty import (
    FRONT_MAX_YAW_DEG,
    SIDE_MIN_YAW_DEG,
    Uncertainty,
    combine,
    view_deviation_deg,
)
from movescreen.rules.uncertainty import grade as grade_uncertain
from movescreen.safety import DISCLAIMER, PAIN_GUIDANCE, pain_recommendation
from movescreen.types import Rep

RULES: tuple[Rule, ...] = hinge.RULES + knee.RULES + squat.RULES + hip_rotation.RULES
RULES_BY_ID = {r.id: r for r in RULES}


@dataclass(frozen=True)
class RuleStatus:
    """What happened to one rule over the whole clip (it never passes silently)."""

    rule: str
    status: str  # "flagged" | "passed" | "not_assessed" | "not_applicable" | "disabled"
    reason: str
    values: tuple[float, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "status": self.status, "reason": self.reason,
                "values": [round(v, 3) for v in self.values if math.isfinite(v)]}


@dataclass(frozen=True)
class RulesResult:
    findings: list[Finding]
    not_assessed: list[NotAssessed]
    statuses: list[RuleStatus]
    joints: list[dict[str, Any]]
    pain: dict[str, Any] | None
    safety: dict[str, str] = field(default_factory=dict)

    def as_report(self) -> dict[str, Any]:
        """The report.json sections this stage owns."""
        return {
            "findings": [f.as_dict() for f in self.findings],
            "not_assessed": [n.as_dict() for n in self.not_assessed],
            "rules": [s.as_dict() for s in self.statuses],
            "joints": self.joints,
            "pain": self.pain,
        }


def _fmt_fields(m: Measurement, rep: Rep, value: float, threshold: float, unit: str) -> dict[str, Any]:
    fields: dict[str, Any] = {k: (v if v is not None else float("nan")) for k, v in m.evidence.items()}
    fields.update(value=value, threshold=threshold, unit=unit, rep=rep.index, side=m.side)
    return fields


class _SafeDict(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "?"


def _render(template: str, fields: dict[str, Any]) -> str:
    try:
        return template.format_map(_SafeDict(fields))
    except (ValueError, TypeError):  # a None/NaN where a number format was expected
        safe = {k: (v if isinstance(v, str) or (isinstance(v, float) and math.isfinite(v)) or isinstance(v, int) else float("nan")) for k, v in fields.items()}
        return template.format_map(_SafeDict(safe))


def _in_picture_fraction(ctx: RuleContext, names: tuple[str, ...], rows: slice) -> float:
    """Smallest, over the named landmarks, share of rows where the landmark lies inside the picture."""
    seq = ctx.kin.sequence
    xy = seq.image_xyz[rows][:, [INDEX[n] for n in names], :2].astype(np.float64)
    if not xy.size:
        return 1.0
    mx, my = 0.01 * seq.width, 0.01 * seq.height  # BlazePose puts a point just on the edge at times
    with np.errstate(invalid="ignore"):
        inside = ((xy[..., 0] >= -mx) & (xy[..., 0] <= seq.width + mx)
                  & (xy[..., 1] >= -my) & (xy[..., 1] <= seq.height + my))
    seen = np.isfinite(xy).all(axis=-1)
    if not seen.any():
        return 1.0
    frac = [float(inside[seen[:, j], j].mean()) if seen[:, j].any() else 1.0 for j in range(len(names))]
    return min(frac)


def _side_groups(names: tuple[str, ...]) -> list[tuple[str, ...]]:
    """``names`` split into a left and a right group (unsided names in both) when it has both."""
    left = tuple(n for n in names if not n.startswith("right_"))
    right = tuple(n for n in names if not n.startswith("left_"))
    if any(n.startswith("left_") for n in names) and any(n.startswith("right_") for n in names):
        return [left, right]
    return [names]


def gate(rule: Rule, ctx: RuleContext, rep: Rep, cfg: RuleConfig, m: Measurement) -> str | None:
    """Why the measurement must not judge (a sentence), or None when it may.

    Plausibility: a value outside ``plausible_min .. plausible_max`` (what a body can do; limits
    and sources in ``defaults.toml``) is a tracking error, a cut or a wrong person, not a
    movement. Visibility: the landmarks the value comes from must be seen (median visibility at
    least ``min_visibility``) and inside the picture (BlazePose guesses points outside it). View:
    the body at the measured frames must face the way the rule needs (a turned body).
    """
    lo = cfg.params.get("plausible_min", -math.inf)
    hi = cfg.params.get("plausible_max", math.inf)
    if not (lo <= m.value <= hi):
        return (f"measured {m.value:.2f} {cfg.unit}, outside what a body can do ({lo:g} to {hi:g} {cfg.unit}): "
                "taken as a tracking error (or a cut in the video), not judged.")
    rows = slice(min(m.first_row, m.last_row), max(m.first_row, m.last_row) + 1)
    if m.landmarks:
        # a value from both sides (a mean, a median) needs one side clearly seen, not both: in a
        # side view the far leg is hidden by the near one
        groups = _side_groups(m.landmarks)
        raw = ctx.kin.sequence.visibility[rows][:, [INDEX[n] for n in m.landmarks]]
        known = bool(np.isfinite(raw).any())  # imported landmarks may carry no visibility at all
        # every landmark of a side must be seen (a median over all of them would hide one bad one)
        vis = max(min(ctx.visibility((n,), rows) for n in g) for g in groups)
        need = cfg.params.get("min_visibility", 0.5)
        if known and vis < need:
            return (f"the landmarks it needs ({', '.join(sorted({n.split('_', 1)[-1] for n in m.landmarks}))}) "
                    f"were barely visible (median visibility {vis:.2f}, needs {need:.2f}): not judged.")
        inside = max(_in_picture_fraction(ctx, g, rows) for g in groups)
        if inside < 0.5:
            return ("a landmark it needs was outside the picture (guessed by the pose model) in more than half of "
                    "the measured frames: not judged.")
    yaw_col = ctx.col("yaw_deg")[rows]
    if np.isfinite(yaw_col).any():
        yaw = float(np.nanmedian(yaw_col))
        if set(cfg.views) == {"side"} and yaw < SIDE_MIN_YAW_DEG:
            return (f"the body turned towards the camera ({yaw:.0f} deg from facing it) at the measured frames; "
                    "needs a side view: not judged.")
        if set(cfg.views) == {"front"} and yaw > FRONT_MAX_YAW_DEG:
            return (f"the body turned away from the camera ({yaw:.0f} deg from facing it) at the measured frames; "
                    "needs a front view: not judged.")
    return None


def measurement_uncertainty(ctx: RuleContext, rep: Rep, cfg: RuleConfig, m: Measurement) -> Uncertainty:
    """The value's uncertainty (:mod:`movescreen.rules.uncertainty`)."""
    rows = slice(min(m.first_row, m.last_row), max(m.first_row, m.last_row) + 1)
    yaw_col = ctx.col("yaw_deg")[rows]
    yaw = float(np.nanmedian(yaw_col)) if np.isfinite(yaw_col).any() else float("nan")
    view = cfg.views[0] if len(cfg.views) == 1 else rep.view
    dev = view_deviation_deg(yaw, view) if view in ("side", "front") else 0.0
    return combine(m.value, scatter_sd=m.scatter, noise=cfg.params.get("noise", 0.0),
                   view_deviation=dev, confidence=m.confidence, reference_sd=m.reference_sd)


def judge_rep(rule: Rule, ctx: RuleContext, rep: Rep, config: RulesConfig) -> tuple[list[Finding], list[NotAssessed], list[float]]:
    """Run one rule on one rep, gate and grade what it measured."""
    cfg = config[rule.id]
    if rep.view not in cfg.views:
        views = " or ".join(cfg.views)
        return [], [NotAssessed(rule.finding_id, f"Needs a {views} view; this rep was filmed from the {rep.view}.", rep.index)], []
    outcome = rule.judge(ctx, rep, cfg)
    if isinstance(outcome, NotAssessed):
        return [], [outcome], []
    measurements = outcome if isinstance(outcome, list) else [outcome]
    findings: list[Finding] = []
    skipped: list[NotAssessed] = []
    values: list[float] = []
    for m in measurements:
        if not math.isfinite(m.value):
            continue
        why = gate(rule, ctx, rep, cfg, m)
        if why is not None:
            side = f" ({m.side})" if m.side in ("left", "right") else ""
            skipped.append(NotAssessed(rule.finding_id, f"{rule.id}{side}: {why}", rep.index))
            continue
        values.append(m.value)
        u = measurement_uncertainty(ctx, rep, cfg, m)
        severity, threshold, borderline = grade_uncertain(cfg, m.value, u.total)
        if severity is None or threshold is None:
            continue
        if m.confidence < cfg.min_confidence:
            skipped.append(NotAssessed(
                rule.finding_id,
                f"Measured {m.value:.2f} {cfg.unit} (over the {severity} threshold) but with low confidence "
                f"({m.confidence:.2f}); not reported as a finding.",
                rep.index,
            ))
            continue
        f = _fmt_fields(m, rep, m.value, threshold, cfg.unit)
        findings.append(Finding(
            rule=rule.finding_id,
            severity=severity,
            rep=rep.index,
            side=m.side,
            frame_start=ctx.frame_of(m.first_row),
            frame_end=ctx.frame_of(m.last_row),
            worst_frame=ctx.frame_of(min(max(m.worst_row, m.first_row), m.last_row)),
            value=round(m.value, 4),
            threshold=threshold,
            unit=cfg.unit,
            view=rep.view,
            confidence=round(m.confidence, 3),
            message_client=_render(rule.client, f),
            message_clinician=_render(rule.clinician, f) + (
                f" Borderline: {m.value:.3g} +/- {u.total:.2g} {cfg.unit} straddles a threshold, so it is a "
                "caution at most." if borderline else ""),
            evidence={"measure": rule.measures, "compensating_joint": rule.joint,
                      "instead_of": rule.instead_of, "config_rule": rule.id, **m.evidence,
                      "uncertainty_parts": u.as_dict()},
            uncertainty=round(u.total, 4),
            borderline=borderline,
        ))
    return findings, skipped, values


def _reps_read_as_other(kin: Kinematics) -> dict[int, str]:
    """Reps the movement recogniser read as ``other`` (a hold, a stretch, legs in turn) in a clip
    it read as a squat or hinge: rep index -> the reason they are not judged. A movement the
    user gave (``--movement``) is trusted for every rep."""
    decision = getattr(kin, "movement_decision", None)
    if decision is None or getattr(decision, "decided_by", "auto") != "auto":
        return {}
    out = {}
    for rm in getattr(decision, "reps", []) or []:
        if getattr(rm, "label", None) == "other":
            why = str(getattr(rm, "reason", "") or "").strip().rstrip(".")
            out[int(rm.rep)] = (f"this rep does not read as a {kin.movement}"
                                f"{' (' + why[:1].lower() + why[1:] + ')' if why else ''}: not judged.")
    return out


def evaluate_rules(kin: Kinematics, config: RulesConfig, *, pain: str | None = None) -> RulesResult:
    """Judge every enabled rule on every rep of a clip.

    Parameters
    ----------
    kin : Kinematics
        Output of :func:`movescreen.kinematics.analyze_kinematics` (not modified).
    config : RulesConfig
        Thresholds (see ``rules/defaults.toml``).
    pain : str, optional
        Pain the client reports (free text, e.g. "left knee"); changes the recommendation to a
        referral.
    """
    ctx = RuleContext(kin)
    findings: list[Finding] = []
    skipped: list[NotAssessed] = []
    statuses: list[RuleStatus] = []
    reps = [r for r in kin.reps]
    not_a_rep = _reps_read_as_other(kin)
    for rule in RULES:
        cfg = config[rule.id]
        if not cfg.enabled:
            statuses.append(RuleStatus(rule.id, "disabled", "Switched off in the configuration."))
            continue
        if kin.movement not in cfg.movements:
            statuses.append(RuleStatus(rule.id, "not_applicable", not_applicable_reason(cfg.movements, kin.movement)))
            continue
        if not reps:
            statuses.append(RuleStatus(rule.id, "not_assessed", "No repetition was found to judge."))
            skipped.append(NotAssessed(rule.finding_id, "No repetition was found to judge."))
            continue
        rule_f, rule_s, values = [], [], []
        for rep in reps:
            if rep.index in not_a_rep:
                # a hold, a stretch or a step inside the clip: not a repetition of the movement
                rule_s.append(NotAssessed(rule.finding_id, not_a_rep[rep.index], rep.index))
                continue
            if rep.partial:
                # a set-up, a set-down or a rep cut off by the clip: never a finding
                rule_s.append(NotAssessed(
                    rule.finding_id,
                    f"partial rep ({rep.partial_reason or 'partial'}): not judged.", rep.index))
                continue
            f, s, v = judge_rep(rule, ctx, rep, config)
            rule_f += f
            rule_s += s
            values += v
        findings += rule_f
        skipped += rule_s
        if rule_f:
            statuses.append(RuleStatus(rule.id, "flagged", f"{len(rule_f)} finding(s).", tuple(values)))
        elif values:
            statuses.append(RuleStatus(rule.id, "passed", f"Judged on {len(values)} measurement(s); none reached a threshold.", tuple(values)))
        else:
            reasons = sorted({s.reason for s in rule_s}) or ["Nothing could be measured."]
            statuses.append(RuleStatus(rule.id, "not_assessed", " ".join(reasons)))
    findings.sort(key=lambda f: (f.rep, f.frame_start, f.rule))
    joints = summarize_joints(kin, findings, statuses, pain=pain)
    return RulesResult(
        findings=findings,
        not_assessed=skipped,
        statuses=statuses,
        joints=joints,
        pain=pain_recommendation(pain, findings),
        safety={"disclaimer": DISCLAIMER, "pain_guidance": PAIN_GUIDANCE},
    )
