"""Angles against synthetic skeletons with known answers, and invariance properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movescreen.kinematics.angles import (
    ANGLE_DEFINITIONS,
    compute_angle_table,
    estimate_image_facing,
)
from movescreen.landmarks import NUM_LANDMARKS, mirror_index
from movescreen.synthetic import make_motion


def _table(m, facing_sign=None):
    return compute_angle_table(m.sequence.image_xyz, m.sequence.world_xyz, facing_sign=facing_sign)


@pytest.mark.parametrize("facing", ["left", "right"])
@pytest.mark.parametrize("projection", ["orthographic", "pinhole"])
@pytest.mark.parametrize("movement", ["squat", "hinge"])
def test_side_view_angles_match_prescribed(facing, projection, movement):
    m = make_motion(movement, view="side", facing=facing, projection=projection, n_reps=2, fps=20)
    t = _table(m)
    tol = 1.0 if projection == "orthographic" else 2.5
    for side in ("left", "right"):
        for name in ("hip_flexion", "knee_flexion", "ankle_dorsiflexion"):
            got = t[f"{side}_{name}_image_deg"]
            np.testing.assert_allclose(got, m.truth[f"{name}_deg"], atol=tol)
            np.testing.assert_allclose(t[f"{side}_{name}_world_deg"], m.truth[f"{name}_deg"],
                                       atol=2.0)
    np.testing.assert_allclose(t["trunk_inclination_image_deg"], m.truth["trunk_inclination_deg"],
                               atol=tol)
    np.testing.assert_allclose(t["trunk_inclination_world_deg"], m.truth["trunk_inclination_deg"],
                               atol=1e-3)


def test_facing_left_and_right_give_the_same_numbers():
    a = _table(make_motion("squat", view="side", facing="left", n_reps=1, fps=15))
    b = _table(make_motion("squat", view="side", facing="right", n_reps=1, fps=15))
    for d in ANGLE_DEFINITIONS:
        if d.plane == "sagittal":
            np.testing.assert_allclose(a[d.name], b[d.name], atol=1e-3, err_msg=d.name)


def test_image_facing_sign():
    assert estimate_image_facing(make_motion(view="side", facing="left").sequence.image_xyz)[0] == -1
    assert estimate_image_facing(make_motion(view="side", facing="right").sequence.image_xyz)[0] == 1
    assert estimate_image_facing(make_motion(view="front").sequence.image_xyz)[0] == 0


@pytest.mark.parametrize("fppa", [-8.0, 0.0, 10.0, 15.0])
def test_front_view_fppa(fppa):
    m = make_motion("squat", view="front", valgus_fppa_deg=fppa, n_reps=1, fps=20)
    t = _table(m, facing_sign=0)
    for side in ("left", "right"):
        np.testing.assert_allclose(t[f"{side}_knee_fppa_image_deg"], m.truth[f"{side}_fppa_deg"],
                                   atol=0.1)
        np.testing.assert_allclose(t[f"{side}_knee_fppa_world_deg"], m.truth[f"{side}_fppa_deg"],
                                   atol=0.1)


def test_valgus_lowers_the_knee_width_ratio():
    a = _table(make_motion("squat", view="front", n_reps=1, fps=20), 0)
    b = _table(make_motion("squat", view="front", valgus_fppa_deg=15, n_reps=1, fps=20), 0)
    assert np.nanmin(b["knee_ankle_width_ratio_image"]) < np.nanmin(a["knee_ankle_width_ratio_image"]) - 0.1


def test_heel_lift_ratio_follows_the_prescribed_lift():
    m = make_motion("squat", view="side", heel_lift_deg=15.0, n_reps=1, fps=20)
    t = _table(m)
    shank = 0.43
    expected = m.truth["heel_lift_m"] / shank
    for side in ("left", "right"):
        np.testing.assert_allclose(t[f"{side}_heel_lift_image_ratio"], expected, atol=0.01)
        np.testing.assert_allclose(t[f"{side}_heel_lift_world_ratio"], expected, atol=0.01)
    flat = _table(make_motion("squat", view="side", n_reps=1, fps=20))
    assert np.nanmax(np.abs(flat["left_heel_lift_image_ratio"])) < 1e-6


def test_hip_above_knee_goes_from_one_to_below_parallel():
    t = _table(make_motion("squat", view="side", n_reps=1, fps=20, knee_flexion_deg=130,
                           hip_flexion_deg=130, ankle_dorsiflexion_deg=35))
    v = t["left_hip_above_knee_world_ratio"]
    assert np.nanmax(v) == pytest.approx(1.0, abs=1e-3)
    assert np.nanmin(v) < 0  # thigh below horizontal: knee 130, ankle 35 -> thigh at -95 deg


def test_missing_landmark_gives_nan_only_where_used():
    m = make_motion("squat", view="side", n_reps=1, fps=10)
    img = m.sequence.image_xyz.copy()
    img[3, 25] = np.nan  # left knee
    t = compute_angle_table(img, m.sequence.world_xyz)
    assert np.isnan(t["left_knee_flexion_image_deg"][3])
    assert np.isfinite(t["right_knee_flexion_image_deg"][3])
    assert np.isfinite(t["left_knee_flexion_image_deg"][4])


def _rot_y(deg):
    a = np.radians(deg)
    return np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])


BASE = make_motion("squat", view="oblique", facing="right", n_reps=1, fps=8, heel_lift_deg=5.0)
BASE_T = _table(BASE)
WORLD_COLS = [d.name for d in ANGLE_DEFINITIONS if d.space == "world"]
IMAGE_COLS = [d.name for d in ANGLE_DEFINITIONS if d.space == "image"]


@settings(max_examples=25, deadline=None)
@given(yaw=st.floats(-180, 180), shift=st.floats(-2, 2), scale=st.floats(0.5, 2.0))
def test_world_angles_invariant_to_vertical_rotation_translation_scale(yaw, shift, scale):
    w = BASE.sequence.world_xyz.astype(np.float64) @ _rot_y(yaw).T * scale + shift
    t = compute_angle_table(BASE.sequence.image_xyz, w)
    for c in WORLD_COLS:
        np.testing.assert_allclose(t[c], BASE_T[c], atol=1e-4, err_msg=c)


@settings(max_examples=25, deadline=None)
@given(roll=st.floats(-3, 3), dx=st.floats(-300, 300), dy=st.floats(-300, 300),
       scale=st.floats(0.5, 2.0))
def test_image_angles_invariant_to_translation_scale_and_small_roll(roll, dx, dy, scale):
    img = BASE.sequence.image_xyz.astype(np.float64).copy()
    a = np.radians(roll)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    img[..., :2] = img[..., :2] @ r.T * scale + np.array([dx, dy])
    t = compute_angle_table(img, BASE.sequence.world_xyz)
    for d in ANGLE_DEFINITIONS:
        if d.space != "image":
            continue
        if d.kind in ("hip_flexion", "knee_flexion", "fppa"):
            tol = 1e-4  # angles between two segments do not depend on the image vertical
        elif d.kind in ("ankle_dorsiflexion", "trunk_inclination", "pelvic_drop"):
            tol = abs(roll) + 1e-4  # angles against the vertical move by the roll at most
        else:
            continue  # ratios of horizontal distances are not roll-invariant by design
        np.testing.assert_allclose(t[d.name], BASE_T[d.name], atol=tol, err_msg=d.name)


def test_pure_translation_and_scale_are_exact():
    img = BASE.sequence.image_xyz.astype(np.float64) * 1.7 + 40.0
    t = compute_angle_table(img, BASE.sequence.world_xyz)
    for c in IMAGE_COLS:
        np.testing.assert_allclose(t[c], BASE_T[c], atol=1e-6, err_msg=c)


def test_mirroring_swaps_left_and_right():
    m = make_motion("squat", view="front", n_reps=1, fps=8, valgus_fppa_deg=12.0)
    # knee caving only on the left: move the left knee further in by hand
    img = m.sequence.image_xyz.astype(np.float64).copy()
    wld = m.sequence.world_xyz.astype(np.float64).copy()
    img[:, 25, 0] += 6.0 * np.sin(np.linspace(0, np.pi, len(img)))
    t = compute_angle_table(img, wld, facing_sign=0)
    perm = [mirror_index(i) for i in range(NUM_LANDMARKS)]
    img_m = img[:, perm].copy()
    img_m[..., 0] = 720 - img_m[..., 0]
    wld_m = wld[:, perm].copy()
    wld_m[..., 0] = -wld_m[..., 0]
    tm = compute_angle_table(img_m, wld_m, facing_sign=0)
    for c in ("knee_fppa_image_deg", "knee_fppa_world_deg", "knee_flexion_image_deg",
              "hip_above_knee_image_ratio"):
        np.testing.assert_allclose(tm[f"left_{c}"], t[f"right_{c}"], atol=1e-4)
        np.testing.assert_allclose(tm[f"right_{c}"], t[f"left_{c}"], atol=1e-4)
    assert not np.allclose(t["left_knee_fppa_image_deg"], t["right_knee_fppa_image_deg"])
    np.testing.assert_allclose(tm["pelvic_drop_image_deg"], -t["pelvic_drop_image_deg"], atol=1e-6)


def test_definitions_are_complete_and_unique():
    names = [d.name for d in ANGLE_DEFINITIONS]
    assert len(names) == len(set(names))
    for d in ANGLE_DEFINITIONS:
        assert d.space in d.name and d.views and d.landmarks
    assert "left_knee_flexion_image_deg" in names and "trunk_inclination_world_deg" in names
