"""Headless live runs on real clips with the real model: events, cues, speech, recording, and
agreement with ``analyze`` on the same clip."""

from __future__ import annotations

import io
import json

import pytest

from tests.conftest import EXAMPLE_VIDEO, shared_file

pytestmark = pytest.mark.model
DEADLIFT = "deadlift_side_rounded_back_01.mp4"  # side view, rounded back: lumbar_rounding flag


def _run(source, **kw):
    from movescreen.live import run_live

    out, err = io.StringIO(), io.StringIO()
    summary = run_live(source, headless=True, out=out, err=err, **kw)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return summary, lines, err.getvalue()


def _by(events, kind):
    return [e for e in events if e["event"] == kind]


@pytest.fixture(scope="module")
def unpaced(tmp_path_factory):
    """The rounded-back deadlift, every frame, with speech written to a WAV file."""
    clip = shared_file("videos", DEADLIFT)
    wav = tmp_path_factory.mktemp("speech") / "cue.wav"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOVESCREEN_SPEECH_WAV", str(wav))
        summary, lines, err = _run(clip, pace=False, speak=True)
    return summary, lines, err, wav


ATTEMPTS = 3
"""Paced runs depend on which frames the machine drops. Under load (about half of the frames
dropped) one run in ten or so splits the rep on a pose glitch right after a jump of frames, or
leaves the lower back unmeasured because the mask work fell behind (docs/live.md). Every run
must find the rep; the full judgment must come in one of at most three runs."""


def _paced_runs(check):
    """Paced runs of the rounded-back deadlift until ``check`` passes on one (at most
    :data:`ATTEMPTS`); returns every run. Paced runs name the movement, as a person filming a
    deadlift would: which frames a paced run processes varies from run to run, and MediaPipe's
    tracking (VIDEO mode) then gives now and then a pose glitch of a few frames that can sway the
    automatic recognition of one rep. Recognition in auto is checked on full-rate runs
    (test_unpaced_run..., tests/test_one_pipeline.py); here it is the pacing that is tested."""
    runs, failures = [], []
    for _ in range(ATTEMPTS):
        summary, lines, err = _run(shared_file("videos", DEADLIFT), pace=True, movement="hinge")
        runs.append((summary, lines, err))
        reps = _by(lines, "rep")
        # never lost: every run, however loaded, finds the rep (a split gives two)
        assert reps and all(r["movement"] == "hinge" for r in reps), (lines[-1], reps)
        try:
            check(lines)
            return runs
        except AssertionError as e:
            failures.append(f"{lines[-1]['frames_dropped']} dropped: {e}")
    pytest.fail(f"none of {ATTEMPTS} paced runs gave the expected judgment: {failures}")


@pytest.fixture(scope="module")
def paced():
    return _paced_runs(lambda lines: _check_rounded_back_events(lines, views=("side", "oblique")))


def _check_rounded_back_events(lines, views=("side",)):
    reps = _by(lines, "rep")
    assert len(reps) == 1 and reps[0]["partial"] is False and reps[0]["movement"] == "hinge"
    assert reps[0]["view"] in views
    findings = [f for f in _by(lines, "finding") if f["rule"] == "lumbar_rounding"]
    assert len(findings) == 1 and findings[0]["severity"] == "flag" and findings[0]["rep"] == 1
    assert findings[0]["value"] > 15.0
    cues = [c for c in _by(lines, "cue") if c["rule"] == "lumbar_rounding"]
    assert cues, "the rounded back was never cued"
    first = cues[0]
    # the cue came mid-rep: before the rep's end, and before the rep was judged
    assert first["source"] == "mid_rep"
    assert first["frame"] < reps[0]["end_frame"]
    assert lines.index(first) < lines.index(reps[0])
    assert first["text"] == "Hinge at the hips: your low back is rounding."


