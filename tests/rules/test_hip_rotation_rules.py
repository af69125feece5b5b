"""Hip rotation rules on synthetic seated skeletons: each fires on its own compensation only."""

from __future__ import annotations

import pytest

from movescreen.config import load_config
from movescreen.pipeline import AnalyzeOptions, compute_kinematics
from movescreen.rules.engine import evaluate_rules
from movescreen.synthetic_hip import make_figure4, make_hip_9090, make_seated_rotation

HIP_RULES = ("knee_twist_for_hip_rotation", "trunk_for_hip_rotation", "hip_rotation_asymmetry")
NOISE = {"noise_px": 1.0, "noise_m": 0.005}  # a little camera noise, so nothing passes by exactness


def _run(motion, movement="auto", pain=None):
    kin = compute_kinematics(motion.sequence, AnalyzeOptions(movement=movement))
    return kin, evaluate_rules(kin, load_config(), pain=pain)


def _flagged(res):
    return {f.rule for f in res.findings}


@pytest.mark.parametrize("name, motion, expected", [
    ("clean rotation 40/40", lambda: make_seated_rotation(seed=1, **NOISE), set()),
    ("thigh drift 12 deg (the measured noise floor)", lambda: make_seated_rotation(thigh_drift_deg=(12.0, 0.0), seed=14, **NOISE), set()),
    ("full range 50/50", lambda: make_seated_rotation(internal_deg=(50, 50), external_deg=(50, 50), seed=2, **NOISE), set()),
    ("thigh drift 25 deg", lambda: make_seated_rotation(thigh_drift_deg=(25.0, 0.0), seed=3, **NOISE),
     {"knee_twist_for_hip_rotation"}),
    ("foot sickle 32 deg", lambda: make_seated_rotation(foot_sickle_deg=(0.0, 32.0), seed=4, **NOISE),
     {"knee_twist_for_hip_rotation"}),
    ("pelvis hike 14 deg", lambda: make_seated_rotation(pelvis_hike_deg=(14.0, 0.0), seed=5, **NOISE),
     {"trunk_for_hip_rotation"}),
    ("trunk side lean 14 deg", lambda: make_seated_rotation(trunk_lean_deg=(0.0, 14.0), seed=6, **NOISE),
     {"trunk_for_hip_rotation"}),
    ("left-right IR 40 vs 20", lambda: make_seated_rotation(internal_deg=(40.0, 20.0), seed=7, **NOISE),
     {"hip_rotation_asymmetry"}),
    ("figure-4 sitting tall", lambda: make_figure4(seed=8, **NOISE), set()),
    ("figure-4 rounding forward 28 deg", lambda: make_figure4(trunk_flexion_deg=28.0, seed=9, **NOISE),
     {"trunk_for_hip_rotation"}),
    ("figure-4 slight forward lean 9 deg", lambda: make_figure4(trunk_flexion_deg=9.0, seed=15, **NOISE), set()),
    ("figure-4 both sides 20 vs 40", lambda: make_figure4(both_sides=True, other_shin_from_horizontal_deg=40.0, seed=10, **NOISE),
     {"hip_rotation_asymmetry"}),
])
def test_each_rule_fires_on_its_own_compensation_only(name, motion, expected):
    kin, res = _run(motion())
    assert kin.movement in ("hip_rotation_seated", "figure4"), name
    assert _flagged(res) == expected, (name, [(f.rule, f.value) for f in res.findings])
    # no squat/hinge rule judges a seated test
    assert all(s.status == "not_applicable" for s in res.statuses if s.rule not in HIP_RULES)


def test_knee_twist_finding_names_the_side_the_component_and_the_shin():
    _, res = _run(make_seated_rotation(thigh_drift_deg=(0.0, 26.0), seed=11, **NOISE))
    (f,) = res.findings
    assert f.rule == "knee_twist_for_hip_rotation" and f.side == "right"
    assert f.evidence["component"] == "thigh drift"
    assert f.value == pytest.approx(26.0, abs=2.0)
    assert f.severity == "caution"
    assert "twisted in place of the hip" in f.message_clinician


def test_asymmetry_names_the_smaller_side_and_direction():
    _, res = _run(make_seated_rotation(external_deg=(45.0, 25.0), seed=12, **NOISE))
    (f,) = res.findings
    assert (f.rule, f.side, f.evidence["direction"]) == ("hip_rotation_asymmetry", "right", "external")
    assert f.value == pytest.approx(20.0, abs=2.0)
    assert f.severity == "flag"


def test_small_difference_is_not_a_finding():
    _, res = _run(make_seated_rotation(internal_deg=(40.0, 34.0), seed=13, **NOISE))
    assert "hip_rotation_asymmetry" not in _flagged(res)


def test_side_view_seated_test_is_recognised_but_not_assessed():
    kin, res = _run(make_seated_rotation(yaw_deg=90.0, thigh_drift_deg=(25.0, 0.0), pelvis_hike_deg=(14.0, 0.0)))
    assert (kin.movement, kin.view.view) == ("hip_rotation_seated", "side")
    assert not res.findings
    status = {s.rule: s for s in res.statuses}
    for rule in HIP_RULES:
        assert status[rule].status == "not_assessed"
        assert "front view" in status[rule].reason
    from movescreen.kinematics.hip_rotation import hip_rotation_block

    block = hip_rotation_block(kin)
    assert block["assessed"] is False and "needs a front view" in block["reason"]


