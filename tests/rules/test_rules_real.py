"""Rules on real labelled clips (../shared/data; see SOURCES.md for every label and its caveats).

Thresholds come from defaults.toml (reasoned, not tuned per clip). Where the tool is still wrong
on a clip the test is a strict xfail with the reason, and docs/evaluation.md says so.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import analyze_shared_clip, shared_file

pytestmark = [pytest.mark.model, pytest.mark.slow]


def fired(analysis, rule: str, severities=("caution", "flag")) -> list:
    return [f for f in analysis.rules.findings if f.rule == rule and f.severity in severities]


@pytest.mark.parametrize("clip", ["deadlift_side_rounded_back_01.mp4", "deadlift_side_rounded_back_02.mp4",
                                  "deadlift_side_rounded_back_03.mp4"])
def test_lumbar_rounding_fires_on_rounded_backs(clip):
    a = analyze_shared_clip(clip)
    assert a.kinematics.movement == "hinge" and a.kinematics.view.view == "side"
    found = fired(a, "lumbar_rounding")
    assert found, [(s.rule, s.status, s.values) for s in a.rules.statuses if s.rule == "lumbar_rounding"]
    assert all(f.value >= 10.0 for f in found)


@pytest.mark.parametrize("clip", ["deadlift_side_neutral_01.mp4", "deadlift_side_correct_01.mp4",
                                  "deadlift_side_correct_02.mp4", "deadlift_side_overextended_01.mp4"])
def test_lumbar_rounding_silent_on_neutral_correct_and_arched_backs(clip):
    a = analyze_shared_clip(clip)
    assert not fired(a, "lumbar_rounding", ("note", "caution", "flag"))
    st = next(s for s in a.rules.statuses if s.rule == "lumbar_rounding")
    assert st.status == "passed"  # judged, not skipped


def test_same_person_trio_is_ordered_rounded_neutral_arched():
    values = {}
    for clip in ("rounded_back_01", "neutral_01", "overextended_01"):
        a = analyze_shared_clip(f"deadlift_side_{clip}.mp4")
        st = next(s for s in a.rules.statuses if s.rule == "lumbar_rounding")
        values[clip] = max(st.values)
    assert values["rounded_back_01"] > values["neutral_01"] > values["overextended_01"]


def test_squatting_the_hinge_fires_on_hips_too_low():
    a = analyze_shared_clip("deadlift_side_hips_too_low_01.mp4")
    found = fired(a, "squatting_the_hinge")
    assert found and found[0].unit == "thigh lengths"


def test_heel_lift_fires_on_the_heel_lift_clip_and_not_on_its_control():
    lift = analyze_shared_clip("deadlift_side_heel_lift_01.mp4")
    down = analyze_shared_clip("deadlift_side_heels_down_pair_01.mp4")
    assert fired(lift, "heel_lift")
    assert not fired(down, "heel_lift")
    st = next(s for s in down.rules.statuses if s.rule == "heel_lift")
    assert st.status == "passed"


@pytest.mark.parametrize("clip", ["squat_front_barbell_back_01.mp4", "squat_oblique_bodyweight_01.mp4"])
def test_no_false_knee_valgus_on_squats_with_good_knee_tracking(clip):
    a = analyze_shared_clip(clip)
    assert a.kinematics.movement == "squat"
    assert not fired(a, "knee_valgus", ("note", "caution", "flag"))


def test_no_false_knee_valgus_on_the_example_clip(example_analysis):
    assert example_analysis.kinematics.movement == "squat"
    assert example_analysis.kinematics.view.view == "front"
    assert not [f for f in example_analysis.rules.findings if f.rule == "knee_valgus"]
    st = next(s for s in example_analysis.rules.statuses if s.rule == "knee_valgus")
    assert st.status == "passed"


@pytest.fixture(scope="module")
def split_halves(tmp_path_factory):
    """The split-screen RDL clip cropped into its two halves (before the end card)."""
    from movescreen.pipeline import AnalyzeOptions, analyze_input
    from movescreen.sources import open_source
    from tests.videos import write_video

    src_path = shared_file("videos", "rdl_side_dumbbell_split_correct_vs_incorrect_01.mp4")
    left, right, times = [], [], []
    src = open_source(src_path)
    for f in src:
        if f.index >= 516:  # black end card from here on (SOURCES.md)
            break
        left.append(f.image[:, :240])
        right.append(f.image[:, 240:])
        times.append(f.time_s)
    src.close()
    out = tmp_path_factory.mktemp("split")
    res = {}
    for name, frames in (("left", left), ("right", right)):
        p = write_video(out / f"{name}.mp4", frames, fps=30, times_s=times)
        res[name] = analyze_input(p, AnalyzeOptions(masks=True, movement="hinge"))
    return res


def test_split_screen_correct_half_has_no_flag(split_halves):
    assert not fired(split_halves["left"], "lumbar_rounding", ("flag",))
    assert not fired(split_halves["left"], "squatting_the_hinge", ("flag",))


@pytest.mark.xfail(strict=True, reason=(
    "The incorrect half's fault is rounded shoulders (upper back) with a knee-dominant hinge; the "
    "back-outline bend reads it about 10 deg more convex than the correct half but still near 0 "
    "(below the 10 deg caution), and its hips stay 0.6-0.8 thigh lengths above the knees, so no "
    "rule fires. See docs/evaluation.md."))
def test_split_screen_only_the_incorrect_half_is_flagged(split_halves):
    rules = ("lumbar_rounding", "squatting_the_hinge")
    assert any(fired(split_halves["right"], r) for r in rules)
    assert not any(fired(split_halves["left"], r) for r in rules)


@pytest.mark.parametrize("clip", ["deadlift_side_correct_01.mp4", "deadlift_side_correct_02.mp4",
                                  "deadlift_side_neutral_01.mp4", "deadlift_side_heels_down_pair_01.mp4",
                                  "deadlift_side_conventional_01.mp4", "hinge_side_kettlebell_deadlift_01.mp4"])
def test_hips_rise_first_never_flags_a_correct_hinge(clip):
    """Issue 11 target: no flag on a correct-form clip (a constant-back-angle barbell pull may earn a
    caution: docs/hips_rise_first.md)."""
    a = analyze_shared_clip(clip)
    assert not fired(a, "hips_rise_first", ("flag",)), [
        (f.value, f.uncertainty) for f in a.rules.findings if f.rule == "hips_rise_first"]
    assert all(f.severity != "flag" for f in a.rules.findings if f.borderline)


@pytest.mark.parametrize("clip", ["deadlift_side_good_yfgd_01.mp4", "deadlift_side_good_yfgd_05.mp4"])
def test_a_camera_tilted_up_from_the_floor_does_not_make_a_lockout_flag(clip):
    """The YFGD Good phone stands on the ground pointed up: the background verticals lean 6-10
    deg and the picture's vertical is not the world's. The analysis finds the true vertical
    from the scene lines (kinematics/scene_lines.py) and measures the lean from it: what is left
    of the lean-back is at most a caution (before: 17.5 and 14.7 deg flags)."""
    a = analyze_shared_clip(clip)
    tilt = a.kinematics.table["scene_vertical_tilt_deg"]
    assert (tilt > 3.0).all(), "the tilted camera was not found from the scene's lines"
    assert not fired(a, "lockout_hyperextension", ("flag",))
    for f in fired(a, "lockout_hyperextension"):
        assert f.value < 12.0 + 2 * f.uncertainty


@pytest.mark.parametrize("clip", ["deadlift_side_correct_01.mp4", "deadlift_side_rounded_back_01.mp4"])
def test_a_level_camera_reads_a_level_vertical(clip):
    a = analyze_shared_clip(clip)
    tilt = a.kinematics.table["scene_vertical_tilt_deg"]
    finite = tilt[np.isfinite(tilt)]
    if finite.size == 0:
        pytest.skip(f"{clip}: no background lines long and straight enough")
    assert abs(float(np.median(finite))) < 2.5
