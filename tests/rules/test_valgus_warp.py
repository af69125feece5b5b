"""A constructed knee-valgus case: the example squat warped so the knees cave in (or out).

No real clip of knees caving in was available, so the knees of the bundled front-view squat are
moved medially in the image by a known amount (tests/rules/warp.py, docs/valgus_warp.md) and the
real model is run on the warped frames. This is a constructed case, not a real cave-in.

Amount, by reasoning: at the bottom of a rep the example's knees are 1.12-1.32 times as wide as
its ankles (median 1.24; normal squats read >= 1.1). A clear cave-in puts the knees well inside
the ankles; ``knee_valgus_width`` flags below 0.8. The inward warp brings the median bottom rep's
image knee/ankle width ratio to 0.70 (each knee moves ~43 % of the way to the knees' midpoint at
the bottom, in proportion to the depth on the way down). The outward warp moves the knees out by
the same amount (the ratio goes to ~1.76).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from movescreen.landmarks import INDEX
from movescreen.pipeline import AnalyzeOptions, analyze_input
from movescreen.sources import open_source
from tests.conftest import EXAMPLE_VIDEO
from tests.rules.warp import WarpedFrame, compute_depth_fraction, warp_knees
from tests.videos import write_video

pytestmark = [pytest.mark.model, pytest.mark.slow]

TARGET_BOTTOM_RATIO = 0.70  # image knee/ankle width ratio of the median rep's bottom after the warp
OPTIONS = AnalyzeOptions(masks=False)  # the knee rules do not use the segmentation mask


def _analyze(path: Path):
    return analyze_input(path, OPTIONS)


def _bottom_ratios(analysis, space: str) -> np.ndarray:
    return np.array([r.metrics[f"knee_ankle_width_ratio_bottom_{space}"]
                     for r in analysis.kinematics.reps])


def _rule_ratios(analysis) -> np.ndarray:
    """The value ``knee_valgus_width`` judges: mean of the image and world ratios, per rep."""
    return 0.5 * (_bottom_ratios(analysis, "image") + _bottom_ratios(analysis, "world"))


def _shallow_fppa_world(analysis) -> np.ndarray:
    """World FPPA at shallow bend on the way down, shape (reps, 2) (left, right), valgus positive."""
    return np.array([[r.metrics[f"{s}_knee_fppa_shallow_world_deg"] for s in ("left", "right")]
                     for r in analysis.kinematics.reps])


def _valgus(analysis) -> list:
    return [f for f in analysis.rules.findings if f.rule == "knee_valgus"]


@pytest.fixture(scope="module")
def original():
    return _analyze(EXAMPLE_VIDEO)


@pytest.fixture(scope="module")
def source_frames():
    src = open_source(EXAMPLE_VIDEO)
    try:
        frames = [(f.image, f.time_s) for f in src]
    finally:
        src.close()
    return [f[0] for f in frames], [f[1] for f in frames]


@pytest.fixture(scope="module")
def inward_amount(original) -> float:
    return float(1.0 - TARGET_BOTTOM_RATIO / np.median(_bottom_ratios(original, "image")))


def _make_warp(original, source_frames, amount: float, out: Path) -> tuple[list[WarpedFrame], Path]:
    frames, times_s = source_frames
    seq, kin = original.sequence, original.kinematics
    assert len(frames) == len(seq), "the landmark rows must match the decoded frames one to one"
    flex = np.nanmean(np.stack([np.asarray(kin.table[f"{s}_knee_flexion_world_deg"], float)
                                for s in ("left", "right")]), axis=0)
    frac = compute_depth_fraction(flex, np.asarray(kin.table["frame"]),
                                  [r.bottom_frame for r in kin.reps])
    warped = warp_knees(frames, seq.image_xyz, frac, amount=amount)
    write_video(out, [w.image for w in warped], fps=seq.fps, times_s=times_s)
    return warped, out


@pytest.fixture(scope="module")
def inward(original, source_frames, inward_amount, tmp_path_factory):
    warped, path = _make_warp(original, source_frames, inward_amount,
                              tmp_path_factory.mktemp("valgus") / "inward.mp4")
    return warped, _analyze(path)


@pytest.fixture(scope="module")
def outward(original, source_frames, inward_amount, tmp_path_factory):
    warped, path = _make_warp(original, source_frames, -inward_amount,
                              tmp_path_factory.mktemp("valgus") / "outward.mp4")
    return warped, _analyze(path)


def test_inward_amount_is_a_clear_cave_in(original, inward_amount):
    # the reasoning in the module docstring: a clear, not extreme, cave-in from the example's ~1.24
    assert 1.1 < np.median(_bottom_ratios(original, "image")) < 1.4
    assert 0.3 < inward_amount < 0.55


def test_warp_moves_the_knees_by_the_known_amount(original, source_frames, inward, inward_amount,
                                                  tmp_path):
    warped, _ = inward
    seq = original.sequence
    kl, kr, al, ar = (INDEX[n] for n in ("left_knee", "right_knee", "left_ankle", "right_ankle"))
    imposed = []
    for rep in original.kinematics.reps:
        row = int(np.flatnonzero(seq.frame_index == rep.bottom_frame)[0])
        before = seq.image_xyz[row, kl, :2] - seq.image_xyz[row, kr, :2]
        shift = warped[row].knee_shift_px
        after = before + shift[0] - shift[1]
        # at the bottom the depth fraction is 1: the knee distance shrinks by exactly (1 - amount)
        np.testing.assert_allclose(after, (1.0 - inward_amount) * before, atol=1e-6)
        imposed.append(abs(after[0]) / abs(seq.image_xyz[row, al, 0] - seq.image_xyz[row, ar, 0]))
    # the amount was set from the filtered landmarks' ratios; the warp moves the raw ones
    assert np.median(imposed) == pytest.approx(TARGET_BOTTOM_RATIO, abs=0.02)
    # standing frames are untouched; folds are limited to the odd sliver where, in this oblique
    # view, one hip landmark sits right above the other knee (docs/valgus_warp.md)
    assert sum(w.folded_triangles for w in warped) <= 3
    row = int(np.flatnonzero(seq.frame_index == original.kinematics.reps[1].bottom_frame)[0])
    frames, _ = source_frames
    side_by_side = np.concatenate([frames[row], warped[row].image], axis=1)
    assert cv2.imwrite(str(tmp_path / "bottom_original_vs_inward.png"), side_by_side)


def test_original_has_no_knee_valgus(original):
    assert original.kinematics.reps and all(r.view == "front" for r in original.kinematics.reps)
    assert _valgus(original) == []


def test_outward_warp_has_no_knee_valgus(original, outward):
    _, analysis = outward
    assert _valgus(analysis) == []
    # and the knees did read wider at the bottom
    assert np.all(_rule_ratios(analysis) > _rule_ratios(original))


def test_warps_keep_the_rep_count(original, inward, outward):
    n = len(original.kinematics.reps)
    assert n == 3
    assert len(inward[1].kinematics.reps) == n
    assert len(outward[1].kinematics.reps) == n
    for analysis in (inward[1], outward[1]):
        assert all(r.view == "front" for r in analysis.kinematics.reps)


def test_inward_warp_fires_knee_valgus(inward):
    _, analysis = inward
    found = _valgus(analysis)
    assert found, "an inward warp to a 0.70 knee/ankle width ratio produced no knee_valgus finding"
    assert all(f.severity in ("caution", "flag") for f in found)


def test_inward_warp_raises_fppa_and_narrows_the_knees(original, inward):
    _, analysis = inward
    assert np.nanmean(_shallow_fppa_world(analysis)) > np.nanmean(_shallow_fppa_world(original))
    assert np.all(_rule_ratios(analysis) < _rule_ratios(original))


@pytest.mark.xfail(
    strict=True,
    reason=(
        "BlazePose follows only ~40-45 % of the imposed knee displacement on this clip: the "
        "warp takes the median bottom's image ratio from 1.24 to 0.70, the model reads ~1.01 "
        "(world ~1.02), so the width rule (caution < 0.9) does not fire (docs/valgus_warp.md)"
    ),
)
def test_measured_width_ratio_follows_at_least_half_the_warp(original, inward, inward_amount):
    _, analysis = inward
    before = _rule_ratios(original)
    imposed_drop = inward_amount * _bottom_ratios(original, "image")
    measured_drop = before - _rule_ratios(analysis)
    assert np.all(measured_drop >= 0.5 * imposed_drop)
