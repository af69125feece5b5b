"""Pose stage without the model: MediaPipe result conversion, subject choice, the frame loop."""

from __future__ import annotations

import numpy as np
import pytest

from movescreen.landmarks import NUM_LANDMARKS
from movescreen.pose.estimate import estimate_landmarks
from movescreen.pose.mediapipe_backend import from_mediapipe
from movescreen.pose.subject import choose_subject, count_others
from movescreen.types import Box, Frame, VideoInfo
from tests.fakes import FakeBackend, FakeLandmark, FakeMask, FakeResult, candidate_at, fake_person


def test_from_mediapipe_maps_crop_to_full_frame_pixels():
    lms = [FakeLandmark(0.5, 0.25, z=-0.1) for _ in range(NUM_LANDMARKS)]
    world = [FakeLandmark(0.1, -0.5, 0.2) for _ in range(NUM_LANDMARKS)]
    crop = Box(437, 0, 843, 720)  # the picture inside pillar-box bars
    [c] = from_mediapipe(FakeResult([lms], [world]), crop=crop)
    assert c.image_xyz[0, 0] == pytest.approx(437 + 0.5 * 406)
    assert c.image_xyz[0, 1] == pytest.approx(0.25 * 720)
    assert c.image_xyz[0, 2] == pytest.approx(-0.1)
    assert c.world_xyz[5].tolist() == pytest.approx([0.1, -0.5, 0.2])
    assert c.visibility[0] == pytest.approx(0.9)
    assert c.mask is None


def test_from_mediapipe_copies_and_crops_mask():
    person = fake_person(0.5, 0.5, 0.3)
    mask = np.zeros((100, 200, 1), np.float32)
    mask[40:60, 90:110] = 1.0
    res = FakeResult([person], [person], [FakeMask(mask)])
    [c] = from_mediapipe(res, crop=Box(50, 10, 250, 110), with_masks=True)
    mask[:] = 0.5  # MediaPipe reuses its buffers: our copy must not change
    m = c.mask
    assert m is not None and m.mask.dtype == np.uint8
    ys, xs = np.nonzero(m.mask > 127)
    assert xs.min() + m.x0 == 50 + 90 and ys.min() + m.y0 == 10 + 40
    assert (m.mask > 127).sum() == 400


def test_from_mediapipe_missing_visibility_becomes_nan_and_short_lists_are_skipped():
    lms = [FakeLandmark(0.1, 0.1, visibility=None) for _ in range(NUM_LANDMARKS)]
    out = from_mediapipe(FakeResult([lms, lms[:5]], []), crop=Box(0, 0, 10, 10))
    assert len(out) == 1
    assert np.isnan(out[0].visibility).all()
    assert np.isnan(out[0].world_xyz).all()


def test_choose_subject_prefers_largest_then_keeps_track():
    small, big = candidate_at(0, 0, 50, 100), candidate_at(200, 0, 300, 300)
    assert choose_subject([small, big], None) == 1
    # the small person is the subject we follow: keep them even though someone larger appears
    assert choose_subject([big, candidate_at(2, 0, 52, 100)], small.bbox()) == 1
    # subject gone (no overlap): fall back to the largest
    assert choose_subject([small, big], (900, 900, 950, 950)) == 1
    assert choose_subject([], None) is None
    assert count_others([small, big], big.bbox()) == 1


def _frames(n, fps=10.0, size=(48, 64)):
    for i in range(n):
        yield Frame(i, i / fps, np.full((*size, 3), 100, np.uint8))


class ListSource:
    def __init__(self, frames, info):
        self._frames, self.info, self.warnings = list(frames), info, []

    def __iter__(self):
        return iter(self._frames)

    def close(self):
        pass


def test_estimate_landmarks_builds_sequence_with_nan_gaps_and_people_warning():
    info = VideoInfo("x.mp4", 10.0, 6, 64, 48, 0.6)
    a, b = candidate_at(0, 0, 20, 40), candidate_at(40, 0, 60, 40)
    script = [[a], [a], [], [a, b], [a], [a]]
    backend = FakeBackend(script)
    run = estimate_landmarks(ListSource(_frames(6), info), lambda: backend, detect_bars=False)
    seq = run.sequence
    assert len(seq) == 6 and backend.closed
    assert backend.timestamps == [0, 100, 200, 300, 400, 500]
    assert seq.has_pose.tolist() == [True, True, False, True, True, True]
    assert np.isnan(seq.image_xyz[2]).all()
    assert run.max_people_seen == 2
    assert any("2 people" in w for w in run.warnings)


def test_estimate_landmarks_scanner_counts_others():
    info = VideoInfo("x.mp4", 10.0, 30, 64, 48, 3.0)
    a, b = candidate_at(0, 0, 20, 40), candidate_at(40, 0, 60, 40)
    backend = FakeBackend([[a]] * 30)
    scanner = FakeBackend([[a, b]] * 30)
    run = estimate_landmarks(
        ListSource(_frames(30), info), lambda: backend, make_scanner=lambda: scanner,
        scan_interval_s=1.0, detect_bars=False,
    )
    # the scan runs on a background thread on the newest due frame (t = 0, 1, 2 s): a due frame
    # may replace one still waiting, but the last one is always scanned
    assert 1 <= len(scanner.timestamps) <= 3 and scanner.timestamps[-1] == 2000
    assert run.max_people_seen == 2 and run.scans == len(scanner.timestamps)
    assert scanner.closed and backend.closed


