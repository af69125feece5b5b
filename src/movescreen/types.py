"""Data types at the centre of the pipeline.

Every type is a frozen dataclass that checks its arrays once, when it is built, and is trusted
after that. Arrays are never modified in place by movescreen code: functions return new objects.

Conventions
-----------
- Missing or untrusted values are NaN, never (0, 0).
- Image coordinates are pixels of the full (rotated, un-cropped) frame, origin top-left, y down.
- World coordinates are MediaPipe's metric world landmarks: metres, origin between the hips,
  y down (gravity roughly +y when the camera is level), x to the image right, z towards/away
  from the camera.
- Times are seconds from the start of the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from movescreen.landmarks import NUM_LANDMARKS

FloatArray = npt.NDArray[np.floating[Any]]
IntArray = npt.NDArray[np.integer[Any]]


@dataclass(frozen=True)
class Frame:
    """One decoded frame.

    Attributes
    ----------
    index : int
        Position of the frame in decode order, from 0.
    time_s : float
        Presentation time in seconds from the start of the source (container timestamps).
    image : ndarray, shape (H, W, 3), uint8
        BGR image, already rotated upright.
    """

    index: int
    time_s: float
    image: npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Box:
    """An axis-aligned pixel rectangle ``[x0, x1) x [y0, y1)``."""

    x0: int
    y0: int
    x1: int
    y1: int

    def __post_init__(self) -> None:
        if not (self.x1 > self.x0 and self.y1 > self.y0):
            raise ValueError(f"expected a non-empty box, got {self}")

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def as_dict(self) -> dict[str, int]:
        return {"x0": self.x0, "y0": self.y0, "x1": self.x1, "y1": self.y1}


@dataclass(frozen=True)
class VideoInfo:
    """What a frame source reports about itself.

    ``frame_count`` is the container's count before decoding (0 when unknown, e.g. a webcam);
    the pipeline replaces it by the number of frames actually decoded.
    """

    path: str
    fps: float
    frame_count: int
    width: int
    height: int
    duration_s: float
    rotation_deg: int = 0
    kind: str = "video"  # "video" | "camera" | "images" | "landmarks"
    content_box: Box | None = None  # picture inside black bars, when bars were found

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "fps": round(float(self.fps), 4),
            "frame_count": int(self.frame_count),
            "width": int(self.width),
            "height": int(self.height),
            "duration_s": round(float(self.duration_s), 4),
            "rotation_deg": int(self.rotation_deg),
            "content_box": None if self.content_box is None else self.content_box.as_dict(),
        }


@dataclass(frozen=True)
class MaskCrop:
    """A person-segmentation mask, cropped to the region around the person.

    Attributes
    ----------
    x0, y0 : int
        Pixel position of ``mask[0, 0]`` in the full frame.
    mask : ndarray, shape (h, w), uint8
        Probability that the pixel belongs to the person, scaled to 0..255.
    """

    x0: int
    y0: int
    mask: npt.NDArray[np.uint8]

    def __post_init__(self) -> None:
        if self.mask.ndim != 2 or self.mask.dtype != np.uint8:
            raise ValueError(
                f"expected a 2-D uint8 mask, got shape {self.mask.shape} {self.mask.dtype}"
            )


def _check(name: str, arr: np.ndarray, shape: tuple[int | None, ...]) -> None:
    if arr.ndim != len(shape) or any(s is not None and a != s for a, s in zip(arr.shape, shape)):
        raise ValueError(f"expected {name} with shape {shape}, got {arr.shape}")


@dataclass(frozen=True)
class LandmarkSequence:
    """Pose landmarks of one person over time.

    Attributes
    ----------
    frame_index : ndarray, shape (T,), int64
    time_s : ndarray, shape (T,), float64, non-decreasing
    image_xyz : ndarray, shape (T, 33, 3), float32
        x, y in pixels of the full frame; z is MediaPipe's relative depth (same scale as x
        in normalised units; smaller is closer to the camera).
    visibility, presence : ndarray, shape (T, 33), float32, 0..1
    world_xyz : ndarray, shape (T, 33, 3), float32, metres
    width, height : int
        Frame size in pixels.
    fps : float
        Nominal frame rate of the source.
    masks : dict[int, MaskCrop]
        Segmentation masks keyed by row (0..T-1), when they were requested.
    """

    frame_index: IntArray
    time_s: FloatArray
    image_xyz: FloatArray
    visibility: FloatArray
    presence: FloatArray
    world_xyz: FloatArray
    width: int
    height: int
    fps: float
    masks: dict[int, MaskCrop] = field(default_factory=dict)

    def __post_init__(self) -> None:
        t = len(self.frame_index)
        _check("frame_index", self.frame_index, (t,))
        _check("time_s", self.time_s, (t,))
        _check("image_xyz", self.image_xyz, (t, NUM_LANDMARKS, 3))
        _check("visibility", self.visibility, (t, NUM_LANDMARKS))
        _check("presence", self.presence, (t, NUM_LANDMARKS))
        _check("world_xyz", self.world_xyz, (t, NUM_LANDMARKS, 3))
        if t > 1 and np.any(np.diff(self.time_s) < 0):
            raise ValueError("expected non-decreasing time_s, got a time that goes backwards")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"expected a positive frame size, got {self.width}x{self.height}")
        if not np.isfinite(self.fps) or self.fps <= 0:
            raise ValueError(f"expected a positive fps, got {self.fps}")

    def __len__(self) -> int:
        return len(self.frame_index)

    @property
    def has_pose(self) -> npt.NDArray[np.bool_]:
        """Frames (rows) where the subject's pose was found: shape (T,)."""
        return np.asarray(np.isfinite(self.image_xyz[:, :, 0]).any(axis=1))

    @classmethod
    def empty(cls, n_frames: int, width: int, height: int, fps: float) -> LandmarkSequence:
        """An all-NaN sequence of ``n_frames`` frames at ``fps``."""
        nan3 = np.full((n_frames, NUM_LANDMARKS, 3), np.nan, np.float32)
        nan2 = np.full((n_frames, NUM_LANDMARKS), np.nan, np.float32)
        return cls(
            frame_index=np.arange(n_frames, dtype=np.int64),
            time_s=np.arange(n_frames, dtype=np.float64) / fps,
            image_xyz=nan3,
            visibility=nan2,
            presence=nan2.copy(),
            world_xyz=nan3.copy(),
            width=width,
            height=height,
            fps=fps,
        )


