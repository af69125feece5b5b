"""The rule engine: run every rule on every rep, grade, and say what could not be judged."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from movescreen.config import RulesConfig
from movescreen.kinematics import Kinematics
from movescreen.kinematics.movement import not_applicable_reason
from movescreen.rules import hinge, knee, squat
from movescreen.rules.base import Measurement, Rule
from movescreen.rules.context import RuleContext
from movescreen.rules.finding import Finding, NotAssessed
from movescreen.rules.joints import summarize_joints
from movescreen.safety import DISCLAIMER, PAIN_GUIDANCE, pain_recommendation
from movescreen.types import Rep

RULES: tuple[Rule, ...] = hinge.RULES + knee.RULES + squat.RULES
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


def judge_rep(rule: Rule, ctx: RuleContext, rep: Rep, config: RulesConfig) -> tuple[list[Finding], list[NotAssessed], list[float]]:
    """Run one rule on one rep and grade what it measured."""
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
        values.append(m.value)
        severity, threshold = cfg.grade(m.value)
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
            message_clinician=_render(rule.clinician, f),
            evidence={"measure": rule.measures, "compensating_joint": rule.joint,
                      "instead_of": rule.instead_of, "config_rule": rule.id, **m.evidence},
        ))
    return findings, skipped, values


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
