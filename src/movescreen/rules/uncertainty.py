"""How sure a finding's value is, and the gates that keep an untrustworthy value from judging.

The uncertainty ``u`` of a measured value (one standard deviation, in the value's unit) is

    u = sqrt(scatter**2 + noise**2 + view**2 + reference**2) * (2 - confidence)

- ``scatter``: the frame-to-frame scatter of the measure around the frames the value comes from,
  as the rule measured it (:func:`scatter`: a robust SD from second differences, so the
  movement itself is not counted as noise); 0 when the rule gives none;
- ``noise``: the measure's noise floor, the ``noise`` setting of the rule in ``defaults.toml``
  (measured on the dev clips or taken from the literature; the reason is written there). The
  kinematics are filtered, so the scatter of the filtered signal alone would understate it;
- ``view``: the error of a planar angle seen from a camera turned ``d`` degrees from the view the
  rule is made for (``d`` = 90 - yaw for a side view, yaw for a front view, 0 for an oblique one,
  whose rules read 3-D world angles): a sagittal angle ``v`` projects to about ``v * cos(d)``, so
  ``view = |v| * (1 - cos d)`` (first order; 6 % at 20 deg off, 13 % at 30 deg);
- ``reference``: the uncertainty of what the value is measured against, when the rule gives one
  (:attr:`movescreen.rules.base.Measurement.reference_sd`): for a lean from the vertical, the
  camera's roll (from scene lines when the picture has them, else the roll measured on hand-held
  clips; ``docs/uncertainty.md``);
- ``(2 - confidence)``: landmarks seen poorly, or an oblique view, widen the interval (1x at
  confidence 1, 1.7x at the lowest confidence that may judge, 0.3). A heuristic: BlazePose's
  visibility is not a calibrated probability, so it is only allowed to widen, never narrow.

A finding whose interval ``value +/- u`` contains one of its rule's thresholds is **borderline**:
it is reported as a ``caution`` at most (never a ``flag``) with ``borderline: true``. A value
below the first threshold never becomes a finding because of its interval (that would turn the
noise of every correct rep into cautions). See ``docs/uncertainty.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from movescreen.config import RuleConfig, Severity

MAD_TO_SD = 1.4826
"""Median absolute deviation -> standard deviation for normally distributed noise."""

SIDE_MIN_YAW_DEG = 45.0
"""A side-view rule is not judged on frames where the body turned to face the camera more than
this (yaw below 45 deg: closer to a front view than to a side view); the per-rep view uses
60 deg, so this gate only removes frames that turned well away during the rep."""
FRONT_MAX_YAW_DEG = 45.0
"""A front-view rule is not judged on frames where the body turned more than this."""


def scatter(values: npt.ArrayLike, *, min_points: int = 5) -> float:
    """Frame-to-frame scatter of a short run of per-frame values (one SD), robust to the movement.

    From the second differences ``y[i+1] - 2 y[i] + y[i-1]``: a smooth movement (a ramp, a slow
    curve) leaves them near 0, white noise of SD ``s`` gives them SD ``s * sqrt(6)``, and their
    median absolute deviation ignores the odd jump (a real step in the movement, one bad frame).
    NaN when fewer than ``min_points`` finite values in a row.

    >>> round(scatter([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), 6)  # a straight line has no scatter
    0.0
    >>> rng = np.random.default_rng(0)
    >>> 0.8 < scatter(np.linspace(0, 30, 400) + rng.normal(0, 1.0, 400)) < 1.2
    True
    """
    y = np.asarray(values, np.float64)
    if np.isfinite(y).sum() < min_points:
        return float("nan")
    d2 = y[2:] - 2.0 * y[1:-1] + y[:-2]
    d2 = d2[np.isfinite(d2)]
    if d2.size < 3:
        return float("nan")
    return float(MAD_TO_SD * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6.0))


def around(values: npt.ArrayLike, center: int, half: int = 6) -> npt.NDArray[np.float64]:
    """``values[center - half : center + half + 1]`` clipped to the array."""
    y = np.asarray(values, np.float64)
    return y[max(center - half, 0): center + half + 1]


def view_deviation_deg(yaw_deg: float, view: str) -> float:
    """How far the body was turned from the view a rule is made for, degrees (0 when unknown)."""
    if not math.isfinite(yaw_deg):
        return 0.0
    if view == "side":
        return float(max(0.0, 90.0 - yaw_deg))
    if view == "front":
        return float(max(0.0, yaw_deg))
    return 0.0


@dataclass(frozen=True)
class Uncertainty:
    """One value's uncertainty and its parts (all in the value's unit, one SD)."""

    total: float
    scatter: float
    noise: float
    view: float
    widening: float
    view_deviation_deg: float
    reference: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 4) for k, v in self.__dict__.items()}


def combine(value: float, *, scatter_sd: float, noise: float, view_deviation: float,
            confidence: float, reference_sd: float = 0.0) -> Uncertainty:
    """The value's uncertainty (see the module docstring).

    >>> u = combine(10.0, scatter_sd=0.0, noise=2.0, view_deviation=0.0, confidence=1.0)
    >>> u.total
    2.0
    >>> combine(10.0, scatter_sd=0.0, noise=2.0, view_deviation=0.0, confidence=0.5).total
    3.0
    >>> combine(10.0, scatter_sd=0.0, noise=3.0, view_deviation=0.0, confidence=1.0, reference_sd=4.0).total
    5.0
    """
    s = scatter_sd if math.isfinite(scatter_sd) else 0.0
    v = abs(value) * (1.0 - math.cos(math.radians(min(abs(view_deviation), 90.0))))
    r = reference_sd if math.isfinite(reference_sd) else 0.0
    widen = 2.0 - float(np.clip(confidence, 0.0, 1.0))
    total = math.sqrt(s * s + noise * noise + v * v + r * r) * widen
    return Uncertainty(total, s, noise, v, widen, view_deviation, r)


def grade(cfg: RuleConfig, value: float, u: float) -> tuple[Severity | None, float | None, bool]:
    """Severity, its threshold, and whether ``value +/- u`` straddles a threshold.

    A borderline finding is at most a caution (a borderline note stays a note).

    >>> from movescreen.config import RuleConfig
    >>> rc = RuleConfig("x", True, ("side",), ("hinge",), "deg", (("caution", 10.0), ("flag", 15.0)))
    >>> grade(rc, 16.0, 0.5)
    ('flag', 15.0, False)
    >>> grade(rc, 16.0, 2.0)
    ('caution', 10.0, True)
    >>> grade(rc, 11.0, 2.0)
    ('caution', 10.0, True)
    >>> grade(rc, 9.0, 2.0)
    (None, None, False)
    """
    severity, threshold = cfg.grade(value)
    if severity is None:
        return None, None, False
    lo, hi = value - u, value + u
    borderline = any(lo < thr < hi for _, thr in cfg.thresholds)
    if borderline and severity == "flag":
        capped = [(s, t) for s, t in cfg.thresholds if s != "flag"]
        reached = [(s, t) for s, t in capped
                   if (value >= t if cfg.direction == "above" else value <= t)]
        severity, threshold = reached[-1] if reached else ("caution", threshold)
        if severity == "note":  # a rule with note < caution < flag: the flag becomes a caution
            caution = dict(cfg.thresholds).get("caution")
            severity, threshold = ("caution", caution) if caution is not None else (severity, threshold)
    return severity, threshold, borderline
