"""TRC marker files (OpenSim's Track Row Column format, as Pose2Sim and Sports2D write them).

Two exports, one per coordinate system of a :class:`~movescreen.types.LandmarkSequence`:

``landmarks_px.trc``
    Picture coordinates in pixels, **y up** (X = x_px, Y = -y_px, Z = 0), the convention of
    Sports2D's ``*_px.trc``. MediaPipe's relative depth is not a pixel distance, so Z is 0 (it
    stays in ``landmarks.csv`` / ``landmarks.parquet``).
``landmarks_m.trc``
    MediaPipe's world landmarks in metres, rotated 180 deg about x so that **y is up** and the
    frame stays right-handed (X = x, Y = -y, Z = -z: x to the picture's right, z towards the
    camera). MediaPipe puts the origin between the hips **in every frame**: the coordinates suit
    joint angles, not whole-body trajectories (the pelvis never moves). The file says so in its
    first line.

Layout (tab-separated)::

    PathFileType  4  (X/Y/Z)  <file name>  <comment>
    DataRate  CameraRate  NumFrames  NumMarkers  Units  OrigDataRate  OrigDataStartFrame  OrigNumFrames
    <values>
    Frame#  Time  Nose  <tab>  <tab>  LEyeInner ...
    <tab> <tab> X1  Y1  Z1  X2 ...
    <blank line>
    1  0.000000  x  y  z ...

Missing values (NaN, and points below ``min_visibility``) are empty cells. ``Frame#`` counts the
rows from 1 (what OpenSim expects); the source frame numbers are in ``landmarks.csv``.

:func:`read_trc` reads this layout and Sports2D's (no blank line), Pose2Sim's and OpenCap's
(millimetres), and maps marker names to BlazePose landmarks (:mod:`movescreen.interop.names`).
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from movescreen.errors import InputError
from movescreen.interop.names import DERIVED_MARKERS, EXPORT_NAMES, blazepose_name, normalise
from movescreen.landmarks import INDEX, LANDMARK_NAMES, NUM_LANDMARKS
from movescreen.sinks import write_atomic
from movescreen.types import LandmarkSequence

WORLD_COMMENT = (
    "MediaPipe world landmarks in metres, y up (X=x, Y=-y, Z=-z of MediaPipe): the origin is "
    "between the hips in every frame, so they suit joint angles, not whole-body trajectories."
)
PIXEL_COMMENT = "Picture coordinates in pixels of the full frame, y up (Y = -y_px), Z = 0."


def _marker_table(seq: LandmarkSequence, xyz: np.ndarray, min_visibility: float | None) -> tuple[list[str], np.ndarray]:
    """Marker names and (T, M, 3) float64 values: the 33 landmarks then the derived midpoints."""
    vals = np.asarray(xyz, np.float64).copy()
    if min_visibility is not None:
        vis = np.asarray(seq.visibility, np.float64)
        with np.errstate(invalid="ignore"):
            vals[~(vis >= min_visibility)] = np.nan
    names = [EXPORT_NAMES[n] for n in LANDMARK_NAMES]
    derived = [(vals[:, INDEX[a]] + vals[:, INDEX[b]]) / 2 for a, b in DERIVED_MARKERS.values()]
    names += list(DERIVED_MARKERS)
    return names, np.concatenate([vals, np.stack(derived, axis=1)], axis=1)


def _write(path: str | os.PathLike[str], seq: LandmarkSequence, names: list[str], vals: np.ndarray,
           units: str, comment: str, digits: int) -> Path:
    t_n, m_n = vals.shape[:2]
    fps = float(seq.fps)
    rate = f"{fps:.6g}"

    def write(f: IO[str]) -> None:
        f.write(f"PathFileType\t4\t(X/Y/Z)\t{Path(path).name}\t{comment}\n")
        f.write("DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\t"
                "OrigDataStartFrame\tOrigNumFrames\n")
        f.write(f"{rate}\t{rate}\t{t_n}\t{m_n}\t{units}\t{rate}\t1\t{t_n}\n")
        f.write("Frame#\tTime\t" + "\t\t\t".join(names) + "\t\t\n")
        f.write("\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, m_n + 1)) + "\n\n")
        buf = io.StringIO()
        flat = vals.reshape(t_n, m_n * 3)
        for r in range(t_n):
            cells = ["" if not np.isfinite(v) else f"{v:.{digits}f}" for v in flat[r]]
            buf.write(f"{r + 1}\t{float(seq.time_s[r]):.6f}\t" + "\t".join(cells) + "\n")
        f.write(buf.getvalue())

    return write_atomic(path, write)


def write_trc_px(path: str | os.PathLike[str], seq: LandmarkSequence, *,
                 min_visibility: float | None = 0.5) -> Path:
    """Write the picture landmarks as a TRC file in pixels, y up (atomic).

    Parameters
    ----------
    path : path-like
        Usually ``landmarks_px.trc``.
    seq : LandmarkSequence
        Not modified.
    min_visibility : float or None
        Points with a lower visibility are written as empty cells, as the kinematics stage treats
        them as missing (None writes every point the model returned).

    Returns
    -------
    Path
    """
    img = np.asarray(seq.image_xyz, np.float64)
    xyz = np.stack([img[..., 0], -img[..., 1], np.where(np.isfinite(img[..., 0]), 0.0, np.nan)], axis=-1)
    names, vals = _marker_table(seq, xyz, min_visibility)
    return _write(path, seq, names, vals, "px", PIXEL_COMMENT, 2)


def write_trc_m(path: str | os.PathLike[str], seq: LandmarkSequence, *,
                min_visibility: float | None = 0.5) -> Path:
    """Write the world landmarks as a TRC file in metres, y up (atomic).

    See the module notes: MediaPipe's world origin is between the hips in every frame.
    Parameters as :func:`write_trc_px`.
    """
    w = np.asarray(seq.world_xyz, np.float64)
    xyz = np.stack([w[..., 0], -w[..., 1], -w[..., 2]], axis=-1)
    names, vals = _marker_table(seq, xyz, min_visibility)
    return _write(path, seq, names, vals, "m", WORLD_COMMENT, 5)


@dataclass(frozen=True)
class TrcData:
    """A TRC file as read: marker names, values and header fields.

    Attributes
    ----------
    markers : list of str
    time_s : ndarray, shape (T,)
    frame : ndarray, shape (T,), int64
        The ``Frame#`` column.
    xyz : ndarray, shape (T, M, 3), float64
        As in the file (NaN for empty cells).
    units : str
        The ``Units`` field ('px', 'm', 'mm', ...; '' when absent).
    rate_hz : float
    header : dict[str, str]
    """

    markers: list[str]
    time_s: np.ndarray
    frame: np.ndarray
    xyz: np.ndarray
    units: str
    rate_hz: float
    header: dict[str, str] = field(default_factory=dict)
    first_line: str = ""


def parse_trc(path: str | os.PathLike[str]) -> TrcData:
    """Read any TRC file into a :class:`TrcData` (no name mapping, no unit conversion).

    Raises
    ------
    InputError
        When the file is not a TRC file.
    """
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as e:
        raise InputError(f"{p.name} could not be read ({e}).") from e
    if len(lines) < 5 or not lines[0].startswith("PathFileType"):
        raise InputError(f"{p.name} is not a TRC file: expected a first line starting with PathFileType.")
    keys = lines[1].split("\t")
    values = lines[2].split("\t")
    header = {k.strip(): v.strip() for k, v in zip(keys, values) if k.strip()}
    names_row = lines[3].split("\t")
    if len(names_row) < 3 or normalise(names_row[0]) != "frame":
        raise InputError(f"{p.name} is not a TRC file: line 4 should start with Frame# and Time.")
    markers = [n.strip() for n in names_row[2:] if n.strip()]
    data_lines = [ln for ln in lines[5:] if ln.strip()]
    t_n, m_n = len(data_lines), len(markers)
    xyz = np.full((t_n, m_n, 3), np.nan)
    time_s = np.full(t_n, np.nan)
    frame = np.zeros(t_n, np.int64)
    for r, ln in enumerate(data_lines):
        cells = ln.split("\t")
        try:
            frame[r] = int(float(cells[0]))
            time_s[r] = float(cells[1])
        except (ValueError, IndexError) as e:
            raise InputError(f"{p.name}: data row {r + 1} does not start with a frame number and a time.") from e
        nums = [_num(c) for c in cells[2: 2 + 3 * m_n]]
        nums += [np.nan] * (3 * m_n - len(nums))
        xyz[r] = np.array(nums).reshape(m_n, 3)
    try:
        rate = float(header.get("DataRate", "nan"))
    except ValueError:
        rate = float("nan")
    return TrcData(markers, time_s, frame, xyz, header.get("Units", ""), rate, header, lines[0])


def _num(cell: str) -> float:
    cell = cell.strip()
    if not cell or cell.lower() == "nan":
        return np.nan
    try:
        return float(cell)
    except ValueError:
        return np.nan


@dataclass(frozen=True)
class ImportedLandmarks:
    """Landmarks read from another tool's file, with what was done to them.

    Attributes
    ----------
    sequence : LandmarkSequence
    source : dict
        For the report (``report.json`` ``landmarks_source``): format, files, units, which
        landmarks were found and which are missing, and how the coordinates were converted.
    warnings : list of str
        Plain sentences for the report.
    """

    sequence: LandmarkSequence
    source: dict[str, object]
    warnings: list[str]


def _token(stem: str, tok: str) -> re.Match[str] | None:
    """The last ``tok`` in ``stem`` that stands alone between separators (``x_px_person00``)."""
    ms = list(re.finditer(rf"(?<![A-Za-z0-9]){tok}(?![A-Za-z0-9])", stem, flags=re.IGNORECASE))
    return ms[-1] if ms else None


def _is_pixels(trc: TrcData, path: Path) -> bool:
    u = trc.units.lower()
    if u in ("px", "pixel", "pixels"):
        return True
    # Sports2D writes "m" in the header of its pixel file too; its name says _px
    return _token(path.stem, "px") is not None


def _scale_to_m(units: str) -> float:
    return {"mm": 1e-3, "cm": 1e-2}.get(units.lower(), 1.0)


def _companion(path: Path, pixels: bool) -> Path | None:
    """movescreen and Sports2D write a ``_px`` and an ``_m`` file side by side: find the other."""
    tok, new = ("px", "m") if pixels else ("m", "px")
    m = _token(path.stem, tok)
    if m is None:
        return None
    cand = path.with_name(path.stem[: m.start()] + new + path.stem[m.end():] + path.suffix)
    return cand if cand.is_file() and cand != path else None


def _map_markers(trc: TrcData) -> tuple[dict[int, int], list[str]]:
    """BlazePose row -> TRC marker column, and the marker names that were not used."""
    cols: dict[int, int] = {}
    unused: list[str] = []
    for j, name in enumerate(trc.markers):
        bp = blazepose_name(name)
        if bp is None or INDEX[bp] in cols:
            unused.append(name)
        else:
            cols[INDEX[bp]] = j
    return cols, unused


def _to_rows(trc: TrcData, cols: dict[int, int]) -> np.ndarray:
    out = np.full((len(trc.time_s), NUM_LANDMARKS, 3), np.nan)
    for i, j in cols.items():
        out[:, i] = trc.xyz[:, j]
    return out


def _fps(trc: TrcData) -> float:
    if np.isfinite(trc.rate_hz) and trc.rate_hz > 0:
        return float(trc.rate_hz)
    dt = np.diff(trc.time_s)
    dt = dt[np.isfinite(dt) & (dt > 0)]
    return float(1.0 / np.median(dt)) if dt.size else 30.0


def read_trc(path: str | os.PathLike[str], *, width: int | None = None, height: int | None = None,
             companion: bool = True) -> ImportedLandmarks:
    """Read a TRC file (movescreen, Sports2D, Pose2Sim or OpenCap) as BlazePose landmarks.

    Parameters
    ----------
    path : path-like
        A ``.trc`` file. Pixels when its ``Units`` field is ``px`` or its name has ``_px`` (as
        Sports2D's pixel files do), otherwise a length unit (m, mm, cm).
    width, height : int, optional
        Frame size in pixels; estimated from the coordinates when not given.
    companion : bool
        Also read the file's partner when there is one (``x_px.trc`` beside ``x_m.trc``, as
        movescreen and Sports2D write them): pixels give the picture landmarks, metres the world
        landmarks.

    Returns
    -------
    ImportedLandmarks

    Notes
    -----
    - Pixel files are y up (Sports2D's convention): ``y_px = -Y``. A file with (nearly) all Y
      values positive is taken as y down, and said so in the warnings.
    - Length files become world landmarks in metres, y down as MediaPipe's: ``(X, -Y, -Z)``,
      then centred between the hips in every frame (as MediaPipe's are) unless they already are.
    - A length file without a pixel partner also gives the picture landmarks: an orthographic
      view along its Z axis (``x_px = X s + c``, ``y_px = -Y s + c``) in a virtual 1000 x 1000
      frame. For OpenSim's axes (X forward, Y up, Z right) that is a side view.
    - A pixel file without a length partner has no world landmarks (NaN): the measures that need
      them, and in a front view the reps themselves, are "not assessed".
    - A length file whose Z is constant for every marker (Sports2D's ``*_m.trc``: the picture
      scaled to metres with Z = 0, or a fixed depth per marker) is not 3-D: it is not used as
      world landmarks (see :func:`is_planar`), and the warnings say so.
    - TRC has no confidence: visibility and presence are 1 where a point is present, else 0.
    - Names are matched as in :func:`movescreen.interop.names.blazepose_name`; BlazePose points
      that no marker matches are NaN, and the rules that need them say "not assessed".
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"No file at {p}; check the path.")
    trc = parse_trc(p)
    if not trc.markers or len(trc.time_s) == 0:
        raise InputError(f"{p.name} has no markers or no data rows; nothing to analyse.")
    pixels = _is_pixels(trc, p)
    files = {("pixels" if pixels else "world"): p.name}
    px_trc: TrcData | None = trc if pixels else None
    m_trc: TrcData | None = None if pixels else trc
    other = _companion(p, pixels) if companion else None
    warnings: list[str] = []
    if other is not None:
        o = parse_trc(other)
        if len(o.time_s) == len(trc.time_s):
            if pixels:
                m_trc = o
            else:
                px_trc = o
            files["world" if pixels else "pixels"] = other.name
        else:
            warnings.append(f"{other.name} has {len(o.time_s)} rows, {p.name} {len(trc.time_s)}; it was not used.")

    cols, unused = _map_markers(trc)
    found = [LANDMARK_NAMES[i] for i in sorted(cols)]
    missing = [n for n in LANDMARK_NAMES if INDEX[n] not in cols]
    t_n = len(trc.time_s)
    image = np.full((t_n, NUM_LANDMARKS, 3), np.nan)
    world = np.full((t_n, NUM_LANDMARKS, 3), np.nan)
    conversion: list[str] = []
    world_used = m_trc is not None
    if m_trc is not None:
        mc, _ = _map_markers(m_trc)
        raw = _to_rows(m_trc, mc) * _scale_to_m(m_trc.units)
        if is_planar(raw):
            world_used = False
            conversion.append(f"{files['world']}: not used as world landmarks (every marker's Z is constant)")
            warnings.append(
                f"{files['world']} is a scaled picture, not 3-D: every marker's Z stays constant "
                "over time (Sports2D writes Z = 0 or a fixed depth per marker), so it was not used "
                "as world landmarks; the measures that need 3-D landmarks are not assessed.")
    if m_trc is not None and world_used:
        world = np.stack([raw[..., 0], -raw[..., 1], -raw[..., 2]], axis=-1)
        mid = (world[:, INDEX["left_hip"]] + world[:, INDEX["right_hip"]]) / 2
        with np.errstate(invalid="ignore"):
            off = np.nanmedian(np.linalg.norm(mid, axis=1)) if np.isfinite(mid).any() else 0.0
        conversion.append(f"world = (X, -Y, -Z) in metres from {m_trc.units or 'm'}")
        if np.isfinite(off) and off > 0.02:
            world = world - mid[:, None, :]
            conversion.append("world centred between the hips in every frame (as MediaPipe's)")
    if px_trc is not None:
        pc, _ = _map_markers(px_trc)
        raw = _to_rows(px_trc, pc)
        ys = raw[..., 1][np.isfinite(raw[..., 1])]
        if ys.size and np.mean(ys > 0) > 0.99:
            warnings.append(f"{files['pixels']}: the Y values are positive, so they were read as "
                            "pixels with y down (not Sports2D's y up).")
            image = np.stack([raw[..., 0], raw[..., 1], np.zeros_like(raw[..., 0])], axis=-1)
            conversion.append("picture = (X, Y) pixels, y down")
        else:
            image = np.stack([raw[..., 0], -raw[..., 1], np.zeros_like(raw[..., 0])], axis=-1)
            conversion.append("picture = (X, -Y) pixels (file y up)")
        image[..., 2] = np.where(np.isfinite(image[..., 0]), 0.0, np.nan)
    elif m_trc is not None:
        mc, _ = _map_markers(m_trc)
        raw = _to_rows(m_trc, mc) * _scale_to_m(m_trc.units)
        image = _project(raw)
        width = width or 1000
        height = height or 1000
        conversion.append("picture = orthographic view along Z of the 3-D markers, 1000 x 1000 px")
        warnings.append(f"{p.name} has no pixel coordinates: the picture landmarks are a view of "
                        "the 3-D markers along their Z axis (a side view for OpenSim's axes).")
    if not world_used:
        warnings.append(f"{p.name} has no 3-D (world) landmarks: the measures that need them are "
                        "not assessed, and from the front no repetition can be found.")
    if missing:
        warnings.append(f"{p.name} has no marker for {len(missing)} of BlazePose's 33 landmarks "
                        f"({', '.join(missing)}); the rules that need them are not assessed.")
    present = np.isfinite(image[..., 0]) | np.isfinite(world[..., 0])
    vis = present.astype(np.float32)
    fin = image[..., :2][np.isfinite(image[..., :2])]
    if width is None or height is None:
        xs = image[..., 0][np.isfinite(image[..., 0])]
        ys2 = image[..., 1][np.isfinite(image[..., 1])]
        width = width or (int(np.ceil(xs.max())) + 1 if xs.size and xs.max() > 0 else 1)
        height = height or (int(np.ceil(ys2.max())) + 1 if ys2.size and ys2.max() > 0 else 1)
        if fin.size:
            warnings.append(f"The frame size is not in a TRC file; {width} x {height} px was estimated from the coordinates.")
    fps = _fps(trc)
    time_s = trc.time_s if np.all(np.isfinite(trc.time_s)) else np.arange(t_n) / fps
    seq = LandmarkSequence(
        frame_index=np.arange(t_n, dtype=np.int64),
        time_s=np.asarray(time_s, np.float64),
        image_xyz=image.astype(np.float32),
        visibility=vis,
        presence=vis.copy(),
        world_xyz=world.astype(np.float32),
        width=int(width),
        height=int(height),
        fps=fps,
    )
    source: dict[str, object] = {
        "format": "trc",
        "files": files,
        "units": {"pixels": "px" if px_trc is not None else None,
                  "world": (m_trc.units or "m") if m_trc is not None and world_used else None},
        "landmarks_found": found,
        "landmarks_missing": missing,
        "markers_not_used": unused,
        "conversion": conversion,
        "confidence": "none in TRC: visibility 1 where a point is present",
        "masks": "none: the back-outline and foot-on-mask measures are not made",
    }
    return ImportedLandmarks(seq, source, warnings)


def is_planar(xyz: np.ndarray, tol_m: float = 1e-6) -> bool:
    """True when every marker's Z is constant over time (within ``tol_m`` metres): a picture
    scaled to metres, as Sports2D's ``*_m.trc`` (Z = 0, or a fixed normative depth per marker
    with ``visible_side``), not 3-D landmarks. ``xyz`` is (T, 33, 3) in metres. The tolerance
    is a micrometre: a real 3-D recording, even of someone standing still, varies more."""
    z = np.asarray(xyz, np.float64)[..., 2]
    ok = np.isfinite(z).sum(axis=0) >= 2
    if not ok.any():
        return False
    with np.errstate(invalid="ignore"):
        spread = np.nanmax(z[:, ok], axis=0) - np.nanmin(z[:, ok], axis=0)
    return bool(np.all(spread <= tol_m))


def _project(world_yup: np.ndarray, size_px: int = 1000) -> np.ndarray:
    """Orthographic view along Z of y-up 3-D points, fitted into a ``size_px`` square."""
    x, y = world_yup[..., 0], world_yup[..., 1]
    fx, fy = x[np.isfinite(x)], y[np.isfinite(y)]
    if not fx.size:
        return np.full(world_yup.shape, np.nan)
    span = max(float(fx.max() - fx.min()), float(fy.max() - fy.min()), 1e-6)
    s = 0.8 * size_px / span
    cx = size_px / 2 - s * (fx.max() + fx.min()) / 2
    cy = size_px / 2 + s * (fy.max() + fy.min()) / 2
    u, v = x * s + cx, -y * s + cy
    return np.stack([u, v, np.where(np.isfinite(u), 0.0, np.nan)], axis=-1)
