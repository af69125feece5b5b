"""Live cues: rules judged on the last fraction of a second, while the rep is still going on.

A rep's findings come from the rules in :mod:`movescreen.rules.hinge` and friends once the rep
has ended. Some compensations are worth saying *during* the rep, so the person can correct it
before the next one; those are judged here, on the frames just seen, with their own thresholds
(``[live_lumbar_rounding]`` in ``rules/defaults.toml``). Each live rule is data plus one small
function, like :class:`movescreen.rules.base.Rule`; ``movescreen.stream`` runs them every frame.

A live cue is only a cue: what the report says about the rep is decided by the rep's own rules.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from movescreen.config import RuleConfig
from movescreen.rules.base import Measurement

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RecentFrames:
    """What the live step measured on the last ``hold_s`` seconds (oldest first).

    Attributes
    ----------
    rows : ndarray of int
        Rows of the live sequence.
    time_s : ndarray
        Source times.
    bend_deg, bend_confidence : ndarray
        Back-outline bend (rounded positive) and its confidence, NaN / 0 where it was not
        traced (no mask, trunk upright, not a side view).
    trunk_deg : ndarray
        Trunk inclination from vertical, image space.
    """

    rows: npt.NDArray[np.int64]
    time_s: FloatArray
    bend_deg: FloatArray
    bend_confidence: FloatArray
    trunk_deg: FloatArray


LiveJudge = Callable[[RecentFrames, RuleConfig], "Measurement | None"]


@dataclass(frozen=True)
class LiveRule:
    """A rule judged on the recent frames during a rep.

    Attributes
    ----------
    id : str
        Key of its table in ``defaults.toml``.
    cues_as : str
        The rep rule whose cue text it says and whose cue it stands for (one cue per rep and rule).
    needs_bend : bool
        It reads the back outline: the live step traces the mask of frames it may use.
    judge : callable
        ``judge(recent, config) -> Measurement | None`` (None: nothing to say now).
    """

    id: str
    cues_as: str
    joint: str
    instead_of: str
    measures: str
    needs_bend: bool
    judge: LiveJudge

    def applies(self, cfg: RuleConfig, *, movement: str, view: str) -> bool:
        """Whether the rule runs at all for this movement and view."""
        return cfg.enabled and movement in cfg.movements and view in cfg.views

    def wants_frame(self, cfg: RuleConfig, *, trunk_deg: float) -> bool:
        """Whether this frame is worth measuring (tracing a mask takes a few milliseconds)."""
        return math.isfinite(trunk_deg) and trunk_deg >= float(cfg.params.get("min_trunk_deg", 30.0))


def judge_lumbar_mid_rep(recent: RecentFrames, cfg: RuleConfig) -> Measurement | None:
    """Median back-outline bend over the recent frames, once enough of them are confident.

    The value is the median over the last ``hold_s`` seconds of the frames with a traced,
    confident (``min_confidence``) outline; at least ``min_frames_fraction`` of the frames in
    that span (and two) must be such frames, so a single noisy frame cannot give a cue.
    """
    if not len(recent.rows):
        return None
    use = np.isfinite(recent.bend_deg) & (recent.bend_confidence >= cfg.min_confidence)
    need = max(2.0, float(cfg.params.get("min_frames_fraction", 0.6)) * len(recent.rows))
    if use.sum() < need:
        return None
    vals = recent.bend_deg[use]
    rows = recent.rows[use]
    worst = int(rows[int(np.argmax(vals))])
    return Measurement(
        value=float(np.median(vals)), worst_row=worst, first_row=int(rows.min()),
        last_row=int(rows.max()), side="none",
        confidence=float(np.median(recent.bend_confidence[use])),
        evidence={"frames_used": int(use.sum()), "trunk_inclination_deg": float(np.nanmax(recent.trunk_deg))
                  if np.isfinite(recent.trunk_deg).any() else None},
    )


LIVE_RULES: tuple[LiveRule, ...] = (
    LiveRule(
        id="live_lumbar_rounding",
        cues_as="lumbar_rounding",
        joint="lumbar_spine",
        instead_of="hip",
        measures="back-outline bend over the last fraction of a second, during the rep",
        needs_bend=True,
        judge=judge_lumbar_mid_rep,
    ),
)

__all__ = ["LIVE_RULES", "LiveRule", "RecentFrames", "judge_lumbar_mid_rep"]
