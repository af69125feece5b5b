"""Ctrl-C and SIGTERM in ``analyze``, ``batch`` and ``live`` (issue 14, item 1).

Real subprocesses (``python -m movescreen``) on a real clip, signalled part-way. The tests wait
for the command's own progress lines (``-v``: "frames analysed: N") instead of sleeping, so they
hold on a slow or loaded machine; the clip is long enough (614 frames) that a machine many times
faster still gets the signal part-way.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import EXAMPLE_VIDEO, REPO, shared_file

pytestmark = pytest.mark.model

SCHEMA = json.loads((REPO / "src" / "movescreen" / "schemas" / "report.schema.json").read_text())
LONG_CLIP = "squat_side_barbell_back_02.mp4"  # 614 frames, 608x1080, 20 s
SHORT_CLIP = "deadlift_side_heel_lift_01.mp4"  # 64 frames, but the largest file: analysed first
FAST = ["--no-masks", "--no-people-scan", "--no-video"]
TIMEOUT_S = 600  # generous: a loaded 2-core machine; the waits below end on output, not time


def _start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "movescreen", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)


def _wait_for_line(proc: subprocess.Popen[str], pattern: str, at_least: int | None = None) -> list[str]:
    """Read stderr until a line matches ``pattern`` (its first group >= ``at_least``)."""
    seen: list[str] = []
    rx = re.compile(pattern)
    t0 = time.monotonic()
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line)
        m = rx.search(line)
        if m and (at_least is None or int(m.group(1)) >= at_least):
            return seen
        if time.monotonic() - t0 > TIMEOUT_S:
            break
    proc.kill()
    pytest.fail(f"never saw {pattern!r}; stderr was:\n{''.join(seen)[-3000:]}")


def _finish(proc: subprocess.Popen[str], seen: list[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=TIMEOUT_S)
    return proc.returncode, out, "".join(seen) + err


def _tmp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name.endswith(".part")]


def _landmark_frames(path: Path) -> list[int]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) % 33 == 0  # whole frames only: 33 landmarks each
    return sorted({int(r["frame"]) for r in rows})


def _check_interrupted_folder(out: Path, signame: str) -> dict:
    report = json.loads((out / "report.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["status"] == "interrupted"
    stop = report["interrupted"]
    assert stop["signal"] == signame
    assert stop["stage"] == "frames"
    frames = _landmark_frames(out / "landmarks.csv")
    # what was measured is all kept, and nothing more: the frame reached is the last row
    assert len(frames) == stop["frames_analysed"] == report["quality"]["frames"]
    assert frames[-1] == stop["frame_reached"]
    assert 25 <= stop["frames_analysed"] < stop["frames_expected"] == 614  # part-way
    assert "run the same command again" in report["error"]
    assert not _tmp_files(out)
    return report


@pytest.mark.parametrize(("sig", "code", "name"), [(signal.SIGINT, 130, "SIGINT"),
                                                   (signal.SIGTERM, 143, "SIGTERM")])
def test_analyze_stopped_part_way_keeps_what_was_measured(tmp_path, sig, code, name):
    clip = shared_file("videos", LONG_CLIP)
    out = tmp_path / "out"
    proc = _start("-v", "analyze", str(clip), "--out", str(out), *FAST)
    seen = _wait_for_line(proc, r"frames analysed: (\d+)", at_least=25)
    proc.send_signal(sig)
    rc, stdout, stderr = _finish(proc, seen)
    assert rc == code, stderr[-2000:]
    assert "Traceback" not in stderr
    said = [ln for ln in stderr.splitlines() if ln.startswith("movescreen: interrupted:")]
    assert len(said) == 1 and "landmarks.csv" in said[0], stderr[-2000:]
    assert "stopping at the next frame" in stderr  # the first signal is acknowledged at once
    _check_interrupted_folder(out, name)
    assert sorted(p.name for p in out.iterdir()) == ["landmarks.csv", "report.json"]
    assert str(out / "report.json") in stdout


def test_analyze_json_summary_when_interrupted(tmp_path):
    clip = shared_file("videos", LONG_CLIP)
    out = tmp_path / "out"
    proc = _start("analyze", str(clip), "--out", str(out), "--json", "-v", *FAST)
    seen = _wait_for_line(proc, r"frames analysed: (\d+)", at_least=25)
    proc.send_signal(signal.SIGINT)
    rc, stdout, stderr = _finish(proc, seen)
    assert rc == 130, stderr[-2000:]
    summary = json.loads(stdout)  # exactly one JSON document on stdout, nothing else
    assert summary["status"] == "interrupted" and summary["exit_code"] == 130
    assert summary["outputs"]["report"] == str(out / "report.json")
    _check_interrupted_folder(out, "SIGINT")


def test_second_ctrl_c_stops_at_once_and_leaves_earlier_results(tmp_path):
    clip = shared_file("videos", LONG_CLIP)
    out = tmp_path / "out"
    out.mkdir()
    earlier = {"landmarks.csv": "earlier landmarks\n", "report.json": '{"earlier": true}\n'}
    for name, text in earlier.items():
        (out / name).write_text(text)
    proc = _start("-v", "analyze", str(clip), "--out", str(out), *FAST[:2])  # video on: more to stop
    seen = _wait_for_line(proc, r"frames analysed: (\d+)", at_least=25)
    proc.send_signal(signal.SIGINT)
    seen += _wait_for_line(proc, r"stopping at the next frame()")
    proc.send_signal(signal.SIGINT)
    rc, stdout, stderr = _finish(proc, seen)
    assert rc == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    assert "Stopped at once by a second signal" in stderr, stderr[-2000:]
    assert not _tmp_files(out)
    # nothing half-written, and the files of the earlier run are as they were
    assert {p.name: p.read_text() for p in out.iterdir()} == earlier


def _batch_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(shared_file("videos", SHORT_CLIP), folder / "a_short.mp4")  # 3.5 MB: first
    shutil.copy(shared_file("videos", LONG_CLIP), folder / "b_long.mp4")  # 2.4 MB: second
    shutil.copy(EXAMPLE_VIDEO, folder / "c_small.mp4")  # 0.5 MB: never started
    return folder


def _summary(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "summary.csv", newline="") as f:
        return {r["video"]: r for r in csv.DictReader(f)}


BATCH_ARGS = ["--workers", "1", *FAST, "--no-frames", "--analysis-fps", "10"]


@pytest.mark.parametrize(("sig", "code", "name"), [(signal.SIGINT, 130, "SIGINT"),
                                                   (signal.SIGTERM, 143, "SIGTERM")])
def test_batch_stopped_part_way_then_resumed(tmp_path, sig, code, name):
    folder = _batch_folder(tmp_path)
    out = tmp_path / "out"
    proc = _start("-v", "batch", str(folder), "--out", str(out), *BATCH_ARGS)
    seen = _wait_for_line(proc, r"b_long.mp4: frames analysed: (\d+)", at_least=25)
    proc.send_signal(sig)
    rc, _, stderr = _finish(proc, seen)
    assert rc == code, stderr[-3000:]
    assert "Traceback" not in stderr and "resource_tracker" not in stderr, stderr[-3000:]
    rows = _summary(out)
    assert rows["a_short.mp4"]["status"] == "ok"
    for video in ("b_long.mp4", "c_small.mp4"):  # not finished: said so, with what to do
        assert rows[video]["status"] == "skipped"
        assert "run the same command again" in rows[video]["error"]
    assert "</html>" in (out / "index.html").read_text()  # a complete page
    # the video in progress kept what it measured, and is not marked done
    report = json.loads((out / "b_long" / "report.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["status"] == "interrupted" and report["interrupted"]["signal"] == "SIGINT"
    frames = _landmark_frames(out / "b_long" / "landmarks.csv")
    assert len(frames) == report["interrupted"]["frames_analysed"] >= 25
    assert not (out / "b_long" / ".movescreen-done.json").exists()
    assert not (out / "c_small").exists()  # never started: its folder was not touched
    assert not _tmp_files(out)
    if sig != signal.SIGINT:
        return
    # the same command again keeps a_short and finishes the other two
    proc = _start("batch", str(folder), "--out", str(out), "--json", *BATCH_ARGS)
    rc, stdout, stderr = _finish(proc, [])
    assert rc == 0, stderr[-3000:]
    summary = json.loads(stdout)
    assert summary["counts"] == {"ok": 3, "failed": 0, "skipped": 0}
    assert summary["reused"] == 1
    assert json.loads((out / "b_long" / "report.json").read_text())["status"] == "ok"


def test_batch_second_ctrl_c_stops_at_once(tmp_path):
    folder = _batch_folder(tmp_path)
    out = tmp_path / "out"
    proc = _start("-v", "batch", str(folder), "--out", str(out), *BATCH_ARGS)
    seen = _wait_for_line(proc, r"b_long.mp4: frames analysed: (\d+)", at_least=25)
    proc.send_signal(signal.SIGINT)
    seen += _wait_for_line(proc, r"Interrupted: stopping()")
    proc.send_signal(signal.SIGINT)
    rc, _, stderr = _finish(proc, seen)
    assert rc == 130, stderr[-3000:]
    assert "Traceback" not in stderr
    assert "Stopped at once by a second signal" in stderr, stderr[-3000:]
    rows = _summary(out)
    assert rows["a_short.mp4"]["status"] == "ok"
    assert rows["b_long.mp4"]["status"] == "skipped" and rows["c_small.mp4"]["status"] == "skipped"
    assert not (out / "b_long" / ".movescreen-done.json").exists()
    assert not _tmp_files(out)


def test_live_sigterm_exits_143(tmp_path):
    clip = shared_file("videos", LONG_CLIP)
    proc = _start("live", "--source", str(clip), "--headless", "--record", str(tmp_path / "rec"))
    assert proc.stdout is not None
    t0 = time.monotonic()
    for line in proc.stdout:  # JSON events: wait until the session has calibrated on frames
        if json.loads(line).get("event") in ("calibration", "rep"):
            break
        assert time.monotonic() - t0 < TIMEOUT_S
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 143, err[-2000:]
    assert "Traceback" not in err
    events = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
    assert any(e["event"] == "summary" for e in events)  # the session was ended and summarised


# ---------------------------------------------------------------- in-process: the other stages


def test_signal_while_drawing_keeps_the_complete_analysis(tmp_path, monkeypatch):
    """A Ctrl-C while the review outputs are drawn drops them and keeps the whole analysis."""
    import movescreen.render as render
    from movescreen import interrupts
    from movescreen.pipeline import AnalyzeOptions, run_analysis
    from movescreen.sinks import write_landmarks_csv
    from movescreen.synthetic import make_motion

    src = tmp_path / "in" / "landmarks.csv"
    seq = make_motion("squat", view="side", n_reps=2, fps=30).sequence
    write_landmarks_csv(src, seq)
    out = tmp_path / "out"
    out.mkdir()
    (out / "angles.csv").write_text("earlier\n")
    drawn = []

    def slow_render(folder, source, **kw):  # stands in for drawing the video: Ctrl-C arrives
        drawn.append(1)
        (out / ".annotated.mp4.x.tmp").write_bytes(b"half")  # as atomic_path would have it
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(200):
                time.sleep(0.01)
        finally:
            (out / ".annotated.mp4.x.tmp").unlink()
        return {}

    monkeypatch.setattr(render, "render_folder", slow_render)
    with interrupts.install(), pytest.raises(interrupts.Interrupted) as stop:
        run_analysis(src, out, AnalyzeOptions(html=False, key_frames=False))
    assert drawn and stop.value.exit_code == 130 and stop.value.kept
    report = json.loads((out / "report.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["status"] == "interrupted"
    assert report["interrupted"]["stage"] == "review"
    assert report["interrupted"]["frames_analysed"] == len(seq)
    assert report["reps"] and "findings" in report  # the analysis is complete
    assert (out / "angles.csv").read_text() != "earlier\n"  # rewritten with this analysis
    assert not _tmp_files(out)
    assert interrupts.requested() is None  # a later run in this process starts unstopped


def test_stop_before_the_first_frame_writes_nothing(tmp_path, monkeypatch):
    from movescreen import interrupts
    from movescreen.pipeline import AnalyzeOptions, run_analysis

    out = tmp_path / "out"
    with interrupts.install():
        os.kill(os.getpid(), signal.SIGTERM)  # before any frame is decoded
        time.sleep(0.05)
        with pytest.raises(interrupts.Interrupted) as stop:
            run_analysis(EXAMPLE_VIDEO, out, AnalyzeOptions(masks=False, scan_people=False))
    assert stop.value.exit_code == 143 and not stop.value.kept
    assert "before any frame" in str(stop.value)
    assert not out.exists() or not any(out.iterdir())
