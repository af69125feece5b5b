"""The per-frame step: frames prepared on another thread give the same results as plain ones."""

from __future__ import annotations

import numpy as np

from movescreen.kinematics.shots import frame_signature
from movescreen.step import FrameStep, PreparedFrame, prepare_frame
from movescreen.types import Box, Frame
from tests.fakes import FakeBackend, candidate_at


class PreparingFakeBackend(FakeBackend):
    """A FakeBackend with ``prepare``: records which calls got a prepared input."""

    def __init__(self, script):
        super().__init__(script)
        self.prepared_calls: list[object] = []

    def prepare(self, image_bgr):
        return ("input", self.crop, image_bgr.shape)

    def process(self, image_bgr, timestamp_ms, *, prepared=None):
        self.prepared_calls.append(prepared)
        return super().process(image_bgr, timestamp_ms)


def _frames(n, seed=0):
    rng = np.random.default_rng(seed)
    return [Frame(i, i / 30, rng.integers(0, 255, (48, 64, 3), np.uint8)) for i in range(n)]


def _run(step, frames):
    out = []
    for f in frames:
        out += step.update(f)
    return out + step.flush()


def test_prepare_frame_computes_the_signature_and_keeps_the_frame():
    [f] = _frames(1)
    p = prepare_frame(f)
    assert isinstance(p, PreparedFrame) and isinstance(p, Frame)
    assert (p.index, p.time_s, p.image) == (f.index, f.time_s, f.image)
    np.testing.assert_array_equal(p.signature, frame_signature(f.image))
    assert p.model_input is None  # no backend: nothing else to prepare
    assert type(p.plain()) is Frame and p.plain().image is f.image


def test_prepared_frames_give_the_same_results_as_plain_frames():
    frames = _frames(20)
    script = [[candidate_at(5, 5, 30 + i % 3, 40)] for i in range(40)]
    plain_backend, prep_backend = FakeBackend(script), PreparingFakeBackend(script)
    plain = _run(FrameStep(plain_backend, letterbox_frames=4), frames)
    step = FrameStep(prep_backend, letterbox_frames=4)
    prepared = []
    for f in frames:  # prepared just before it is fed, as the decode thread does
        prepared += step.update(step.prepare(f))
    prepared += step.flush()
    assert len(plain) == len(prepared) == 20
    for a, b in zip(plain, prepared):
        assert (a.index, a.time_s, a.has_pose, a.bbox, a.people, a.others) == (
            b.index, b.time_s, b.has_pose, b.bbox, b.people, b.others)
        np.testing.assert_array_equal(a.image_xyz, b.image_xyz)
        assert a.frame_change == b.frame_change or (np.isnan(a.frame_change) and np.isnan(b.frame_change))
    assert plain_backend.timestamps == prep_backend.timestamps
    # frames prepared before the content box was decided carry no model input; later ones do
    assert prep_backend.prepared_calls[:4] == [None] * 4
    assert all(c is not None for c in prep_backend.prepared_calls[4:])


def test_prepare_before_the_decision_leaves_the_model_input_to_process():
    img = np.zeros((48, 64, 3), np.uint8)
    img[:, 16:48] = 120
    backend = PreparingFakeBackend([])
    step = FrameStep(backend, letterbox_frames=2)
    early = [step.prepare(Frame(i, i / 10, img)) for i in range(2)]
    assert all(p.model_input is None for p in early)
    _run(step, early)
    assert backend.crop == Box(16, 0, 48, 48)
    late = step.prepare(Frame(2, 0.2, img))
    assert late.model_input == ("input", Box(16, 0, 48, 48), (48, 64, 3))


