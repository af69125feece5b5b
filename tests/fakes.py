"""Fake MediaPipe results and a fake pose backend, so the core runs without the model."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from movescreen.landmarks import NUM_LANDMARKS
from movescreen.pose.backend import PoseCandidate


@dataclass
class FakeLandmark:
    x: float
    y: float
    z: float = 0.0
    visibility: float | None = 0.9
    presence: float | None = 0.95


class FakeMask:
    def __init__(self, arr: np.ndarray) -> None:
        self._arr = arr

    def numpy_view(self) -> np.ndarray:
        return self._arr


@dataclass
class FakeResult:
    pose_landmarks: list = field(default_factory=list)
    pose_world_landmarks: list = field(default_factory=list)
    segmentation_masks: list | None = None


def fake_person(cx: float, cy: float, scale: float, *, n: int = NUM_LANDMARKS) -> list[FakeLandmark]:
    """A person as normalised landmarks spread around (cx, cy) with size ``scale``."""
    rng = np.random.default_rng(int(cx * 1000 + cy * 100))
    offs = rng.uniform(-0.5, 0.5, (n, 2)) * scale
    return [FakeLandmark(cx + dx, cy + dy, z=0.1 * i / n) for i, (dx, dy) in enumerate(offs)]


def candidate_at(x0: float, y0: float, x1: float, y1: float) -> PoseCandidate:
    """A pose candidate whose landmarks span the pixel box (x0, y0)-(x1, y1)."""
    xs = np.linspace(x0, x1, NUM_LANDMARKS, dtype=np.float32)
    ys = np.linspace(y0, y1, NUM_LANDMARKS, dtype=np.float32)
    img = np.stack([xs, ys, np.zeros_like(xs)], axis=1)
    ones = np.ones(NUM_LANDMARKS, np.float32)
    return PoseCandidate(img, ones, ones, np.zeros((NUM_LANDMARKS, 3), np.float32))


class FakeBackend:
    """Returns scripted candidates per call and records the timestamps it was given."""

    def __init__(self, script: list[list[PoseCandidate]]) -> None:
        self.script = script
        self.crop = None
        self.timestamps: list[int] = []
        self.closed = False

    def process(self, image_bgr, timestamp_ms):
        self.timestamps.append(timestamp_ms)
        i = len(self.timestamps) - 1
        return self.script[i] if i < len(self.script) else []

    def close(self) -> None:
        self.closed = True
