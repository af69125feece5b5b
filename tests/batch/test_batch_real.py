"""Whole batches with the real model: bad files, workers, kill -9 and resume, Ctrl-C, Dask."""

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

import pytest

from movescreen.batch import run_batch
from movescreen.batch_worker import DONE_MARKER
from tests.conftest import EXAMPLE_VIDEO, REPO
from tests.videos import gradient_frames, write_video

pytestmark = pytest.mark.model

GOOD = ["a.mp4", "b.mp4"]
BAD = {
    "empty.mp4": "is empty (0 bytes)",
    "notvideo.mp4": "could not be opened as a video",
    "trunc.mp4": "could not be opened as a video",
    "nobody.mp4": "No person was found",
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("videos")
    for name in GOOD:
        shutil.copy(EXAMPLE_VIDEO, d / name)
    (d / "empty.mp4").write_bytes(b"")
    (d / "notvideo.mp4").write_text("This is a text file, not a video.\n")
    data = EXAMPLE_VIDEO.read_bytes()
    (d / "trunc.mp4").write_bytes(data[: len(data) // 2])  # index (moov) at the end: cut off
    write_video(d / "nobody.mp4", gradient_frames(10), fps=10.0)
    (d / "readme.txt").write_text("not a video extension: ignored\n")
    return d


@pytest.fixture(scope="module")
def clean_run(folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("out1")
    return run_batch(folder, out, workers=1, progress=False), out


def read_summary(out: Path, *, drop=("processing_s",)) -> list[dict[str, str]]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as f:
        return [{k: v for k, v in r.items() if k not in drop} for r in csv.DictReader(f)]


def output_snapshot(out: Path) -> dict[str, object]:
    """Every file under ``out`` except the run-dependent parts (creation time, processing time)."""
    snap: dict[str, object] = {}
    for p in sorted(out.rglob("*")):
        if not p.is_file() or p.name in ("summary.csv", "index.html"):
            continue
        rel = p.relative_to(out).as_posix()
        if p.name == "report.json":
            r = json.loads(p.read_text())
            r["provenance"].pop("created_utc", None)
            snap[rel] = r
        elif p.suffix == ".html":
            snap[rel] = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", p.read_text())
        elif p.name == DONE_MARKER:
            m = json.loads(p.read_text())
            m["row"].pop("processing_s")
            snap[rel] = {"key": m["key"], "row": m["row"]}
        elif p.suffix == ".mp4":
            snap[rel] = Video(p)
        else:
            snap[rel] = p.read_bytes()
    return snap


class Video:
    """An annotated video, the same as another when it shows the same pictures at the same times.

    Not its bytes: x264 with more than one thread (its default here) now and then encodes the
    same pictures to different bytes from run to run under load (measured on the bundled
    example: 3-4 of 12 renders of one analysis differed under a CPU hog, with the encoder's
    input hashed identical; 12 of 12 identical with one thread, which renders 29 % slower;
    docs/pipeline.md). Such encodes differ by at most about 15 levels in a few dozen pixels of
    a frame. A drawing that differs (another number, a finding's outline, a missing or shifted
    frame) changes far more: frames must match in number, timestamps and size, and in each
    frame fewer than 20 pixels may differ in brightness by more than 48 levels, the mean by
    under 0.5.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def differences(self, other: Video) -> list[str]:
        import av
        import numpy as np

        with av.open(str(self.path)) as ca, av.open(str(other.path)) as cb:
            mine, theirs = list(ca.decode(video=0)), list(cb.decode(video=0))
        if len(mine) != len(theirs):
            return [f"{len(mine)} frames against {len(theirs)}"]
        out = []
        for i, (a, b) in enumerate(zip(mine, theirs)):
            if (a.pts, a.width, a.height) != (b.pts, b.width, b.height):
                return [f"frame {i}: pts/size {(a.pts, a.width, a.height)} against "
                        f"{(b.pts, b.width, b.height)}"]
            # brightness (the Y plane, as encoded): every drawing changes it
            d = np.abs(a.to_ndarray()[: a.height].astype(np.int16)
                       - b.to_ndarray()[: b.height].astype(np.int16))
            if (d > 48).sum() >= 20 or d.mean() >= 0.5:
                out.append(f"frame {i}: {(d > 48).sum()} pixels differ by more than 48 levels, "
                           f"mean {d.mean():.2f}")
        return out

    def __repr__(self) -> str:
        return f"Video({self.path.name})"


def assert_same_outputs(out: Path, ref: Path) -> None:
    """Every output file as in ``ref``: byte for byte (run-dependent fields aside), the
    annotated videos by their pictures (:class:`Video`)."""
    a, b = output_snapshot(out), output_snapshot(ref)
    assert sorted(a) == sorted(b)
    for rel, mine in a.items():
        if isinstance(mine, Video):
            diffs = mine.differences(b[rel])  # type: ignore[arg-type]
            assert not diffs, (rel, diffs[:5])
        else:
            assert mine == b[rel], rel


def test_bad_files_are_failed_rows_and_good_ones_succeed(clean_run):
    result, out = clean_run
    rows = {r["video"]: r for r in read_summary(out)}
    assert sorted(rows) == sorted(GOOD + list(BAD))
    for name in GOOD:
        assert rows[name]["status"] == "ok", rows[name]
        assert float(rows[name]["duration_s"]) == pytest.approx(13.0, abs=0.3)
        assert (out / name[:-4] / "report.json").is_file() and (
            out / name[:-4] / "landmarks.csv"
        ).is_file()
    for name, reason in BAD.items():
        assert rows[name]["status"] == "failed", rows[name]
        assert reason in rows[name]["error"], rows[name]
        assert "\n" not in rows[name]["error"]
    assert result.counts == {"ok": 2, "failed": 4, "skipped": 0}
    assert result.exit_code == 1
    page = (out / "index.html").read_text()
    assert 'href="a/report.json"' in page and 'href="nobody/report.json"' in page
    assert "notvideo.mp4" in page


def test_two_workers_give_the_same_results_as_one(folder, clean_run, tmp_path):
    _, out1 = clean_run
    result = run_batch(folder, tmp_path, workers=2, progress=False)
    # the rows first: a difference there shows each video's status and error sentence
    assert read_summary(tmp_path) == read_summary(out1)
    assert result.exit_code == 1
    assert_same_outputs(tmp_path, out1)


LIGHT = {"video": False, "key_frames": False, "html": False, "scan_people": False}


def _start_batch(
    folder: Path, out: Path, workers: int, options: dict | None = None
) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src"),
        "MOVESCREEN_BATCH_ARGS": json.dumps({"progress": False, "options": options or {}}),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "movescreen.batch", str(folder), str(out), str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for(path: Path, proc: subprocess.Popen, timeout_s: float = 120.0) -> None:
    t0 = time.monotonic()
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(
                f"the batch ended before {path.name} appeared: {proc.stderr.read().decode()[-2000:]}"
            )
        if time.monotonic() - t0 > timeout_s:
            proc.kill()
            pytest.fail(f"{path} did not appear within {timeout_s} s")
        time.sleep(0.05)


def test_killed_batch_resumes_to_the_same_outputs(folder, clean_run, tmp_path):
    _, out1 = clean_run
    proc = _start_batch(folder, tmp_path, workers=1)
    _wait_for(tmp_path / "a" / "report.json", proc)
    proc.send_signal(signal.SIGKILL)  # kill -9 of the batch process, mid-run
    proc.wait(timeout=30)
    proc.stderr.close()
    time.sleep(1.5)  # the orphaned worker notices within 0.5 s and exits
    killed = read_summary(tmp_path)
    statuses = {r["video"]: (r["status"], r["error"]) for r in killed}
    assert any(r["status"] == "skipped" for r in killed), statuses  # not everything was done...
    assert not any(r["status"] == "ok" and r["video"] != "a.mp4" for r in killed), statuses
    # ...and nothing that was not finished looks finished
    for sub in ("b", "nobody"):
        assert (
            not (tmp_path / sub / "report.json").exists() or (tmp_path / sub / DONE_MARKER).exists()
        )

    again = run_batch(folder, tmp_path, workers=1, progress=False)
    assert read_summary(tmp_path) == read_summary(out1)
    assert_same_outputs(tmp_path, out1)
    assert again.exit_code == 1
    # a third run reuses everything finished and keeps those rows exactly, processing time too
    finished = {
        r["video"]: r
        for r in read_summary(tmp_path, drop=())
        if r["video"] in (*GOOD, "nobody.mp4")
    }
    third = run_batch(folder, tmp_path, workers=1, progress=False)
    assert third.reused == 3  # a, b and nobody; the cheap input errors are simply retried
    assert {
        r["video"]: r for r in read_summary(tmp_path, drop=()) if r["video"] in finished
    } == finished


def test_ctrl_c_finishes_running_video_and_records_the_rest(folder, tmp_path):
    proc = _start_batch(folder, tmp_path, workers=1, options=LIGHT)
    _wait_for(tmp_path / "summary.csv", proc)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err.decode()[-2000:]
    assert b"Traceback" not in err, err.decode()[-2000:]
    rows = read_summary(tmp_path)
    assert len(rows) == len(GOOD) + len(BAD)
    skipped = [r for r in rows if r["status"] == "skipped"]
    assert skipped and all("run the same command again" in r["error"] for r in skipped)
    for r in rows:  # everything listed as done is complete on disk
        if r["status"] == "ok":
            assert (tmp_path / r["output"] / DONE_MARKER).exists()


DASK_RUN = """
import json, sys
import distributed
from movescreen.batch import run_batch

if __name__ == "__main__":  # the cluster's worker processes are spawned: they import this file
    folder, out = sys.argv[1:3]
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        result = run_batch(folder, out, dask_address=cluster.scheduler_address, progress=False)
    print(json.dumps(result.counts))
"""
DASK_DEADLINE_S = 480  # about 15 s here; a cluster that stalls must not hold CI until its limit


@pytest.mark.slow
def test_dask_local_cluster_writes_the_same_outputs(folder, clean_run, tmp_path):
    pytest.importorskip("distributed", reason="dask.distributed is not installed")
    _, out1 = clean_run
    # In a child process of its own session: if the cluster hangs, the whole process group
    # (scheduler, nannies, workers) is killed and the test fails with what it printed.
    script = tmp_path / "dask_run.py"
    script.write_text(DASK_RUN)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(folder), str(out)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=DASK_DEADLINE_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate()
        pytest.fail(f"the Dask batch did not finish within {DASK_DEADLINE_S} s: "
                    f"{stderr.decode(errors='replace')[-3000:]}")
    assert proc.returncode == 0, stderr.decode(errors="replace")[-3000:]
    assert json.loads(stdout.decode().strip().splitlines()[-1]) == {"ok": 2, "failed": 4, "skipped": 0}
    assert read_summary(out) == read_summary(out1)
    assert_same_outputs(out, out1)


def test_analysis_fps_analyses_every_kth_frame_with_container_times(tmp_path):
    from movescreen.batch_worker import BatchJob, run_one
    from movescreen.pipeline import AnalyzeOptions
    from movescreen.sinks import read_landmarks_csv

    src = tmp_path / "a.mp4"
    shutil.copy(EXAMPLE_VIDEO, src)  # 65 frames at 5 fps
    opts = AnalyzeOptions(masks=False, **LIGHT)
    row = run_one(BatchJob(str(src), str(tmp_path / "half"), "a.mp4", opts, analysis_fps=2.5))
    full = run_one(BatchJob(str(src), str(tmp_path / "full"), "a.mp4", opts))
    assert row["status"] == full["status"] == "ok"
    half_seq = read_landmarks_csv(tmp_path / "half" / "landmarks.csv")
    full_seq = read_landmarks_csv(tmp_path / "full" / "landmarks.csv")
    assert list(half_seq.frame_index) == list(range(0, 65, 2))
    assert list(half_seq.time_s) == list(full_seq.time_s[::2])
    report = json.loads((tmp_path / "half" / "report.json").read_text())
    assert report["provenance"]["settings"]["analysis_fps"] == 2.5
    assert report["input"]["fps"] == 5.0  # the video's own rate
    assert report["input"]["analysed_fps"] == 2.5  # the rate the filters used
    # the setting is per job: a later job without analysis_fps gets every frame
    again = run_one(BatchJob(str(src), str(tmp_path / "full2"), "a.mp4", opts))
    assert again["status"] == "ok"
    assert len(read_landmarks_csv(tmp_path / "full2" / "landmarks.csv")) == 65
