"""MediaPipe PoseLandmarker (Tasks API) as a :class:`~movescreen.pose.backend.PoseBackend`.

``from_mediapipe`` is the only code that knows MediaPipe's result objects. Masks are copied out
of MediaPipe's buffers at once, or later by :class:`PendingMask`, which keeps MediaPipe's mask
object (and so its pixels: ``Image.create_from_ctypes`` extends their lifetime to the object's)
alive until then; a bare view of the buffer is valid only as long as that object.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from movescreen.errors import ModelError
from movescreen.landmarks import NUM_LANDMARKS
from movescreen.pose.backend import PoseCandidate
from movescreen.pose.model import ModelFile
from movescreen.types import Box, MaskCrop

MASK_SEARCH = 0.6  # how far around the landmark box (fraction of its size) the person mask is sought
_QUIET_CALLS = 3  # MediaPipe's native code logs on creation, the first frames and close


_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved: int | None = None


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence the C++ log lines MediaPipe/LiteRT write straight to file descriptor 2.

    They are not errors (model-loading notes, alignment hints) but bury our one-sentence
    messages. Set ``MOVESCREEN_NATIVE_LOGS=1`` to see them.

    Safe from several threads at once (the tracker and the people scan): one process-wide
    count under a lock; the first entrant saves fd 2 and points it at /dev/null, the last one
    to leave restores it. (Saving and restoring per thread could leave another thread's
    /dev/null in place for good, and every later error message vanished.)
    """
    global _quiet_depth, _quiet_saved
    if os.environ.get("MOVESCREEN_NATIVE_LOGS") == "1":
        yield
        return
    fd = 2  # where native code writes, whatever Python's sys.stderr is (see own_python_stderr)
    try:
        os.fstat(fd)
    except OSError:  # no file descriptor 2 at all: nothing to silence
        yield
        return
    with _quiet_lock:
        if _quiet_depth == 0:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            _quiet_saved = os.dup(fd)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, fd)
            os.close(devnull)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0 and _quiet_saved is not None:
                os.dup2(_quiet_saved, fd)
                os.close(_quiet_saved)
                _quiet_saved = None


_own_stderr_done = False


def own_python_stderr() -> None:
    """Give Python's ``sys.stderr`` its own file descriptor (a duplicate of fd 2), once per
    process, so that :func:`quiet_native_stderr` silencing fd 2 for MediaPipe's native log
    lines can never swallow a message of ours written meanwhile by another thread (a progress
    line, a warning, an error sentence). Native code keeps writing to fd 2.

    Called first thing by the command line and by each batch worker; does nothing when
    ``sys.stderr`` is not fd 2 (captured by a test, redirected by an embedding program).
    """
    global _own_stderr_done
    if _own_stderr_done:
        return
    try:
        if sys.stderr is None or sys.stderr.fileno() != 2:
            return
        sys.stderr.flush()
        fd = os.dup(2)  # not inherited by child processes (they get fd 2 itself)
    except (AttributeError, OSError, ValueError):
        return
    enc, errors = sys.stderr.encoding or "utf-8", sys.stderr.errors or "backslashreplace"
    sys.stderr = open(fd, "w", buffering=1, encoding=enc, errors=errors, closefd=True)  # noqa: SIM115
    _own_stderr_done = True


def from_mediapipe(
    result: Any,
    *,
    crop: Box,
    with_masks: bool = False,
    defer_masks: bool = False,
) -> list[PoseCandidate]:
    """Convert a ``PoseLandmarkerResult`` for an image ``crop`` into full-frame candidates.

    Parameters
    ----------
    result : PoseLandmarkerResult
        ``pose_landmarks`` (normalised to the crop), ``pose_world_landmarks`` (metres),
        optionally ``segmentation_masks`` (float32 in 0..1, the crop's size).
    crop : Box
        Where the image given to MediaPipe sits in the full frame (the whole frame when there
        are no black bars).
    defer_masks : bool
        Give each candidate a :class:`PendingMask` (MediaPipe's mask kept as it is, cropped
        when ``resolve`` is called, e.g. on a worker thread) instead of a :class:`MaskCrop`.
    """
    out: list[PoseCandidate] = []
    masks = getattr(result, "segmentation_masks", None) or []
    for i, lms in enumerate(result.pose_landmarks or []):
        if len(lms) != NUM_LANDMARKS:
            continue
        arr = np.array(
            [
                [
                    lm.x,
                    lm.y,
                    lm.z,
                    np.nan if lm.visibility is None else lm.visibility,
                    np.nan if lm.presence is None else lm.presence,
                ]
                for lm in lms
            ],
            dtype=np.float32,
        )
        image_xyz = np.empty((NUM_LANDMARKS, 3), np.float32)
        image_xyz[:, 0] = arr[:, 0] * crop.width + crop.x0
        image_xyz[:, 1] = arr[:, 1] * crop.height + crop.y0
        image_xyz[:, 2] = arr[:, 2]
        world = np.full((NUM_LANDMARKS, 3), np.nan, np.float32)
        if result.pose_world_landmarks and i < len(result.pose_world_landmarks):
            wl = result.pose_world_landmarks[i]
            if len(wl) == NUM_LANDMARKS:
                world = np.array([[p.x, p.y, p.z] for p in wl], dtype=np.float32)
        mask: Any = None
        if with_masks and i < len(masks):
            pending = PendingMask(masks[i], image_xyz, crop)
            mask = pending if defer_masks else pending.resolve()
        out.append(PoseCandidate(image_xyz, arr[:, 3].copy(), arr[:, 4].copy(), world, mask))
    return out


