"""Sideways video: a clip stored rotated without rotation metadata (the person lies across the
picture) is found from the pose, so it can be turned upright before the angles are measured.

The cue is the body's long axis, from the mid-ankle to the mid-shoulder point in the picture.
Standing, squatting or hinging, the shoulders stay above the ankles (the axis points within
about 50 deg of straight up even at the bottom of a deep hinge, where the trunk is horizontal
but the legs are not). In a clip stored sideways the axis points to the left or right of the
picture in nearly every frame; upside down, it points down. MediaPipe finds a person lying
across the picture well (it aligns its crop to the body), so the model's confidence does not
tell; the axis does.

A person lying along the floor for the whole clip in an upright video (a plank) looks the same;
such floor exercises are not judged anyway, and the analysis of the turned copy says whether
the person then stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from movescreen.landmarks import INDEX

SIDEWAYS_FRACTION = 0.7
"""Share of the frames with a pose whose body axis must agree before the clip is turned."""
AXIS_TOLERANCE_DEG = 40.0
"""The axis counts as pointing left / right / down within this of that direction."""
MIN_FRAMES = 5


@dataclass(frozen=True)
class Orientation:
    """How the person lies in the picture.

    Attributes
    ----------
    quarter_turns : int
        Turns of 90 deg counter-clockwise (``numpy.rot90``'s ``k``: 0, 1, 2 or 3) that make the
        person upright. 0 = already upright (or not decided).
    head_towards : str
        'up', 'left', 'right', 'down' or 'unknown': where the head points in the stored picture.
    fraction : float
        Share of the frames with a pose that point that way.
    median_axis_deg : float
        Median body-axis angle from straight up (positive: head towards the picture's right).
    frames : int
        Frames with a pose (ankles and shoulders found).
    """

    quarter_turns: int
    head_towards: str
    fraction: float
    median_axis_deg: float
    frames: int

    @property
    def sideways(self) -> bool:
        return self.quarter_turns != 0

    def as_dict(self) -> dict[str, Any]:
        return {"quarter_turns": self.quarter_turns, "turned_deg": 90 * self.quarter_turns,
                "head_towards": self.head_towards, "fraction": round(self.fraction, 3),
                "median_axis_deg": (round(self.median_axis_deg, 1)
                                    if np.isfinite(self.median_axis_deg) else None),
                "frames": self.frames}

    def turned_sentence(self, name: str) -> str:
        return (f"{name} is stored sideways without rotation metadata (the person lies across the "
                f"picture, head to the {self.head_towards} in {100 * self.fraction:.0f}% of the "
                f"frames); it was turned upright ({90 * self.quarter_turns} deg counter-clockwise) "
                "before the analysis.")

    def refused_sentence(self, name: str) -> str:
        ffmpeg = {1: "transpose=2", 3: "transpose=1", 2: "transpose=1,transpose=1"}.get(
            self.quarter_turns, "transpose=1")
        return (f"The person lies across the picture in {100 * self.fraction:.0f}% of the frames "
                f"of {name} (head to the {self.head_towards}), and turning it did not give an "
                "upright person: if the video is stored sideways, turn it upright (for example "
                f"ffmpeg -i {name} -vf {ffmpeg} upright.mp4) and analyse it again; the angles "
                "here assume an upright picture.")


def body_axis_deg(image_xyz: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Per-frame angle of the mid-ankle -> mid-shoulder axis from straight up, degrees in
    (-180, 180]: 0 upright, +90 head to the picture's right, -90 left, 180 upside down.

    >>> import numpy as np
    >>> a = np.full((1, 33, 3), np.nan)
    >>> a[0, [11, 12], :2] = [100, 0]; a[0, [27, 28], :2] = [100, 200]   # shoulders above ankles
    >>> float(body_axis_deg(a)[0])
    0.0
    >>> a[0, [11, 12], :2] = [300, 200]                                 # head to the right
    >>> float(body_axis_deg(a)[0])
    90.0
    """
    img = np.asarray(image_xyz, np.float64)
    sh = 0.5 * (img[:, INDEX["left_shoulder"], :2] + img[:, INDEX["right_shoulder"], :2])
    an = 0.5 * (img[:, INDEX["left_ankle"], :2] + img[:, INDEX["right_ankle"], :2])
    v = sh - an
    return np.asarray(np.degrees(np.arctan2(v[:, 0], -v[:, 1])), np.float64)


def detect_orientation(image_xyz: npt.ArrayLike) -> Orientation:
    """Whether the person lies across the picture through the clip, and how to turn it.

    >>> import numpy as np
    >>> a = np.full((10, 33, 3), np.nan)
    >>> a[:, [11, 12], :2] = [0, 100]; a[:, [27, 28], :2] = [200, 100]  # head to the left
    >>> detect_orientation(a).quarter_turns                            # turn clockwise once
    3
    """
    th = body_axis_deg(image_xyz)
    th = th[np.isfinite(th)]
    n = int(th.size)
    if n < MIN_FRAMES:
        return Orientation(0, "unknown", float("nan"), float("nan"), n)
    med = float(np.degrees(np.angle(np.mean(np.exp(1j * np.radians(th))))))  # circular mean
    dirs = {"up": 0.0, "right": 90.0, "down": 180.0, "left": -90.0}
    best, frac = "up", 0.0
    for name, ang in dirs.items():
        d = np.abs((th - ang + 180.0) % 360.0 - 180.0)
        f = float(np.mean(d <= AXIS_TOLERANCE_DEG))
        if f > frac:
            best, frac = name, f
    turns = {"up": 0, "right": 1, "down": 2, "left": 3}[best]
    if best != "up" and frac < SIDEWAYS_FRACTION:
        turns = 0
    return Orientation(turns, best, frac, med, n)
