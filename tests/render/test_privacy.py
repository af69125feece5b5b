"""Face blur: where the face landmarks are, strong, and carried over short gaps."""

from __future__ import annotations

import cv2
import numpy as np

from movescreen.landmarks import INDEX
from movescreen.render.privacy import blur_faces, compute_face_region, compute_face_regions


def _face_row(cx: float = 200.0, cy: float = 150.0) -> np.ndarray:
    row = np.full((33, 3), np.nan)
    for name, (dx, dy) in {"nose": (0, 0), "left_eye": (10, -10), "right_eye": (-10, -10),
                           "left_ear": (25, -5), "right_ear": (-25, -5),
                           "mouth_left": (8, 12), "mouth_right": (-8, 12)}.items():
        row[INDEX[name], :2] = (cx + dx, cy + dy)
    return row


def _checkerboard(h: int = 400, w: int = 400) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    img = (((xx // 4) + (yy // 4)) % 2 * 255).astype(np.uint8)
    return np.dstack([img] * 3)


def _lap_var(img: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def test_blur_smooths_the_face_and_leaves_the_rest():
    img = _checkerboard()
    out = blur_faces(img, _face_row())
    face = (slice(130, 170), slice(180, 220))
    assert _lap_var(out[face]) < 0.05 * _lap_var(img[face])
    np.testing.assert_array_equal(out[350:, :], img[350:, :])  # far below the face: untouched
    np.testing.assert_array_equal(img, _checkerboard())  # input not modified


def test_region_is_generous_around_the_landmarks():
    cx, cy, ax, ay = compute_face_region(_face_row())
    assert ax >= 40 and ay >= 40  # landmarks span 50 x 22 px; the head is bigger
    assert abs(cx - 200) < 1 and cy < 150  # centre raised towards the forehead


def test_nan_face_is_a_no_op():
    img = _checkerboard()
    np.testing.assert_array_equal(blur_faces(img, np.full((33, 3), np.nan)), img)


def test_missing_face_keeps_the_last_region_for_a_while_only():
    rows = np.stack([_face_row()] * 3 + [np.full((33, 3), np.nan)] * 40)
    t = np.arange(len(rows)) / 10.0  # 10 fps
    regions = compute_face_regions(rows, t, hold_s=1.0)
    assert np.isfinite(regions[:3]).all()
    assert np.isfinite(regions[3:13]).all()  # up to 1 s after the last sighting
    assert np.isnan(regions[14:]).all()


def test_face_appearing_late_is_blurred_a_little_before_too():
    rows = np.stack([np.full((33, 3), np.nan)] * 5 + [_face_row()] * 2)
    regions = compute_face_regions(rows, np.arange(7) / 10.0, hold_s=0.25)
    assert np.isnan(regions[:2]).all() and np.isfinite(regions[3:]).all()
