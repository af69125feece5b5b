"""Annotators and drawing data: new frames out, inputs untouched, drawing where the data says."""

from __future__ import annotations

import numpy as np
import pytest

from movescreen.landmarks import INDEX
from movescreen.render.annotate import (
    draw_angle_arc,
    draw_angle_labels,
    draw_finding,
    draw_rep_banner,
    draw_skeleton,
    phase_at,
)
from movescreen.render.joints import (
    RULE_COMPENSATION,
    arc_geometry_for,
    columns_for_finding,
    label_anchor_for,
    select_plot_columns,
    split_side,
)


def _standing_row(w: int = 400, h: int = 600) -> np.ndarray:
    """A standing person drawn in the middle of a w x h frame (pixels)."""
    row = np.full((33, 3), np.nan)
    cx = w / 2
    pts = {
        "nose": (cx, 80), "left_eye": (cx + 8, 72), "right_eye": (cx - 8, 72),
        "left_ear": (cx + 18, 76), "right_ear": (cx - 18, 76),
        "left_shoulder": (cx + 40, 140), "right_shoulder": (cx - 40, 140),
        "left_hip": (cx + 30, 300), "right_hip": (cx - 30, 300),
        "left_knee": (cx + 32, 420), "right_knee": (cx - 32, 420),
        "left_ankle": (cx + 34, 540), "right_ankle": (cx - 34, 540),
        "left_heel": (cx + 30, 555), "right_heel": (cx - 30, 555),
        "left_foot_index": (cx + 50, 560), "right_foot_index": (cx - 50, 560),
    }
    for name, (x, y) in pts.items():
        row[INDEX[name], :2] = (x, y)
        row[INDEX[name], 2] = 0.0
    return row


@pytest.fixture
def frame() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 60, size=(600, 400, 3), dtype=np.uint8)


def test_annotators_return_new_frames_and_leave_the_input_alone(frame):
    before = frame.copy()
    row = _standing_row()
    finding = {"rule": "knee_valgus", "severity": "flag", "side": "left", "rep": 1}
    outs = [
        draw_skeleton(frame, row),
        draw_angle_labels(frame, row, {"left_knee_flexion_image_deg": 42.0}),
        draw_rep_banner(frame, ["rep 1/3: descent"]),
        draw_finding(frame, row, finding),
        draw_angle_arc(frame, row, "left_knee_flexion_image_deg", 30.0, threshold=20.0),
    ]
    np.testing.assert_array_equal(frame, before)
    for out in outs:
        assert out is not frame and out.shape == frame.shape and out.dtype == np.uint8
        assert np.any(out != frame)


def test_skeleton_with_all_nan_landmarks_draws_nothing(frame):
    out = draw_skeleton(frame, np.full((33, 3), np.nan))
    np.testing.assert_array_equal(out, frame)


def _changed_near(out: np.ndarray, ref: np.ndarray, xy: tuple[float, float], r: int = 25) -> int:
    x, y = int(xy[0]), int(xy[1])
    return int(np.any(out[y - r:y + r, x - r:x + r] != ref[y - r:y + r, x - r:x + r], axis=2).sum())


def test_finding_highlights_the_compensating_joint_on_its_side(frame):
    row = _standing_row()
    base = draw_skeleton(frame, row)
    out = draw_finding(base, row, {"rule": "knee_valgus", "severity": "flag", "side": "left", "rep": 1})
    left_knee, right_knee = row[INDEX["left_knee"], :2], row[INDEX["right_knee"], :2]
    assert _changed_near(out, base, left_knee) > 100
    assert _changed_near(out, base, right_knee, r=8) == 0


def test_lumbar_finding_highlights_the_trunk_not_the_knees(frame):
    row = _standing_row()
    base = draw_skeleton(frame, row)
    out = draw_finding(base, row, {"rule": "lumbar_rounding", "severity": "caution", "side": "none"})
    mid_trunk = (200, 220)
    assert _changed_near(out, base, mid_trunk, r=6) > 10
    assert _changed_near(out, base, row[INDEX["left_knee"], :2], r=8) == 0


def test_every_rule_named_in_the_issue_maps_to_a_joint():
    for rule in ("lumbar_rounding", "lockout_hyperextension", "squatting_the_hinge", "knee_valgus",
                 "knee_twist", "heel_lift", "excessive_forward_lean", "insufficient_depth", "asymmetry"):
        assert RULE_COMPENSATION[rule].compensating
    assert RULE_COMPENSATION["lumbar_rounding"].compensating == ("lumbar_spine",)
    assert RULE_COMPENSATION["squatting_the_hinge"].compensating == ("knee",)


def test_arc_text_states_value_and_threshold_somewhere_near_the_joint(frame):
    row = _standing_row()
    out = draw_angle_arc(frame, row, "right_knee_flexion_image_deg", 35.0, threshold=20.0)
    assert _changed_near(out, frame, row[INDEX["right_knee"], :2], r=70) > 200


def test_arc_for_a_column_without_geometry_still_writes_its_value(frame):
    out = draw_angle_arc(frame, np.full((33, 3), np.nan), "lumbar_flexion_est_deg", 25.0, threshold=20.0)
    assert np.any(out != frame)


def test_phase_follows_rep_start_bottom_end():
    reps = [{"index": 1, "start_frame": 10, "bottom_frame": 20, "end_frame": 30, "tempo": {"bottom_s": 0.2}}]
    assert phase_at(reps, 5, 30.0) == (None, "between reps")
    assert phase_at(reps, 12, 30.0)[1] == "descent"
    assert phase_at(reps, 20, 30.0)[1] == "bottom"
    assert phase_at(reps, 23, 30.0)[1] == "bottom"  # within half of 0.2 s at 30 fps (3 frames)
    assert phase_at(reps, 25, 30.0)[1] == "ascent"
    assert phase_at([{"index": 1}], 3, 30.0) == (None, "between reps")  # incomplete rep ignored


def test_column_helpers():
    assert split_side("left_knee_flexion_image_deg") == ("left", "knee_flexion_image_deg")
    assert label_anchor_for("left_knee_flexion_image_deg") == "left_knee"
    assert label_anchor_for("trunk_inclination_image_deg") == "mid_shoulder"
    assert label_anchor_for("knee_ankle_width_ratio") is None  # no side: no single knee
    assert arc_geometry_for("right_hip_flexion_world_deg") is not None
    assert arc_geometry_for("knee_ankle_width_ratio") is None
    cols = ["right_knee_flexion_image_deg", "right_knee_fppa_image_deg", "trunk_inclination_image_deg"]
    f = {"rule": "knee_valgus", "side": "right", "evidence": {"column": "trunk_inclination_image_deg"}}
    assert columns_for_finding(f, cols)[:2] == ["trunk_inclination_image_deg", "right_knee_fppa_image_deg"]
    f2 = {"rule": "knee_valgus", "side": "right", "evidence": {"column": "not_a_column"}}
    assert columns_for_finding(f2, cols) == ["right_knee_fppa_image_deg"]
    assert select_plot_columns(["frame", "time_s", "view", "foo"]) == []
