"""The true vertical from scene lines: synthetic segments with a known roll and keystone."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

from movescreen.kinematics import scene
from movescreen.kinematics.scene import (
    LINE_ANGLE_FLOOR_DEG,
    estimate_scene_vertical,
    segment_tilts_deg,
    vertical_tilt_towards_facing,
)

W, H = 1920.0, 1080.0


def _verticals(xs, tilt_at, *, length=400.0, y_bottom=900.0):
    """Segments whose top leans ``tilt_at(x)`` deg towards image-right, bottom at ``(x, y_bottom)``."""
    out = []
    for x in xs:
        t = math.radians(tilt_at(x))
        out.append([x + length * math.sin(t), y_bottom - length * math.cos(t), x, y_bottom])
    return np.array(out)


def test_segment_tilt_sign_and_order_of_end_points():
    a = [[110.0, 0.0, 100.0, 100.0]]  # top 10 px to the right of the bottom
    b = [[100.0, 100.0, 110.0, 0.0]]  # same line, end points swapped
    assert segment_tilts_deg(a)[0][0] == pytest.approx(math.degrees(math.atan(0.1)))
    assert segment_tilts_deg(b)[0][0] == pytest.approx(segment_tilts_deg(a)[0][0])


@pytest.mark.parametrize("roll", [-6.0, 0.0, 3.5])
def test_a_rolled_camera_is_read_from_its_verticals(roll):
    segs = _verticals(np.linspace(100, 1800, 12), lambda x: roll)
    v = estimate_scene_vertical(segs, width=W, height=H, at_x=900)
    assert v.found and v.n_lines == 12
    assert v.tilt_deg == pytest.approx(roll, abs=0.05)
    assert v.sd_deg == pytest.approx(LINE_ANGLE_FLOOR_DEG, abs=0.2)


def test_keystone_the_vertical_at_the_point_not_the_average():
    # pitched up: verticals converge; the tilt falls 6 deg across the width, 5 deg at x = 400
    def tilt(x):
        return 5.0 - 6.0 * (x - 400.0) / W

    segs = _verticals(np.linspace(50, 1850, 15), tilt)
    v = estimate_scene_vertical(segs, width=W, height=H, at_x=400)
    assert v.tilt_deg == pytest.approx(5.0, abs=0.1)
    assert v.slope_deg_per_width == pytest.approx(-6.0, abs=0.2)
    far = estimate_scene_vertical(segs, width=W, height=H, at_x=1600)
    assert far.tilt_deg == pytest.approx(tilt(1600), abs=0.1)


def test_slanted_lines_and_short_segments_do_not_move_it():
    rng = np.random.default_rng(3)
    good = _verticals(np.linspace(100, 1800, 14), lambda x: 2.0)
    good[:, 0] += rng.normal(0, 2.0, len(good))  # a couple of pixels of noise on the tops
    slanted = _verticals(np.linspace(300, 1500, 5), lambda x: 15.0)  # a roof slope, a rail
    short = _verticals(np.linspace(300, 1500, 20), lambda x: -10.0, length=40.0)  # texture
    flat = np.array([[0.0, 500.0, 900.0, 520.0]])  # a horizontal edge
    v = estimate_scene_vertical(np.concatenate([good, slanted, short, flat]), width=W, height=H, at_x=960)
    assert v.n_lines == 19  # the short ones and the horizontal one are not candidates
    assert v.tilt_deg == pytest.approx(2.0, abs=0.5)


def test_no_reference_without_enough_lines():
    v = estimate_scene_vertical(_verticals([500, 900], lambda x: 4.0), width=W, height=H, at_x=700)
    assert not v.found and v.n_lines == 2 and math.isnan(v.sd_deg)
    assert not estimate_scene_vertical(np.zeros((0, 4)), width=W, height=H, at_x=0).found


def test_lines_in_a_narrow_band_give_roll_only():
    # all lines within a fifth of the width: the keystone slope cannot be measured, so none is fitted
    segs = _verticals(np.linspace(800, 1100, 6), lambda x: 3.0 + 0.01 * (x - 800))
    v = estimate_scene_vertical(segs, width=W, height=H, at_x=100)
    assert v.slope_deg_per_width == 0.0
    assert 3.0 <= v.tilt_deg <= 6.0


def test_towards_facing():
    assert vertical_tilt_towards_facing(4.0, 1) == 4.0
    assert vertical_tilt_towards_facing(4.0, -1) == -4.0
    assert math.isnan(vertical_tilt_towards_facing(4.0, 0))
    assert math.isnan(vertical_tilt_towards_facing(float("nan"), 1))


def test_scene_doctests():
    assert doctest.testmod(scene).failed == 0