class PendingMask:
    """A person mask still in MediaPipe's buffer; :meth:`resolve` crops it to a :class:`MaskCrop`.

    Holds MediaPipe's mask object, so its pixels stay valid (also after later frames and after
    the landmarker is closed) until this is dropped. Resolving copies only the part that holds
    the person, as uint8 (:func:`_crop_mask`), so a worker thread can do that copy instead of the
    inference thread; the result is the same as cropping at once.
    """

    __slots__ = ("_mp_mask", "_image_xyz", "_crop")

    def __init__(self, mp_mask: Any, image_xyz: npt.NDArray[np.float32], crop: Box) -> None:
        self._mp_mask, self._image_xyz, self._crop = mp_mask, image_xyz, crop

    def resolve(self) -> MaskCrop:
        return _crop_mask(_mask_view(self._mp_mask), self._image_xyz, self._crop)


def resolve_mask(mask: MaskCrop | PendingMask) -> MaskCrop:
    """``mask`` as a :class:`MaskCrop` (a :class:`PendingMask` is cropped now)."""
    return mask.resolve() if isinstance(mask, PendingMask) else mask


def _mask_view(mp_mask: Any) -> npt.NDArray[np.float32]:
    """A view of MediaPipe's mask buffer (valid only until the next call; crop copies it)."""
    view = mp_mask.numpy_view() if hasattr(mp_mask, "numpy_view") else np.asarray(mp_mask)
    return view[:, :, 0] if view.ndim == 3 else view


def _crop_mask(
    mask: npt.NDArray[np.float32], image_xyz: npt.NDArray[np.float32], crop: Box
) -> MaskCrop:
    """Copy the part of a crop-sized mask that holds the person, as uint8, in full-frame offsets.

    The kept region is the mask's own extent (probability > 0.1), searched within a generous
    window around the landmarks (so another person far away is left out), plus a few pixels.
    Cropping to the landmark box alone cut off rounded backs, which rise above the shoulder
    landmarks. The result is a new array: MediaPipe's buffer is invalid after the landmarker
    closes.
    """
    h, w = mask.shape
    xs = image_xyz[:, 0] - crop.x0
    ys = image_xyz[:, 1] - crop.y0
    bw, bh = float(np.nanmax(xs) - np.nanmin(xs)), float(np.nanmax(ys) - np.nanmin(ys))
    mx, my = MASK_SEARCH * bw + 20, MASK_SEARCH * bh + 20
    wx0 = int(np.clip(np.floor(np.nanmin(xs) - mx), 0, w - 1))
    wx1 = int(np.clip(np.ceil(np.nanmax(xs) + mx), wx0 + 1, w))
    wy0 = int(np.clip(np.floor(np.nanmin(ys) - my), 0, h - 1))
    wy1 = int(np.clip(np.ceil(np.nanmax(ys) + my), wy0 + 1, h))
    step = 4
    coarse = mask[wy0:wy1:step, wx0:wx1:step] > 0.1
    rows, cols = np.flatnonzero(coarse.any(axis=1)), np.flatnonzero(coarse.any(axis=0))
    if rows.size and cols.size:
        pad = step + 6
        x0 = max(wx0 + int(cols[0]) * step - pad, 0)
        x1 = min(wx0 + int(cols[-1]) * step + pad + 1, w)
        y0 = max(wy0 + int(rows[0]) * step - pad, 0)
        y1 = min(wy0 + int(rows[-1]) * step + pad + 1, h)
    else:
        x0, x1, y0, y1 = wx0, wx1, wy0, wy1
    part = np.clip(mask[y0:y1, x0:x1] * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return MaskCrop(x0 + crop.x0, y0 + crop.y0, part)


@dataclass(frozen=True)
class ModelInput:
    """A frame's picture as the landmarker takes it (see :func:`prepare_input`).

    Attributes
    ----------
    crop : Box
        The part of the frame it holds, in full-frame pixels (the whole frame without bars).
    image : mediapipe.Image
        That part as SRGB (its own copy of the pixels).
    """

    crop: Box
    image: Any


def prepare_input(image_bgr: npt.NDArray[np.uint8], crop: Box | None) -> ModelInput:
    """Cut ``crop`` (None: the whole frame) out of an upright BGR frame, as an SRGB ``mp.Image``.

    Pure (safe from any thread; OpenCV releases the GIL while it converts).
    """
    import cv2
    import mediapipe as mp

    h, w = image_bgr.shape[:2]
    box = crop or Box(0, 0, w, h)
    sub = image_bgr[box.y0 : box.y1, box.x0 : box.x1]
    rgb = cv2.cvtColor(sub, cv2.COLOR_BGR2RGB)  # 30x faster than a numpy flip+copy
    return ModelInput(box, mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))


