"""Output-folder faults (issue 14, item 2): ``--out`` naming a file, a folder that cannot be
written, a disk that fills up part-way through the annotated video. Each is one sentence, the
right exit code, no half-written file, and earlier results in that folder untouched.

The read-only and full-disk cases mount a small tmpfs, which needs root; elsewhere they skip
(a read-only folder made with chmod does not stop root, so it cannot show the fault).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from movescreen.sinks import OutputError, all_or_nothing, write_text_atomic
from tests.conftest import EXAMPLE_VIDEO

FAST = ["--no-masks", "--no-people-scan", "-q"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "movescreen", *args], capture_output=True,
                          text=True, timeout=600)


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_error_sentence(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr[-2000:]
    lines = [ln for ln in stderr.splitlines() if ln.startswith("movescreen: error:")]
    assert len(lines) == 1, stderr[-2000:]
    return lines[0]


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[callable]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs (full or read-only disk) needs root")
    mounted: list[Path] = []

    def mount(name: str, options: str) -> Path:
        where = tmp_path / name
        where.mkdir()
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({res.stderr.strip()})")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _earlier_results(out: Path) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text('{"status": "ok", "earlier": true}\n')
    (out / "landmarks.csv").write_text("frame,time_s,landmark,x_px,y_px\n")
    (out / "annotated.mp4").write_bytes(b"an earlier video")
    return _snapshot(out)


@pytest.mark.parametrize("command", ["analyze", "batch"])
def test_out_naming_a_file(tmp_path, command):
    target = tmp_path / "notes.txt"
    target.write_text("keep me\n")
    src = EXAMPLE_VIDEO if command == "analyze" else EXAMPLE_VIDEO.parent
    res = _run(command, str(src), "--out", str(target), *FAST)
    assert res.returncode == 2
    line = _one_error_sentence(res.stderr)
    assert "is a file, not a folder" in line
    assert target.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_read_only_output_folder(tmpfs):
    ro = tmpfs("ro", "ro,size=1m")
    res = _run("analyze", str(EXAMPLE_VIDEO), "--out", str(ro / "out"), *FAST)
    assert res.returncode == 2
    assert "cannot be written" in _one_error_sentence(res.stderr)
    assert list(ro.iterdir()) == []


@pytest.mark.model
def test_disk_full_part_way_through_the_annotated_video(tmpfs):
    # 700 KiB: room for the landmarks and angles (about 190 KB), not for the video (about 950 KB)
    disk = tmpfs("full", "size=700k")
    out = disk / "out"
    before = _earlier_results(out)
    res = _run("analyze", str(EXAMPLE_VIDEO), "--out", str(out), "--no-frames", *FAST)
    assert res.returncode == 2, res.stderr[-2000:]
    line = _one_error_sentence(res.stderr)
    assert "is full" in line and "annotated.mp4" in line  # it failed in the video, part-way
    # nothing half-written, and none of the earlier results was replaced
    assert not [p for p in out.rglob("*") if p.name.endswith((".tmp", ".part"))]
    assert _snapshot(out) == before
    # with space again, the same command works in the same folder
    res = _run("analyze", str(EXAMPLE_VIDEO), "--out", str(out), "--no-frames", "--no-video", *FAST)
    assert res.returncode == 0, res.stderr[-2000:]


def test_all_or_nothing_keeps_earlier_files_when_a_later_write_fails(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("old a")
    b.write_text("old b")
    with pytest.raises(OutputError), all_or_nothing():
        write_text_atomic(a, "new a")
        assert a.read_text() == "old a"  # not yet renamed into place
        err = OSError(28, "No space left on device")
        with pytest.raises(OutputError):  # an ENOSPC inside a write becomes one sentence
            from movescreen.sinks import atomic_path

            with atomic_path(b):
                raise err
        raise OutputError("the disk is full")
    assert (a.read_text(), b.read_text()) == ("old a", "old b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]  # no temporary file
    with all_or_nothing():
        write_text_atomic(a, "new a")
        write_text_atomic(b, "new b")
    assert (a.read_text(), b.read_text()) == ("new a", "new b")
