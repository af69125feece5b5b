"""Frame sources: video file, webcam, folder of images -> frames.

This is the only module that opens videos, cameras and image files for reading. Every source
is an iterable of :class:`~movescreen.types.Frame` (index, time in seconds, upright BGR image)
with an ``info`` attribute and a ``warnings`` list filled while it is read.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from movescreen.errors import CameraError, InputError
from movescreen.types import Box, Frame, VideoInfo

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".gif", ".mpg", ".mpeg", ".wmv", ".3gp"}
)
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"})
SINGLE_THREAD_ENV = "MOVESCREEN_SINGLE_THREAD"
"""Set to 1 (batch workers do, when there are several) to decode on one thread."""


def single_threaded() -> bool:
    return os.environ.get(SINGLE_THREAD_ENV) == "1"


class FrameSource(Protocol):
    """What every frame source offers."""

    info: VideoInfo
    warnings: list[str]

    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...


# --------------------------------------------------------------------------- black bars


def detect_content_box(
    images: list[npt.NDArray[np.uint8]], *, threshold: int = 24, min_fraction: float = 0.25
) -> Box | None:
    """Find the picture inside black pillar- or letter-box bars.

    Parameters
    ----------
    images : list of ndarray, shape (H, W, 3), uint8
        A few frames of the same video; bars must be dark in all of them.
    threshold : int
        A row or column belongs to a bar when its 99th-percentile brightness stays below this
        in every sampled frame (tolerates compression noise and a stray caption pixel).
    min_fraction : float
        Bars are only accepted when the picture left inside keeps at least this fraction of
        the width and height, and each bar is at least 2% of the frame: this avoids cropping
        a dark scene down to nothing.

    Returns
    -------
    Box or None
        The content rectangle, or None when there are no bars worth removing.

    Examples
    --------
    >>> img = np.zeros((100, 200, 3), np.uint8); img[:, 50:150] = 128
    >>> detect_content_box([img])
    Box(x0=50, y0=0, x1=150, y1=100)
    """
    if not images:
        return None
    h, w = images[0].shape[:2]
    profiles = [bar_profile(im) for im in images if im.shape[:2] == (h, w)]
    return content_box_from_profiles(profiles, (h, w), threshold=threshold, min_fraction=min_fraction)


def bar_profile(image: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """One frame's part of :func:`detect_content_box`: how bright each column and row is.

    Returns
    -------
    col_bright : ndarray, shape (W,), float64
        Per column, the 99th percentile over every 4th row of the brightest channel.
    row_bright : ndarray, shape (H,), float64
        Per row, the 99th percentile over every 4th column.

    Notes
    -----
    Frames are independent, so this can run on each frame as it is decoded (the step does,
    on the decode thread); :func:`content_box_from_profiles` combines them.
    """
    # percentiles over every 4th row/column: bars are uniform, and full resolution is kept along
    # the axis whose edge we locate. Brightest channel per pixel (np.maximum is ~40x faster than
    # ndarray.max(axis=2)), only where the percentiles look.
    rows4, cols4 = image[::4], image[:, ::4]
    bright_rows4 = np.maximum(np.maximum(rows4[..., 0], rows4[..., 1]), rows4[..., 2])
    bright_cols4 = np.maximum(np.maximum(cols4[..., 0], cols4[..., 1]), cols4[..., 2])
    return np.percentile(bright_rows4, 99, axis=0), np.percentile(bright_cols4, 99, axis=1)


def content_box_from_profiles(
    profiles: list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]],
    size: tuple[int, int],
    *,
    threshold: int = 24,
    min_fraction: float = 0.25,
) -> Box | None:
    """:func:`detect_content_box` from frames' :func:`bar_profile` s (frames of ``size`` (H, W)).

    >>> img = np.zeros((100, 200, 3), np.uint8); img[:, 50:150] = 128
    >>> content_box_from_profiles([bar_profile(img)], (100, 200))
    Box(x0=50, y0=0, x1=150, y1=100)
    """
    if not profiles:
        return None
    h, w = size
    col_bright = np.max([c for c, _ in profiles], axis=0)  # (W,)
    row_bright = np.max([r for _, r in profiles], axis=0)  # (H,)
    cols = np.flatnonzero(col_bright >= threshold)
    rows = np.flatnonzero(row_bright >= threshold)
    if cols.size == 0 or rows.size == 0:
        return None
    x0, x1 = int(cols[0]), int(cols[-1]) + 1
    y0, y1 = int(rows[0]), int(rows[-1]) + 1
    min_bar_x, min_bar_y = 0.02 * w, 0.02 * h
    if x0 < min_bar_x and w - x1 < min_bar_x:
        x0, x1 = 0, w
    if y0 < min_bar_y and h - y1 < min_bar_y:
        y0, y1 = 0, h
    if (x1 - x0) < min_fraction * w or (y1 - y0) < min_fraction * h:
        return None
    if (x0, y0, x1, y1) == (0, 0, w, h):
        return None
    # even sizes keep some encoders and resizers happy; never grow past the frame
    return Box(x0, y0, x1, y1)


# --------------------------------------------------------------------------- video files


_UPRIGHT_TURNS: dict[str, int] = {}
"""Video files found stored sideways without rotation metadata (the person lies across the
picture): path -> quarter turns counter-clockwise, applied on top of the metadata rotation."""


def _turn_key(path: str | os.PathLike[str]) -> str:
    try:
        return str(Path(path).resolve())
    except OSError:
        return str(path)


def set_upright_turn(path: str | os.PathLike[str], quarter_turns: int) -> None:
    """Turn every frame of this video file by ``quarter_turns`` x 90 deg counter-clockwise in
    every :class:`VideoFileSource` opened on it from now on, in this process (so the analysis
    and the review renderers see the same upright picture). 0 removes the turn.

    Used when :func:`movescreen.kinematics.orientation.detect_orientation` finds a clip stored
    sideways without rotation metadata.
    """
    k = int(quarter_turns) % 4
    if k:
        _UPRIGHT_TURNS[_turn_key(path)] = k
    else:
        _UPRIGHT_TURNS.pop(_turn_key(path), None)


def upright_turn(path: str | os.PathLike[str]) -> int:
    """The quarter turns :func:`set_upright_turn` registered for ``path`` (0 when none)."""
    return _UPRIGHT_TURNS.get(_turn_key(path), 0)


def _rotate_upright(image: npt.NDArray[np.uint8], rotation_deg: int) -> npt.NDArray[np.uint8]:
    """Rotate a decoded frame by the container's display rotation (counter-clockwise degrees)."""
    k = (rotation_deg // 90) % 4
    return image if k == 0 else np.ascontiguousarray(np.rot90(image, k))


class VideoFileSource:
    """Frames of a video file, decoded with PyAV (FFmpeg).

    Uses the container's presentation timestamps, so variable-frame-rate phone videos get the
    right times, and applies the display-rotation metadata so portrait phone videos come out
    upright. A video that stops decoding part-way (truncated file) ends the iteration with a
    warning; the frames before it are kept.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import av  # deferred: only this class needs it

        self.path = Path(path)
        self.warnings: list[str] = []
        _check_file(self.path)
        try:
            self._container = av.open(str(self.path))
        except (av.error.FFmpegError, OSError, ValueError) as e:
            raise InputError(
                f"{self.path.name} could not be opened as a video ({_short(e)}); it is damaged, "
                "cut short, or not a video at all."
            ) from e
        if not self._container.streams.video:
            self._container.close()
            raise InputError(f"{self.path.name} has no video track; nothing to analyse.")
        stream = self._container.streams.video[0]
        if single_threaded():
            stream.codec_context.thread_count = 1
        else:
            stream.thread_type = "AUTO"
        self._stream = stream
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        if not np.isfinite(fps) or fps <= 0 or fps > 1000:
            fps = 30.0
            self.warnings.append(
                f"{self.path.name} does not state a frame rate; assuming 30 frames per second."
            )
        rotation = self._read_rotation()
        w, h = stream.codec_context.width, stream.codec_context.height
        if rotation % 180 == 90:
            w, h = h, w
        self._extra_turns = upright_turn(self.path)  # stored sideways, found by the analysis
        if self._extra_turns % 2:
            w, h = h, w
        duration_s = 0.0
        if stream.duration is not None and stream.time_base is not None:
            duration_s = float(stream.duration * stream.time_base)
        elif self._container.duration is not None:
            duration_s = self._container.duration / 1_000_000
        frame_count = int(stream.frames or 0) or int(round(duration_s * fps))
        if w <= 0 or h <= 0:
            self._container.close()
            raise InputError(f"{self.path.name} has a video track with no picture size.")
        self.info = VideoInfo(
            path=str(self.path),
            fps=fps,
            frame_count=frame_count,
            width=w,
            height=h,
            duration_s=duration_s,
            rotation_deg=rotation,
            kind="video",
        )

    def _read_rotation(self) -> int:
        # PyAV exposes the display matrix on decoded frames; peek at the first one.
        try:
            for frame in self._container.decode(self._stream):
                rot = int(round(getattr(frame, "rotation", 0) or 0)) % 360
                break
            else:
                rot = 0
        except Exception:  # noqa: BLE001 - any decode failure is reported when iterating
            rot = 0
        self._container.seek(0)
        return rot

    def __iter__(self) -> Iterator[Frame]:
        import av

        start = self._stream.start_time or 0
        tb = float(self._stream.time_base) if self._stream.time_base else 1.0 / self.info.fps
        index = 0
        last_t = -np.inf
        try:
            for frame in self._container.decode(self._stream):
                if frame.pts is not None:
                    t = (frame.pts - start) * tb
                else:
                    t = index / self.info.fps
                if t <= last_t:  # broken or repeated timestamps: keep time strictly increasing
                    t = last_t + 1.0 / self.info.fps
                last_t = t
                image: npt.NDArray[np.uint8] = frame.to_ndarray(format="bgr24")  # type: ignore[assignment]
                yield Frame(index, float(t), _rotate_upright(
                    image, self.info.rotation_deg + 90 * self._extra_turns))
                index += 1
        except (av.error.FFmpegError, ValueError) as e:
            if index == 0:
                raise InputError(
                    f"{self.path.name} could not be decoded ({_short(e)}); the file is damaged "
                    "or not a video."
                ) from e
            self.warnings.append(
                f"The video stopped decoding after frame {index} ({_short(e)}); the file looks "
                "truncated, so only the frames before that were analysed."
            )
            return
        if index == 0:
            raise InputError(f"{self.path.name} contains no video frames; nothing to analyse.")
        if self.info.frame_count and index < 0.9 * self.info.frame_count - 1:
            self.warnings.append(
                f"Only {index} of the {self.info.frame_count} frames the file announces could "
                "be decoded; the file looks truncated, so only those were analysed."
            )

    def close(self) -> None:
        self._container.close()


# --------------------------------------------------------------------------- image folders


class ImageFolderSource:
    """Frames from a folder of images, in file-name order, at a nominal frame rate."""

    def __init__(self, path: str | os.PathLike[str], *, fps: float = 30.0) -> None:
        self.path = Path(path)
        self.warnings: list[str] = []
        self._files = sorted(
            p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
        )
        if not self._files:
            raise InputError(f"The folder {self.path} has no images (PNG or JPEG) to analyse.")
        first = _read_image(self._files[0])
        h, w = first.shape[:2]
        self.info = VideoInfo(
            path=str(self.path),
            fps=fps,
            frame_count=len(self._files),
            width=w,
            height=h,
            duration_s=len(self._files) / fps,
            kind="images",
        )

    def __iter__(self) -> Iterator[Frame]:
        import cv2

        w, h = self.info.width, self.info.height
        for i, p in enumerate(self._files):
            try:
                img = _read_image(p)
            except InputError as e:
                self.warnings.append(str(e) + " It was skipped.")
                continue
            if img.shape[:2] != (h, w):
                img = np.asarray(cv2.resize(img, (w, h)), np.uint8)
            yield Frame(i, i / self.info.fps, img)

    def close(self) -> None:
        pass


def _read_image(path: Path) -> npt.NDArray[np.uint8]:
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise InputError(f"The image {path.name} could not be read.")
    return np.asarray(img, np.uint8)


# --------------------------------------------------------------------------- webcams


class CameraSource:
    """Frames from a webcam by index, timed by the monotonic clock.

    A camera that stops delivering frames for ``timeout_s`` ends the iteration with a warning
    (the session's results so far are kept by the caller).
    """

    def __init__(self, index: int, *, width: int = 640, height: int = 480, timeout_s: float = 2.0):
        import cv2

        self.warnings: list[str] = []
        self.timeout_s = timeout_s
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            self._cap.release()
            raise CameraError(
                f"No camera could be opened at index {index}; check that a webcam is connected "
                "and not used by another program, or pass --source FILE to use a video."
            )
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 30.0)
        w = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        h = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.info = VideoInfo(
            path=f"camera:{index}",
            fps=fps if 0 < fps < 1000 else 30.0,
            frame_count=0,
            width=w,
            height=h,
            duration_s=0.0,
            kind="camera",
        )

    def __iter__(self) -> Iterator[Frame]:
        t0 = time.monotonic()
        index = 0
        last_ok = t0
        while True:
            ok, img = self._cap.read()
            now = time.monotonic()
            if not ok or img is None:
                if now - last_ok > self.timeout_s:
                    self.warnings.append(
                        "The camera stopped sending pictures; the session was ended and "
                        "everything recorded until then was kept."
                    )
                    return
                time.sleep(0.01)
                continue
            last_ok = now
            yield Frame(index, now - t0, np.asarray(img, np.uint8))
            index += 1

    def close(self) -> None:
        self._cap.release()


# --------------------------------------------------------------------------- subsampling


def select_every_k(source_fps: float, target_fps: float | None) -> int:
    """How many source frames one analysed frame stands for, for a constant-rate video.

    Frames are kept when at least ``0.9 / target_fps`` seconds have passed since the last kept
    one (see :func:`subsample_frames`), so for a constant frame rate this is the smallest ``k``
    with ``k / source_fps >= 0.9 / target_fps``: the analysed rate is at most about
    ``target_fps`` and the spacing stays uniform (filters assume it).

    >>> select_every_k(30.0, 15.0), select_every_k(60.0, 15.0), select_every_k(25.0, 15.0)
    (2, 4, 2)
    >>> select_every_k(30.0, 30.0), select_every_k(30.0, None), select_every_k(5.0, 15.0)
    (1, 1, 1)
    """
    if target_fps is None or not source_fps > 0 or target_fps >= source_fps:
        return 1
    return max(1, math.ceil(0.9 * source_fps / target_fps - 1e-9))


def subsample_frames(frames: Iterable[Frame], target_fps: float | None) -> Iterator[Frame]:
    """Yield the frames to analyse at about ``target_fps``, keeping their container times.

    Parameters
    ----------
    frames : iterable of Frame
        Frames in presentation order, ``time_s`` strictly increasing (what every source yields).
    target_fps : float or None
        The largest analysed rate wanted, frames per second. None or a rate at or above the
        video's own passes every frame through.

    Yields
    ------
    Frame
        The first frame, then each frame at least ``0.9 / target_fps`` seconds after the last
        one kept. ``index`` and ``time_s`` are the source's (never renumbered), so outputs still
        refer to the video's own frame numbers and times.

    Notes
    -----
    The 10 % tolerance absorbs timestamp rounding (millisecond time bases, variable-frame-rate
    phone videos): 30 fps to 15 keeps every 2nd frame, 60 to 15 every 4th, 25 to 15 every 2nd
    (12.5 fps: the analysed rate never exceeds the target by more than the tolerance).

    Examples
    --------
    >>> import numpy as np
    >>> fr = [Frame(i, i / 30, np.zeros((1, 1, 3), np.uint8)) for i in range(7)]
    >>> [f.index for f in subsample_frames(fr, 15.0)]
    [0, 2, 4, 6]
    >>> [f.index for f in subsample_frames(fr, None)]
    [0, 1, 2, 3, 4, 5, 6]
    """
    if target_fps is None:
        yield from frames
        return
    if not (target_fps > 0 and math.isfinite(target_fps)):
        raise InputError(f"expected a positive analysis frame rate, got {target_fps!r}.")
    min_gap_s = 0.9 / target_fps
    last_t = -math.inf
    for fr in frames:
        if fr.time_s - last_t >= min_gap_s:
            last_t = fr.time_s
            yield fr


class SubsampledSource:
    """A frame source that yields :func:`subsample_frames` of another source.

    ``info.fps`` is the analysed rate (what filters downstream must use as the sample rate) and
    ``info.frame_count`` the expected number of analysed frames; ``source_fps`` keeps the
    video's own rate.
    """

    def __init__(self, source: Any, target_fps: float) -> None:
        self._source = source
        self.warnings: list[str] = source.warnings  # the same list: the inner source appends to it
        self.target_fps = float(target_fps)
        self.source_fps = float(source.info.fps)
        k = select_every_k(self.source_fps, self.target_fps)
        count = source.info.frame_count
        self.info = replace(
            source.info,
            fps=self.source_fps / k,
            frame_count=(count + k - 1) // k if count else 0,
        )

    def __iter__(self) -> Iterator[Frame]:
        return subsample_frames(self._source, self.target_fps)

    def close(self) -> None:
        self._source.close()


# --------------------------------------------------------------------------- dispatch


def _short(e: BaseException) -> str:
    """A short, path-free reason from an FFmpeg/OS error ("invalid data found when ...")."""
    import re

    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    msg = re.sub(r"^\[Errno -?\d+\]\s*", "", msg)
    msg = re.sub(r":\s*'[^']*'$", "", msg)  # FFmpeg appends the file name
    msg = msg[:1].lower() + msg[1:]
    return msg[:160]


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"No file or folder at {path}; check the path.")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a video file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name} is empty (0 bytes); the recording or copy did not finish.")


def open_source(spec: str | os.PathLike[str]) -> FrameSource:
    """Open a video file, a folder of images, or a webcam given as ``camera:N`` or ``N``.

    Raises
    ------
    InputError
        With a one-sentence reason when the input cannot be opened.
    """
    s = os.fspath(spec)
    if s.isdigit() or s.startswith("camera:"):
        return CameraSource(int(s.split(":")[-1]))
    path = Path(s)
    if path.is_dir():
        return ImageFolderSource(path)
    return VideoFileSource(path)
