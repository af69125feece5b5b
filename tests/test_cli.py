"""The command line, end to end, with the real model on real and generated videos."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner

from movescreen.cli import main
from tests.conftest import EXAMPLE_VIDEO, REPO
from tests.videos import gradient_frames, read_frames, write_video

SCHEMA = json.loads((REPO / "src" / "movescreen" / "schemas" / "report.schema.json").read_text())


def run_cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def example_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("example")
    res = run_cli("analyze", EXAMPLE_VIDEO, "--out", out, "-q")
    assert res.exit_code == 0, res.output
    return out


@pytest.mark.model
def test_analyze_writes_landmarks_and_a_valid_report(example_out):
    report = json.loads((example_out / "report.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["input"]["frame_count"] == 65
    assert report["input"]["fps"] == pytest.approx(5.0)
    assert (report["input"]["width"], report["input"]["height"]) == (720, 1280)
    assert report["input"]["duration_s"] == pytest.approx(13.0, abs=0.25)
    assert report["quality"]["pose_fraction"] == pytest.approx(1.0)
    prov = report["provenance"]
    assert prov["model"]["sha256"].startswith("5edd0176") and prov["mediapipe_version"]
    assert "not a diagnosis" in report["safety"]["disclaimer"]
    lines = (example_out / "landmarks.csv").read_text().splitlines()
    assert lines[0] == "frame,time_s,landmark,x_px,y_px,z,visibility,presence,world_x_m,world_y_m,world_z_m"
    assert len(lines) == 1 + 65 * 33
    # times come from the container: 5 fps -> 0.2 s steps
    assert lines[1 + 33].split(",")[:2] == ["1", "0.2000"]


@pytest.mark.model
def test_landmarks_csv_input_runs_without_the_model(example_out, tmp_path, monkeypatch):
    monkeypatch.setenv("MOVESCREEN_MODEL", str(tmp_path / "no-such-model.task"))
    res = run_cli("analyze", example_out / "landmarks.csv", "--out", tmp_path / "again")
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "again" / "report.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["input"]["kind"] == "landmarks"
    assert report["provenance"]["model"] is None
    assert (report["input"]["width"], report["input"]["height"]) == (720, 1280)
    a = (example_out / "landmarks.csv").read_text()
    b = (tmp_path / "again" / "landmarks.csv").read_text()
    assert a == b


def test_console_script_runs_as_a_real_process(tmp_path):
    exe = Path(sys.executable).parent / "movescreen"
    res = subprocess.run([str(exe), "analyze", str(tmp_path / "missing.mp4")], capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.strip().startswith("movescreen: error: No file or folder at")
    assert "Traceback" not in res.stderr


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    zero = tmp_path / "zero.mp4"
    zero.write_bytes(b"")
    text = tmp_path / "text.mp4"
    text.write_text("this is a text file, not a video\n" * 50)
    trunc = tmp_path / "truncated.mp4"
    trunc.write_bytes(EXAMPLE_VIDEO.read_bytes()[:300_000])
    return {"missing": tmp_path / "nope.mp4", "zero": zero, "text": text, "truncated": trunc}


@pytest.mark.parametrize("kind", ["missing", "zero", "text", "truncated"])
def test_bad_input_gives_one_sentence_and_exit_2(tmp_path, kind):
    path = _bad_inputs(tmp_path)[kind]
    res = CliRunner().invoke(main, ["analyze", str(path), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert res.exception is None or isinstance(res.exception, SystemExit)
    err = res.output.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("movescreen: error:")
    assert "Traceback" not in res.output
    assert not (tmp_path / "out" / "report.json").exists()


@pytest.mark.model
def test_video_with_nobody_in_it(tmp_path):
    path = write_video(tmp_path / "empty_room.mp4", gradient_frames(15, 320, 240), fps=15)
    res = run_cli("analyze", path, "--out", tmp_path / "out", "-q")
    assert res.exit_code == 1
    assert "No person was found in any of the 15 frames" in res.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["status"] == "failed" and report["quality"]["pose_fraction"] == 0


@pytest.mark.model
def test_two_people_are_noticed_and_the_larger_one_is_followed(tmp_path):
    import cv2

    frames = read_frames(EXAMPLE_VIDEO, limit=12)
    out = []
    for f in frames:  # the same woman twice: full size on the left, 60% size on the right
        canvas = np.full((1280, 1300, 3), 235, np.uint8)
        canvas[:, :720] = f
        small = cv2.resize(f, (432, 768))
        canvas[400:1168, 820:1252] = small
        out.append(canvas)
    path = write_video(tmp_path / "two.mp4", out, fps=5)
    res = run_cli("analyze", path, "--out", tmp_path / "o", "-q")
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["quality"]["max_people_seen"] >= 2
    assert any("people were seen" in w for w in report["quality"]["warnings"])
    assert "people were seen" in res.output
    rows = [r.split(",") for r in (tmp_path / "o" / "landmarks.csv").read_text().splitlines()[1:]]
    xs = np.array([float(r[3]) for r in rows if r[3]])
    assert np.median(xs) < 720  # the larger (left) person is the subject


def test_info_prints_versions_and_model_checksum():
    res = run_cli("info")
    assert res.exit_code == 0
    for key in ("python", "movescreen", "mediapipe", "opencv", "numpy", "scipy", "model_sha256"):
        assert key in res.output
    assert "5edd017682e83d1595a53ca0be450da306e15b1360b1d7f55c5b80edeb1ed987" in res.output


def test_models_list_and_verify(tmp_path):
    res = run_cli("models", "list")
    assert res.exit_code == 0 and "pose_landmarker_full.task" in res.output and "present" in res.output
    res = run_cli("models", "verify")
    assert res.exit_code == 0 and "checksum OK" in res.output
    bad = tmp_path / "pose_landmarker_full.task"
    bad.write_bytes(b"garbage")
    res = CliRunner().invoke(main, ["models", "verify", "--model", str(bad)])
    assert res.exit_code == 2 and "not a MediaPipe .task bundle" in res.output


def test_models_fetch_offline_message(tmp_path, monkeypatch):
    monkeypatch.setenv("MOVESCREEN_MODEL_URL", "http://127.0.0.1:9/{name}.task")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    res = CliRunner().invoke(main, ["models", "fetch", "heavy"])
    assert res.exit_code == 2
    assert "offline" in res.output and "Traceback" not in res.output


@pytest.mark.model
def test_analyze_reports_reps_findings_joints_and_review_outputs(example_out):
    report = json.loads((example_out / "report.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["movement"]["name"] == "squat" and report["view"]["name"] == "front"
    assert len(report["reps"]) == 3
    assert [j["joint"] for j in report["joints"]] == ["ankle", "knee", "hip", "lumbar_spine"]
    assert {r["rule"] for r in report["rules"]} >= {"lumbar_rounding", "knee_valgus", "heel_lift"}
    lumbar = next(r for r in report["rules"] if r["rule"] == "lumbar_rounding")
    assert lumbar["status"] == "not_assessed" and "side" in lumbar["reason"]  # front view
    assert report["pain"]["referral"] is False
    assert report["provenance"]["filter"]["method"] == "butterworth"
    assert report["provenance"]["config"]["rules"]["lumbar_rounding"]["flag"] == 15.0
    assert set(report["outputs"]) >= {"landmarks", "angles", "video", "frames", "html"}
    header = (example_out / "angles.csv").read_text().splitlines()[0].split(",")
    assert header[:2] == ["frame", "time_s"] and header[-1] == "view"
    assert "left_knee_flexion_image_deg" in header and "lumbar_flexion_est_deg" in header


@pytest.mark.model
def test_pain_is_recorded_and_leads_to_referral(tmp_path, example_out):
    res = run_cli("analyze", example_out / "landmarks.csv", "--out", tmp_path / "p", "--pain",
                  "left knee <b>sharp</b>", "--no-video", "--no-frames")
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "p" / "report.json").read_text())
    assert report["pain"]["reported"] == "left knee <b>sharp</b>" and report["pain"]["referral"]
    assert {j["joint"]: j["status"] for j in report["joints"]}["knee"] == "pain_reported"
    html = (tmp_path / "p" / "report.html").read_text()
    assert "<b>sharp</b>" not in html and "&lt;b&gt;sharp&lt;/b&gt;" in html
    assert not (tmp_path / "p" / "annotated.mp4").exists()


def test_bad_config_file_is_a_one_sentence_error(tmp_path, example_video):
    bad = tmp_path / "bad.toml"
    bad.write_text("[lumbar_rounding]\nflag = 1\ncaution = 9\n")
    res = CliRunner().invoke(main, ["analyze", str(example_video), "--config", str(bad),
                                    "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "grow in severity" in res.output
    assert not (tmp_path / "o").exists()


@pytest.mark.model
def test_report_command_re_renders_html(tmp_path, example_out):
    import shutil

    d = tmp_path / "copy"
    shutil.copytree(example_out, d)
    (d / "report.html").unlink()
    res = run_cli("report", d, "--no-video", "--no-frames")
    assert res.exit_code == 0, res.output
    assert (d / "report.html").is_file()
    res = CliRunner().invoke(main, ["report", str(tmp_path / "nothing-here")])
    assert res.exit_code == 2 and "movescreen: error:" in res.output


@pytest.mark.model
def test_batch_command_reports_failures_and_exit_code(tmp_path):
    import shutil

    folder = tmp_path / "clients"
    folder.mkdir()
    shutil.copy(EXAMPLE_VIDEO, folder / "anna.mp4")
    (folder / "empty.mp4").write_bytes(b"")
    res = CliRunner().invoke(main, ["batch", str(folder), "--out", str(tmp_path / "out"),
                                    "--workers", "1", "--no-video", "--no-frames", "-q"])
    assert res.exit_code == 1, res.output
    assert "1 ok, 1 failed" in res.output
    rows = (tmp_path / "out" / "summary.csv").read_text().splitlines()
    assert len(rows) == 3 and "empty (0 bytes)" in "\n".join(rows)
    assert (tmp_path / "out" / "anna" / "report.json").is_file()
    assert (tmp_path / "out" / "index.html").is_file()


@pytest.mark.model
def test_no_person_message_reaches_the_terminal_every_time_with_the_people_scan(tmp_path):
    # the tracker and the people scan both silence MediaPipe's native logs on fd 2 from two
    # threads; a per-thread save/restore could leave fd 2 on /dev/null and the sentence vanished
    path = write_video(tmp_path / "empty_room.mp4", gradient_frames(40, 320, 240), fps=10)
    exe = Path(sys.executable).parent / "movescreen"
    for i in range(5):
        res = subprocess.run([str(exe), "analyze", str(path), "--out", str(tmp_path / f"o{i}"), "-q",
                              "--no-video", "--no-frames", "--no-html"],
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 1, res.stderr
        assert "movescreen: error: No person was found in any of the 40 frames" in res.stderr, (i, res.stderr)
        assert "Traceback" not in res.stderr


def test_out_naming_a_file_is_one_sentence_and_exit_2(tmp_path):
    target = tmp_path / "already.txt"
    target.write_text("not a folder\n")
    exe = Path(sys.executable).parent / "movescreen"
    for cmd in (["analyze", str(EXAMPLE_VIDEO)], ["batch", str(tmp_path)]):
        res = subprocess.run([str(exe), *cmd, "--out", str(target), "-q"], capture_output=True, text=True,
                             timeout=120)
        assert res.returncode == 2, res.stderr
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("movescreen: error: --out"), res.stderr
        assert "is a file" in lines[0] and "Traceback" not in res.stderr
    assert target.read_text() == "not a folder\n"
    res = subprocess.run([str(exe), "analyze", str(EXAMPLE_VIDEO), "--out", str(target / "sub"), "-q"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "cannot be created" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.skipif(sys.platform == "win32" or (hasattr(__import__("os"), "geteuid") and __import__("os").geteuid() == 0),
                    reason="root may write into any folder, so a read-only folder cannot be shown")
def test_out_in_a_read_only_folder_is_one_sentence_and_exit_2(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        res = CliRunner().invoke(main, ["analyze", str(EXAMPLE_VIDEO), "--out", str(ro / "out"), "-q"])
        assert res.exit_code == 2 and "cannot be written" in res.output
    finally:
        ro.chmod(0o700)
