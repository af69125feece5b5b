"""Fixtures for the interop tests: a seeded synthetic sequence with holes, and the real example.

The real model runs at most once per session (``example_analysis`` in tests/conftest.py); every
other test works from landmarks.
"""

from __future__ import annotations

import numpy as np
import pytest

from movescreen.landmarks import NUM_LANDMARKS
from movescreen.types import LandmarkSequence


def make_sequence(n: int = 20, seed: int = 7) -> LandmarkSequence:
    """Random landmarks with a missing frame, a missing point and low-visibility points."""
    rng = np.random.default_rng(seed)
    img = np.empty((n, NUM_LANDMARKS, 3), np.float32)
    img[..., 0] = rng.uniform(0, 640, (n, NUM_LANDMARKS))
    img[..., 1] = rng.uniform(0, 480, (n, NUM_LANDMARKS))
    img[..., 2] = rng.uniform(-0.5, 0.5, (n, NUM_LANDMARKS))
    wld = rng.uniform(-1, 1, (n, NUM_LANDMARKS, 3)).astype(np.float32)
    vis = rng.uniform(0.6, 1.0, (n, NUM_LANDMARKS)).astype(np.float32)
    vis[3, 25] = 0.2  # left knee not trusted in frame 3
    img[5], wld[5], vis[5] = np.nan, np.nan, np.nan  # no pose in frame 5
    img[7, 0], wld[7, 0] = np.nan, np.nan  # nose missing in frame 7
    return LandmarkSequence(
        frame_index=np.arange(10, 10 + n, dtype=np.int64),
        time_s=np.arange(n) / 30.0,
        image_xyz=img, visibility=vis, presence=vis.copy(), world_xyz=wld,
        width=640, height=480, fps=30.0,
    )


@pytest.fixture
def synthetic_sequence() -> LandmarkSequence:
    return make_sequence()


def trusted(seq: LandmarkSequence, arr: np.ndarray, min_visibility: float = 0.5) -> np.ndarray:
    """``arr`` (T, 33, k) with the points below ``min_visibility`` set to NaN (what exports write)."""
    with np.errstate(invalid="ignore"):
        ok = np.asarray(seq.visibility) >= min_visibility
    return np.where(ok[..., None], np.asarray(arr, np.float64), np.nan)
