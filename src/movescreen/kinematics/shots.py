"""Shot changes: cuts in edited video and jumps of the camera.

An edited clip (a tutorial with cuts to close-ups) is several *shots*; a rep, a filter window or
a measure that spans a cut mixes two cameras and gives nonsense (a "knee twist" of 121 deg).
Each shot is analysed on its own.

Two cues, either is enough:

- **the picture** (:func:`frame_signature`, computed in the per-frame step on every frame, cheap:
  a subsampled copy of about 64 x 96 pixels): grey-level histograms of the four quarters of the
  frame plus a coarse colour histogram. The change between consecutive frames
  (:func:`signature_change`, 0 = same, 1 = nothing in common) is small while one camera films,
  even when it pans or the person moves (at most 0.034 on the shared clips), and large at a cut. A cut
  is a change of at least :data:`CUT_CHANGE` that also stands out from its neighbours (at least
  :data:`CUT_CONTRAST` times the larger of the frames before and after), so a fade or a whip
  pan spread over many frames is not cut into pieces.
- **the person** (from the landmarks, also for landmark files): the body's box jumps by more
  than half its height, or its size by more than :data:`SCALE_JUMP` times, from one frame to
  the next. Bodies do not move that far in one frame; cameras do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from movescreen.landmarks import INDEX

CUT_CHANGE = 0.2
"""Minimum picture change (0..1) for a cut. Measured noise floor: between consecutive frames of
the 29 shared clips (phone footage, GIFs, pans, people moving) the change never exceeded 0.034
(99th percentiles 0.008-0.040); the cut to the end card of the split-screen clip is 0.80."""
CUT_CONTRAST = 2.5
"""A cut's change is at least this many times its neighbours' changes."""
SCALE_JUMP = 1.6
"""The body's size changing by this factor between two frames is a camera jump."""
MOVE_JUMP = 0.5
"""The body's centre moving by this fraction of its height between two frames is a jump."""
SNAP_BACK_S = 0.5
"""A body box that jumps back to where it was within this long is the tracker recovering from a
drift, not a camera jump (:func:`person_jumps`)."""
MIN_SHOT_S = 0.3
"""Two cuts closer than this are a flash or a too-short insert and cancel out; a shot shorter
than this at the clip's start or end is merged into its neighbour."""
SIGNATURE_PIXELS = 64
"""The short side of the subsampled frame the signature is computed on."""
_BODY = [INDEX[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip",
                            "left_knee", "right_knee", "left_ankle", "right_ankle")]


