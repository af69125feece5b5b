"""Exports read back by independent readers (pyomeca for TRC and MOT, pyarrow, ezc3d)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from movescreen.errors import InputError
from movescreen.interop.exports import EXPORTS, parse_exports, write_exports
from movescreen.interop.mot import degree_columns, write_mot
from movescreen.interop.names import DERIVED_MARKERS, EXPORT_NAMES
from movescreen.interop.trc import WORLD_COMMENT, write_trc_m, write_trc_px
from movescreen.landmarks import INDEX, LANDMARK_NAMES
from tests.interop.conftest import trusted

MARKERS = [EXPORT_NAMES[n] for n in LANDMARK_NAMES] + list(DERIVED_MARKERS)


def _angle_table(n: int = 20, seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = {
        "frame": np.arange(n, dtype=np.int64), "time_s": np.arange(n) / 30.0,
        "view": np.array(["front"] * n, dtype=object),
        "left_knee_flexion_world_deg": rng.uniform(0, 120, n),
        "trunk_inclination_image_deg": rng.uniform(-10, 60, n),
        "left_hip_above_knee_image_ratio": rng.uniform(-1, 1, n),
    }
    t["left_knee_flexion_world_deg"][4] = np.nan
    return t


def _pyomeca_markers(path):
    Markers = pytest.importorskip("pyomeca").Markers
    return Markers.from_trc(str(path), pandas_kwargs={"sep": "\t"})


def test_trc_px_reads_back_in_pyomeca_as_pixels_y_up(tmp_path, synthetic_sequence):
    seq = synthetic_sequence
    p = write_trc_px(tmp_path / "landmarks_px.trc", seq)
    m = _pyomeca_markers(p)
    assert list(m.channel.values) == MARKERS
    assert m.attrs["rate"] == pytest.approx(30.0)
    np.testing.assert_allclose(m.time.values, seq.time_s, atol=1e-6)
    want = trusted(seq, seq.image_xyz)
    got = np.transpose(m.values[:3, :33, :], (2, 1, 0))  # (T, 33, 3)
    np.testing.assert_allclose(got[..., 0], want[..., 0], atol=0.006)  # 2 decimals
    np.testing.assert_allclose(got[..., 1], -want[..., 1], atol=0.006)  # y up
    assert np.isnan(got[3, INDEX["left_knee"]]).all()  # visibility 0.2: not written
    assert np.isnan(got[5]).all() and np.isnan(got[7, 0]).all()
    hip = (want[:, INDEX["left_hip"], 0] + want[:, INDEX["right_hip"], 0]) / 2
    np.testing.assert_allclose(m.sel(channel="Hip").values[0], hip, atol=0.006)


def test_trc_m_reads_back_in_pyomeca_as_metres_y_up_with_its_warning(tmp_path, synthetic_sequence):
    seq = synthetic_sequence
    p = write_trc_m(tmp_path / "landmarks_m.trc", seq)
    first, _, values = p.read_text().splitlines()[:3]
    assert WORLD_COMMENT in first and "between the hips in every frame" in first
    assert values.split("\t")[4] == "m"
    m = _pyomeca_markers(p)
    got = np.transpose(m.values[:3, :33, :], (2, 1, 0))
    want = trusted(seq, seq.world_xyz)
    np.testing.assert_allclose(got, want * np.array([1, -1, -1]), atol=6e-6)


def test_mot_reads_back_in_pyomeca_with_every_degree_column(tmp_path):
    Analogs = pytest.importorskip("pyomeca").Analogs
    table = _angle_table()
    p = write_mot(tmp_path / "angles.mot", table)
    text = p.read_text()
    assert "inDegrees=yes" in text and "endheader" in text
    a = Analogs.from_mot(str(p), pandas_kwargs={"sep": "\t"})
    assert list(a.channel.values) == ["left_knee_flexion_world_deg", "trunk_inclination_image_deg"]
    assert degree_columns(table) == list(a.channel.values)  # ratios are not angles
    np.testing.assert_allclose(a.time.values, table["time_s"], atol=1e-6)
    for c in a.channel.values:
        np.testing.assert_allclose(a.sel(channel=c).values, table[c], atol=6e-5)
    assert np.isnan(a.sel(channel="left_knee_flexion_world_deg").values[4])


def test_parquet_reads_back_in_pyarrow_with_units(tmp_path, synthetic_sequence):
    pq = pytest.importorskip("pyarrow.parquet")
    from movescreen.interop.parquet import (
        read_landmarks_parquet,
        write_angles_parquet,
        write_landmarks_parquet,
    )

    seq = synthetic_sequence
    p = write_landmarks_parquet(tmp_path / "landmarks.parquet", seq)
    t = pq.read_table(p)
    assert t.num_rows == len(seq) * 33
    assert t.schema.field("x_px").metadata[b"unit"] == b"px"
    assert t.schema.field("world_y_m").metadata[b"unit"] == b"m"
    meta = json.loads(t.schema.metadata[b"movescreen"])
    assert (meta["width"], meta["height"], meta["fps"]) == (640, 480, 30.0)
    x = t.column("x_px").to_numpy(zero_copy_only=False).reshape(len(seq), 33)
    np.testing.assert_array_equal(x, seq.image_xyz[..., 0])  # float32, exact, NaN kept
    assert t.column("landmark").to_pylist()[:2] == ["nose", "left_eye_inner"]
    back = read_landmarks_parquet(p)
    np.testing.assert_array_equal(back.world_xyz, seq.world_xyz)
    np.testing.assert_array_equal(back.frame_index, seq.frame_index)

    table = _angle_table()
    a = pq.read_table(write_angles_parquet(tmp_path / "angles.parquet", table))
    f = a.schema.field("left_knee_flexion_world_deg").metadata
    assert f[b"unit"] == b"deg" and f[b"plane"] == b"3d"
    assert a.schema.field("left_hip_above_knee_image_ratio").metadata[b"unit"] == b"ratio"
    np.testing.assert_array_equal(a.column("trunk_inclination_image_deg").to_numpy(),
                                  table["trunk_inclination_image_deg"])
    assert a.column("view").to_pylist() == list(table["view"])


def test_c3d_reads_back_in_ezc3d_with_invalid_points_as_nan(tmp_path, synthetic_sequence):
    ezc3d = pytest.importorskip("ezc3d")
    from movescreen.interop.c3d import write_c3d

    seq = synthetic_sequence
    c = ezc3d.c3d(str(write_c3d(tmp_path / "landmarks.c3d", seq)))
    assert c["parameters"]["POINT"]["LABELS"]["value"] == MARKERS
    assert c["parameters"]["POINT"]["UNITS"]["value"] == ["m"]
    assert c["parameters"]["POINT"]["RATE"]["value"][0] == pytest.approx(30.0)
    got = np.transpose(c["data"]["points"][:3, :33, :], (2, 1, 0))
    want = trusted(seq, seq.world_xyz) * np.array([1, -1, -1])
    np.testing.assert_allclose(got, want, atol=1e-6)  # C3D stores float32
    assert np.isnan(got[5]).all() and np.isnan(got[3, INDEX["left_knee"]]).all()


def test_parse_exports_checks_names():
    assert parse_exports("c3d,TRC") == ("trc", "c3d")
    assert parse_exports("all") == tuple(EXPORTS)
    assert parse_exports("") == ()
    with pytest.raises(InputError, match="expected some of trc, mot, parquet, c3d"):
        parse_exports("trc,csv")


def test_write_exports_writes_each_file_atomically(tmp_path, synthetic_sequence):
    pytest.importorskip("pyarrow")
    pytest.importorskip("ezc3d")
    paths = write_exports((synthetic_sequence, _angle_table()), tmp_path, "trc,mot,parquet,c3d")
    names = sorted(p.name for p in paths.values())
    assert names == sorted(f for files in EXPORTS.values() for f in files)
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind
    assert write_exports(synthetic_sequence, tmp_path / "none", None) == {}
    only_landmarks = write_exports(synthetic_sequence, tmp_path / "lm", "mot,trc")
    assert sorted(p.name for p in only_landmarks.values()) == ["landmarks_m.trc", "landmarks_px.trc"]
