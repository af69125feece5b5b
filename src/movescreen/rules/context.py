"""What every rule sees: the kinematics of one clip, and helpers to read it around a rep."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from movescreen.kinematics import Kinematics
from movescreen.landmarks import INDEX
from movescreen.types import Rep

FloatArray = npt.NDArray[np.float64]

VIEW_SUITABILITY = {"side": 1.0, "oblique": 0.7, "front": 1.0, "unknown": 0.3}
"""How well a view suits a rule that lists it (oblique views are usable but less sure)."""


@dataclass(frozen=True)
class RuleContext:
    """Read-only access to one clip's kinematics for the rules (pure)."""

    kin: Kinematics

    @property
    def table(self) -> dict[str, np.ndarray]:
        return self.kin.table

    @property
    def space(self) -> str:
        """'image' for side views, 'world' otherwise (where sagittal angles are trusted)."""
        return self.kin.angle_space

    def row_of(self, frame: int) -> int:
        """Row of a source frame number."""
        frames = np.asarray(self.table["frame"])
        return int(np.clip(np.searchsorted(frames, frame), 0, len(frames) - 1))

    def frame_of(self, row: int) -> int:
        return int(np.asarray(self.table["frame"])[row])

    def rows(self, rep: Rep) -> slice:
        return slice(self.row_of(rep.start_frame), self.row_of(rep.end_frame) + 1)

    def col(self, name: str) -> FloatArray:
        if name not in self.table:
            return np.full(len(self.table["frame"]), np.nan)
        return np.asarray(self.table[name], np.float64)

    def window(self, frame: int, half_s: float) -> slice:
        """Rows within ``half_s`` seconds of a frame."""
        t = self.col("time_s")
        r = self.row_of(frame)
        lo = int(np.searchsorted(t, t[r] - half_s - 1e-9))
        hi = int(np.searchsorted(t, t[r] + half_s + 1e-9, side="right"))
        return slice(lo, max(hi, r + 1))

    def bottom_zone(self, rep: Rep, fraction: float = 0.85) -> npt.NDArray[np.intp]:
        """Rows of the rep whose depth signal is within ``1 - fraction`` of the rep's deepest."""
        sl = self.rows(rep)
        d = self.col("depth_signal_deg")[sl]
        if not np.isfinite(d).any():
            return np.array([self.row_of(rep.bottom_frame)], np.intp)
        lo, hi = np.nanmin(d), np.nanmax(d)
        with np.errstate(invalid="ignore"):
            zone = np.nonzero(d >= lo + fraction * (hi - lo))[0] + sl.start
        return zone if zone.size else np.array([self.row_of(rep.bottom_frame)], np.intp)

    def lockout_rows(self, rep: Rep, half_s: float = 0.15) -> slice:
        """Rows around the lockout: the turn of a floor deadlift, else the rep's end."""
        frame = rep.turn_frame if rep.order == "bottom_first" else rep.end_frame
        return self.window(frame, half_s)

    def visibility(self, names: tuple[str, ...], rows: slice | npt.NDArray[np.intp]) -> float:
        """Median visibility of the named landmarks over rows (0 when unknown)."""
        vis = self.kin.sequence.visibility[rows][:, [INDEX[n] for n in names]]
        with np.errstate(invalid="ignore"):
            v = np.nanmedian(vis) if np.isfinite(vis).any() else 0.0
        return float(np.clip(v, 0.0, 1.0))


def side_landmarks(side: str, *parts: str) -> tuple[str, ...]:
    sides = ("left", "right") if side == "both" else (side,)
    return tuple(f"{s}_{p}" for s in sides for p in parts)
