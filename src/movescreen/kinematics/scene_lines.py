"""Background line segments for the true vertical (:mod:`movescreen.kinematics.scene`), found
while the frames go by, and the per-shot scene-vertical columns made from them.

:class:`SceneLineSampler` wraps a frame source: as the pose stage's decode thread pulls frames
through it, a few frames spread over the clip are passed to OpenCV's line segment detector (LSD)
and only the segments are kept (a few KB a frame; the frames are not held). After the pose
stage, :func:`scene_vertical_columns` leaves out each sampled frame's segments that lie on or
near the person (their landmark box, padded), pools the rest per shot (a fixed camera within a
shot; a cut may change it) and returns ``scene_vertical_tilt_deg`` / ``scene_vertical_sd_deg``
per row, NaN where a shot had no usable reference.

Which frames are sampled depends only on the frame numbers, not on the clip's length known in
advance (a camera has none): every ``stride``-th frame from frame 0, the stride doubling (and
every other sample dropped) whenever more than ``max_samples`` were kept. A clip ends with
between ``max_samples / 2`` and ``max_samples`` samples evenly spread (fewer for very short
clips), and the same frames give the same samples whichever command reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from movescreen.kinematics.scene import estimate_scene_vertical

FIRST_STRIDE = 15
"""Sample every 15th frame at first (0.5 s at 30 frames/s)."""
MAX_SAMPLES = 16
"""At most 16 sampled frames are kept (LSD costs 10-40 ms a frame, on the decode thread)."""
PERSON_PAD = 0.15
"""Segments whose midpoint lies within the person's landmark box, padded by this share of its
height, are the person's outline (limbs are near-vertical lines too) and are left out."""
BAR_MARGIN_PX = 3.0
"""A segment within this many pixels of a black bar's edge is that edge."""
SCENE_TILT = "scene_vertical_tilt_deg"
SCENE_SD = "scene_vertical_sd_deg"


