"""Shot changes: picture cuts and camera jumps split a clip; nothing spans a cut."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from movescreen.kinematics.core import analyze_kinematics
from movescreen.kinematics.shots import (
    detect_shots,
    frame_signature,
    person_jumps,
    picture_cuts,
    signature_change,
)
from movescreen.landmarks import INDEX
from movescreen.synthetic import make_motion
from tests.videos import read_frames, write_video

DATA = Path("/work/shared/data")
FPS = 30.0


def test_signature_change_is_small_for_motion_and_large_for_a_cut():
    rng = np.random.default_rng(0)
    scene = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    moved = np.roll(scene, 3, axis=1)  # a small pan
    other = np.full_like(scene, 30)
    other[40:80, 60:100] = (20, 200, 40)
    s0, s1, s2 = frame_signature(scene), frame_signature(moved), frame_signature(other)
    assert s0.shape == (80,) and s0.sum() == pytest.approx(5.0)
    assert signature_change(s0, s1) < 0.05
    assert signature_change(s0, s2) > 0.5
    assert np.isnan(signature_change(None, s0))


def test_picture_cuts_need_a_spike_not_a_slow_change():
    c = np.full(60, 0.01)
    c[0] = np.nan
    c[20] = 0.7  # a cut
    c[40:46] = 0.3  # a whip pan over several frames: each frame changes a lot, none stands out
    assert picture_cuts(c) == [20]


def test_person_jump_splits_a_landmark_clip_and_no_rep_spans_it():
    # two squat clips of the same skeleton, the second filmed closer (2x bigger, shifted):
    # a camera jump with no picture at all (a landmark file)
    a = make_motion("squat", fps=FPS, n_reps=2).sequence
    b = make_motion("squat", fps=FPS, n_reps=2, px_per_m=1000.0).sequence
    img = np.concatenate([a.image_xyz, b.image_xyz - np.float32([0.0, 500.0, 0.0])])
    n = len(a) + len(b)
    assert person_jumps(img) == [len(a)]
    from dataclasses import replace

    seq = replace(a, frame_index=np.arange(n), time_s=np.arange(n) / FPS, image_xyz=img,
                  world_xyz=np.concatenate([a.world_xyz, b.world_xyz]),
                  visibility=np.concatenate([a.visibility, b.visibility]),
                  presence=np.concatenate([a.presence, b.presence]))
    k = analyze_kinematics(seq)
    assert [s["start_frame"] for s in k.shots] == [0, len(a)]
    assert k.shots[1]["cut_by"] == "person"
    assert len([r for r in k.reps if not r.partial]) == 4
    assert all(not (r.start_frame < len(a) <= r.end_frame) for r in k.reps)
    assert set(np.unique(k.table["shot"])) == {1, 2}
    assert any("2 shots" in w for w in k.warnings)


def test_filtering_does_not_smear_across_a_cut():
    # a landmark jumps at the cut; with per-shot filtering the rows next to the cut keep their
    # own shot's value (a filter across the cut would pull them half-way)
    m = make_motion("squat", fps=FPS, n_reps=1)
    seq = m.sequence
    n = len(seq)
    change = np.full(n, 0.01)
    change[0] = np.nan
    cut = n // 2
    change[cut] = 0.9
    img = seq.image_xyz.copy()
    img[cut:, :, 0] += 200.0  # the second shot's camera is shifted sideways
    from dataclasses import replace

    seq2 = replace(seq, image_xyz=img)
    k = analyze_kinematics(seq2, frame_change=change)
    x = k.sequence.image_xyz[:, 23, 0]
    assert abs(x[cut - 1] - img[cut - 1, 23, 0]) < 2.0
    assert abs(x[cut] - img[cut, 23, 0]) < 2.0
    assert len(k.shots) == 2 and k.shots[1]["cut_by"] == "picture"


def test_short_flash_is_not_a_shot():
    t = np.arange(90) / FPS
    c = np.full(90, 0.01)
    c[30], c[32] = 0.8, 0.8  # two frames of flash
    shots = detect_shots(t, np.arange(90), change=c)
    assert len(shots) == 1


def _fit(img: np.ndarray, w: int, h: int) -> np.ndarray:
    """Scale into a w x h canvas, padding with mid grey (not black: no letterbox bars)."""
    import cv2

    s = min(w / img.shape[1], h / img.shape[0])
    small = cv2.resize(img, (int(img.shape[1] * s), int(img.shape[0] * s)))
    out = np.full((h, w, 3), 128, np.uint8)
    y0, x0 = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    out[y0: y0 + small.shape[0], x0: x0 + small.shape[1]] = small
    return out


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(not DATA.is_dir(), reason="third-party test data /work/shared/data is absent")
def test_two_joined_clips_have_their_cut_found_and_no_rep_across_it(tmp_path):
    from movescreen.pipeline import AnalyzeOptions, analyze_input, build_report

    first = DATA / "videos/hinge_side_kettlebell_deadlift_01.mp4"  # 86 frames, 1 rep
    second = DATA / "videos/squat_side_barbell_back_01.mp4"  # 255 frames, 3 reps
    for p in (first, second):
        if not p.is_file():
            pytest.skip(f"{p} is absent")
    a = [_fit(f, 620, 720) for f in read_frames(first)]
    b = [_fit(f, 620, 720) for f in read_frames(second)]
    joined = write_video(tmp_path / "joined.mp4", a + b, fps=30.0)
    an = analyze_input(joined, AnalyzeOptions(masks=False, video=False, key_frames=False,
                                              html=False))
    kin = an.kinematics
    assert kin is not None
    assert [s["start_frame"] for s in kin.shots] == [0, len(a)]
    assert kin.shots[1]["cut_by"] == "picture"
    assert all(not (r.start_frame < len(a) <= r.end_frame) for r in kin.reps)
    full = [r for r in kin.reps if not r.partial]
    assert sum(r.end_frame < len(a) for r in full) == 1  # the kettlebell deadlift
    assert sum(r.start_frame >= len(a) for r in full) == 3  # the three squats
    report = build_report(an)
    assert len(report["shots"]) == 2
    assert any("2 shots" in w for w in report["quality"]["warnings"])


def test_tracker_snapping_back_after_a_drift_is_not_a_cut():
    # the feet points drift up the shins for a few frames, then snap back in one frame (seen
    # at one of 82 reps of a looped 10-minute clip with no cut in it): not a camera jump
    seq = make_motion("hinge", fps=FPS, n_reps=2).sequence
    img = seq.image_xyz.copy()
    legs = [INDEX[n] for n in ("left_knee", "right_knee", "left_ankle", "right_ankle")]
    hips = [INDEX[n] for n in ("left_hip", "right_hip", "left_hip", "right_hip")]
    start, n_drift = 3, 6  # standing before the first rep: the box is as tall as the body
    for k in range(n_drift):  # knees and ankles slide up towards the hips, more each frame
        w = (k + 1) / n_drift * 0.8
        img[start + k, legs, :2] = (1 - w) * img[start + k, legs, :2] + w * img[start + k, hips, :2]
    jumps_raw = person_jumps(img)
    assert start + n_drift in jumps_raw  # the snap back is a jump from the row before...
    lookback = int(round(0.5 * FPS))
    assert start + n_drift not in person_jumps(img, lookback=lookback)  # ...back to where it was
    from dataclasses import replace

    shots = detect_shots(seq.time_s, seq.frame_index, image_xyz=replace(seq, image_xyz=img).image_xyz)
    assert len(shots) == 1