@pytest.mark.parametrize("flexion, fires", [(28.0, True), (17.0, False), (9.0, False)])
def test_side_view_figure4_judges_only_the_forward_rounding(flexion, fires):
    kin, res = _run(make_figure4(yaw_deg=90.0, trunk_flexion_deg=flexion, pelvis_hike_deg=14.0))
    assert (kin.movement, kin.view.view) == ("figure4", "side")
    status = {s.rule: s for s in res.statuses}
    for rule in ("knee_twist_for_hip_rotation", "hip_rotation_asymmetry"):
        assert status[rule].status == "not_assessed" and "front view" in status[rule].reason
    assert _flagged(res) == ({"trunk_for_hip_rotation"} if fires else set())
    if fires:  # the pelvis hike (frontal plane) is not what it saw from the side
        assert res.findings[0].evidence["component"] == "trunk forward flexion"
    from movescreen.kinematics.hip_rotation import hip_rotation_block

    assert hip_rotation_block(kin)["assessed"] is False


def test_9090_is_reported_not_judged():
    kin, res = _run(make_hip_9090(**NOISE))
    assert kin.movement == "hip_9090"
    status = {s.rule: s for s in res.statuses}
    assert all(status[r].status == "not_assessed" and "static position" in status[r].reason for r in HIP_RULES)
    from movescreen.kinematics.hip_rotation import hip_rotation_block

    b = hip_rotation_block(kin)["hip_9090"]
    assert b["front_side"] == "left"
    assert b["front_shin_from_hip_line_deg"]["value"] == pytest.approx(15.0, abs=2.0)
    assert b["back_shin_from_hip_line_deg"]["value"] == pytest.approx(80.0, abs=2.0)


def test_movement_by_name_overrides_auto():
    kin, _ = _run(make_seated_rotation(), movement="hip_rotation_seated")
    assert kin.movement == "hip_rotation_seated" and "Set by the caller" in kin.movement_reason
    assert len(kin.reps) == 1 and not kin.reps[0].partial
    # the trial's key frame is the most-rotated shin: the 50 deg external rotation of the right leg
    m = make_seated_rotation(external_deg=(30.0, 50.0))
    kin = compute_kinematics(m.sequence, AnalyzeOptions())
    assert m.truth["right_rotation_deg"][kin.reps[0].bottom_frame] == pytest.approx(-50.0, abs=1.0)


def test_squats_still_go_to_the_squat_rules():
    from movescreen.synthetic import make_motion

    kin, res = _run(make_motion("squat", view="front"))
    assert kin.movement == "squat"
    assert {s.status for s in res.statuses if s.rule in HIP_RULES} == {"not_applicable"}


def test_pain_gives_a_referral_as_for_other_movements():
    _, res = _run(make_seated_rotation(**NOISE), pain="right hip, sharp")
    assert res.pain["referral"] is True
    assert "medical professional" in res.pain["recommendation"]
    hip = next(j for j in res.joints if j["joint"] == "hip")
    assert hip["status"] == "pain_reported"


@pytest.mark.parametrize("motion, test", [
    (lambda: make_seated_rotation(internal_deg=(35.0, 25.0), **NOISE), "hip_rotation_seated"),
    (lambda: make_figure4(both_sides=True, **NOISE), "figure4"),
    (lambda: make_hip_9090(**NOISE), "hip_9090"),
    (lambda: make_seated_rotation(yaw_deg=90.0), "hip_rotation_seated"),
])
def test_report_json_has_a_valid_hip_rotation_block(tmp_path, motion, test):
    import json
    from pathlib import Path

    import jsonschema

    from movescreen.pipeline import analyze_input, build_report
    from movescreen.sinks import clean_for_json, write_landmarks_csv

    csv = write_landmarks_csv(tmp_path / "landmarks.csv", motion().sequence)
    report = json.loads(json.dumps(clean_for_json(build_report(analyze_input(csv, AnalyzeOptions()))),
                                   allow_nan=False))
    schema = json.loads((Path(__file__).resolve().parents[2] / "src" / "movescreen" / "schemas"
                         / "report.schema.json").read_text())
    jsonschema.validate(report, schema)
    block = report["hip_rotation"]
    assert block["test"] == test == report["movement"]["name"]
    if test == "hip_rotation_seated" and block["assessed"]:
        assert block["sides"]["left"]["internal"]["value"] == pytest.approx(35.0, abs=3.0)
        assert block["sides"]["right"]["internal"]["value"] == pytest.approx(25.0, abs=3.0)
        assert block["asymmetry_deg"]["internal"] == pytest.approx(10.0, abs=4.0)
        assert 0.5 < block["asymmetry_uncertainty_deg"]["internal"] < 5.0
        assert block["normal_range"]["internal_deg"] == [30.0, 45.0]
