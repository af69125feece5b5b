"""Movement recognition (squat / hinge / other) on synthetic skeletons with known angles."""

from __future__ import annotations

import json

import numpy as np
import pytest

from movescreen.kinematics.core import analyze_kinematics
from movescreen.kinematics.movement import (
    RECOGNISERS,
    MovementDecision,
    hinge_cues,
    not_applicable_reason,
    register_recogniser,
    score_cues,
)
from movescreen.synthetic import make_depth_profile, make_motion

FPS = 30.0


def _kin(movement="squat", **kw):
    return analyze_kinematics(make_motion(movement, fps=FPS, **kw).sequence)


@pytest.mark.parametrize("view", ["side", "front", "oblique"])
def test_squat_and_hinge_are_told_apart_from_every_view(view):
    sq, hi = _kin("squat", view=view), _kin("hinge", view=view)
    assert sq.movement == "squat" and hi.movement == "hinge"
    assert not sq.movement_decision.ambiguous and not hi.movement_decision.ambiguous
    assert [r.label for r in hi.movement_decision.reps] == ["hinge"] * 3


def test_a_knee_dominant_hinge_is_still_a_hinge():
    # "squatting the hinge": knees bend 75 deg but the trunk still leans 60 deg over
    # near-vertical shins (trunk = hip - knee + ankle = 120 - 75 + 15)
    k = _kin("hinge", view="side", hip_flexion_deg=120.0, knee_flexion_deg=75.0,
             ankle_dorsiflexion_deg=15.0)
    assert k.movement == "hinge"
    ev = k.movement_decision.reps[0].evidence
    assert ev["trunk_inclination_deg"] == pytest.approx(60.0, abs=3.0)
    assert ev["shin_inclination_deg"] == pytest.approx(15.0, abs=3.0)


def test_a_deep_squat_with_forward_lean_is_still_a_squat():
    # trunk 45 deg, but parallel-ish with 35 deg shins and knees bending as much as the hips
    k = _kin("squat", view="side", hip_flexion_deg=120.0, knee_flexion_deg=110.0,
             ankle_dorsiflexion_deg=35.0)
    assert k.movement == "squat"


def test_split_evidence_is_marked_ambiguous_and_says_so():
    # a half-way shape: trunk 50 deg, shins 20 deg, knee/hip 0.73
    k = _kin("squat", view="side", hip_flexion_deg=110.0, knee_flexion_deg=80.0,
             ankle_dorsiflexion_deg=20.0)
    d = k.movement_decision
    assert d.ambiguous
    assert "--movement" in d.reason
    assert any("uncertain" in w for w in k.warnings)


def test_standing_still_is_other():
    k = analyze_kinematics(make_motion("squat", fps=FPS, depth=np.full(150, 0.02)).sequence)
    assert k.movement == "other"
    assert "no repetition" in k.movement_reason
    assert "judges squats, hinges" in k.movement_reason


def test_sitting_still_and_shifting_while_seated_is_other():
    # seated: thighs horizontal (hip and knee 90 deg, shins vertical), small shifts
    t = np.arange(240) / FPS
    depth = 0.75 + 0.25 * (0.5 - 0.5 * np.cos(2 * np.pi * t / 4.0))
    k = analyze_kinematics(make_motion("squat", fps=FPS, depth=depth, hip_flexion_deg=90.0,
                                       knee_flexion_deg=90.0, ankle_dorsiflexion_deg=0.0).sequence)
    assert k.movement == "other"
    assert k.movement_decision.evidence["standing_fraction"] < 0.2


def test_a_stretch_held_at_the_bottom_is_other():
    # a forward fold held 8 s, then back up: one "rep" that is a hold
    d, _ = make_depth_profile(1, FPS, pause_bottom_s=8.0, rep_s=3.0, lead_s=1.0)
    k = analyze_kinematics(make_motion("hinge", fps=FPS, depth=d).sequence)
    assert k.movement == "other"
    assert "hold" in k.movement_reason
    # a paused squat (2 s at the bottom) is still a squat
    d2, _ = make_depth_profile(2, FPS, pause_bottom_s=2.0)
    assert analyze_kinematics(make_motion("squat", fps=FPS, depth=d2).sequence).movement == "squat"


def test_going_down_into_a_stretch_without_coming_back_is_other():
    d, _ = make_depth_profile(1, FPS, lead_s=1.0)
    half = int(np.argmax(d))
    depth = np.concatenate([d[: half + 1], np.full(200, d[half])])
    k = analyze_kinematics(make_motion("squat", fps=FPS, depth=depth).sequence)
    assert k.movement == "other"
    assert "hold" in k.movement_reason


def test_set_down_after_hinge_reps_keeps_the_hinge_and_is_partial():
    # three kettlebell deadlifts from the top, then the bell is set down half-way
    k = _kin("hinge", view="side", depths=[1.0, 1.0, 1.0, 0.45])
    assert k.movement == "hinge"
    d = k.movement_decision
    assert [r.partial for r in d.reps] == [False, False, False, True]
    assert d.evidence["full_reps"] == 3


