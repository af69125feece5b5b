"""Confusion-table maths for checking the rules against labelled clips (pure; no I/O).

A labelled clip says, for one rule, that the fault is there (positive) or is not (negative).
The rules engine either fires on that clip, stays quiet, or could not judge it (wrong view,
feet hidden, no rep found). A clip the rule could not judge is neither a true nor a false
result: it is counted apart, so a rule cannot look good by refusing to judge.

Used by ``benchmarks/evaluate_rules.py``; see ``docs/evaluation.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Prediction = Literal["fired", "quiet", "not_assessed"]
SEVERITY_RANK = {"note": 1, "caution": 2, "flag": 3}


class FindingLike(Protocol):
    """The fields of :class:`movescreen.rules.finding.Finding` used here."""

    @property
    def rule(self) -> str: ...

    @property
    def severity(self) -> str: ...


def predict_rule(
    findings: Iterable[FindingLike],
    judged: bool,
    rule: str,
    *,
    min_severity: str = "caution",
) -> Prediction:
    """What a rule said about one clip.

    Parameters
    ----------
    findings : iterable of Finding
        All findings of the clip (any rule).
    judged : bool
        True when the rule measured at least one rep of the clip (engine status ``passed`` or
        ``flagged`` for the rule or any rule that reports as it).
    rule : str
        Finding id, e.g. ``"lumbar_rounding"``.
    min_severity : {"note", "caution", "flag"}
        The lowest severity that counts as firing.

    Returns
    -------
    {"fired", "quiet", "not_assessed"}
        ``fired`` when a finding of ``rule`` reaches ``min_severity``; otherwise ``quiet`` when
        the rule judged the clip, ``not_assessed`` when it did not.

    Examples
    --------
    >>> from types import SimpleNamespace as F
    >>> predict_rule([F(rule="heel_lift", severity="caution")], True, "heel_lift")
    'fired'
    >>> predict_rule([F(rule="heel_lift", severity="caution")], True, "heel_lift", min_severity="flag")
    'quiet'
    >>> predict_rule([], False, "heel_lift")
    'not_assessed'
    """
    if min_severity not in SEVERITY_RANK:
        raise ValueError(f"expected min_severity in {sorted(SEVERITY_RANK)}, got {min_severity!r}")
    floor = SEVERITY_RANK[min_severity]
    if any(f.rule == rule and SEVERITY_RANK.get(f.severity, 0) >= floor for f in findings):
        return "fired"
    return "quiet" if judged else "not_assessed"


def predict_any(predictions: Sequence[Prediction]) -> Prediction:
    """Clip-level "any rule fired": fired if any fired, else quiet if any judged.

    >>> predict_any(["quiet", "fired", "not_assessed"])
    'fired'
    >>> predict_any(["not_assessed", "quiet"])
    'quiet'
    >>> predict_any(["not_assessed"])
    'not_assessed'
    """
    if "fired" in predictions:
        return "fired"
    return "quiet" if "quiet" in predictions else "not_assessed"


@dataclass(frozen=True)
class Confusion:
    """Counts for one rule over labelled clips.

    ``na_pos`` / ``na_neg``: labelled positive / negative clips the rule could not judge.
    """

    tp: int = 0
    fn: int = 0
    tn: int = 0
    fp: int = 0
    na_pos: int = 0
    na_neg: int = 0

    @property
    def n_pos(self) -> int:
        """Judged positives (TP + FN)."""
        return self.tp + self.fn

    @property
    def n_neg(self) -> int:
        """Judged negatives (TN + FP)."""
        return self.tn + self.fp

    @property
    def sensitivity(self) -> float:
        """TP / (TP + FN); NaN with no judged positive."""
        return self.tp / self.n_pos if self.n_pos else math.nan

    @property
    def specificity(self) -> float:
        """TN / (TN + FP); NaN with no judged negative."""
        return self.tn / self.n_neg if self.n_neg else math.nan


def tally_confusion(pairs: Iterable[tuple[bool, Prediction]]) -> Confusion:
    """Count (label, prediction) pairs; label True = the fault is there.

    >>> c = tally_confusion([(True, "fired"), (True, "quiet"), (False, "quiet"), (False, "not_assessed")])
    >>> (c.tp, c.fn, c.tn, c.fp, c.na_pos, c.na_neg, c.sensitivity, c.specificity)
    (1, 1, 1, 0, 0, 1, 0.5, 1.0)
    """
    counts = {"tp": 0, "fn": 0, "tn": 0, "fp": 0, "na_pos": 0, "na_neg": 0}
    for label, pred in pairs:
        if pred not in ("fired", "quiet", "not_assessed"):
            raise ValueError(f"expected a prediction fired|quiet|not_assessed, got {pred!r}")
        if pred == "not_assessed":
            counts["na_pos" if label else "na_neg"] += 1
        elif label:
            counts["tp" if pred == "fired" else "fn"] += 1
        else:
            counts["fp" if pred == "fired" else "tn"] += 1
    return Confusion(**counts)


def format_rate(k: int, n: int) -> str:
    """``"0.67 (2/3)"``, or ``"n/a (0/0)"`` when nothing was judged.

    >>> format_rate(2, 3)
    '0.67 (2/3)'
    >>> format_rate(0, 0)
    'n/a (0/0)'
    """
    return f"{k / n:.2f} ({k}/{n})" if n else f"n/a ({k}/{n})"


@dataclass(frozen=True)
class FalseFindingRate:
    """Findings on footage labelled correct as a whole: each one is a false finding."""

    clips: int
    minutes: float
    flags: int
    cautions: int
    borderline_cautions: int

    @property
    def flags_per_min(self) -> float:
        return self.flags / self.minutes if self.minutes > 0 else math.nan

    @property
    def cautions_per_min(self) -> float:
        return self.cautions / self.minutes if self.minutes > 0 else math.nan


def false_finding_rate(clips: Iterable[tuple[float, Sequence[tuple[str, bool]]]]) -> FalseFindingRate:
    """Flags and cautions per minute over correct-form clips.

    Parameters
    ----------
    clips : iterable of (duration_s, [(severity, borderline), ...])
        One entry per clip labelled correct as a whole, with every finding of its analysis.

    >>> r = false_finding_rate([(30.0, [("flag", False), ("caution", True)]), (90.0, [("note", False)])])
    >>> (r.clips, r.minutes, r.flags, r.cautions, r.borderline_cautions, r.flags_per_min)
    (2, 2.0, 1, 1, 1, 0.5)
    """
    n = flags = cautions = border = 0
    seconds = 0.0
    for duration_s, findings in clips:
        n += 1
        seconds += float(duration_s)
        flags += sum(1 for sev, _ in findings if sev == "flag")
        cautions += sum(1 for sev, _ in findings if sev == "caution")
        border += sum(1 for sev, b in findings if sev == "caution" and b)
    return FalseFindingRate(n, seconds / 60.0, flags, cautions, border)


MOVEMENT_CLASSES = ("squat", "hinge", "other")


def movement_class(name: str) -> str:
    """squat, hinge, or other: any movement no squat or hinge rule judges is "other".

    >>> [movement_class(m) for m in ("squat", "hinge", "other", "figure4")]
    ['squat', 'hinge', 'other', 'other']
    """
    return name if name in ("squat", "hinge") else "other"


def movement_confusion(pairs: Iterable[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """Counts of (filmed -> detected movement class).

    >>> movement_confusion([("hinge", "hinge"), ("hinge", "squat"), ("other", "hip_9090")])
    {'hinge': {'hinge': 1, 'squat': 1}, 'other': {'other': 1}}
    """
    table: dict[str, dict[str, int]] = {}
    for true, detected in pairs:
        row = table.setdefault(true, {})
        got = movement_class(detected)
        row[got] = row.get(got, 0) + 1
    return table