class SceneLineSampler:
    """A frame source that also keeps the line segments of a few frames (see the module text).

    Iterating it iterates the wrapped source; any other attribute is the wrapped source's.
    ``samples`` maps a sampled frame's number to its segments, shape (N, 4): x1, y1, x2, y2 in
    pixels of the frame as the source gives it (upright, content box included).
    """

    def __init__(self, source: Any, *, first_stride: int = FIRST_STRIDE, max_samples: int = MAX_SAMPLES) -> None:
        self._source = source
        self.stride = first_stride
        self.max_samples = max_samples
        self.samples: dict[int, npt.NDArray[np.float64]] = {}
        self.size: tuple[int, int] | None = None  # (width, height) of the sampled frames
        self._lsd: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)

    def __iter__(self) -> Iterator[Any]:
        for frame in self._source:
            self.offer(int(frame.index), frame.image)
            yield frame

    def offer(self, index: int, image: npt.NDArray[np.uint8]) -> None:
        """Keep the segments of frame ``index`` if it is one of the sampled frames."""
        if index % self.stride:
            return
        segments = self.detect(image)
        self.samples[index] = segments
        self.size = (int(image.shape[1]), int(image.shape[0]))
        while len(self.samples) > self.max_samples:
            self.stride *= 2
            self.samples = {i: s for i, s in self.samples.items() if i % self.stride == 0}

    def detect(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
        import cv2

        if self._lsd is None:
            self._lsd = cv2.createLineSegmentDetector()
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        found = self._lsd.detect(gray)[0]
        return np.zeros((0, 4)) if found is None else found.reshape(-1, 4).astype(np.float64)


def background_segments(segments: npt.NDArray[np.float64], person_xy: npt.NDArray[np.floating],
                        pad: float = PERSON_PAD) -> npt.NDArray[np.float64]:
    """``segments`` without those whose midpoint lies in the person's padded landmark box.

    A frame with no landmarks gives no segments (the person may be anywhere in it).
    """
    ok = np.isfinite(person_xy).all(axis=1)
    if not ok.any() or len(segments) == 0:
        return np.zeros((0, 4))
    (x0, y0), (x1, y1) = person_xy[ok].min(axis=0), person_xy[ok].max(axis=0)
    p = pad * (y1 - y0)
    mx, my = 0.5 * (segments[:, 0] + segments[:, 2]), 0.5 * (segments[:, 1] + segments[:, 3])
    inside = (mx > x0 - p) & (mx < x1 + p) & (my > y0 - p) & (my < y1 + p)
    return segments[~inside]


def inside_picture(segments: npt.NDArray[np.float64], box: Any, margin: float = BAR_MARGIN_PX) -> npt.NDArray[np.float64]:
    """``segments`` without those lying along the edges of the picture inside black bars
    (``box``: a :class:`movescreen.types.Box`, or None for no bars): the edge of a pillarbox is
    exactly the picture's vertical and says nothing of the scene's."""
    if box is None or len(segments) == 0:
        return segments
    xs, ys = segments[:, [0, 2]], segments[:, [1, 3]]
    on_edge = ((np.abs(xs - box.x0) <= margin).all(axis=1) | (np.abs(xs - box.x1) <= margin).all(axis=1)
               | (np.abs(ys - box.y0) <= margin).all(axis=1) | (np.abs(ys - box.y1) <= margin).all(axis=1))
    outside = (xs < box.x0 - margin).any(axis=1) | (xs > box.x1 + margin).any(axis=1)
    return segments[~(on_edge | outside)]


def scene_vertical_columns(
    samples: dict[int, npt.NDArray[np.float64]],
    frame_index: npt.ArrayLike,
    image_xyz: npt.NDArray[np.floating],
    shots: list[dict[str, Any]],
    *,
    width: float,
    height: float,
    content_box: Any = None,
) -> dict[str, npt.NDArray[np.float64]]:
    """Per-row scene-vertical tilt and its SD (deg), pooled per shot; NaN where there is none.

    Parameters
    ----------
    samples : dict[int, ndarray]
        :attr:`SceneLineSampler.samples`.
    frame_index : array_like, shape (T,)
        Source frame number of each row (``LandmarkSequence.frame_index``).
    image_xyz : ndarray, shape (T, 33, 3)
        Image landmarks, pixels (the person's box per sampled frame; the hips' column).
    shots : list of dict
        ``Kinematics.shots`` (``start_frame``, ``end_frame``); one shot for the whole clip when
        empty.
    content_box : Box, optional
        The picture inside black bars (``VideoInfo.content_box``); the bars' edges are left out.
    """
    from movescreen.landmarks import INDEX

    frames = np.asarray(frame_index, np.int64)
    n = len(frames)
    tilt, sd = np.full(n, np.nan), np.full(n, np.nan)
    spans = [(int(s["start_frame"]), int(s["end_frame"])) for s in shots] or [
        (int(frames[0]) if n else 0, int(frames[-1]) if n else -1)]
    hips_x = 0.5 * (image_xyz[:, INDEX["left_hip"], 0] + image_xyz[:, INDEX["right_hip"], 0])
    for first, last in spans:
        rows = (frames >= first) & (frames <= last)
        pooled = []
        for idx, segs in samples.items():
            if first <= idx <= last:
                r = int(np.searchsorted(frames, idx))
                if r < n and frames[r] == idx:
                    pooled.append(background_segments(inside_picture(segs, content_box), image_xyz[r, :, :2]))
        hx = hips_x[rows]
        if not pooled or not np.isfinite(hx).any():
            continue
        sv = estimate_scene_vertical(np.concatenate(pooled), width=width, height=height,
                                     at_x=float(np.nanmedian(hx)))
        if sv.found:
            tilt[rows], sd[rows] = sv.tilt_deg, sv.sd_deg
    return {SCENE_TILT: tilt, SCENE_SD: sd}