def test_estimate_landmarks_passes_content_box_to_backend():
    info = VideoInfo("x.mp4", 10.0, 3, 64, 48, 0.3)
    frames = []
    for i in range(3):
        img = np.zeros((48, 64, 3), np.uint8)
        img[:, 16:48] = 120
        frames.append(Frame(i, i / 10, img))
    backend = FakeBackend([])
    run = estimate_landmarks(ListSource(frames, info), lambda: backend)
    assert backend.crop == Box(16, 0, 48, 48)
    assert run.info.content_box == Box(16, 0, 48, 48)
    assert not run.sequence.has_pose.any()


def test_estimate_landmarks_hands_prepared_inputs_to_the_backend_and_plain_frames_out():
    from tests.test_step import PreparingFakeBackend

    info = VideoInfo("x.mp4", 10.0, 30, 64, 48, 3.0)
    a = candidate_at(0, 0, 20, 40)
    backend = PreparingFakeBackend([[a]] * 30)
    seen: list[type] = []
    run = estimate_landmarks(ListSource(_frames(30), info), lambda: backend, detect_bars=False,
                             on_frame=lambda fr, res: seen.append(type(fr)))
    assert run.sequence.has_pose.all() and len(run.sequence) == 30
    assert seen == [Frame] * 30  # callers keep plain frames, never the model inputs
    # the decode thread prepares once the step exists (it may be a few frames ahead before)
    assert sum(c is not None for c in backend.prepared_calls) >= 20


def test_estimate_landmarks_scan_model_failure_is_raised_and_models_closed():
    # the scan's model loads on the scan thread: its failure is raised when the run ends
    from movescreen.errors import ModelError

    info = VideoInfo("x.mp4", 10.0, 5, 64, 48, 0.5)
    backend = FakeBackend([[candidate_at(0, 0, 20, 40)]] * 5)

    def broken_scanner():
        raise ModelError("damaged copy")

    with pytest.raises(ModelError, match="damaged copy"):
        estimate_landmarks(ListSource(_frames(5), info), lambda: backend,
                           make_scanner=broken_scanner, detect_bars=False)
    assert backend.closed


def test_deferred_masks_resolve_to_the_same_crop_and_keep_the_mask_object():
    from movescreen.pose.mediapipe_backend import PendingMask, resolve_mask

    person = fake_person(0.5, 0.5, 0.3)
    mask = np.zeros((100, 200, 1), np.float32)
    mask[40:60, 90:110] = 0.8
    fake = FakeMask(mask)
    res = FakeResult([person], [person], [fake])
    [now] = from_mediapipe(res, crop=Box(50, 10, 250, 110), with_masks=True)
    [later] = from_mediapipe(res, crop=Box(50, 10, 250, 110), with_masks=True, defer_masks=True)
    assert isinstance(later.mask, PendingMask)
    del res, fake  # the pending mask keeps MediaPipe's object (and so its pixels) alive
    m = resolve_mask(later.mask)
    assert (m.x0, m.y0) == (now.mask.x0, now.mask.y0)
    np.testing.assert_array_equal(m.mask, now.mask.mask)
    assert resolve_mask(now.mask) is now.mask


def test_estimate_landmarks_measures_deferred_masks_like_cropped_ones():
    from movescreen.pose.mediapipe_backend import from_mediapipe as convert

    info = VideoInfo("x.mp4", 10.0, 6, 200, 100, 0.6)
    person = fake_person(0.5, 0.5, 0.4)
    mask = np.zeros((100, 200, 1), np.float32)
    mask[20:80, 80:120] = 1.0

    class MaskBackend(FakeBackend):
        def __init__(self, defer):
            super().__init__([])
            if defer:
                self.defer_masks = False  # estimate_landmarks switches it on

        def process(self, image_bgr, timestamp_ms):
            super().process(image_bgr, timestamp_ms)
            res = FakeResult([person], [person], [FakeMask(mask.copy())])
            return convert(res, crop=Box(0, 0, 200, 100), with_masks=True,
                           defer_masks=getattr(self, "defer_masks", False))

    runs = []
    for defer in (False, True):
        b = MaskBackend(defer)
        runs.append(estimate_landmarks(ListSource(_frames(6, size=(100, 200)), info), lambda b=b: b,
                                       detect_bars=False))
        assert getattr(b, "defer_masks", False) is defer
    a, b = runs
    assert a.mask_columns.keys() == b.mask_columns.keys()
    for k in a.mask_columns:
        np.testing.assert_array_equal(a.mask_columns[k], b.mask_columns[k])
    assert repr(a.back_traces) == repr(b.back_traces)
