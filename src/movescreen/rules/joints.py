"""The joint-by-joint summary: each joint's expected role, what was seen, and a status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from movescreen.kinematics import Kinematics
from movescreen.rules.finding import Finding

JOINTS: tuple[tuple[str, str, str], ...] = (
    ("ankle", "mobile", "peak_ankle_dorsiflexion_deg"),
    ("knee", "stable", "peak_knee_flexion_deg"),
    ("hip", "mobile", "peak_hip_flexion_deg"),
    ("lumbar_spine", "stable", "peak_lumbar_flexion_est_deg"),
)
LABEL = {"ankle": "Ankle", "knee": "Knee", "hip": "Hip", "lumbar_spine": "Lumbar spine"}
PAIN_WORDS = {
    "ankle": ("ankle", "foot", "heel", "achilles", "calf"),
    "knee": ("knee", "patella", "kneecap"),
    "hip": ("hip", "groin", "glute", "buttock"),
    "lumbar_spine": ("back", "lumbar", "spine", "sacr"),
}
SEVERITY_RANK = {"note": 0, "caution": 1, "flag": 2}


def joints_in_pain(pain: str | None) -> set[str]:
    """Which of our joints a free-text pain report names.

    >>> sorted(joints_in_pain("Left knee and low back"))
    ['knee', 'lumbar_spine']
    """
    if not pain:
        return set()
    text = pain.lower()
    return {j for j, words in PAIN_WORDS.items() if any(w in text for w in words)}


def _median_metric(kin: Kinematics, key: str) -> float:
    vals = [r.metrics.get(key, np.nan) for r in kin.reps if not r.partial] or [
        r.metrics.get(key, np.nan) for r in kin.reps
    ]
    vals = [v for v in vals if np.isfinite(v)]
    return float(np.median(vals)) if vals else float("nan")


def _short_reason(reason: str) -> str:
    """A rule status reason cut to its first sentence, for a table cell."""
    first = reason.strip().split(". ")[0].rstrip(".")
    return first[:1].lower() + first[1:] if first else "nothing could be measured"


def summarize_joints(
    kin: Kinematics, findings: Sequence[Finding], statuses: Sequence[Any], *, pain: str | None = None
) -> list[dict[str, Any]]:
    """One entry per joint: role, what was seen (a sentence with numbers), status.

    Status is one of ``pain_reported``, ``compensating`` (a stable joint moved in place of a
    mobile one), ``not_doing_its_job`` (a mobile joint whose job was taken over), ``ok`` (at
    least one rule about the joint judged a rep and none found a compensation), ``not_assessed``
    (no rule about the joint could judge: ``reason`` says why, e.g. it needs a side view). A
    joint is never ``ok`` without a judgement: a measured angle alone is not one.
    ``rules_checked`` / ``rules_not_assessed`` list the rules about the joint (the joint that
    compensates or the joint whose job was taken) that judged, or could not.
    """
    from movescreen.rules.engine import RULES_BY_ID  # the engine imports this module

    painful = joints_in_pain(pain)
    out = []
    for joint, role, metric in JOINTS:
        value = _median_metric(kin, metric)
        about = [s for s in statuses
                 if s.rule in RULES_BY_ID and joint in (RULES_BY_ID[s.rule].joint, RULES_BY_ID[s.rule].instead_of)]
        checked = sorted({RULES_BY_ID[s.rule].finding_id for s in about if s.status in ("passed", "flagged")})
        unjudged = [s for s in about if s.status == "not_assessed"]
        not_checked = sorted({RULES_BY_ID[s.rule].finding_id for s in unjudged} - set(checked))
        as_comp = [f for f in findings if f.evidence.get("compensating_joint") == joint and f.severity != "note"]
        as_victim = [
            f for f in findings
            if f.evidence.get("instead_of") == joint and f.evidence.get("compensating_joint") != joint and f.severity != "note"
        ]
        parts = []
        if np.isfinite(value):
            what = {
                "ankle": f"typical peak dorsiflexion {value:.0f} deg",
                "knee": f"typical peak knee flexion {value:.0f} deg",
                "hip": f"typical peak hip flexion {value:.0f} deg",
                "lumbar_spine": f"typical peak back-outline bend {value:+.0f} deg",
            }[joint]
            parts.append(what)
        if as_comp:
            rules = sorted({f.rule for f in as_comp})
            parts.append(f"compensated in {len({f.rep for f in as_comp})} rep(s) ({', '.join(rules)})")
        if as_victim:
            rules = sorted({f.rule for f in as_victim})
            parts.append(f"its job was taken over in {len({f.rep for f in as_victim})} rep(s) ({', '.join(rules)})")
        reason = None
        if joint in painful:
            status = "pain_reported"
        elif as_comp and role == "stable":
            status = "compensating"
        elif as_victim or (as_comp and role == "mobile"):
            status = "not_doing_its_job"
        elif checked:
            status = "ok"
        else:
            status = "not_assessed"
            if unjudged:
                first = unjudged[0]
                reason = f"{RULES_BY_ID[first.rule].finding_id.replace('_', ' ')}: {_short_reason(first.reason)}"
            elif about:
                reason = _short_reason(about[0].reason)
            else:
                reason = "no rule judges this joint"
        worst = max((SEVERITY_RANK[f.severity] for f in as_comp + as_victim), default=-1)
        out.append({
            "joint": joint,
            "label": LABEL[joint],
            "role": role,
            "seen": "; ".join(parts) if parts else "nothing measured",
            "status": status,
            "reason": reason,
            "rules_checked": checked,
            "rules_not_assessed": not_checked,
            "worst_severity": [k for k, v in SEVERITY_RANK.items() if v == worst][0] if worst >= 0 else None,
            "value": value if np.isfinite(value) else None,
            "metric": metric,
        })
    return out
