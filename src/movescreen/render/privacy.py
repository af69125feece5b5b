"""Face blurring for every image and video movescreen writes (client videos are health data).

The face region is an ellipse around BlazePose's face landmarks 0-10 (nose, eyes, ears, mouth),
made generous so hair, chin and forehead are covered too. Where the face is not found in a
frame, the region last (or next) seen is blurred for a short while, so a missed detection does
not reveal the face for a frame.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from movescreen.landmarks import FACE, INDEX

Image = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float64]

# Ellipse size relative to the spread of the face landmarks (ear to ear is about half a head's
# width with hair). Generous on purpose: a blurred shoulder costs nothing, a visible eye does.
WIDTH_FACTOR = 1.9
HEIGHT_FACTOR = 2.6
# Head height relative to shoulder width, used when the face landmarks are too close together
# (a face seen in profile has ear and nose nearly on top of each other).
MIN_FACE_FRACTION_OF_SHOULDERS = 0.55
MIN_RADIUS_PX = 12.0


def compute_face_region(row_xyz: npt.NDArray[np.floating]) -> FloatArray:
    """Ellipse around the face of one frame.

    Parameters
    ----------
    row_xyz : ndarray, shape (33, 3)
        Image landmarks in pixels (NaN when missing).

    Returns
    -------
    ndarray, shape (4,)
        ``(cx, cy, half_width, half_height)`` in pixels; all NaN when no face landmark is
        present.

    Examples
    --------
    >>> row = np.full((33, 3), np.nan); row[0, :2] = (100, 100)
    >>> bool(np.isfinite(compute_face_region(row)).all())
    True
    >>> bool(np.isnan(compute_face_region(np.full((33, 3), np.nan))).all())
    True
    """
    pts = np.asarray(row_xyz, np.float64)[list(FACE), :2]
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) == 0:
        return np.full(4, np.nan)
    cx, cy = pts.mean(axis=0)
    spread = float(np.max(np.ptp(pts, axis=0))) if len(pts) > 1 else 0.0
    ls, rs = row_xyz[INDEX["left_shoulder"], :2], row_xyz[INDEX["right_shoulder"], :2]
    shoulders = float(np.hypot(*(ls - rs))) if np.isfinite(ls).all() and np.isfinite(rs).all() else 0.0
    half_w = max(spread * WIDTH_FACTOR / 2 * 1.3, shoulders * MIN_FACE_FRACTION_OF_SHOULDERS / 2, MIN_RADIUS_PX)
    half_h = max(half_w * HEIGHT_FACTOR / WIDTH_FACTOR, spread * HEIGHT_FACTOR / 2)
    # the landmarks sit on the lower two thirds of the head: move the centre up a little
    return np.array([cx, cy - 0.15 * half_h, half_w, half_h])


def compute_face_regions(
    image_xyz: npt.NDArray[np.floating], time_s: npt.NDArray[np.floating], *, hold_s: float = 1.0
) -> FloatArray:
    """Face ellipses for a sequence, with gaps filled from the nearest frame seen within ``hold_s``.

    Parameters
    ----------
    image_xyz : ndarray, shape (T, 33, 3)
    time_s : ndarray, shape (T,), seconds
    hold_s : float
        How long a region last (or next) seen keeps being blurred where the face is missing.

    Returns
    -------
    ndarray, shape (T, 4)
        ``(cx, cy, half_width, half_height)``; NaN rows where no face was seen within
        ``hold_s``.
    """
    n = len(image_xyz)
    regions = np.array([compute_face_region(image_xyz[i]) for i in range(n)]).reshape(n, 4)
    seen = np.flatnonzero(np.isfinite(regions).all(axis=1))
    if seen.size == 0 or seen.size == n:
        return regions
    out = regions.copy()
    for i in np.flatnonzero(~np.isfinite(regions).all(axis=1)):
        k = int(np.argmin(np.abs(time_s[seen] - time_s[i])))
        j = seen[k]
        if abs(time_s[j] - time_s[i]) <= hold_s:
            out[i] = regions[j]
    return out


def blur_region(image: Image, region: npt.NDArray[np.floating]) -> Image:
    """Return a copy of ``image`` with the ellipse ``region`` (cx, cy, half_w, half_h) blurred.

    A NaN region returns an unchanged copy. The blur pixelates then smooths, so no feature
    survives at any zoom.
    """
    out = image.copy()
    if not np.isfinite(region).all():
        return out
    h, w = out.shape[:2]
    cx, cy, ax, ay = (float(v) for v in region)
    x0, x1 = max(0, int(cx - ax) - 2), min(w, int(cx + ax) + 3)
    y0, y1 = max(0, int(cy - ay) - 2), min(h, int(cy + ay) + 3)
    if x1 <= x0 or y1 <= y0:
        return out
    roi = out[y0:y1, x0:x1]
    rh, rw = roi.shape[:2]
    small = cv2.resize(roi, (max(1, rw // 16), max(1, rh // 16)), interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(small, (rw, rh), interpolation=cv2.INTER_LINEAR)
    k = max(3, (min(rw, rh) // 4) | 1)
    blurred = cv2.GaussianBlur(coarse, (k, k), 0)
    mask = np.zeros((rh, rw), np.uint8)
    cv2.ellipse(mask, (round(cx - x0), round(cy - y0)), (int(ax), int(ay)), 0, 0, 360, 255, -1)
    sel = mask > 0
    roi[sel] = blurred[sel]
    return out


def blur_faces(image: Image, image_xyz_row: npt.NDArray[np.floating]) -> Image:
    """Return a copy of ``image`` with the face found in ``image_xyz_row`` blurred.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), uint8
    image_xyz_row : ndarray, shape (33, 3)
        Image landmarks of this frame in pixels. When every face landmark is NaN the image is
        returned unchanged (use :func:`compute_face_regions` to carry a region over gaps).
    """
    return blur_region(image, compute_face_region(image_xyz_row))