def test_letterbox_rule_from_prepared_profiles_matches_the_images():
    rng = np.random.default_rng(3)
    frames = []
    for i in range(5):
        img = rng.integers(0, 15, (60, 80, 3), np.uint8)  # dark, noisy bars
        img[6:54, 12:70] = rng.integers(40, 255, (48, 58, 3), np.uint8)
        frames.append(Frame(i, i / 10, img))
    boxes = {}
    for mode in ("plain", "prepared"):
        step = FrameStep(FakeBackend([]), letterbox_frames=5)
        fed = frames if mode == "plain" else [step.prepare(f) for f in frames]
        if mode == "prepared":
            assert all(p.bars is not None and p.model_input is None for p in fed)
        _run(step, fed)
        boxes[mode] = step.content_box
    assert boxes["plain"] == boxes["prepared"] == Box(12, 6, 70, 54)


def test_no_profiles_without_the_letterbox_rule_or_after_it():
    [f] = _frames(1)
    assert FrameStep(FakeBackend([]), detect_bars=False).prepare(f).bars is None
    step = FrameStep(FakeBackend([]), letterbox_frames=1)
    _run(step, [f])
    assert step.prepare(f).bars is None


class CropRecordingBackend(FakeBackend):
    """Records the crop and whether the picture was empty (a tracker reset) at every call."""

    def __init__(self, script):
        super().__init__(script)
        self.calls: list[tuple[Box | None, bool]] = []

    def process(self, image_bgr, timestamp_ms):
        self.calls.append((self.crop, not image_bgr.any()))
        return super().process(image_bgr, timestamp_ms)


def _pillarboxed(n: int, bar: int) -> list[Frame]:
    rng = np.random.default_rng(1)
    out = []
    for i in range(n):
        img = np.zeros((48, 64, 3), np.uint8)
        img[:, bar:64 - bar] = rng.integers(60, 255, (48, 64 - 2 * bar, 3), np.uint8)
        out.append(Frame(i, i / 30, img))
    return out


def _early_then_decided(step: FrameStep, frames: list[Frame], n_box: int) -> None:
    for f in frames[:n_box - 1]:  # what live does, paced: each frame inferred at once
        step.update_early(f)
    step.decide_content_box([f.image for f in frames[:n_box]])
    for f in frames[n_box - 1:]:
        step.update(f)


def test_early_frames_are_inferred_inside_the_first_frames_box_and_kept_when_it_holds():
    frames = _pillarboxed(8, bar=12)
    backend = CropRecordingBackend([[candidate_at(20, 10, 44, 40)]] * 20)
    step = FrameStep(backend, letterbox_frames=4)
    _early_then_decided(step, frames, 4)
    box = Box(12, 0, 52, 48)
    assert step.content_box == box
    assert backend.calls == [(box, False)] * 8  # one crop throughout, no tracker reset


def test_a_different_final_box_resets_the_tracker_once():
    frames = _pillarboxed(8, bar=12)
    frames[0].image[:, :20] = 0  # the first frame alone has a wider dark edge on the left
    backend = CropRecordingBackend([[candidate_at(20, 10, 44, 40)]] * 20)
    step = FrameStep(backend, letterbox_frames=4)
    _early_then_decided(step, frames, 4)
    early, final = backend.calls[0][0], step.content_box
    assert early == Box(20, 0, 52, 48) and final == Box(12, 0, 52, 48)
    assert backend.calls[:3] == [(early, False)] * 3
    assert backend.calls[3] == (final, True)  # the empty picture: the tracker lets go
    assert backend.calls[4:] == [(final, False)] * 5
    assert step.cuts == 0  # not counted as a cut between shots


def test_a_clip_shorter_than_the_rule_after_early_frames_leaves_nothing_to_flush():
    frames = _pillarboxed(3, bar=12)
    backend = CropRecordingBackend([[candidate_at(20, 10, 44, 40)]] * 5)
    step = FrameStep(backend, letterbox_frames=4)
    results = [step.update_early(f) for f in frames]
    assert [r.index for r in results] == [0, 1, 2]
    assert step.flush() == []  # no frame is inferred twice
    assert len(backend.calls) == 3