@dataclass(frozen=True)
class Rep:
    """One repetition of a movement, with its phases and metrics.

    Frame numbers are source frame numbers (``LandmarkSequence.frame_index`` values).

    Attributes
    ----------
    index : int
        1-based position in the clip (as shown to people).
    start_frame, bottom_frame, end_frame : int
        Where the rep leaves its starting position, its deepest frame, and where it is back.
    order : str
        'top_first' (squat, RDL: top -> bottom -> top) or 'bottom_first' (a deadlift from the
        floor: bottom -> lockout -> bottom).
    turn_frame : int
        The turning point: the bottom for 'top_first', the lockout for 'bottom_first'.
    descent_s, pause_s, ascent_s, total_s : float
        Tempo in seconds. ``pause_s`` is the hold at the turning point (the bottom of a squat,
        the lockout of a deadlift from the floor).
    partial : bool
        True when the rep is shallower than 60 % of the clip's typical rep, or cut off by the
        start or end of the clip or by missing frames.
    partial_reason : str
        Why it is partial ('' when it is not).
    view : str
        Camera view during the rep.
    metrics : dict[str, float]
        Per-rep measures (degrees or ratios, NaN when not measurable).
    """

    index: int
    start_frame: int
    bottom_frame: int
    end_frame: int
    order: str
    turn_frame: int
    descent_s: float
    pause_s: float
    ascent_s: float
    total_s: float
    partial: bool
    partial_reason: str = ""
    view: str = "unknown"
    metrics: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain types for JSON (NaN floats are left as NaN)."""
        return {
            "index": self.index,
            "start_frame": self.start_frame,
            "bottom_frame": self.bottom_frame,
            "end_frame": self.end_frame,
            "turn_frame": self.turn_frame,
            "order": self.order,
            "tempo": {
                "descent_s": float(self.descent_s),
                "pause_s": float(self.pause_s),
                "ascent_s": float(self.ascent_s),
                "total_s": float(self.total_s),
            },
            "partial": self.partial,
            "partial_reason": self.partial_reason,
            "view": self.view,
            "metrics": {k: float(v) for k, v in self.metrics.items()},
        }