def test_unpaced_run_emits_the_rep_and_the_cue(unpaced) -> None:
    summary, lines, _, _ = unpaced
    assert lines[0]["event"] == "start" and lines[0]["paced"] is False
    assert lines[-1]["event"] == "summary"
    _check_rounded_back_events(lines)
    s = lines[-1]
    assert s["frames_processed"] == 104 and s["frames_dropped"] == 0
    assert s["reps"] == 1 and s["findings_by_rule"]["lumbar_rounding"] == {"flag": 1}
    assert s["stopped_by"] == "end"
    assert "pain" in s["pain_guidance"].lower()
    assert s["latency_ms"]["p50"] > 0 and s["latency_ms"]["p95"] >= s["latency_ms"]["p50"]
    assert summary.reps == 1 and summary.frames_processed == 104
    cal = _by(lines, "calibration")
    assert cal and cal[0]["view"] == "side" and cal[0]["ok"] is True
    assert all("t_s" in e for e in lines)


def test_paced_run_plays_at_the_clip_rate_and_emits_the_same(paced) -> None:
    # the judgment (with frames dropped, a rep's window can read a few degrees more turned:
    # oblique is still a view a hinge is judged from) is checked by the fixture; the pacing here,
    # on every run it made
    for summary, lines, _ in paced:
        assert lines[0]["paced"] is True
        s = lines[-1]
        assert s["frames_processed"] + s["frames_dropped"] == 104
        assert s["fps"] <= 31.0  # never faster than the clip's own 30 fps
        assert summary.duration_s >= 103 / 30.0 - 0.05  # the clip's own duration, at least


def test_slow_machine_drops_frames_but_not_the_rep(monkeypatch) -> None:
    """Paced, with 10-40 ms added to every inference (about twice this machine's inference time:
    a machine half as fast). Frames are dropped, yet the rep is neither split nor lost and is
    judged as in the full-rate run. On a machine itself half as fast as this one the test still
    leaves about a third of the frames; the detector's logic is checked down to a quarter of the
    frames, deterministically, in test_stream.py."""
    from movescreen.live import SIMULATE_DELAY_ENV

    def judged_as_full_rate(lines):
        reps = _by(lines, "rep")
        assert len(reps) == 1 and reps[0]["partial"] is False, reps
        findings = [f for f in _by(lines, "finding") if f["rule"] == "lumbar_rounding"]
        assert len(findings) == 1 and findings[0]["severity"] == "flag", findings

    monkeypatch.setenv(SIMULATE_DELAY_ENV, "10-40")
    runs = _paced_runs(judged_as_full_rate)
    for _, lines, _ in runs:
        assert lines[-1]["frames_dropped"] > 10, lines[-1]  # the simulation did make it drop frames


def test_spoken_rounded_back_cue_is_audible(unpaced) -> None:
    from movescreen.speech import wav_rms

    summary, lines, err, wav = unpaced
    assert lines[0]["speech"] in ("espeak-ng", "tone")
    spoken = [c for c in _by(lines, "cue") if c["spoken"]]
    assert spoken and spoken[0]["rule"] == "lumbar_rounding"
    assert summary.spoken >= 1
    assert wav.exists(), err
    assert wav_rms(wav) > 0.02


def _margin_ok(f) -> bool:
    """Findings well clear of their threshold (2 % of it): borderline ones may differ."""
    return abs(f["value"] - f["threshold"]) > 0.02 * abs(f["threshold"])


@pytest.mark.parametrize("clip", ["example", DEADLIFT])
def test_live_agrees_with_analyze(clip) -> None:
    from movescreen.pipeline import AnalyzeOptions, analyze_input

    path = EXAMPLE_VIDEO if clip == "example" else shared_file("videos", clip)
    _, lines, _ = _run(path, pace=False)
    offline = analyze_input(path, AnalyzeOptions(masks=True, filter="one_euro", scan_people=False))
    live_reps = _by(lines, "rep")
    off_reps = offline.kinematics.reps
    assert len(live_reps) == len(off_reps) >= 1
    for lr, orep in zip(live_reps, off_reps):
        assert abs(lr["bottom_frame"] - orep.bottom_frame) <= 1
        assert abs(lr["start_frame"] - orep.start_frame) <= 1
        assert abs(lr["end_frame"] - orep.end_frame) <= 1
        assert lr["partial"] == orep.partial
    live_f = {(f["rule"], f["rep"], f["severity"]) for f in _by(lines, "finding") if _margin_ok(f)}
    off_f = {(f.rule, f.rep, f.severity) for f in offline.rules.findings
             if _margin_ok({"value": f.value, "threshold": f.threshold})}
    assert live_f == off_f


