"""Real clips through MediaPipe: rep counts, knee flexion against the reference, view."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from movescreen.kinematics.core import analyze_kinematics
from movescreen.landmarks import INDEX

DATA = Path("/work/shared/data")
EXAMPLE = Path(__file__).resolve().parents[2] / "fixtures/videos/squat_front_banded_bodyweight_01.mp4"

pytestmark = [
    pytest.mark.model,
    pytest.mark.slow,
    pytest.mark.skipif(not DATA.is_dir(), reason="third-party test data /work/shared/data is absent"),
]

# Counted by looking at frames; see docs/reps.md.
CLIPS = {
    "squat_side_barbell_back_01.mp4": ("squat", "side", 3),
    "squat_front_barbell_back_01.mp4": ("squat", "front", 1),
    "squat_oblique_bodyweight_01.mp4": ("squat", None, 8),
    "deadlift_side_correct_01.mp4": ("hinge", "side", 1),
    "deadlift_side_heel_lift_01.mp4": ("hinge", "side", 1),
    "hinge_side_kettlebell_deadlift_01.mp4": ("hinge", "side", 1),
}


@pytest.fixture(scope="session")
def analysed():
    from movescreen.pipeline import AnalyzeOptions, analyze_input

    cache: dict[str, object] = {}

    def get(path: Path):
        if not path.is_file():
            pytest.skip(f"{path} is absent")
        if str(path) not in cache:
            seq = analyze_input(path, AnalyzeOptions(masks=False)).sequence
            cache[str(path)] = analyze_kinematics(seq)
        return cache[str(path)]

    return get


def test_example_clip_three_reps_front_view(analysed):
    k = analysed(EXAMPLE)
    assert len(k.reps) == 3
    assert k.movement == "squat"
    assert k.view.view == "front"


def _reference_knee_flexion() -> np.ndarray:
    ref = np.asarray(json.loads((DATA / "reference/pose_squats_blazepose_full_image_xyz.json").read_text()),
                     np.float64)
    hip, knee, ank = (ref[:, INDEX[n], :2] for n in ("left_hip", "left_knee", "left_ankle"))
    a, b = hip - knee, ank - knee
    interior = np.degrees(np.arccos(np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)))
    return 180.0 - interior


def test_example_clip_knee_flexion_at_bottoms_matches_reference(analysed):
    k = analysed(EXAMPLE)
    ref = _reference_knee_flexion()
    ours = k.table["left_knee_flexion_image_deg"]
    assert len(ref) == len(ours)
    for rep in k.reps:
        sl = slice(rep.start_frame, rep.end_frame + 1)
        ref_peak = float(np.max(ref[sl]))
        our_peak = float(np.nanmax(ours[sl]))
        assert 70 < ref_peak < 110
        assert abs(our_peak - ref_peak) <= 10.0, (rep.index, our_peak, ref_peak)


@pytest.mark.parametrize("name", list(CLIPS))
def test_real_clip_reps_movement_view(analysed, name):
    movement, view, n = CLIPS[name]
    k = analysed(DATA / "videos" / name)
    assert len(k.reps) == n
    assert k.movement == movement
    if view is not None:
        assert k.view.view == view


# Movement recognition (issue 11): the label every shared clip was filmed as (SOURCES.md). The
# clips above are checked too; these add the hard cases: knee-dominant and single-leg hinges,
# front-view hinges, GIFs, and the seated hip clips, which are not a squat or a hinge.
MOVEMENTS = {
    "deadlift_side_hips_too_low_01.mp4": "hinge",  # "squatting deadlift": still a hinge
    "rdl_side_single_leg_dumbbell_01.mp4": "hinge",
    "good_morning_front_barbell_01.mp4": "hinge",
    "rdl_oblique_dumbbell_01.gif": "hinge",
    "deadlift_side_heels_down_pair_01.mp4": "hinge",
    "squat_front_banded_bodyweight_01.mp4": "squat",
    "seated_figure4_side_01.gif": "other",
    "hip_9090_seated_01.mp4": "other",
}


@pytest.mark.parametrize("name", list(MOVEMENTS))
def test_real_clip_movement_recognition(analysed, name):
    k = analysed(DATA / "videos" / name)
    d = k.movement_decision
    if k.movement not in ("squat", "hinge", "other"):  # a seated hip test (issue 13) named it
        assert MOVEMENTS[name] == "other" and k.movement.startswith("hip_")
    else:
        assert k.movement == MOVEMENTS[name], d.reason
    assert d.reason
    if k.movement in ("squat", "hinge"):
        assert d.reps and all(np.isfinite(r.score) for r in d.reps if not r.partial)