def test_override_keeps_the_automatic_reading_as_evidence():
    k = analyze_kinematics(make_motion("hinge", fps=FPS).sequence, movement="squat")
    assert k.movement == "squat"
    d = k.movement_decision
    assert d.decided_by == "user" and "hinge" in d.reason
    other = analyze_kinematics(make_motion("squat", fps=FPS).sequence, movement="other")
    assert other.movement == "other"


def test_the_decision_is_json_ready():
    d = _kin("hinge").movement_decision.as_dict()
    back = json.loads(json.dumps(d))
    assert back["name"] == "hinge" and back["judged_movements"] == ["squat", "hinge"]
    assert set(back["reps"][0]["evidence"]) >= {
        "knee_flexion_deg", "hip_flexion_deg", "trunk_inclination_deg", "shin_inclination_deg",
        "hip_above_knee", "descent_knee_hip_ratio", "order"}


def test_cues_and_score():
    squat = hinge_cues({"knee_flexion_deg": 115.0, "hip_flexion_deg": 115.0,
                        "trunk_inclination_deg": 30.0, "shin_inclination_deg": 30.0,
                        "hip_above_knee": 0.0})
    assert all(v < 0 for v in squat.values())
    assert score_cues(squat) == (pytest.approx(-1.0), False)
    assert hinge_cues({"order": "bottom_first"}) == {"starts_from_floor": 1.0}
    assert score_cues({}) == (pytest.approx(np.nan, nan_ok=True), True)


def test_an_extra_recogniser_can_name_its_own_movement():
    def seated(inp):
        return MovementDecision("hip_rotation_seated", False, "test") if inp.view else None

    register_recogniser(seated)
    try:
        k = _kin("squat")
        assert k.movement == "hip_rotation_seated"
        assert not any("squat" in w and "side" in w for w in k.warnings)  # no squat view advice
    finally:
        RECOGNISERS.remove(seated)


def test_not_applicable_reason_names_what_is_judged():
    r = not_applicable_reason(("hinge", "squat"), "other")
    assert "squats and hip hinges" in r and "other" in r
    assert not_applicable_reason(("hinge",), "squat") == "Applies to a hinge, not to a squat."


def test_only_a_partial_rep_is_read_but_marked_ambiguous():
    # one squat cut off by the end of the clip (it ends on the way up, still deep)
    d, _ = make_depth_profile(1, FPS, lead_s=1.0)
    k = analyze_kinematics(make_motion("squat", fps=FPS, depth=d[: int(np.argmax(d)) + 6]).sequence)
    assert k.reps and all(r.partial for r in k.reps)
    assert k.movement == "squat" and k.movement_decision.ambiguous
    assert "partial" in k.movement_reason


def test_other_clip_runs_no_squat_or_hinge_rule():
    from movescreen.config import load_config
    from movescreen.rules.engine import evaluate_rules

    k = analyze_kinematics(make_motion("squat", fps=FPS, depth=np.full(150, 0.02)).sequence)
    res = evaluate_rules(k, load_config(None))
    assert res.statuses and not res.findings
    assert {s.status for s in res.statuses if s.status != "disabled"} == {"not_applicable"}
    assert all("judges squats and hip hinges" in s.reason for s in res.statuses
               if s.status == "not_applicable")


def test_trunk_far_forward_with_hips_high_is_never_read_as_a_squat():
    # knees as bent as the hips and shins far forward (the knee cues say squat), but the trunk
    # is 60 deg over with the hips 0.77 thigh lengths above the knees: a hinge posture
    k = _kin("squat", view="side", hip_flexion_deg=100.0, knee_flexion_deg=95.0,
             ankle_dorsiflexion_deg=55.0)
    r = k.movement_decision.reps[0]
    assert r.evidence["trunk_inclination_deg"] == pytest.approx(60.0, abs=2.0)
    assert r.cues["knee_hip_ratio"] < -0.9
    assert k.movement == "hinge" and k.movement_decision.ambiguous


def test_legs_bending_in_turn_is_other():
    # stepping in place: each leg bends every 2 s, half a cycle after the other (the right leg's
    # landmarks come from a copy of the skeleton shifted by half a cycle)
    from dataclasses import replace

    t = np.arange(300) / FPS
    kw = {"fps": FPS, "hip_flexion_deg": 70.0, "knee_flexion_deg": 90.0,
          "ankle_dorsiflexion_deg": 20.0}
    a = make_motion("squat", depth=0.5 - 0.5 * np.cos(np.pi * t), **kw).sequence
    b = make_motion("squat", depth=0.5 + 0.5 * np.cos(np.pi * t), **kw).sequence
    right = [24, 26, 28, 30, 32]
    img, wld = a.image_xyz.copy(), a.world_xyz.copy()
    img[:, right], wld[:, right] = b.image_xyz[:, right], b.world_xyz[:, right]
    k = analyze_kinematics(replace(a, image_xyz=img, world_xyz=wld))
    assert k.movement == "other"
    assert "in turn" in k.movement_reason