def test_record_saves_the_session_and_analyze_outputs(tmp_path, monkeypatch) -> None:
    from movescreen.pose import estimate
    from tests.videos import read_frames

    def no_second_pass(*a, **k):
        raise AssertionError("the session's report must not run the pose model again")

    monkeypatch.setattr(estimate, "estimate_landmarks", no_second_pass)
    rec = tmp_path / "session"
    summary, lines, err = _run(EXAMPLE_VIDEO, pace=False, record_dir=rec)
    saved = _by(lines, "saved")
    assert saved and saved[0]["error"] is None, err
    for name in ("session.mp4", "report.json", "landmarks.csv", "angles.csv", "annotated.mp4",
                 "report.html", "live_events.jsonl"):
        assert (rec / name).is_file(), name
    assert len(read_frames(rec / "session.mp4")) == 65
    report = json.loads((rec / "report.json").read_text())
    assert report["status"] == "ok"
    assert report["input"]["path"].endswith("session.mp4")
    assert len(report["reps"]) == len(_by(lines, "rep")) == 3
    logged = [json.loads(x) for x in (rec / "live_events.jsonl").read_text().splitlines()]
    assert [e["event"] for e in logged] == [e["event"] for e in lines[: len(logged)]]
    assert summary.saved["report"].endswith("report.json")
    assert summary.saved["session_video"].endswith("session.mp4")
    assert summary.saved["video"].endswith("annotated.mp4")
    assert saved[0]["analysis_s"] > 0
    assert saved[0]["paths"]["measured_from"] == "live" and "live session" in report["measured_from"]
    assert len(read_frames(rec / "annotated.mp4")) == 65
    for live_rep, rep in zip(_by(lines, "rep"), report["reps"]):  # the same reps, zero-phase filtered
        assert abs(live_rep["bottom_frame"] - rep["bottom_frame"]) <= 2


def test_recorded_rounded_back_session_report_keeps_the_lumbar_finding(tmp_path) -> None:
    """The session's report measures the back outline from the masks the live run saw."""
    rec = tmp_path / "session"
    _, lines, err = _run(shared_file("videos", DEADLIFT), pace=False, record_dir=rec)
    report = json.loads((rec / "report.json").read_text())
    assert report["status"] == "ok", err
    lumbar = [f for f in report["findings"] if f["rule"] == "lumbar_rounding"]
    assert len(report["reps"]) == 1 and lumbar and lumbar[0]["severity"] == "flag"


def test_cli_live_headless(tmp_path) -> None:
    from click.testing import CliRunner

    from movescreen import cli

    if "live" not in cli.main.commands:
        pytest.skip("`movescreen live` is not wired into the CLI yet")
    res = CliRunner().invoke(cli.main, ["live", "--headless", "--no-pace", "--source",
                                        str(EXAMPLE_VIDEO), "--movement", "squat"])
    assert res.exit_code == 0, res.output
    events = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    assert events[0]["event"] == "start" and events[-1]["event"] == "summary"
    assert len(_by(events, "rep")) == 3


def test_hip_rotation_test_shows_its_protocol_safety_first(tmp_path) -> None:
    """``live --movement figure4``: the protocol (safety text first) before anything else, no
    reps counted, and the session's report judges the figure-4."""
    rec = tmp_path / "session"
    summary, lines, err = _run(shared_file("videos", "seated_figure4_side_01.gif"), pace=False,
                               movement="figure4", record_dir=rec)
    kinds = [e["event"] for e in lines]
    assert kinds[:2] == ["start", "protocol"], kinds[:3]
    text = lines[1]["text"]
    assert text.lower().index("sharp pain") < text.lower().index("camera")
    assert "push through" not in text.lower()
    assert not _by(lines, "rep") and summary.reps == 0
    report = json.loads((rec / "report.json").read_text())
    assert report["status"] == "ok", err
    assert report["movement"]["name"] == "figure4"
