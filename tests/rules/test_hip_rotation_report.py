"""report.html's hip rotation section and the workspace's per-session hip metrics (issue 13)."""

from __future__ import annotations

import json
import re

import pytest

from movescreen.kinematics.hip_rotation import progress_metrics
from movescreen.pipeline import AnalyzeOptions, run_analysis
from movescreen.render.hip_rotation import hip_rotation_section
from movescreen.sinks import write_landmarks_csv
from movescreen.synthetic_hip import make_figure4, make_seated_rotation


def _analyse(tmp_path, motion):
    csv = write_landmarks_csv(tmp_path / "in.csv", motion.sequence)
    out = tmp_path / "out"
    run_analysis(csv, out, AnalyzeOptions(video=False, key_frames=False, html=True))
    return json.loads((out / "report.json").read_text()), (out / "report.html").read_text()


def test_report_html_shows_ranges_normal_range_and_other_side(tmp_path):
    report, html = _analyse(tmp_path, make_seated_rotation(internal_deg=(38.0, 22.0), external_deg=(41.0, 44.0),
                                                           noise_px=0.5))
    assert 'id="hip_rotation"' in html and "Seated hip rotation test" in html
    assert "not every hip is ready to be stretched" in html
    section = html.split('id="hip_rotation"')[1].split("</section>")[0]
    rows = re.findall(r"<tr><td>(left|right)</td><td>(internal|external)</td><td>(\d+)", section)
    got = {(s, d): int(v) for s, d, v in rows}
    assert got == {("left", "internal"): 38, ("left", "external"): 41,
                   ("right", "internal"): 22, ("right", "external"): 44}
    assert "30&ndash;45&deg;" in section  # the normal range from defaults.toml
    assert "below the normal range" in section  # the right side's 22 deg internal rotation
    assert "Roach &amp; Miles 1991" in section
    assert report["hip_rotation"]["sides"]["right"]["internal"]["value"] == pytest.approx(22.0, abs=1.0)


def test_side_view_section_says_why_not_assessed():
    html = hip_rotation_section({"hip_rotation": {"test": "figure4", "view": "side", "assessed": False,
                                                  "reason": "Not assessed: needs a front view <x>."}})
    assert "needs a front view &lt;x&gt;" in html  # escaped
    assert hip_rotation_section({"movement": {"name": "squat"}}) is None


def test_progress_metrics_per_side(tmp_path):
    report, _ = _analyse(tmp_path, make_seated_rotation(internal_deg=(38.0, 22.0), external_deg=(41.0, 44.0)))
    m = progress_metrics(report)
    assert m["hip_internal_rotation_left_deg"] == pytest.approx(38.0, abs=1.0)
    assert m["hip_internal_rotation_right_deg"] == pytest.approx(22.0, abs=1.0)
    assert m["hip_external_rotation_right_deg"] == pytest.approx(44.0, abs=1.0)
    assert m["figure4_shin_left_deg"] is None
    f4, _ = _analyse(tmp_path / "f4", make_figure4(crossed="left", shin_from_horizontal_deg=20.0))
    assert progress_metrics(f4)["figure4_shin_left_deg"] == pytest.approx(20.0, abs=2.5)
    assert all(v is None for v in progress_metrics({"movement": {"name": "squat"}}).values())


def test_workspace_progress_plots_hip_rotation_per_side(tmp_path):
    pytest.importorskip("sqlalchemy", reason="needs the workspace extra: pip install -e '.[workspace]'")
    pytest.importorskip("fastapi", reason="needs the workspace extra: pip install -e '.[workspace]'")
    import datetime as dt
    from types import SimpleNamespace

    from movescreen.workspace import app, store

    weeks = []
    for i, ir_left in enumerate((20.0, 28.0, 36.0)):  # a hip-mobility block: the left hip improves
        report, _ = _analyse(tmp_path / f"w{i}", make_seated_rotation(internal_deg=(ir_left, 40.0)))
        weeks.append(SimpleNamespace(id=i + 1, date=dt.date(2026, 1, 5) + dt.timedelta(weeks=i),
                                     movement="hip_rotation_seated", report_json=json.dumps(report)))
    prog = store.hip_rotation_progress(weeks)
    left = [r["left"] for r in prog["hip_internal_rotation"]]
    right = [r["right"] for r in prog["hip_internal_rotation"]]
    assert left == pytest.approx([20.0, 28.0, 36.0], abs=1.0)
    assert right == pytest.approx([40.0, 40.0, 40.0], abs=1.0)
    assert all(r["left"] is None for r in prog["figure4_shin"])
    p = {"sessions": [{"date": w.date.isoformat()} for w in weeks],
         "metrics": {k: [] for k in store.METRICS}, "findings_per_rule": {}, "hip_rotation": prog}
    svgs = [s for s in app._progress_plots(p) if "Hip internal rotation" in s]
    assert len(svgs) == 1 and ">left<" in svgs[0] and ">right<" in svgs[0]


def test_analyze_prints_the_ranges(tmp_path):
    from click.testing import CliRunner

    from movescreen.cli import main

    csv = write_landmarks_csv(tmp_path / "in.csv", make_seated_rotation(internal_deg=(38.0, 22.0)).sequence)
    res = CliRunner().invoke(main, ["analyze", str(csv), "--out", str(tmp_path / "o"), "--no-video",
                                    "--no-frames", "--no-html", "-q", "--movement", "hip_rotation_seated"])
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if x.startswith("Hip rotation"))
    assert "left internal 38±0.5" in line and "right internal 22±0.5" in line and "normal about 30-45" in line


def test_protocol_command_prints_the_safety_text_first():
    from click.testing import CliRunner

    from movescreen.cli import main

    res = CliRunner().invoke(main, ["protocol", "hip_rotation_seated"])
    assert res.exit_code == 0
    assert res.output.index("not every hip is ready to be stretched") < res.output.index("Camera: in front")
    assert CliRunner().invoke(main, ["protocol", "squat"]).exit_code == 2
