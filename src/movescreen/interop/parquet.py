"""``landmarks.parquet`` and ``angles.parquet`` (optional extra ``movescreen[parquet]``: pyarrow).

``landmarks.parquet`` has the columns of ``landmarks.csv`` (one row per frame and landmark;
``landmark`` dictionary-encoded); ``angles.parquet`` the columns of ``angles.csv``. Missing values
are nulls (NaN in pandas). Units travel in the schema: each field's metadata has ``unit`` (and,
for angle columns, the definition from the angle table: plane, sign, zero, space, views), and the
file's metadata key ``movescreen`` holds a JSON object with the coordinate conventions, frame
size, fps and version.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from movescreen import __version__
from movescreen.errors import InputError
from movescreen.landmarks import INDEX, LANDMARK_NAMES, NUM_LANDMARKS
from movescreen.sinks import atomic_path
from movescreen.types import LandmarkSequence

LANDMARK_UNITS = {
    "frame": "frame number of the source", "time_s": "s", "landmark": "BlazePose name",
    "x_px": "px", "y_px": "px", "z": "MediaPipe relative depth (normalised, smaller = closer)",
    "visibility": "0..1", "presence": "0..1", "world_x_m": "m", "world_y_m": "m", "world_z_m": "m",
}
CONVENTIONS = {
    "image": "pixels of the full frame, origin top-left, y down",
    "world": "MediaPipe world landmarks: metres, origin between the hips in every frame, y down, "
             "x to the picture's right, z away from the camera",
    "angles": "degrees; 0 = standing upright; flexion positive; _image_ from the picture, "
              "_world_ from the world landmarks",
}


def _pa() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as e:
        raise ImportError("Parquet needs pyarrow: pip install 'movescreen[parquet]'") from e
    return pa, pq


def _unit_of(column: str) -> str:
    if column in ("frame",):
        return "frame number of the source"
    if column.endswith("_s"):
        return "s"
    if column.endswith("_deg"):
        return "deg"
    if "_ratio" in column:
        return "ratio"
    if column == "view":
        return "camera view"
    return ""


def write_landmarks_parquet(path: str | os.PathLike[str], seq: LandmarkSequence) -> Path:
    """Write ``seq`` as a long table (frame x landmark rows), units in the schema (atomic)."""
    pa, pq = _pa()
    t_n = len(seq)
    rep = lambda a: np.repeat(np.asarray(a), NUM_LANDMARKS)  # noqa: E731
    img = np.asarray(seq.image_xyz, np.float32).reshape(-1, 3)
    wld = np.asarray(seq.world_xyz, np.float32).reshape(-1, 3)
    cols: dict[str, Any] = {
        "frame": pa.array(rep(seq.frame_index).astype(np.int64)),
        "time_s": pa.array(rep(seq.time_s).astype(np.float64)),
        "landmark": pa.DictionaryArray.from_arrays(
            pa.array(np.tile(np.arange(NUM_LANDMARKS, dtype=np.int8), t_n)), pa.array(list(LANDMARK_NAMES))),
        "x_px": img[:, 0], "y_px": img[:, 1], "z": img[:, 2],
        "visibility": np.asarray(seq.visibility, np.float32).reshape(-1),
        "presence": np.asarray(seq.presence, np.float32).reshape(-1),
        "world_x_m": wld[:, 0], "world_y_m": wld[:, 1], "world_z_m": wld[:, 2],
    }
    arrays = [v if isinstance(v, pa.Array) else pa.array(v, from_pandas=True) for v in cols.values()]
    fields = [pa.field(k, a.type, metadata={"unit": LANDMARK_UNITS[k]}) for k, a in zip(cols, arrays)]
    meta = {"conventions": CONVENTIONS, "width": seq.width, "height": seq.height, "fps": seq.fps,
            "frames": t_n, "movescreen_version": __version__}
    schema = pa.schema(fields, metadata={"movescreen": json.dumps(meta)})
    table = pa.Table.from_arrays(arrays, schema=schema)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return Path(path)


def write_angles_parquet(path: str | os.PathLike[str], table: dict[str, np.ndarray]) -> Path:
    """Write the angle table (one row per frame), each column's unit and definition in the schema."""
    pa, pq = _pa()
    from movescreen.kinematics.angles import ANGLE_BY_NAME

    arrays, fields = [], []
    for name, values in table.items():
        v = np.asarray(values)
        if v.dtype.kind in "OUS":
            arr = pa.array([str(x) for x in v], pa.string())
        elif name == "frame":
            arr = pa.array(v.astype(np.int64))
        else:
            arr = pa.array(v.astype(np.float64), from_pandas=True)
        md = {"unit": _unit_of(name)}
        d = ANGLE_BY_NAME.get(name)
        if d is not None:
            md.update(unit=d.unit, plane=d.plane, side=d.side, sign=d.sign, zero=d.zero,
                      space=d.space, views=",".join(d.views), landmarks=",".join(d.landmarks))
        arrays.append(arr)
        fields.append(pa.field(name, arr.type, metadata=md))
    meta = {"conventions": CONVENTIONS, "movescreen_version": __version__}
    schema = pa.schema(fields, metadata={"movescreen": json.dumps(meta)})
    with atomic_path(path) as tmp:
        pq.write_table(pa.Table.from_arrays(arrays, schema=schema), tmp)
    return Path(path)


def read_landmarks_parquet(path: str | os.PathLike[str]) -> LandmarkSequence:
    """Read a ``landmarks.parquet`` written by :func:`write_landmarks_parquet`."""
    pa, pq = _pa()
    t = pq.read_table(path)
    meta = json.loads((t.schema.metadata or {}).get(b"movescreen", b"{}"))
    d = {c: t.column(c).to_numpy(zero_copy_only=False) for c in t.column_names if c != "landmark"}
    names = [str(x) for x in t.column("landmark").to_pylist()]
    frames = np.unique(d["frame"])
    pos = np.searchsorted(frames, d["frame"])
    j = np.array([INDEX[n] for n in names], np.intp)
    if len(frames) * NUM_LANDMARKS != len(names):
        raise InputError(f"{Path(path).name}: expected {NUM_LANDMARKS} landmarks per frame.")
    out = {}
    for key, cols in (("image", ("x_px", "y_px", "z")), ("world", ("world_x_m", "world_y_m", "world_z_m"))):
        a = np.full((len(frames), NUM_LANDMARKS, 3), np.nan, np.float32)
        for k, c in enumerate(cols):
            a[pos, j, k] = d[c]
        out[key] = a
    vis = np.full((len(frames), NUM_LANDMARKS), np.nan, np.float32)
    pres = vis.copy()
    vis[pos, j], pres[pos, j] = d["visibility"], d["presence"]
    times = np.zeros(len(frames))
    times[pos] = d["time_s"]
    return LandmarkSequence(frames.astype(np.int64), times, out["image"], vis, pres, out["world"],
                            int(meta.get("width", 1)), int(meta.get("height", 1)), float(meta.get("fps", 30.0)))


def read_angles_parquet(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read ``angles.parquet`` into columns (numbers as float64, ``frame`` int64, ``view`` str)."""
    _, pq = _pa()
    t = pq.read_table(path)
    out: dict[str, np.ndarray] = {}
    for c in t.column_names:
        col = t.column(c)
        if str(col.type) == "string":
            out[c] = np.array(col.to_pylist(), dtype=object)
        else:
            out[c] = col.to_numpy(zero_copy_only=False)
    return out
