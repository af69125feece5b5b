"""Background lines found on the frames (kinematics/scene_lines.py): drawn pictures with known
line tilts, a person box, black bars, and the sampling of frames."""

from __future__ import annotations

import math
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from movescreen.kinematics.scene_lines import (
    SCENE_SD,
    SCENE_TILT,
    SceneLineSampler,
    scene_vertical_columns,
)
from movescreen.landmarks import INDEX
from movescreen.types import Box

W, H = 640, 480


def picture(tilt_deg: float, xs=(60, 140, 500, 580), bars: int = 0) -> np.ndarray:
    """Grey wall with dark posts whose tops lean ``tilt_deg`` towards image-right."""
    img = np.full((H, W, 3), 170, np.uint8)
    t = math.tan(math.radians(tilt_deg))
    for x in xs:  # a post from y=40 to y=440, leaning
        top, bottom = (x + t * 200, 40), (x - t * 200, 440)
        cv2.line(img, (round(top[0]), top[1]), (round(bottom[0]), bottom[1]), (40, 40, 40), 6)
    if bars:
        img[:, :bars] = 0
        img[:, W - bars:] = 0
    return img


def person_rows(n: int, box=(250, 60, 390, 460)) -> np.ndarray:
    """Image landmarks whose box is ``box`` (x0, y0, x1, y1), hips at its middle column."""
    x0, y0, x1, y1 = box
    xyz = np.zeros((n, 33, 3))
    xyz[:, :, 0] = np.linspace(x0, x1, 33)
    xyz[:, :, 1] = np.linspace(y0, y1, 33)
    xyz[:, INDEX["left_hip"], 0] = xyz[:, INDEX["right_hip"], 0] = 0.5 * (x0 + x1)
    return xyz


def frames(images):
    return [SimpleNamespace(index=i, image=im, time_s=i / 30) for i, im in enumerate(images)]


def run_sampler(images, **kw) -> SceneLineSampler:
    s = SceneLineSampler(frames(images), **kw)
    assert [f.index for f in s] == list(range(len(images)))  # frames pass through unchanged
    return s


@pytest.mark.parametrize("tilt", [-6.0, 0.0, 4.0])
def test_posts_drawn_with_a_known_tilt_give_that_tilt(tilt):
    n = 60
    s = run_sampler([picture(tilt)] * n)
    cols = scene_vertical_columns(s.samples, np.arange(n), person_rows(n), [], width=W, height=H)
    assert np.isfinite(cols[SCENE_TILT]).all()
    assert cols[SCENE_TILT][0] == pytest.approx(tilt, abs=0.7)
    assert 1.0 <= cols[SCENE_SD][0] < 2.0  # never below the stated 1 deg floor


def test_lines_on_the_person_are_not_scene_verticals():
    n = 30
    # the only posts stand inside the person's box: nothing to measure the vertical from
    s = run_sampler([picture(5.0, xs=(300, 340))] * n)
    cols = scene_vertical_columns(s.samples, np.arange(n), person_rows(n), [], width=W, height=H)
    assert np.isnan(cols[SCENE_TILT]).all() and np.isnan(cols[SCENE_SD]).all()


def test_black_bar_edges_are_not_scene_verticals():
    n = 30
    # no posts, only pillarbox bars: their edges are exactly vertical in the picture
    s = run_sampler([picture(0.0, xs=(), bars=80)] * n)
    box = Box(80, 0, W - 80, H)
    cols = scene_vertical_columns(s.samples, np.arange(n), person_rows(n), [], width=W, height=H,
                                  content_box=box)
    assert np.isnan(cols[SCENE_TILT]).all()
    # tilted posts inside the bars are still found, the bars' edges do not pull them to 0
    s = run_sampler([picture(6.0, xs=(130, 200, 470, 520), bars=80)] * n)
    cols = scene_vertical_columns(s.samples, np.arange(n), person_rows(n), [], width=W, height=H,
                                  content_box=box)
    assert cols[SCENE_TILT][0] == pytest.approx(6.0, abs=0.8)


def test_each_shot_gets_its_own_vertical():
    n = 120  # a cut at frame 60: the camera was level, then rolled 5 deg
    s = run_sampler([picture(0.0)] * 60 + [picture(5.0)] * 60)
    shots = [{"start_frame": 0, "end_frame": 59}, {"start_frame": 60, "end_frame": 119}]
    cols = scene_vertical_columns(s.samples, np.arange(n), person_rows(n), shots, width=W, height=H)
    assert cols[SCENE_TILT][:60] == pytest.approx(np.zeros(60), abs=0.7)
    assert cols[SCENE_TILT][60:] == pytest.approx(np.full(60, 5.0), abs=0.7)


def test_sampling_stays_bounded_and_spread_whatever_the_length():
    class Tally(SceneLineSampler):
        calls = 0

        def detect(self, image):
            Tally.calls += 1
            return np.zeros((0, 4))

    blank = np.zeros((8, 8, 3), np.uint8)
    for n in (10, 100, 1000, 20_000):
        Tally.calls = 0
        s = Tally(frames([blank] * n), first_stride=15, max_samples=16)
        for _ in s:
            pass
        kept = sorted(s.samples)
        assert kept[0] == 0 and len(kept) <= 16
        if n >= 16 * 15:
            assert len(kept) >= 8  # between half and all of max_samples
            assert np.ptp(np.diff(kept)) == 0  # evenly spread
            assert kept[-1] >= n - 2 * s.stride  # reaching the clip's end
        assert Tally.calls <= 16 + 8 * math.log2(max(n / 240, 1)) + 1  # the detector ran rarely
