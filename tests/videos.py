"""Helpers that write small test videos with PyAV (a real H.264 encoder)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def write_video(
    path: Path,
    frames: Iterable[np.ndarray],
    *,
    fps: float = 30.0,
    times_s: Sequence[float] | None = None,
    rotation_deg: int | None = None,
    codec: str = "libx264",
    faststart: bool = False,
) -> Path:
    """Encode BGR frames to ``path``; ``times_s`` gives explicit (variable) timestamps."""
    frames = list(frames)
    h, w = frames[0].shape[:2]
    time_base = Fraction(1, 1000)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as out:
        stream = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = time_base
        if rotation_deg is not None:
            stream.set_display_rotation(rotation_deg)
        for i, img in enumerate(frames):
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24")
            t = times_s[i] if times_s is not None else i / fps
            f.pts = int(round(t * 1000))
            f.time_base = time_base
            for pkt in stream.encode(f):
                out.mux(pkt)
        for pkt in stream.encode():
            out.mux(pkt)
    return path


def read_frames(path: Path, limit: int | None = None) -> list[np.ndarray]:
    """Decode up to ``limit`` frames of a video as BGR arrays (no rotation applied)."""
    out = []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            out.append(f.to_ndarray(format="bgr24"))
            if limit is not None and len(out) >= limit:
                break
    return out


def gradient_frames(n: int, w: int = 160, h: int = 120) -> list[np.ndarray]:
    """Frames with a moving gradient and no person in them."""
    xs = np.linspace(0, 255, w, dtype=np.float32)
    frames = []
    for i in range(n):
        img = np.empty((h, w, 3), np.uint8)
        img[:] = ((xs[None, :, None] + 8 * i) % 256).astype(np.uint8)
        img[:, :, 1] = np.linspace(40, 200, h, dtype=np.uint8)[:, None]
        frames.append(img)
    return frames
