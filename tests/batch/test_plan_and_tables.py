"""Batch planning, resume keys, the summary table and index.html, without the model."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest

from movescreen import pipeline
from movescreen.batch import (
    NOT_REACHED,
    find_videos,
    output_names,
    plan_jobs,
    render_index_html,
    summary_table,
    write_summary_csv,
)
from movescreen.batch_worker import (
    DONE_MARKER,
    BatchJob,
    compute_job_key,
    count_findings,
    make_row,
    run_one,
)
from movescreen.errors import InputError, NoPersonError
from movescreen.pipeline import AnalyzeOptions
from movescreen.sinks import write_json_atomic


def touch(p: Path, data: bytes = b"x") -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def test_find_videos_by_extension_hidden_recursive_and_excluded(tmp_path):
    for name in [
        "b.MP4",
        "a.mov",
        "notes.txt",
        ".hidden.mp4",
        "sub/c.mp4",
        ".git/d.mp4",
        "out/e.mp4",
    ]:
        touch(tmp_path / name)

    def rel(ps):
        return [p.relative_to(tmp_path).as_posix() for p in ps]

    assert rel(find_videos(tmp_path)) == ["a.mov", "b.MP4"]
    assert rel(find_videos(tmp_path, recursive=True, exclude=tmp_path / "out")) == [
        "a.mov",
        "b.MP4",
        "sub/c.mp4",
    ]


def test_output_names_mirror_the_tree_and_never_clash():
    names = output_names(["a.mp4", "a.MOV", "index.html.mp4", "sub/a.mp4", "x"])
    assert names == {
        "a.mp4": "a_mp4",
        "a.MOV": "a_MOV",
        "index.html.mp4": "index.html_mp4",
        "sub/a.mp4": "sub/a",
        "x": "x",
    }
    assert len({n.lower() for n in names.values()}) == len(names)


def test_plan_jobs_puts_outputs_under_relative_paths(tmp_path):
    touch(tmp_path / "in" / "sub" / "v.mp4")
    jobs = plan_jobs(tmp_path / "in", tmp_path / "out", recursive=True, analysis_fps=15.0)
    assert [(j.rel, Path(j.out_dir)) for j in jobs] == [
        ("sub/v.mp4", (tmp_path / "out" / "sub" / "v").resolve())
    ]
    assert jobs[0].analysis_fps == 15.0


def test_job_key_changes_with_content_options_config_fps():
    job = BatchJob("/x/a.mp4", "/o/a", "a.mp4")
    base = compute_job_key(job, "s1")
    assert compute_job_key(job, "s1") == base
    assert compute_job_key(job, "s2") != base
    assert compute_job_key(replace(job, options=AnalyzeOptions(masks=False)), "s1") != base
    assert compute_job_key(replace(job, config={"knee_valgus": {"flag": 9}}), "s1") != base
    assert compute_job_key(replace(job, analysis_fps=15.0), "s1") != base
    assert compute_job_key(replace(job, model_sha256="abc"), "s1") != base
    assert compute_job_key(replace(job, out_dir="/elsewhere"), "s1") == base  # place is not content


def test_count_findings_by_rule_and_severity():
    findings = [
        {"rule": "knee_valgus", "severity": "flag"},
        {"rule": "knee_valgus", "severity": "caution"},
        {"rule": "knee_valgus", "severity": "flag"},
        {"rule": "heel_lift", "severity": "not_assessed"},
    ]
    assert count_findings(findings) == {"knee_valgus:flag": 2, "knee_valgus:caution": 1}
    assert count_findings(None) == {}


def test_summary_table_columns_and_counts(tmp_path):
    report = {
        "movement": {"name": "squat"},
        "view": {"name": "front"},
        "reps": [{}, {}, {}],
        "findings": [
            {"rule": "knee_valgus", "severity": "flag"},
            {"rule": "heel_lift", "severity": "caution"},
        ],
        "input": {"duration_s": 12.5},
    }
    rows = [
        make_row("a.mp4", "ok", report=report, processing_s=3.21),
        make_row("b.mp4", "failed", error="b.mp4 is empty (0 bytes)."),
        make_row("c.mp4", "skipped", error=NOT_REACHED),
    ]
    jobs = {
        r: BatchJob(str(tmp_path / r), str(tmp_path / "out" / r[0]), r)
        for r in ("a.mp4", "b.mp4", "c.mp4")
    }
    header, table = summary_table(
        rows, tmp_path / "out", jobs, ["knee_valgus:caution", "knee_valgus:flag"]
    )
    assert header[:9] == [
        "video",
        "status",
        "error",
        "movement",
        "view",
        "reps",
        "findings_note",
        "findings_caution",
        "findings_flag",
    ]
    assert header[9:12] == ["heel_lift:caution", "knee_valgus:caution", "knee_valgus:flag"]
    assert header[-3:] == ["duration_s", "processing_s", "output"]
    a = dict(zip(header, table[0]))
    assert (a["movement"], a["view"], a["reps"], a["duration_s"], a["output"]) == (
        "squat",
        "front",
        3,
        12.5,
        "a",
    )
    assert (a["findings_note"], a["findings_caution"], a["findings_flag"]) == (0, 1, 1)
    assert (a["knee_valgus:flag"], a["knee_valgus:caution"], a["heel_lift:caution"]) == (1, 0, 1)
    b = dict(zip(header, table[1]))
    assert b["status"] == "failed" and b["findings_flag"] == "" and b["knee_valgus:flag"] == ""
    path = write_summary_csv(tmp_path / "summary.csv", header, table)
    with path.open(newline="") as f:
        back = list(csv.DictReader(f))
    assert [r["status"] for r in back] == ["ok", "failed", "skipped"]
    assert back[1]["error"] == "b.mp4 is empty (0 bytes)."


def test_index_html_escapes_names_and_links_existing_reports(tmp_path):
    nasty = 'x<script>alert("1")</script>&.mp4'
    folder = tmp_path / "x<script>"
    touch(folder / "report.json", b"{}")
    header = ["video", "status", "error", "findings_flag", "output"]
    table = [
        [nasty, "failed", "bad <b>file</b> & more", 2, "x<script>"],
        ["ok.mp4", "ok", "", 0, "missing"],
    ]
    page = render_index_html(header, table, tmp_path)
    assert "<script>alert" not in page and "<b>file" not in page
    assert "x&lt;script&gt;alert(&quot;1&quot;)&lt;/script&gt;&amp;.mp4" in page
    assert 'href="x%3Cscript%3E/report.json"' in page
    assert page.count("report.json</a>") == 1  # the missing folder gets no link
    assert page.count("<script>") == 1  # only the sorting script


# --------------------------------------------------------------------------- run_one with a fake pipeline


@pytest.fixture
def fake_pipeline(monkeypatch):
    calls = []

    def fake_run_analysis(input_path, out_dir, options=None, **_kw):
        calls.append(Path(input_path).name)
        data = Path(input_path).read_bytes()
        if data == b"":
            raise InputError(f"{Path(input_path).name} is empty (0 bytes).")
        report = {"status": "ok", "input": {"duration_s": 2.0}, "reps": [1, 2], "findings": []}
        if data == b"nobody":
            report["status"] = "failed"
            write_json_atomic(Path(out_dir) / "report.json", report)
            raise NoPersonError("No person was found in any of the 3 frames.")
        write_json_atomic(Path(out_dir) / "report.json", report)
        return {**report, "_warnings": ["w"]}

    monkeypatch.setattr(pipeline, "run_analysis", fake_run_analysis)
    return calls


def test_run_one_writes_a_marker_and_resumes(tmp_path, fake_pipeline):
    src = touch(tmp_path / "in" / "a.mp4", b"video-a")
    job = BatchJob(str(src), str(tmp_path / "out" / "a"), "a.mp4")
    row = run_one(job)
    assert row["status"] == "ok" and row["reps"] == 2 and not row["reused"]
    marker = json.loads((tmp_path / "out" / "a" / DONE_MARKER).read_text())
    assert marker["row"]["processing_s"] == row["processing_s"]
    again = run_one(job)
    assert again["reused"] and fake_pipeline == ["a.mp4"]
    assert {k: v for k, v in again.items() if k != "reused"} == {
        k: v for k, v in row.items() if k != "reused"
    }
    assert run_one(replace(job, force=True))["reused"] is False  # --force redoes
    src.write_bytes(b"video-a2")  # new content: redone
    assert run_one(job)["reused"] is False
    (tmp_path / "out" / "a" / "report.json").write_text('{"edited": 1}')  # report changed: redone
    assert run_one(job)["reused"] is False
    assert fake_pipeline == ["a.mp4"] * 4


def test_run_one_failures_become_rows(tmp_path, fake_pipeline):
    empty = touch(tmp_path / "in" / "e.mp4", b"")
    nobody = touch(tmp_path / "in" / "n.mp4", b"nobody")
    out_e, out_n = tmp_path / "out" / "e", tmp_path / "out" / "n"
    # a stale complete-looking report from older content must not survive a failed rerun
    touch(out_e / "report.json", b'{"status": "ok"}')
    touch(out_e / ".report.json.abc.tmp", b"half")
    row = run_one(BatchJob(str(empty), str(out_e), "e.mp4"))
    assert row["status"] == "failed" and "empty" in row["error"]
    assert not (out_e / "report.json").exists() and not list(out_e.glob(".*.tmp"))
    assert not (out_e / DONE_MARKER).exists()  # cheap to retry: no marker
    row = run_one(BatchJob(str(nobody), str(out_n), "n.mp4"))
    assert row["status"] == "failed" and row["error"].startswith("No person")
    assert row["has_report"] and (out_n / DONE_MARKER).exists()  # a rerun would fail the same way
    assert run_one(BatchJob(str(nobody), str(out_n), "n.mp4"))["reused"]
    missing = run_one(BatchJob(str(tmp_path / "gone.mp4"), str(tmp_path / "out" / "g"), "gone.mp4"))
    assert missing["status"] == "failed" and "could not be read" in missing["error"]


def test_run_one_turns_unexpected_errors_into_a_sentence(tmp_path, monkeypatch):
    def boom(*_a, **_k):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(pipeline, "run_analysis", boom)
    src = touch(tmp_path / "a.mp4", b"v")
    row = run_one(BatchJob(str(src), str(tmp_path / "o"), "a.mp4"))
    assert row["status"] == "failed"
    assert (
        row["error"]
        == "Unexpected ZeroDivisionError while analysing (division by zero); please report it."
    )


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty, self.parts = tty, []

    def isatty(self) -> bool:
        return self.tty

    def write(self, s: str) -> int:
        self.parts.append(s)
        return len(s)

    def flush(self) -> None:
        pass


def test_progress_is_plain_lines_without_a_terminal_and_a_bar_with_one():
    from movescreen.batch import _Progress

    rows = [
        {"video": "a.mp4", "status": "ok", "error": "", "reused": True},
        {
            "video": "b.mp4",
            "status": "failed",
            "error": "b.mp4 is empty (0 bytes).",
            "reused": False,
        },
    ]
    plain = _Stream(tty=False)
    p = _Progress(2, True, plain)
    for r in rows:
        p.update(r)
    p.close()
    assert "".join(plain.parts).splitlines() == [
        "[1/2] ok     a.mp4 (kept from an earlier run)",
        "[2/2] failed b.mp4: b.mp4 is empty (0 bytes).",
    ]
    tty = _Stream(tty=True)
    p = _Progress(2, True, tty)
    for r in rows:
        p.update(r)
    p.close()
    text = "".join(tty.parts)
    assert "2/2" in text and "video" in text and "<" in text  # tqdm's elapsed<remaining (ETA)
    assert "failed b.mp4" in text  # failures are printed above the bar
    quiet = _Stream(tty=True)
    p = _Progress(2, False, quiet)
    p.update(rows[0])
    p.close()
    assert quiet.parts == []


def test_resume_key_follows_the_rule_file_content_not_its_name(tmp_path):
    from movescreen.batch import resolve_config
    from movescreen.errors import ConfigError

    toml = tmp_path / "rules.toml"
    toml.write_text("[knee_valgus]\ncaution = 9.0\n")
    opts = AnalyzeOptions(config=str(toml))
    rules, first = resolve_config(opts)
    assert rules["knee_valgus"].thresholds[0] == ("caution", 9.0)
    toml.write_text("[knee_valgus]\ncaution = 11.0\n")  # same file name, new threshold
    _, second = resolve_config(opts)
    job = BatchJob("/x/a.mp4", "/o/a", "a.mp4", opts)
    assert compute_job_key(replace(job, config=first), "s") != compute_job_key(
        replace(job, config=second), "s"
    )
    toml.write_text("[no_such_rule]\nflag = 1.0\n")
    with pytest.raises(ConfigError):
        resolve_config(opts)


def test_the_batch_parent_never_imports_mediapipe():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from movescreen.batch import resolve_config, run_batch\n"
        "from movescreen.pipeline import AnalyzeOptions\n"
        "from movescreen.pose.model import resolve_model\n"
        "resolve_config(AnalyzeOptions()); resolve_model()\n"
        "print(sorted(m for m in ('mediapipe', 'cv2') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"  # spawn workers load it; the parent stays fork-safe and light
