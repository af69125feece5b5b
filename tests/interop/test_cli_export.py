"""``--export`` on ``movescreen analyze`` (from landmarks: no model run here)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from click.testing import CliRunner

from movescreen.cli import main
from movescreen.interop.trc import write_trc_m, write_trc_px


@pytest.mark.model
def test_analyze_a_trc_with_every_export(example_analysis, tmp_path):
    pytest.importorskip("pyarrow")
    pytest.importorskip("ezc3d")
    seq = replace(example_analysis.sequence, masks={})
    write_trc_px(tmp_path / "in" / "landmarks_px.trc", seq)
    write_trc_m(tmp_path / "in" / "landmarks_m.trc", seq)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["analyze", str(tmp_path / "in" / "landmarks_px.trc"), "--out", str(out),
                                  "--no-video", "--no-frames", "--no-html", "--export", "all"])
    assert r.exit_code == 0, r.output
    report = json.loads((out / "report.json").read_text())
    files = set(report["outputs"].values())
    assert {"landmarks_px.trc", "landmarks_m.trc", "angles.mot", "landmarks.parquet",
            "angles.parquet", "landmarks.c3d"} <= files
    assert all((out / f).is_file() for f in files)
    assert report["landmarks_source"]["format"] == "trc"
    jsonschema = pytest.importorskip("jsonschema")
    from importlib.resources import files as resources

    schema = json.loads(resources("movescreen").joinpath("schemas/report.schema.json").read_text())
    jsonschema.validate(report, schema)
    assert report["input"]["kind"] == "landmarks" and len(report["reps"]) == len(example_analysis.kinematics.reps)


def test_unknown_export_is_a_usage_error(tmp_path):
    r = CliRunner().invoke(main, ["analyze", str(tmp_path / "x.mp4"), "--export", "trc,xls"])
    assert r.exit_code == 2 and "expected some of trc, mot, parquet, c3d" in r.output


@pytest.mark.model
def test_report_html_says_where_the_landmarks_came_from(example_analysis, tmp_path):
    seq = replace(example_analysis.sequence, masks={})
    write_trc_px(tmp_path / "in" / "clip_px.trc", seq)
    write_trc_m(tmp_path / "in" / "clip_m.trc", seq)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["analyze", str(tmp_path / "in" / "clip_px.trc"), "--out", str(out),
                                  "--no-video", "--no-frames"])
    assert r.exit_code == 0, r.output
    html = (out / "report.html").read_text()
    assert "landmarks from" in html
    assert "trc (pixels: clip_px.trc, world: clip_m.trc): imported from another tool" in html


@pytest.mark.model
@pytest.mark.slow
def test_batch_writes_the_exports_beside_each_videos_outputs(tmp_path):
    """`movescreen batch --export trc,mot` (one real video, one worker)."""
    import shutil

    from tests.conftest import EXAMPLE_VIDEO

    folder = tmp_path / "clients"
    folder.mkdir()
    shutil.copy(EXAMPLE_VIDEO, folder / "anna.mp4")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["batch", str(folder), "--out", str(out), "--workers", "1",
                                  "--no-video", "--no-frames", "--no-html", "--no-masks",
                                  "--no-people-scan", "--quiet", "--export", "trc,mot"])
    assert r.exit_code == 0, r.output
    report = json.loads((out / "anna" / "report.json").read_text())
    assert {"landmarks_px.trc", "landmarks_m.trc", "angles.mot"} <= set(report["outputs"].values())
    for f in ("landmarks_px.trc", "landmarks_m.trc", "angles.mot"):
        assert (out / "anna" / f).stat().st_size > 1000
    assert not (out / "anna" / "landmarks.parquet").exists()  # only what was asked
