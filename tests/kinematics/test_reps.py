"""Rep detection on synthetic depth signals and skeletons."""

from __future__ import annotations

import numpy as np

from movescreen.kinematics.core import analyze_kinematics
from movescreen.kinematics.reps import detect_reps
from movescreen.synthetic import make_depth_profile, make_motion


def _depth(**kw):
    d, marks = make_depth_profile(fps=30.0, **kw)
    return 200.0 * d, marks


def test_three_reps_with_pauses_at_top_and_bottom():
    d, marks = _depth(n_reps=3, pause_top_s=1.5, pause_bottom_s=0.6)
    reps, info = detect_reps(d, 30.0)
    assert len(reps) == 3 and not any(r.partial for r in reps)
    for r, m in zip(reps, marks):
        assert abs(r.turn - m) <= 10
        tempo = r.tempo_s(np.arange(len(d)) / 30.0)
        assert 0.6 <= tempo["pause_s"] <= 1.1  # the hold plus the slow last 10 % of depth
        assert 0.5 < tempo["descent_s"] < 1.2 and 0.5 < tempo["ascent_s"] < 1.2
        assert tempo["total_s"] < 3.0  # the top pause is not part of the rep
    assert info["order"] == "top_first"


def test_partial_rep_is_flagged():
    d, _ = _depth(n_reps=3, depths=[1.0, 0.4, 1.0])
    reps, _ = detect_reps(d, 30.0)
    assert [r.partial for r in reps] == [False, True, False]
    assert "shallow" in reps[1].partial_reason


def test_walk_in_and_out_nans_split_runs():
    d, _ = _depth(n_reps=3, lead_s=1.0)
    d = d.copy()
    d[:20] = np.nan
    d[-20:] = np.nan
    cut = np.flatnonzero(np.isfinite(d))
    reps, _ = detect_reps(d, 30.0)
    assert len(reps) == 3
    assert all(cut[0] <= r.start <= r.end <= cut[-1] for r in reps)


def test_rep_cut_by_missing_frames_is_partial():
    d, marks = _depth(n_reps=2)
    d = d.copy()
    d[marks[1] - 5:] = np.nan  # person leaves mid-descent of rep 2
    d[marks[1] - 25: marks[1] - 5] = d[marks[1] - 25: marks[1] - 5]
    reps, _ = detect_reps(d, 30.0)
    assert not reps[0].partial
    assert len(reps) == 2 and reps[1].partial


def test_deadlift_starting_at_the_bottom():
    d, lockouts = _depth(n_reps=2, start_at_bottom=True, pause_top_s=0.8)
    reps, info = detect_reps(d, 30.0)
    assert info["starts_at_bottom"] and info["order"] == "bottom_first"
    assert len(reps) == 2 and not any(r.partial for r in reps)
    for r, m in zip(reps, lockouts):
        assert r.start < r.turn < r.end and abs(r.turn - m) <= 15
    # the standing baseline is the lockout, not the first frames
    assert info["standing_level"] < 20


def test_flat_signal_has_no_reps():
    reps, _ = detect_reps(np.full(100, 10.0), 30.0)
    assert reps == []
    reps, _ = detect_reps(np.full(100, np.nan), 30.0)
    assert reps == []


def test_bounce_at_the_bottom_is_one_rep():
    d, _ = _depth(n_reps=1, pause_bottom_s=0.6)
    d = d.copy()
    mid = int(np.argmax(d))
    d[mid - 3: mid + 3] -= 40.0  # a small bounce
    reps, _ = detect_reps(d, 30.0, median_s=0)
    assert len(reps) == 1


def test_analyze_kinematics_on_synthetic_squats_and_deadlift():
    k = analyze_kinematics(make_motion("squat", view="side", n_reps=3, fps=30.0).sequence)
    assert k.movement == "squat" and len(k.reps) == 3
    assert abs(k.reps[0].metrics["peak_knee_flexion_deg"] - 115) < 2
    k2 = analyze_kinematics(make_motion("hinge", view="side", n_reps=2, fps=30.0).sequence)
    assert k2.movement == "hinge" and len(k2.reps) == 2
    k3 = analyze_kinematics(make_motion("hinge", view="side", n_reps=1, fps=30.0,
                                        start_at_bottom=True, knee_flexion_deg=70.0,
                                        hip_flexion_deg=100.0).sequence)
    assert len(k3.reps) == 1 and k3.reps[0].order == "bottom_first" and k3.movement == "hinge"
