"""The synthetic generator's masks."""

from __future__ import annotations

import numpy as np

from movescreen.synthetic import add_silhouette_masks, make_motion, make_spine_arc


def test_masks_cover_the_landmarks_and_are_uint8():
    m = make_motion("hinge", view="side", n_reps=1, fps=10.0)
    seq = add_silhouette_masks(m, spine_curvature_deg=20.0)
    assert set(seq.masks) == set(range(len(seq)))
    for r, crop in seq.masks.items():
        assert crop.mask.dtype == np.uint8
        for j in (11, 23, 25, 27):  # shoulder, hip, knee, ankle
            x, y = seq.image_xyz[r, j, :2]
            assert crop.mask[int(y) - crop.y0, int(x) - crop.x0] == 255
    assert m.sequence.masks == {}  # input untouched


def test_spine_arc_turns_by_the_prescribed_angle():
    hip, sh = np.array([0.0, 0.0]), np.array([0.0, -100.0])
    arc = make_spine_arc(hip, sh, np.array([-1.0, 0.0]), 30.0)
    t0, t1 = arc[1] - arc[0], arc[-1] - arc[-2]
    turn = np.degrees(np.arccos(t0 @ t1 / np.linalg.norm(t0) / np.linalg.norm(t1)))
    assert abs(turn - 30.0) < 1.0
    assert arc[len(arc) // 2, 0] < -5  # bows towards the back
    np.testing.assert_allclose(arc[0], hip, atol=1e-9)
    np.testing.assert_allclose(arc[-1], sh, atol=1e-9)