class MediaPipePoseBackend:
    """PoseLandmarker in VIDEO mode (tracking across frames) or IMAGE mode.

    Parameters
    ----------
    model : ModelFile
        A verified model (see :func:`movescreen.pose.model.resolve_model`).
    num_poses : int
        Most people to return per frame.
    with_masks : bool
        Also return person-segmentation masks (needed for the back-contour measure).
    crop : Box or None
        Run the model only on this part of each frame (the picture inside black bars).
    video_mode : bool
        VIDEO mode tracks the person between frames and needs increasing timestamps.

    Attributes
    ----------
    defer_masks : bool
        Candidates carry :class:`PendingMask` s instead of cropped masks (default False); set by
        a caller that crops them on another thread (:func:`movescreen.pose.estimate.estimate_landmarks`).
    """

    def __init__(
        self,
        model: ModelFile,
        *,
        num_poses: int = 1,
        with_masks: bool = False,
        crop: Box | None = None,
        video_mode: bool = True,
        min_detection_confidence: float = 0.5,
        min_presence_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        self.crop = crop
        self.with_masks = with_masks
        self.defer_masks = False
        self.video_mode = video_mode
        self._last_ts = -1
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model.path)),
            running_mode=vision.RunningMode.VIDEO if video_mode else vision.RunningMode.IMAGE,
            num_poses=num_poses,
            min_pose_detection_confidence=min_detection_confidence,
            min_pose_presence_confidence=min_presence_confidence,
            min_tracking_confidence=min_tracking_confidence,
            output_segmentation_masks=with_masks,
        )
        self._noisy_calls_left = _QUIET_CALLS
        try:
            with quiet_native_stderr():
                self._landmarker = vision.PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as e:
            raise ModelError(
                f"MediaPipe could not load the model {model.path.name} ({e}); "
                "check that it is a pose_landmarker .task file."
            ) from e

    def prepare(self, image_bgr: npt.NDArray[np.uint8]) -> ModelInput:
        """The model's input for this frame, made ahead of :meth:`process` (any thread).

        The BGR -> RGB copy of the part inside ``crop`` (as it is now) in an ``mp.Image``: the
        work ``process`` would do first. A decoding thread calls this so the inference thread
        only infers; ``process(image, ts, prepared=...)`` uses it when ``crop`` has not changed
        since, and makes its own otherwise.
        """
        return prepare_input(image_bgr, self.crop)

    def process(
        self,
        image_bgr: npt.NDArray[np.uint8],
        timestamp_ms: int,
        *,
        prepared: ModelInput | None = None,
    ) -> list[PoseCandidate]:
        h, w = image_bgr.shape[:2]
        crop = self.crop or Box(0, 0, w, h)
        if prepared is not None and prepared.crop == crop:
            image = prepared.image
        else:
            image = prepare_input(image_bgr, crop).image
        quiet = self._noisy_calls_left > 0
        self._noisy_calls_left -= 1
        with quiet_native_stderr() if quiet else contextlib.nullcontext():
            if self.video_mode:
                ts = max(int(timestamp_ms), self._last_ts + 1)  # MediaPipe needs increasing times
                self._last_ts = ts
                result = self._landmarker.detect_for_video(image, ts)
            else:
                result = self._landmarker.detect(image)
        return from_mediapipe(result, crop=crop, with_masks=self.with_masks,
                              defer_masks=self.defer_masks)

    def close(self) -> None:
        with quiet_native_stderr():
            self._landmarker.close()

    def __enter__(self) -> MediaPipePoseBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
