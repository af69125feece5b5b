"""The rule type: data (id, joint, what it measures, messages) plus one small function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from movescreen.config import RuleConfig
from movescreen.rules.context import RuleContext
from movescreen.rules.finding import NotAssessed, Side
from movescreen.types import Rep


@dataclass(frozen=True)
class Measurement:
    """What a rule measured in one rep, before grading against the thresholds.

    ``worst_row`` is the row of the most telling frame; ``rows`` the span the value covers.
    ``scatter`` is the rule's own estimate of the value's frame-to-frame scatter (one SD, in the
    value's unit; NaN when the rule gives none): see :mod:`movescreen.rules.uncertainty`.
    ``reference_sd`` is the uncertainty of the reference the value is measured against (1 SD,
    in the value's unit; 0 = none), e.g. the true vertical of a lean measured in the picture
    (camera roll).
    ``landmarks`` are the landmarks the value was computed from (for the visibility and
    in-picture gates of the engine; empty = not checked).
    """

    value: float
    worst_row: int
    first_row: int
    last_row: int
    side: Side
    confidence: float
    evidence: dict[str, Any] = field(default_factory=dict)
    scatter: float = float("nan")
    landmarks: tuple[str, ...] = ()
    reference_sd: float = 0.0


Judge = Callable[[RuleContext, Rep, RuleConfig], "Measurement | NotAssessed | list[Measurement]"]


@dataclass(frozen=True)
class Rule:
    """A compensation rule.

    Attributes
    ----------
    id : str
        Stable id; the key of its section in ``defaults.toml``.
    joint : str
        The joint that compensates ('lumbar_spine', 'knee', 'ankle', 'hip', 'pelvis').
    instead_of : str
        The joint whose job it takes over (joint-by-joint terms).
    measures : str
        What the value is, in a phrase.
    client : str
        Sentence for the person moving (format fields: ``side``, ``value``, ``threshold``).
    clinician : str
        Note for the clinician (format fields: those of ``evidence`` plus ``value``,
        ``threshold``, ``unit``, ``rep``, ``side``).
    judge : callable
        ``judge(ctx, rep, config) -> Measurement | NotAssessed | list[Measurement]``.
    reports_as : str or None
        Finding id when it differs from ``id`` (a second measure of the same compensation, with
        its own thresholds, e.g. ``knee_valgus_width`` reports as ``knee_valgus``).
    """

    id: str
    joint: str
    instead_of: str
    measures: str
    client: str
    clinician: str
    judge: Judge
    reports_as: str | None = None

    @property
    def finding_id(self) -> str:
        return self.reports_as or self.id


def not_assessed(rule_id: str, rep: Rep, reason: str) -> NotAssessed:
    return NotAssessed(rule=rule_id, reason=reason, rep=rep.index)


def finite(*values: float) -> bool:
    return all(np.isfinite(v) for v in values)


def nan_argmax(x: np.ndarray) -> int | None:
    ok = np.isfinite(x)
    if not ok.any():
        return None
    return int(np.nanargmax(np.where(ok, x, -np.inf)))


def robust_peak(x: np.ndarray, q: float = 80.0) -> float:
    """A high percentile instead of the maximum: one bad frame cannot make a finding."""
    x = x[np.isfinite(x)]
    return float(np.percentile(x, q)) if x.size else float("nan")