def frame_signature(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """A small description of a BGR frame for spotting cuts: shape (80,), sums to 5.

    Four grey-level histograms (16 bins) of the frame's quarters and one colour histogram (red x
    green, 4 levels each: 16 bins), each normalised to sum 1.
    """
    img = np.asarray(image)
    h, w = img.shape[:2]
    step = max(1, min(h, w) // SIGNATURE_PIXELS)
    small = img[::step, ::step]
    if small.ndim == 2:
        small = np.repeat(small[:, :, None], 3, axis=2)
    small = small[:, :, :3].astype(np.uint16)
    grey = (small[:, :, 0] * 29 + small[:, :, 1] * 150 + small[:, :, 2] * 77) >> 8
    sh, sw = grey.shape
    parts = []
    for rows in (slice(0, sh // 2), slice(sh // 2, sh)):
        for cols in (slice(0, sw // 2), slice(sw // 2, sw)):
            q = grey[rows, cols]
            hist = np.bincount((q >> 4).ravel(), minlength=16).astype(np.float32)
            parts.append(hist / max(1.0, float(hist.sum())))
    c = ((small[:, :, 2] >> 6) * 4 + (small[:, :, 1] >> 6)).ravel()  # red x green, 4 levels each
    hist = np.bincount(c, minlength=16).astype(np.float32)
    parts.append(hist / max(1.0, float(hist.sum())))
    return np.concatenate(parts)


def signature_change(a: npt.ArrayLike | None, b: npt.ArrayLike | None) -> float:
    """How different two frame signatures are: 0 = same, 1 = nothing in common (NaN if missing).

    The mean over the five histograms of their total-variation distance.

    >>> import numpy as np
    >>> black, white = np.zeros((90, 120, 3), np.uint8), np.full((90, 120, 3), 255, np.uint8)
    >>> signature_change(frame_signature(black), frame_signature(black))
    0.0
    >>> signature_change(frame_signature(black), frame_signature(white))
    1.0
    """
    if a is None or b is None:
        return float("nan")
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.round(0.5 * np.abs(x - y).sum() / 5.0, 6))


@dataclass(frozen=True)
class Shot:
    """One shot: rows ``start``..``end`` (inclusive) of the sequence."""

    index: int
    start: int
    end: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    cut_by: str  # how the shot's start was found: 'start', 'picture', 'person'
    change: float  # the picture change at the cut (NaN at the clip's start / person cue)

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "start_frame": self.start_frame, "end_frame": self.end_frame,
                "start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3),
                "cut_by": self.cut_by,
                "change": round(self.change, 3) if np.isfinite(self.change) else None}


def is_new_shot(previous_change: float, change: float) -> bool:
    """The causal half of the cut rule (no look-ahead): used while the frames come, e.g. to
    make the pose tracker start afresh.

    >>> is_new_shot(0.01, 0.7), is_new_shot(0.3, 0.4), is_new_shot(float("nan"), 0.7)
    (True, False, True)
    """
    if not np.isfinite(change) or change < CUT_CHANGE:
        return False
    prev = previous_change if np.isfinite(previous_change) else 0.0
    return bool(change >= CUT_CONTRAST * max(prev, 0.02))


def picture_cuts(change: npt.ArrayLike) -> list[int]:
    """Rows whose picture change (to the previous row) is a cut.

    >>> picture_cuts([np.nan, 0.02, 0.03, 0.8, 0.02, 0.01])
    [3]
    >>> picture_cuts([np.nan, 0.02, 0.4, 0.45, 0.4, 0.02])  # a slow fade: no single cut
    []
    """
    c = np.asarray(change, np.float64)
    out = []
    for i in range(1, len(c)):
        v = c[i]
        if not np.isfinite(v) or v < CUT_CHANGE:
            continue
        nb = [c[j] for j in (i - 1, i + 1) if 0 <= j < len(c) and np.isfinite(c[j])]
        if v >= CUT_CONTRAST * max(nb + [0.02]):
            out.append(i)
    return out


def _box_jump(size_a: float, centre_a: npt.NDArray[np.float64], size_b: float,
              centre_b: npt.NDArray[np.float64]) -> bool:
    ratio = size_b / size_a
    move = float(np.linalg.norm(centre_b - centre_a)) / max(size_a, size_b)
    return bool(ratio >= SCALE_JUMP or ratio <= 1 / SCALE_JUMP or move >= MOVE_JUMP)


def person_jumps(image_xyz: npt.ArrayLike, *, lookback: int = 0) -> list[int]:
    """Rows where the subject's body box jumps (position or size) from the row before.

    ``lookback`` > 0: a jump that brings the box back to where it was in one of the
    ``lookback`` rows before the previous one is the pose tracker snapping back after a few
    frames of drifting landmarks (a foot point sliding up the shin, then back), not a camera
    jump: a new camera does not put the body back in the box it had a moment ago. Found on a
    looped 10-minute clip without any cut, where one such snap-back split the clip in two.
    """
    img = np.asarray(image_xyz, np.float64)[:, _BODY, :2]
    ok = np.isfinite(img).all(axis=(1, 2))
    safe = np.where(ok[:, None, None], img, 0.0)
    lo, hi = safe.min(axis=1), safe.max(axis=1)
    size = np.where(ok, np.maximum(hi[:, 1] - lo[:, 1], hi[:, 0] - lo[:, 0]), np.nan)
    centre = 0.5 * (lo + hi)
    out = []
    for i in range(1, len(img)):
        if not (ok[i] and ok[i - 1]) or size[i] <= 1 or size[i - 1] <= 1:
            continue
        if not _box_jump(size[i - 1], centre[i - 1], size[i], centre[i]):
            continue
        earlier = [j for j in range(max(0, i - 1 - lookback), i - 1) if ok[j] and size[j] > 1]
        if any(not _box_jump(size[j], centre[j], size[i], centre[i]) for j in earlier):
            continue  # back where it was a moment ago: the tracker recovering
        out.append(i)
    return out


def detect_shots(
    time_s: npt.ArrayLike,
    frame_index: npt.ArrayLike,
    *,
    change: npt.ArrayLike | None = None,
    image_xyz: npt.ArrayLike | None = None,
) -> list[Shot]:
    """Split a clip into shots at picture cuts and person jumps.

    Parameters
    ----------
    time_s, frame_index : array_like, shape (T,)
    change : array_like, shape (T,), optional
        :func:`signature_change` of each frame to the one before (NaN for the first).
    image_xyz : array_like, shape (T, 33, 3), optional
        The subject's (unfiltered) image landmarks.

    Returns
    -------
    list of Shot
        At least one shot for a non-empty clip; shots shorter than :data:`MIN_SHOT_S` are
        merged into the previous one.
    """
    t = np.asarray(time_s, np.float64)
    fi = np.asarray(frame_index, np.int64)
    n = len(t)
    if n == 0:
        return []
    cuts: dict[int, tuple[str, float]] = {}
    if change is not None:
        c = np.asarray(change, np.float64)
        for i in picture_cuts(c):
            cuts[i] = ("picture", float(c[i]))
    if image_xyz is not None:
        dt = np.diff(t)
        dt = dt[np.isfinite(dt) & (dt > 0)]
        lookback = int(round(SNAP_BACK_S / float(np.median(dt)))) if dt.size else 0
        for i in person_jumps(image_xyz, lookback=lookback):
            cuts.setdefault(i, ("person", float("nan")))
    rows = sorted(cuts)
    keep = []
    k = 0
    while k < len(rows):
        i = rows[k]
        if k + 1 < len(rows) and t[rows[k + 1]] - t[i] < MIN_SHOT_S:
            k += 2  # a flash or an insert too short to analyse, and back: no cut
            continue
        keep.append(i)
        k += 1
    starts = [0]
    how: list[tuple[str, float]] = [("start", float("nan"))]
    for i in keep:
        if t[i] - t[starts[-1]] < MIN_SHOT_S:
            continue  # too close to the clip's start or the previous cut
        starts.append(i)
        how.append(cuts[i])
    # the last shot too short: merge it into the one before
    if len(starts) > 1 and t[-1] - t[starts[-1]] < MIN_SHOT_S:
        starts.pop()
        how.pop()
    shots = []
    for k, s in enumerate(starts):
        e = (starts[k + 1] - 1) if k + 1 < len(starts) else n - 1
        shots.append(Shot(k + 1, s, e, int(fi[s]), int(fi[e]), float(t[s]), float(t[e]),
                          how[k][0], how[k][1]))
    return shots
