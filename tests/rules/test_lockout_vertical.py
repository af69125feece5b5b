"""lockout_hyperextension measures the lean from the true vertical: a rolled camera, corrected by
scene lines when the clip has them, else carried in the uncertainty (synthetic skeletons)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from movescreen.config import load_config
from movescreen.pipeline import AnalyzeOptions, compute_kinematics
from movescreen.rules.engine import evaluate_rules
from movescreen.synthetic import make_motion
from tests.rules.test_rules_synthetic import _lean_back_at_top

CONFIG = load_config()
ROLL_SD = CONFIG["lockout_hyperextension"].params["camera_roll_sd_deg"]


def _roll_camera(seq, roll_deg):
    """The picture of a camera rolled so that world verticals lean ``roll_deg`` top-to-image-right."""
    img = seq.image_xyz.copy()
    c = np.array([seq.width / 2.0, seq.height / 2.0])
    r = math.radians(roll_deg)
    rot = np.array([[math.cos(r), -math.sin(r)], [math.sin(r), math.cos(r)]])
    img[..., :2] = (img[..., :2] - c) @ rot.T + c
    return replace(seq, image_xyz=img)


def _lockout(kin):
    res = evaluate_rules(kin, CONFIG)
    found = [f for f in res.findings if f.rule == "lockout_hyperextension"]
    status = next(s for s in res.statuses if s.rule == "lockout_hyperextension")
    return found, status


def _with_scene(kin, tilt_deg, sd_deg=1.0):
    n = len(kin.table["frame"])
    kin.table["scene_vertical_tilt_deg"] = np.full(n, tilt_deg)
    kin.table["scene_vertical_sd_deg"] = np.full(n, sd_deg)
    return kin


@pytest.mark.parametrize("facing", ["left", "right"])
def test_a_rolled_camera_reads_as_a_lean_and_scene_lines_take_it_out(facing):
    m = make_motion("hinge", view="side", fps=15, n_reps=1, facing=facing)
    upright = _lean_back_at_top(m.sequence, m.truth["depth"], 2.0)
    sign = 1.0 if facing == "left" else -1.0  # verticals tipped away from where the toes point
    # 16 deg: this lockout window reads about -7 deg (the lean is switched on in one frame), so
    # the rolled picture puts it past the 8 deg caution
    rolled = _roll_camera(upright, 16.0 * sign)
    kin_true = compute_kinematics(upright, AnalyzeOptions(movement="hinge"))
    _, st_true = _lockout(kin_true)
    true_value = st_true.values[0]
    assert true_value < 0.0
    # no reference: the roll reads as leaning back, and the roll's SD is in the uncertainty
    found, _ = _lockout(compute_kinematics(rolled, AnalyzeOptions(movement="hinge")))
    [f] = found
    assert f.value == pytest.approx(true_value + 16.0, abs=1.0)
    assert f.evidence["vertical_reference"].startswith("picture vertical")
    assert f.evidence["uncertainty_parts"]["reference"] == pytest.approx(ROLL_SD)
    # scene lines measured the roll: the value is the lean from the true vertical again
    kin = _with_scene(compute_kinematics(rolled, AnalyzeOptions(movement="hinge")), 16.0 * sign)
    found, st = _lockout(kin)
    assert not found and st.status == "passed"
    assert st.values[0] == pytest.approx(true_value, abs=1.0)


@pytest.mark.parametrize("facing", ["left", "right"])
def test_the_correction_has_the_sign_of_the_facing(facing):
    m = make_motion("hinge", view="side", fps=15, n_reps=1, facing=facing)
    seq = _lean_back_at_top(m.sequence, m.truth["depth"], 22.0)
    [f0], _ = _lockout(compute_kinematics(seq, AnalyzeOptions(movement="hinge")))
    toes = 1.0 if facing == "right" else -1.0
    # the true vertical tipped 5 deg towards where the person faces: an upright trunk reads 5 deg
    # forward, so the lean back is 5 deg more than the picture says
    kin = _with_scene(compute_kinematics(seq, AnalyzeOptions(movement="hinge")), 5.0 * toes, 1.5)
    [f1], _ = _lockout(kin)
    assert f1.value == pytest.approx(f0.value + 5.0, abs=1e-6)
    assert f1.evidence["vertical_reference"] == "scene lines"
    assert f1.evidence["scene_vertical_correction_deg"] == pytest.approx(5.0)
    assert f1.evidence["uncertainty_parts"]["reference"] == pytest.approx(1.5)


def test_the_roll_uncertainty_makes_a_near_threshold_flag_borderline():
    # 22 deg prescribed reads ~18 deg here; a reference SD of 4 deg puts the interval across 12
    m = make_motion("hinge", view="side", fps=15, n_reps=1)
    seq = _lean_back_at_top(m.sequence, m.truth["depth"], 22.0)
    [f0], _ = _lockout(_with_scene(compute_kinematics(seq, AnalyzeOptions(movement="hinge")), 0.0, 0.5))
    assert f0.severity == "flag" and not f0.borderline
    [f1], _ = _lockout(_with_scene(compute_kinematics(seq, AnalyzeOptions(movement="hinge")), 0.0, 8.0))
    assert f1.value == pytest.approx(f0.value)
    assert f1.severity == "caution" and f1.borderline
