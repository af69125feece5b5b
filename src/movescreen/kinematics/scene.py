"""Which way is up in the picture: the true vertical from straight scene lines (camera roll).

Image angles "from vertical" (trunk inclination, the lockout lean-back) take the picture's
columns as vertical. A phone held tilted (roll) or pointed up or down (pitch: vertical lines then
converge, "keystone") tilts the world's vertical in the picture, and every such angle by the same
amount. Door frames, wall corners, racks and poles are vertical by construction, so the straight
near-vertical lines of the background say where the true vertical is.

This module is pure: it takes line segments (pixels), found by any detector outside the core
(e.g. OpenCV's LSD on a frame with the person masked out), and returns the tilt of the true
vertical at a point of the picture with its uncertainty. It never reads images.

Convention: a tilt is in degrees, **positive when the top of a vertical line leans towards
image-right** (x grows). The tilt of the true vertical at the trunk is subtracted from a
trunk angle measured from the picture's columns once signed by the facing direction
(:func:`vertical_tilt_towards_facing`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

MAX_LINE_TILT_DEG = 20.0
"""Segments further than this from the picture's vertical are not taken as scene verticals: a
hand-held phone is rarely rolled more than a few degrees, and beyond 20 deg the near-vertical
lines are mostly not verticals (roof slopes, stair rails, the lifter's limbs)."""
MIN_LINE_LENGTH_FRACTION = 0.08
"""A segment shorter than this share of the picture's height is too short for a sure angle (the
angle error of a segment is about its end points' pixel error over its length)."""
LINE_ANGLE_FLOOR_DEG = 1.0
"""Floor of the estimate's uncertainty (1 SD): what the median of many lines cannot remove, such
as lens distortion bending long lines near the edges and door frames or poles that are not quite
plumb (builders' tolerance is ~1 in 200, 0.3 deg; garden posts are worse)."""


@dataclass(frozen=True)
class SceneVertical:
    """The tilt of the true vertical at one point of the picture.

    Attributes
    ----------
    tilt_deg : float
        Tilt of a world-vertical line through the point, deg, positive top-to-image-right; NaN
        when there was no usable reference.
    sd_deg : float
        Its uncertainty (1 SD, deg); NaN without a reference.
    n_lines : int
        Near-vertical segments used.
    slope_deg_per_width : float
        Change of the tilt across the picture's width (keystone from pitch), deg; 0 when the
        lines did not span enough of the picture to measure it.
    """

    tilt_deg: float
    sd_deg: float
    n_lines: int
    slope_deg_per_width: float = 0.0

    @property
    def found(self) -> bool:
        return math.isfinite(self.tilt_deg)


NO_REFERENCE = SceneVertical(float("nan"), float("nan"), 0)


def segment_tilts_deg(segments: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tilt (deg, + top to image-right), length (px) and mid-x (px) of segments ``(N, 4)``.

    >>> t, length, x = segment_tilts_deg([[100, 0, 100, 50], [0, 100, 10, 0]])
    >>> [round(float(v), 1) for v in t], [round(float(v), 1) for v in length]
    ([0.0, 5.7], [50.0, 100.5])
    """
    s = np.asarray(segments, np.float64).reshape(-1, 4)
    x1, y1, x2, y2 = s.T
    top_first = y1 <= y2
    xt, yt = np.where(top_first, x1, x2), np.where(top_first, y1, y2)
    xb, yb = np.where(top_first, x2, x1), np.where(top_first, y2, y1)
    tilt = np.degrees(np.arctan2(xt - xb, yb - yt))
    return tilt, np.hypot(x2 - x1, y2 - y1), 0.5 * (x1 + x2)


def estimate_scene_vertical(
    segments: npt.ArrayLike,
    *,
    width: float,
    height: float,
    at_x: float,
    max_tilt_deg: float = MAX_LINE_TILT_DEG,
    min_length_fraction: float = MIN_LINE_LENGTH_FRACTION,
    min_lines: int = 3,
) -> SceneVertical:
    """Tilt of the true vertical at image column ``at_x`` from background line segments.

    Parameters
    ----------
    segments : array_like, shape (N, 4)
        ``x1, y1, x2, y2`` in pixels, from the background (the person's own outline must be
        left out by the caller); segments of several frames of a fixed camera may be pooled.
    width, height : float
        The picture's size, pixels.
    at_x : float
        The column where the vertical is wanted (e.g. the hips'), pixels.
    max_tilt_deg, min_length_fraction : float
        Which segments count as candidate verticals (see the module constants).
    min_lines : int
        Fewer usable segments: no reference (:data:`NO_REFERENCE`).

    Returns
    -------
    SceneVertical

    Notes
    -----
    Model: ``tilt = a + b * (x - at_x) / width``, length-weighted, fitted robustly (iteratively
    reweighted with Tukey's biweight on the residuals, scale from their MAD). ``a`` is the roll
    plus the keystone at ``at_x``; ``b`` the keystone's change across the picture (a camera
    pitched up makes the verticals converge above the picture). The slope is fitted only when
    the lines span at least a quarter of the width (else ``b = 0``, pure roll). The uncertainty is
    the residuals' robust SD over the square root of the number of lines (lines of one object are
    not independent, so at most 10 are counted), combined with :data:`LINE_ANGLE_FLOOR_DEG`.
    Assumes the segments that pass the filter are mostly real verticals; a scene with many
    slanted straight edges within ``max_tilt_deg`` biases it (their share is what the robust fit
    can shrug off: under half).

    >>> segs = [[x + 300 * math.tan(math.radians(4.0)), 0, x, 300] for x in (50, 200, 900, 1000)]
    >>> v = estimate_scene_vertical(segs, width=1280, height=720, at_x=640)
    >>> round(v.tilt_deg, 2), v.n_lines
    (4.0, 4)
    """
    tilt, length, xm = segment_tilts_deg(segments)
    keep = (np.isfinite(tilt) & (np.abs(tilt) <= max_tilt_deg)
            & (length >= min_length_fraction * height))
    tilt, length, xm = tilt[keep], length[keep], xm[keep]
    n = int(tilt.size)
    if n < min_lines:
        return SceneVertical(float("nan"), float("nan"), n)
    u = (xm - at_x) / float(width)
    spread = float(np.ptp(xm)) / float(width)
    fit_slope = spread >= 0.25
    w0 = length / length.max()
    med = float(np.median(tilt))
    a, b = med, 0.0
    scale = max(1.4826 * float(np.median(np.abs(tilt - med))), 0.5)
    for _ in range(10):
        r = tilt - (a + b * u)
        z = r / (4.685 * scale)
        w = w0 * np.where(np.abs(z) < 1.0, (1.0 - z * z) ** 2, 0.0)
        if w.sum() <= 0:
            break
        if fit_slope:
            sw = np.sqrt(w)
            design = np.stack([np.ones_like(u), u], axis=1) * sw[:, None]
            (a, b), *_ = np.linalg.lstsq(design, tilt * sw, rcond=None)
        else:
            a = float(np.sum(w * tilt) / w.sum())
        r = tilt - (a + b * u)
        scale = max(1.4826 * float(np.median(np.abs(r - np.median(r)))), 0.5)
    sd = math.hypot(scale / math.sqrt(min(n, 10)), LINE_ANGLE_FLOOR_DEG)
    return SceneVertical(float(a), float(sd), n, float(b))


def vertical_tilt_towards_facing(tilt_deg: float, facing_sign: int) -> float:
    """The true vertical's tilt towards the way the person faces (deg).

    A trunk angle from the picture's column, positive towards the facing side, reads this much
    too far forward; subtract it. ``facing_sign`` +1 = faces image-right, -1 = left, 0 = unknown
    (NaN: a side-view correction needs the facing).

    >>> vertical_tilt_towards_facing(3.0, -1)
    -3.0
    """
    if facing_sign not in (1, -1) or not math.isfinite(tilt_deg):
        return float("nan")
    return float(facing_sign * tilt_deg)
