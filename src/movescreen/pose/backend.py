"""The pose backend protocol and the per-frame candidate type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from movescreen.landmarks import NUM_LANDMARKS
from movescreen.types import Box, MaskCrop


@dataclass(frozen=True)
class PoseCandidate:
    """One person's pose in one frame, in full-frame pixels.

    Attributes
    ----------
    image_xyz : ndarray, shape (33, 3), float32
        x, y in pixels; z relative depth.
    visibility, presence : ndarray, shape (33,), float32
    world_xyz : ndarray, shape (33, 3), float32, metres
    mask : MaskCrop or None
    """

    image_xyz: npt.NDArray[np.float32]
    visibility: npt.NDArray[np.float32]
    presence: npt.NDArray[np.float32]
    world_xyz: npt.NDArray[np.float32]
    mask: MaskCrop | None = None

    def __post_init__(self) -> None:
        if self.image_xyz.shape != (NUM_LANDMARKS, 3) or self.world_xyz.shape != (
            NUM_LANDMARKS,
            3,
        ):
            raise ValueError(
                f"expected (33, 3) landmarks, got {self.image_xyz.shape}, {self.world_xyz.shape}"
            )

    def bbox(self, min_visibility: float = 0.3) -> tuple[float, float, float, float]:
        """Box (x0, y0, x1, y1) around the landmarks that are likely visible."""
        ok = self.visibility >= min_visibility
        pts = self.image_xyz[ok if ok.sum() >= 4 else slice(None), :2]
        return (
            float(pts[:, 0].min()),
            float(pts[:, 1].min()),
            float(pts[:, 0].max()),
            float(pts[:, 1].max()),
        )

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.bbox()
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)


class PoseBackend(Protocol):
    """A pose estimator that takes frames in time order.

    ``process`` receives an upright BGR image and a strictly increasing timestamp in
    milliseconds and returns every person it found (possibly none). ``crop`` (settable) limits
    the model to the picture inside black bars; landmarks still come back in full-frame pixels.
    """

    crop: Box | None

    def process(self, image_bgr: npt.NDArray[np.uint8], timestamp_ms: int) -> list[PoseCandidate]: ...

    def close(self) -> None: ...


class PreparingBackend(PoseBackend, Protocol):
    """A backend that can make a frame's model input ahead of time, on another thread.

    ``prepare`` (safe to call from any thread) returns what ``process`` would make from the
    frame first (for MediaPipe: the RGB copy of the part inside ``crop``);
    ``process(image, ts, prepared=...)`` then only infers. ``process`` checks that the prepared
    input still matches ``crop`` and makes its own when it does not, so a stale one costs time,
    never a wrong result.
    """

    def prepare(self, image_bgr: npt.NDArray[np.uint8]) -> Any: ...

    def process(
        self, image_bgr: npt.NDArray[np.uint8], timestamp_ms: int, *, prepared: Any = None
    ) -> list[PoseCandidate]: ...
