"""Frame subsampling for --analysis-fps: which frames are kept, and the source wrapper."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movescreen.errors import InputError
from movescreen.sources import SubsampledSource, select_every_k, subsample_frames
from movescreen.types import Frame, VideoInfo

IMG = np.zeros((2, 2, 3), np.uint8)


def frames_at(times):
    return [Frame(i, float(t), IMG) for i, t in enumerate(times)]


@pytest.mark.parametrize(
    ("fps", "target", "step"),
    [
        (30.0, 15.0, 2),
        (60.0, 15.0, 4),
        (25.0, 15.0, 2),
        (30.0, 20.0, 2),
        (30.0, 10.0, 3),
        (30.0, 29.0, 1),
    ],
)
def test_constant_rate_keeps_every_kth_frame(fps, target, step):
    fr = frames_at(np.arange(90) / fps)
    kept = [f.index for f in subsample_frames(fr, target)]
    assert kept == list(range(0, 90, step))
    assert select_every_k(fps, target) == step


def test_none_and_higher_target_pass_everything_and_keep_times():
    fr = frames_at(np.arange(10) / 30)
    assert list(subsample_frames(fr, None)) == fr
    assert list(subsample_frames(fr, 60.0)) == fr
    kept = list(subsample_frames(fr, 15.0))
    assert [f.time_s for f in kept] == [fr[i].time_s for i in range(0, 10, 2)]  # container times


def test_millisecond_rounded_timestamps_stay_uniform():
    times = np.round(np.arange(120) / 30.0, 3)  # what a 1/1000 time base gives
    kept = [f.index for f in subsample_frames(frames_at(times), 15.0)]
    assert np.all(np.diff(kept) == 2)


@pytest.mark.parametrize("bad", [0.0, -5.0, float("nan"), float("inf")])
def test_bad_target_is_an_input_error(bad):
    with pytest.raises(InputError, match="positive analysis frame rate"):
        list(subsample_frames(frames_at([0.0, 0.1]), bad))


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.floats(0.001, 0.2), min_size=1, max_size=200),
    target=st.floats(1.0, 120.0),
)
def test_variable_rate_property(gaps, target):
    times = np.concatenate([[0.0], np.cumsum(gaps)])
    fr = frames_at(times)
    kept = list(subsample_frames(fr, target))
    kept_t = np.array([f.time_s for f in kept])
    assert kept[0] is fr[0]
    assert np.all(np.diff(kept_t) >= 0.9 / target - 1e-12)  # never faster than the target
    # every dropped frame was dropped for a reason: too close to the last kept one
    kept_idx = {f.index for f in kept}
    last = None
    for f in fr:
        if f.index in kept_idx:
            last = f.time_s
        else:
            assert f.time_s - last < 0.9 / target


class _FakeSource:
    def __init__(self, n, fps):
        self.info = VideoInfo("x.mp4", fps, n, 4, 4, n / fps)
        self.warnings = ["w"]
        self.closed = False
        self._frames = frames_at(np.arange(n) / fps)

    def __iter__(self):
        return iter(self._frames)

    def close(self):
        self.closed = True


def test_subsampled_source_reports_the_analysed_rate():
    src = _FakeSource(61, 30.0)
    sub = SubsampledSource(src, 15.0)
    assert sub.info.fps == 15.0 and sub.source_fps == 30.0
    frames = list(sub)
    assert sub.info.frame_count == len(frames) == 31
    assert sub.warnings == ["w"]
    sub.close()
    assert src.closed
