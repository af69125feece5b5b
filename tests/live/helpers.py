"""Helpers for the live tests: feed a landmark sequence to the online step, read an X screen."""

from __future__ import annotations

import struct
import subprocess

import numpy as np

from movescreen.pose.backend import PoseCandidate
from movescreen.stream import LiveStep, StepOutput
from movescreen.types import LandmarkSequence


def candidates(seq: LandmarkSequence) -> list[PoseCandidate | None]:
    """One pose candidate per row (None where the row has no pose), with its mask."""
    out: list[PoseCandidate | None] = []
    for r in range(len(seq)):
        if not np.isfinite(seq.image_xyz[r, :, 0]).any():
            out.append(None)
            continue
        out.append(PoseCandidate(seq.image_xyz[r], seq.visibility[r], seq.presence[r],
                                 seq.world_xyz[r], seq.masks.get(r)))
    return out


def feed(seq: LandmarkSequence, step: LiveStep | None = None, *, skip: set[int] | None = None,
         **kw: object) -> tuple[LiveStep, list[StepOutput], list[dict]]:
    """Push every row of ``seq`` (except ``skip``) through a LiveStep; return outputs and events."""
    if step is None:
        kw.setdefault("judge_async", False)
        step = LiveStep(width=seq.width, height=seq.height, fps=seq.fps, **kw)  # type: ignore[arg-type]
    outs, events = [], []
    for r, c in enumerate(candidates(seq)):
        if skip and r in skip:
            continue
        o = step.push(int(seq.frame_index[r]), float(seq.time_s[r]), c)
        outs.append(o)
        events += o.events
    events += step.finish()
    return step, outs, events


def grab_x_screen(display: str) -> np.ndarray:
    """Screenshot of a whole X display as an RGB array (H, W, 3), via ``xwd -root``.

    Reads the XWD ZPixmap format (24/32 bits per pixel, either byte order) directly, so no
    image library is needed.
    """
    raw = subprocess.run(["xwd", "-root", "-silent", "-display", display], capture_output=True,
                         check=True, timeout=20).stdout
    fields = struct.unpack(">25I", raw[:100])
    header_size, _ver, fmt, depth, width, height = fields[:6]
    byte_order, bpp, bytes_per_line = fields[7], fields[11], fields[12]
    red_mask, green_mask, blue_mask = fields[14:17]
    ncolors = fields[19]
    if fmt != 2 or bpp not in (24, 32):
        raise ValueError(f"expected a 24/32-bit ZPixmap, got format {fmt} with {bpp} bits per pixel")
    off = header_size + 12 * ncolors
    data = np.frombuffer(raw, np.uint8, count=bytes_per_line * height, offset=off)
    rows = data.reshape(height, bytes_per_line)[:, : width * (bpp // 8)].reshape(height, width, bpp // 8)
    if bpp == 32:
        px = rows.copy().view("<u4" if byte_order == 0 else ">u4")[..., 0]
    else:
        px = (rows[..., 0].astype(np.uint32) | rows[..., 1].astype(np.uint32) << 8
              | rows[..., 2].astype(np.uint32) << 16)

    def channel(mask: int) -> np.ndarray:
        shift = (mask & -mask).bit_length() - 1
        return ((px & mask) >> shift).astype(np.uint8)

    _ = depth
    return np.stack([channel(red_mask), channel(green_mask), channel(blue_mask)], axis=-1)
