"""What a rule says: a finding with its evidence, or why it could not judge."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from movescreen.config import Severity

Side = Literal["left", "right", "both", "none"]


@dataclass(frozen=True)
class Finding:
    """One compensation seen in one rep, with the numbers that triggered it.

    Attributes
    ----------
    rule : str
        Stable rule id (e.g. ``lumbar_rounding``).
    severity : {"note", "caution", "flag"}
    rep : int
        Rep index (1-based as shown to people).
    side : {"left", "right", "both", "none"}
    frame_start, frame_end, worst_frame : int
        Source frame numbers (``frame`` column of the CSV files).
    value, threshold : float
        Measured value and the threshold of the severity reached, in ``unit``.
    view : str
        Camera view of that rep.
    confidence : float
        0..1, from landmark visibility / measure confidence and how well the view suits the rule.
    message_client : str
        A plain sentence for the person moving.
    message_clinician : str
        Which joint compensated for which, in joint-by-joint terms.
    evidence : dict
        Other numbers behind the finding (e.g. hip flexion at the same frame).
    uncertainty : float or None
        One standard deviation of ``value`` in ``unit`` (docs/uncertainty.md); None when unknown.
    borderline : bool
        ``value +/- uncertainty`` straddles one of the rule's thresholds: the finding is a caution
        at most, never a flag.
    """

    rule: str
    severity: Severity
    rep: int
    side: Side
    frame_start: int
    frame_end: int
    worst_frame: int
    value: float
    threshold: float
    unit: str
    view: str
    confidence: float
    message_client: str
    message_clinician: str
    evidence: dict[str, Any] = field(default_factory=dict)
    uncertainty: float | None = None
    borderline: bool = False

    def __post_init__(self) -> None:
        if not (0.0 <= self.confidence <= 1.0):
            raise ValueError(f"expected confidence in 0..1, got {self.confidence}")
        if not (self.frame_start <= self.worst_frame <= self.frame_end):
            raise ValueError(
                f"expected frame_start <= worst_frame <= frame_end, got "
                f"{self.frame_start}, {self.worst_frame}, {self.frame_end}"
            )
        if self.borderline and self.severity == "flag":
            raise ValueError("expected a borderline finding to be a caution at most, got a flag")

    @property
    def id(self) -> str:
        """A stable id from rule, rep, side and frames, so a review can refer to this finding.

        The same analysis of the same input always gives the same id (it does not depend on the
        message text, the value or the run), e.g. ``lumbar_rounding-r1-none-f12-40``.
        """
        return f"{self.rule}-r{self.rep}-{self.side}-f{self.frame_start}-{self.frame_end}"

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, **asdict(self)}


@dataclass(frozen=True)
class NotAssessed:
    """A rule that could not be judged, and why (it never passes silently)."""

    rule: str
    reason: str
    rep: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
