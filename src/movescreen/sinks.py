"""Writing and reading analysis files. Every write is atomic: temporary file, then rename.

``landmarks.csv`` has one row per frame and landmark::

    frame,time_s,landmark,x_px,y_px,z,visibility,presence,world_x_m,world_y_m,world_z_m

Missing values are empty cells (NaN in memory).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import json
import math
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from movescreen.errors import InputError, MovescreenError
from movescreen.landmarks import INDEX, LANDMARK_NAMES, NUM_LANDMARKS
from movescreen.types import LandmarkSequence

LANDMARK_COLUMNS = (
    "frame",
    "time_s",
    "landmark",
    "x_px",
    "y_px",
    "z",
    "visibility",
    "presence",
    "world_x_m",
    "world_y_m",
    "world_z_m",
)


class OutputError(MovescreenError):
    """An output could not be written: the disk is full, or the folder cannot be written.

    Nothing half-written is left (the temporary file is deleted) and the file it would have
    replaced is untouched.
    """


_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}


def output_error(e: OSError, target: Path) -> OutputError | None:
    """The one-sentence :class:`OutputError` for a disk-full or permission ``OSError`` met while
    writing ``target``, or None for other errors."""
    folder = target.parent
    if e.errno in _FULL:
        return OutputError(
            f"The disk holding {folder} is full: {target.name} could not be written (nothing "
            "half-written was left and earlier files there are untouched); free some space and "
            "run the command again."
        )
    if e.errno in _DENIED:
        return OutputError(
            f"{folder} cannot be written ({e.strerror or 'permission denied'}): {target.name} "
            "was not saved; choose another --out folder or fix its permissions."
        )
    return None


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without error, rename it into
    place (with the usual permissions), otherwise delete it.

    A crash or kill at any moment leaves either the old file or the new one, never half of one.

    Raises
    ------
    OutputError
        The disk is full or the folder cannot be written (an ``OSError`` of that kind raised by
        the block, or by making the temporary file).
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as e:
        err = output_error(e, target)
        if err is None:
            raise
        raise err from e
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
        pending = getattr(_group, "pending", None)
        if pending is not None:  # inside all_or_nothing(): renamed with the others, later
            pending.append((Path(tmp), target))
        else:
            os.replace(tmp, target)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        err = output_error(e, target) if isinstance(e, OSError) else None
        if err is not None:
            raise err from e
        raise


_group = threading.local()


@contextlib.contextmanager
def all_or_nothing() -> Iterator[None]:
    """Files written through :func:`atomic_path` by this thread inside the block are renamed into
    place together, at :func:`commit_pending` or when the block ends; if the block raises (a full
    disk, Ctrl-C), none of them is, and the files they would have replaced stay as they were.

    Code inside must not read back a file it wrote before the commit. Nested blocks join the
    outer one.
    """
    if getattr(_group, "pending", None) is not None:
        yield
        return
    _group.pending = []
    try:
        yield
    except BaseException:
        for tmp, _ in _group.pending:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    else:
        commit_pending()
    finally:
        _group.pending = None


def commit_pending() -> None:
    """Rename the files written so far inside :func:`all_or_nothing` into place, in the order
    they were written (Ctrl-C and SIGTERM wait until all are renamed; renames need no space)."""
    pending = getattr(_group, "pending", None)
    if not pending:
        return
    main = threading.current_thread() is threading.main_thread() and hasattr(signal, "pthread_sigmask")
    # Ctrl-C, SIGTERM and a batch parent's stop signals (movescreen.interrupts) wait
    stop = {signal.SIGINT, signal.SIGTERM,
            *(getattr(signal, n) for n in ("SIGUSR1", "SIGUSR2") if hasattr(signal, n))}
    if main:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    try:
        while pending:
            tmp, target = pending.pop(0)
            os.replace(tmp, target)
    finally:
        if main:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def write_atomic(path: str | os.PathLike[str], write: Callable[[IO[Any]], None], *, binary: bool = False) -> Path:
    """Call ``write(f)`` on a temporary file beside ``path``, then rename it into place."""
    with atomic_path(path) as tmp:
        f: IO[Any] = open(tmp, "wb") if binary else open(tmp, "w", newline="", encoding="utf-8")  # noqa: SIM115
        with f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    return Path(path)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's content (hex), read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    def write(f: IO[str]) -> None:
        f.write(text)

    return write_atomic(path, write)


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"cannot write {type(o).__name__} to JSON")


def clean_for_json(o: Any) -> Any:
    """Replace NaN/inf by None recursively so the JSON is standard (no NaN literals)."""
    if isinstance(o, dict):
        return {str(k): clean_for_json(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [clean_for_json(v) for v in o]
    if isinstance(o, (float, np.floating)):
        return float(o) if math.isfinite(o) else None
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.bool_):
        return bool(o)
    return o


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> Path:
    text = json.dumps(clean_for_json(data), indent=2, default=_json_default, allow_nan=False)
    return write_text_atomic(path, text + "\n")


def _fmt(v: float, digits: int) -> str:
    return "" if not np.isfinite(v) else f"{v:.{digits}f}"


def write_landmarks_csv(path: str | os.PathLike[str], seq: LandmarkSequence) -> Path:
    """Write ``seq`` as ``landmarks.csv`` (atomic)."""

    def write(f: IO[str]) -> None:
        buf = io.StringIO()
        buf.write(",".join(LANDMARK_COLUMNS) + "\n")
        for r in range(len(seq)):
            fi, t = int(seq.frame_index[r]), float(seq.time_s[r])
            img, wld = seq.image_xyz[r], seq.world_xyz[r]
            vis, pres = seq.visibility[r], seq.presence[r]
            for j in range(NUM_LANDMARKS):
                buf.write(
                    f"{fi},{t:.4f},{LANDMARK_NAMES[j]},{_fmt(img[j, 0], 2)},{_fmt(img[j, 1], 2)},"
                    f"{_fmt(img[j, 2], 4)},{_fmt(vis[j], 4)},{_fmt(pres[j], 4)},"
                    f"{_fmt(wld[j, 0], 4)},{_fmt(wld[j, 1], 4)},{_fmt(wld[j, 2], 4)}\n"
                )
            if buf.tell() > 1 << 20:
                f.write(buf.getvalue())
                buf = io.StringIO()
        f.write(buf.getvalue())

    return write_atomic(path, write)


def read_landmarks_csv(
    path: str | os.PathLike[str], *, width: int | None = None, height: int | None = None, fps: float | None = None
) -> LandmarkSequence:
    """Read a ``landmarks.csv`` written by movescreen (or another system in the same format).

    Frame size and fps are taken from a ``report.json`` beside the file when present, else from
    the arguments, else estimated (fps from the time stamps, size from the largest coordinate).
    Any malformed cell, row or report.json raises an InputError sentence (fuzzed in
    tests/hardening/test_fuzz.py).
    """
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # 1e308 in float32 is inf, then checked
            return _read_landmarks_csv(path, width=width, height=height, fps=fps)
    except (ValueError, TypeError, KeyError, OverflowError, AttributeError, UnicodeDecodeError) as e:
        raise InputError(
            f"{Path(path).name} is not a valid movescreen landmarks file ({type(e).__name__}: {e})."
        ) from e


def _read_landmarks_csv(
    path: str | os.PathLike[str], *, width: int | None = None, height: int | None = None, fps: float | None = None
) -> LandmarkSequence:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"No file at {p}; check the path.")
    try:
        with open(p, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in ("frame", "time_s", "landmark", "x_px", "y_px") if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(
                    f"{p.name} is not a movescreen landmarks file: it lacks the column(s) {', '.join(missing)}."
                )
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{p.name} could not be read as CSV ({e}).") from e
    if not rows:
        raise InputError(f"{p.name} has no landmark rows; nothing to analyse.")
    frames = sorted({int(r["frame"]) for r in rows})
    pos = {fr: i for i, fr in enumerate(frames)}
    t = len(frames)
    image = np.full((t, NUM_LANDMARKS, 3), np.nan, np.float32)
    world = np.full((t, NUM_LANDMARKS, 3), np.nan, np.float32)
    vis = np.full((t, NUM_LANDMARKS), np.nan, np.float32)
    pres = np.full((t, NUM_LANDMARKS), np.nan, np.float32)
    times = np.full(t, np.nan)

    def num(v: str | None) -> float:
        return float(v) if v not in (None, "") else np.nan

    for r in rows:
        name = r["landmark"]
        if name not in INDEX:
            raise InputError(f"{p.name} names an unknown landmark {name!r}; expected BlazePose names.")
        i, j = pos[int(r["frame"])], INDEX[name]
        times[i] = float(r["time_s"])
        image[i, j] = (num(r.get("x_px")), num(r.get("y_px")), num(r.get("z")))
        vis[i, j] = num(r.get("visibility"))
        pres[i, j] = num(r.get("presence"))
        world[i, j] = (num(r.get("world_x_m")), num(r.get("world_y_m")), num(r.get("world_z_m")))
    report = p.parent / "report.json"
    if report.is_file() and (width is None or height is None or fps is None):
        try:
            info = json.loads(report.read_text()).get("input", {})
            width = width or info.get("width")
            height = height or info.get("height")
            fps = fps or info.get("fps")
        except json.JSONDecodeError:
            pass
    if not fps:
        dt = np.diff(times)
        fps = float(1.0 / np.median(dt)) if dt.size and np.median(dt) > 0 else 30.0
    width = int(width or max(1, int(np.nanmax(image[:, :, 0]) + 1)) if np.isfinite(image[:, :, 0]).any() else width or 1)
    height = int(height or max(1, int(np.nanmax(image[:, :, 1]) + 1)) if np.isfinite(image[:, :, 1]).any() else height or 1)
    return LandmarkSequence(
        frame_index=np.array(frames, np.int64),
        time_s=times,
        image_xyz=image,
        visibility=vis,
        presence=pres,
        world_xyz=world,
        width=width,
        height=height,
        fps=float(fps),
    )


def write_angles_csv(path: str | os.PathLike[str], table: dict[str, np.ndarray]) -> Path:
    """Write the per-frame angle table: ``frame, time_s, <columns...>, view`` (atomic).

    Column names say their unit (``_deg``, ``_ratio``) and where they were measured (``_image_``
    from pixel coordinates, ``_world_`` from MediaPipe's metric world landmarks). NaN -> empty.
    """
    first = [c for c in ("frame", "time_s") if c in table]
    last = [c for c in ("view",) if c in table]
    middle = [c for c in table if c not in first and c not in last]
    cols = first + middle + last
    n = len(next(iter(table.values()))) if table else 0

    def cell(v: object, col: str) -> str:
        if isinstance(v, (str, np.str_)):
            return str(v)
        if col == "frame":
            return str(int(v))  # type: ignore[call-overload]
        f = float(v)  # type: ignore[arg-type]
        return "" if not np.isfinite(f) else f"{f:.4f}" if col == "time_s" else f"{f:.3f}"

    def write(f: IO[str]) -> None:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        arrays = [table[c] for c in cols]
        for i in range(n):
            w.writerow([cell(a[i], c) for a, c in zip(arrays, cols)])

    return write_atomic(path, write)


def read_angles_csv(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read ``angles.csv`` back into columns (numbers as float64, ``view`` as str)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise InputError(f"{Path(path).name} is empty.")
    header, body = rows[0], rows[1:]
    out: dict[str, np.ndarray] = {}
    for j, name in enumerate(header):
        col = [r[j] if j < len(r) else "" for r in body]
        if name == "view":
            out[name] = np.array(col, dtype=object)
        else:
            out[name] = np.array([float(v) if v != "" else np.nan for v in col], np.float64)
    return out


@dataclass(frozen=True)
class PreparedImage:
    """A picture as the encoder's I420 planes (OpenCV's layout: Y, then U, then V)."""

    yuv: np.ndarray
    width: int
    height: int


def _yuv420_frame(av: Any, yuv: np.ndarray, width: int, height: int) -> Any:
    """A yuv420p ``VideoFrame`` from OpenCV's I420 array (even ``width`` and ``height``), with
    every byte of each plane's rows written: the columns past the picture repeat its last
    column. With the padding left as allocated, a 322 px wide input encoded to different bytes
    from run to run; written, it did not. (Some other widths still vary under load for a
    reason not found: docs/pipeline.md.)"""
    frame = av.VideoFrame(width, height, "yuv420p")
    flat = yuv.reshape(-1)
    cw, ch = width // 2, height // 2
    y_end, u_end = width * height, width * height + cw * ch
    planes = (flat[:y_end].reshape(height, width), flat[y_end:u_end].reshape(ch, cw),
              flat[u_end:u_end + cw * ch].reshape(ch, cw))
    for plane, arr in zip(frame.planes, planes):
        pw = arr.shape[1]
        if plane.line_size == pw:
            plane.update(np.ascontiguousarray(arr))
            continue
        buf = np.empty((arr.shape[0], plane.line_size), np.uint8)
        buf[:, :pw] = arr
        buf[:, pw:] = arr[:, -1:]
        plane.update(buf)
    return frame


class H264Writer:
    """Write BGR frames to an H.264 MP4 (yuv420p) that browsers play, keeping their timestamps.

    Parameters
    ----------
    path : path-like
        Output file (MP4 container whatever its suffix, so a temporary name works).
    fps : float
        Nominal frame rate written in the stream header.
    crf, preset, threads : x264 settings (quality, speed, encoder threads; None = x264's choice).
    faststart : bool
        Put the index at the front so a browser can start playing before the end arrives.

    Notes
    -----
    Timestamps are the frames' own (so variable frame rates survive), kept strictly increasing.
    Odd frame sizes are padded with one black row/column: yuv420p needs even sizes.
    """

    def __init__(self, path: str | os.PathLike[str], fps: float, *, crf: int = 23,
                 preset: str = "veryfast", threads: int | None = None, faststart: bool = True) -> None:
        from fractions import Fraction

        import av

        self._av = av
        self._fraction = Fraction
        self.path = Path(path)
        self.fps = fps
        self.frames = 0
        self._time_base = Fraction(1, 90000)
        self._options = {"crf": str(crf), "preset": preset}
        # the thread count is left to x264 (not reduced in batch workers): it changes the bytes
        # of the file, and the same input must give the same outputs whatever the worker count
        if threads is not None:
            self._options["threads"] = str(threads)
        self._container: Any = av.open(str(self.path), "w", format="mp4",
                                       options={"movflags": "+faststart"} if faststart else {})
        self._stream: Any = None
        self._last_pts = -1

    def prepare(self, image_bgr: np.ndarray) -> PreparedImage:
        """The encoder's input planes for a BGR image (padded to even sizes). Pure, so it can run
        on another thread than :meth:`write` (the annotated video's draw thread does); the
        ``VideoFrame`` itself is made in :meth:`write`, on the encoding thread (made on the draw
        thread while x264 encoded, the same input gave different files under load)."""
        import cv2

        h, w = image_bgr.shape[:2]
        if h % 2 or w % 2:
            padded = np.zeros((h + h % 2, w + w % 2, 3), np.uint8)
            padded[:h, :w] = image_bgr
            image_bgr = padded
        # OpenCV's BGR -> I420 is BT.601 limited range, as swscale's default (within 1 level),
        # at about half swscale's CPU; x264 then takes the planes as they are
        yuv = cv2.cvtColor(np.ascontiguousarray(image_bgr), cv2.COLOR_BGR2YUV_I420)
        return PreparedImage(yuv, image_bgr.shape[1], image_bgr.shape[0])

    def write(self, image_bgr: Any, time_s: float) -> None:
        """Encode one frame: a BGR image, or what :meth:`prepare` made of one."""
        prepared = image_bgr if isinstance(image_bgr, PreparedImage) else self.prepare(image_bgr)
        vf = _yuv420_frame(self._av, prepared.yuv, prepared.width, prepared.height)
        if self._stream is None:
            self._stream = self._container.add_stream(
                "libx264", rate=self._fraction(self.fps).limit_denominator(1001), options=self._options
            )
            self._stream.width, self._stream.height = vf.width, vf.height
            self._stream.pix_fmt = "yuv420p"
            self._stream.codec_context.time_base = self._time_base
        pts = max(round(time_s * self._time_base.denominator), self._last_pts + 1)
        vf.pts, vf.time_base, self._last_pts = pts, self._time_base, pts
        for pkt in self._stream.encode(vf):
            self._container.mux(pkt)
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and close the file (idempotent)."""
        if self._container is None:
            return
        try:
            if self._stream is not None:
                for pkt in self._stream.encode():
                    self._container.mux(pkt)
        finally:
            self._container.close()
            self._container = None

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
