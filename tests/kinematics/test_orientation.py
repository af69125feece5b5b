"""Sideways video: found from the pose and turned upright."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from movescreen.kinematics.orientation import body_axis_deg, detect_orientation
from movescreen.synthetic import make_motion
from tests.videos import read_frames, write_video

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "fixtures/videos/squat_front_banded_bodyweight_01.mp4"  # = the shared clip


def _turn_landmarks(img: np.ndarray, k: int, w: float, h: float) -> np.ndarray:
    """Image landmarks of a picture turned k x 90 deg counter-clockwise (np.rot90)."""
    out = img.copy()
    x, y = img[..., 0], img[..., 1]
    for _ in range(k % 4):
        x, y = y, w - x
        w, h = h, w
    out[..., 0], out[..., 1] = x, y
    return out


@pytest.mark.parametrize("movement", ["squat", "hinge"])
def test_upright_skeletons_are_upright_even_at_the_bottom_of_a_hinge(movement):
    m = make_motion(movement, view="side", fps=30.0, hip_flexion_deg=110.0)
    o = detect_orientation(m.sequence.image_xyz)
    assert o.quarter_turns == 0 and o.head_towards == "up" and o.fraction > 0.95
    assert np.nanmax(np.abs(body_axis_deg(m.sequence.image_xyz))) < 50


@pytest.mark.parametrize("k,head", [(1, "left"), (3, "right"), (2, "down")])
def test_turned_skeletons_are_found_and_the_turn_undoes_it(k, head):
    seq = make_motion("hinge", view="side", fps=30.0).sequence
    turned = _turn_landmarks(seq.image_xyz.astype(np.float64), k, seq.width, seq.height)
    o = detect_orientation(turned)
    assert o.head_towards == head
    assert (o.quarter_turns + k) % 4 == 0
    assert "turned upright" in o.turned_sentence("clip.mp4")
    assert "ffmpeg" in o.refused_sentence("clip.mp4")


def test_too_few_frames_decide_nothing():
    assert detect_orientation(np.full((3, 33, 3), np.nan)).quarter_turns == 0


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.parametrize("k", [1, 3])
def test_a_sideways_copy_of_a_clip_is_analysed_upright(tmp_path, k):
    from movescreen.pipeline import AnalyzeOptions, analyze_input
    from movescreen.sources import open_source, set_upright_turn

    if not CLIP.is_file():
        pytest.skip(f"{CLIP} is absent")
    opts = AnalyzeOptions(masks=False, video=False, key_frames=False, html=False)
    frames = read_frames(CLIP)
    sideways = write_video(tmp_path / "sideways.mp4",
                           [np.ascontiguousarray(np.rot90(f, k)) for f in frames], fps=5.0)
    try:
        orig = analyze_input(CLIP, opts)
        turned = analyze_input(sideways, opts)
        assert turned.info.width == orig.info.width and turned.info.height == orig.info.height
        assert any("stored sideways" in w for w in turned.warnings)
        assert turned.kinematics.movement == orig.kinematics.movement == "squat"
        n = [sum(not r.partial for r in a.kinematics.reps) for a in (orig, turned)]
        assert n[0] == n[1] == 3
        # the renderers reopen the file and get the same upright frames
        src = open_source(sideways)
        try:
            first = next(iter(src)).image
        finally:
            src.close()
        assert first.shape == frames[0].shape
    finally:
        set_upright_turn(sideways, 0)
