"""The back-outline bend on real labelled hinge clips (runs the real model; a few clips only).

Thresholds come from the rule reasoning in issue 4, not from these clips: a bend of about +15 deg
at the bottom of a side-view hinge splits rounded from neutral, 10-15 deg is borderline. So a
rounded clip must read at least 15 and a neutral one less than 10. Where the measure gets a clip
wrong, the test is an ``xfail(strict=True)`` that names the reason (see docs/lumbar.md); the full
per-clip table is made by ``benchmarks/lumbar_table.py``.

The pose stage crops the segmentation mask to the landmarks' box plus 15 %; when a person bends
over, the back rises above the shoulder landmarks and that crop cuts it off. Until the pose stage
keeps the whole silhouette, these tests widen that margin (see docs/lumbar.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from movescreen.kinematics.back_contour import BendSummary, compute_back_bend, summarize_bend
from tests.conftest import shared_file

pytestmark = pytest.mark.model

ROUNDED_MIN_DEG = 15.0  # issue 4: ~15 deg at the bottom splits rounded from neutral
NEUTRAL_MAX_DEG = 10.0  # ... and 10-15 deg is borderline
NOISE_DEG = 4.0  # issue 3: 1-4 deg frame-to-frame noise near the bottom

_cache: dict[str, BendSummary] = {}


def _analyse(path: Path):
    from movescreen.pipeline import AnalyzeOptions, analyze_input

    # masks are traced frame by frame while fresh and not kept: the traces travel beside the sequence
    a = analyze_input(path, AnalyzeOptions(masks=True))
    return a.sequence, a.back_traces


def _bottom(seq_and_traces) -> BendSummary:
    """Bend at the bottom of the hinge: the frame of largest trunk inclination, +-3 frames."""
    seq, traces = seq_and_traces
    b = compute_back_bend(seq, traces=traces)
    inc = np.where(np.isfinite(b.trunk_inclination_deg), b.trunk_inclination_deg, -np.inf)
    bot = int(np.argmax(inc))
    return summarize_bend(b, range(max(0, bot - 3), bot + 4))


def bend_at_bottom(clip: str) -> BendSummary:
    if clip not in _cache:
        _cache[clip] = _bottom(_analyse(shared_file("videos", clip)))
    return _cache[clip]


def bend_at_bottom_of_half(half: str, tmp_dir: Path) -> BendSummary:
    """One half of the split-screen RDL clip (x < 240 or x >= 240), frames 300-515.

    Frames 516 on are a black end card; both halves reach the bottom of their last rep after
    frame 400, so the first 300 frames are skipped to keep the test short.
    """
    key = f"split#{half}"
    if key not in _cache:
        import cv2

        from tests.videos import write_video

        src = shared_file("videos", "rdl_side_dumbbell_split_correct_vs_incorrect_01.mp4")
        cap = cv2.VideoCapture(str(src))
        fps = cap.get(cv2.CAP_PROP_FPS)
        frames = []
        for i in range(516):
            ok, frame = cap.read()
            if not ok:
                break
            if i >= 300:
                frames.append(frame[:, :240] if half == "L" else frame[:, 240:])
        cap.release()
        path = write_video(tmp_dir / f"split_{half}.mp4", frames, fps=fps)
        _cache[key] = _bottom(_analyse(path))
    return _cache[key]


def _check_usable(s: BendSummary) -> None:
    assert s.n_frames >= 4, "too few measurable frames at the bottom"
    assert s.confidence >= 0.5
    assert s.noise_deg <= NOISE_DEG + 2.0


@pytest.mark.parametrize(
    "clip",
    [
        "deadlift_side_rounded_back_01.mp4",
        pytest.param(
            "deadlift_side_rounded_back_02.mp4",
            marks=pytest.mark.xfail(
                strict=True, reason="reads +14 deg: borderline band, not above the 15 deg split"
            ),
        ),
        pytest.param(
            "deadlift_side_rounded_back_03.mp4",
            marks=pytest.mark.xfail(
                strict=True,
                reason="reads +14 deg (noisy, 5 deg): his rounding peaks next to the hip "
                "landmark, in the part left out for the glutes",
            ),
        ),
    ],
)
def test_rounded_hinge_reads_rounded(clip: str) -> None:
    s = bend_at_bottom(clip)
    _check_usable(s)
    assert s.value_deg >= ROUNDED_MIN_DEG


@pytest.mark.parametrize(
    "clip",
    [
        "deadlift_side_neutral_01.mp4",
        "deadlift_side_overextended_01.mp4",
        "deadlift_side_correct_02.mp4",
    ],
)
def test_neutral_hinge_reads_below_borderline(clip: str) -> None:
    s = bend_at_bottom(clip)
    _check_usable(s)
    assert s.value_deg < NEUTRAL_MAX_DEG


def test_same_person_trio_is_ordered_rounded_neutral_overextended() -> None:
    rounded = bend_at_bottom("deadlift_side_rounded_back_01.mp4").value_deg
    neutral = bend_at_bottom("deadlift_side_neutral_01.mp4").value_deg
    extended = bend_at_bottom("deadlift_side_overextended_01.mp4").value_deg
    # each step larger than the frame-to-frame noise
    assert rounded > neutral + NOISE_DEG
    assert neutral > extended + NOISE_DEG
    assert extended < 0.0  # an arched back reads concave


def test_same_man_pair_rounded_above_correct() -> None:
    rounded = bend_at_bottom("deadlift_side_rounded_back_03.mp4").value_deg
    correct = bend_at_bottom("deadlift_side_correct_02.mp4").value_deg
    assert rounded > correct + NOISE_DEG


def test_split_screen_right_half_rounds_more_than_left(tmp_path: Path) -> None:
    left = bend_at_bottom_of_half("L", tmp_path)
    right = bend_at_bottom_of_half("R", tmp_path)
    _check_usable(left)
    _check_usable(right)
    assert left.value_deg < NEUTRAL_MAX_DEG
    assert right.value_deg > left.value_deg + NOISE_DEG


@pytest.mark.xfail(
    strict=True,
    reason="the right half's fault is rounded shoulders (upper back) in a knee-dominant RDL; "
    "the outline bend reads about 0 deg at the bottom, below the 15 deg split",
)
def test_split_screen_right_half_reads_rounded(tmp_path: Path) -> None:
    assert bend_at_bottom_of_half("R", tmp_path).value_deg >= ROUNDED_MIN_DEG
