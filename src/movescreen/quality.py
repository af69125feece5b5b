"""Data-quality checks on a landmark sequence: pure functions that return warnings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from movescreen.landmarks import INDEX
from movescreen.types import LandmarkSequence

KEY_GROUPS = {
    "hips": ("left_hip", "right_hip"),
    "knees": ("left_knee", "right_knee"),
    "feet": ("left_ankle", "right_ankle", "left_heel", "right_heel"),
    "shoulders": ("left_shoulder", "right_shoulder"),
}


@dataclass(frozen=True)
class Quality:
    """Summary of how usable the landmarks are."""

    frames: int
    frames_with_pose: int
    pose_fraction: float
    warnings: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "frames": self.frames,
            "frames_with_pose": self.frames_with_pose,
            "pose_fraction": round(self.pose_fraction, 4),
            "warnings": list(self.warnings),
        }


def _spans(mask: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True in a boolean array as (start, end_exclusive)."""
    padded = np.concatenate([[False], mask, [False]])
    d = np.diff(padded.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def assess_quality(
    seq: LandmarkSequence, *, min_visibility: float = 0.5, min_gap_s: float = 0.5
) -> Quality:
    """Check how much of the clip has a usable pose.

    Warns when the person is missing for stretches longer than ``min_gap_s`` (walked out of
    the frame or was not detected), and when key body parts are outside the picture or hidden
    in more than a quarter of the frames with a pose. NaN landmarks count as not visible.
    """
    n = len(seq)
    has = seq.has_pose
    k = int(has.sum())
    warnings: list[str] = []
    if n and k:
        first, last = int(np.argmax(has)), n - 1 - int(np.argmax(has[::-1]))
        for a, b in _spans(~has):
            dur = float(seq.time_s[min(b, n - 1)] - seq.time_s[a]) if b > a else 0.0
            if dur < min_gap_s:
                continue
            if a <= first:
                what = "No person was in view at the start"
            elif b > last:
                what = "The person left the picture (or was lost) near the end"
            else:
                what = "The person was out of view or not detected"
            warnings.append(
                f"{what}, from {seq.time_s[a]:.1f} s to {seq.time_s[min(b, n - 1)]:.1f} s; "
                "nothing is measured there."
            )
        if k < 0.5 * n:
            warnings.append(
                f"A person was found in only {100 * k / n:.0f}% of the frames; results may be "
                "incomplete."
            )
        x, y = seq.image_xyz[has, :, 0], seq.image_xyz[has, :, 1]
        vis = np.nan_to_num(seq.visibility[has], nan=0.0)
        for group, names in KEY_GROUPS.items():
            idx = [INDEX[m] for m in names]
            gx, gy, gv = x[:, idx], y[:, idx], vis[:, idx]
            outside = (gx < 0) | (gx >= seq.width) | (gy < 0) | (gy >= seq.height)
            bad_frames = (outside | (gv < min_visibility)).all(axis=1)
            frac = float(bad_frames.mean())
            if frac > 0.25:
                cause = "outside the picture" if outside.all(axis=1).mean() > 0.5 * frac else "hidden or unclear"
                warnings.append(
                    f"The {group} are {cause} in {100 * frac:.0f}% of the frames; measures that "
                    f"use the {group} are less reliable there."
                )
    return Quality(n, k, (k / n) if n else 0.0, tuple(warnings))
