"""The command line's surface (issue 14, item 6): help on every option, a one-line short help and
an example per command, ``--json`` summaries on stdout, ``-v`` and ``--log-file``."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from movescreen.cli import main
from tests.conftest import EXAMPLE_VIDEO


def _commands(cmd: click.Command, path: tuple[str, ...] = ("movescreen",)) -> Iterator[tuple[str, click.Command]]:
    yield " ".join(path), cmd
    if isinstance(cmd, click.Group):
        for name, sub in sorted(cmd.commands.items()):
            yield from _commands(sub, (*path, name))


ALL = list(_commands(main))


def test_the_tree_is_walked():
    names = {n for n, _ in ALL}
    assert {"movescreen analyze", "movescreen batch", "movescreen live", "movescreen info",
            "movescreen config show", "movescreen models verify"} <= names


@pytest.mark.parametrize(("name", "cmd"), ALL, ids=[n for n, _ in ALL])
def test_every_option_has_help(name, cmd):
    missing = [p.opts[0] for p in cmd.params
               if isinstance(p, click.Option) and not p.hidden and not (p.help or "").strip()]
    assert not missing, f"{name}: options without help text: {missing}"


@pytest.mark.parametrize(("name", "cmd"), ALL[1:], ids=[n for n, _ in ALL[1:]])
def test_every_command_has_a_one_line_short_help_and_an_example(name, cmd):
    short = cmd.short_help or ""
    assert short.strip() and "\n" not in short and len(short) <= 80, f"{name}: short_help {short!r}"
    assert (cmd.epilog or "").startswith("Example: movescreen "), f"{name}: epilog {cmd.epilog!r}"
    # the example names this very command
    assert (cmd.epilog or "").split()[2] == name.split()[1], f"{name}: epilog {cmd.epilog!r}"


def test_help_lists_the_short_help_and_shows_the_example():
    res = CliRunner().invoke(main, ["batch", "--help"])
    assert res.exit_code == 0
    assert "Example: movescreen batch" in res.output
    top = CliRunner().invoke(main, ["--help"]).output
    assert "Analyse every video in a folder; one summary table." in top


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "movescreen", *args], capture_output=True,
                          text=True, timeout=600, cwd=cwd)


def test_info_json_is_one_object_on_stdout():
    res = _run("info", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["command"] == "info" and data["exit_code"] == 0
    assert data["versions"]["movescreen"] and "sha256" in data["model"]


def test_analyze_json_error_is_one_object_on_stdout(tmp_path):
    res = _run("analyze", str(tmp_path / "absent.mp4"), "--out", str(tmp_path / "o"), "--json")
    assert res.returncode == 2
    data = json.loads(res.stdout)  # only the JSON on stdout
    assert data["status"] == "error" and data["exit_code"] == 2 and "absent.mp4" in data["error"]
    assert "movescreen: error:" in res.stderr  # the sentence still goes to stderr


@pytest.mark.model
def test_analyze_json_summary_verbose_and_log_file(tmp_path):
    out, log = tmp_path / "out", tmp_path / "run.log"
    res = _run("analyze", str(EXAMPLE_VIDEO), "--out", str(out), "--json", "-v", "--log-file",
               str(log), "--no-video", "--no-frames", "--no-masks")
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads(res.stdout)  # nothing else on stdout
    report = json.loads((out / "report.json").read_text())
    assert data["status"] == "ok" and data["exit_code"] == 0
    assert data["frames"] == report["quality"]["frames"] == 65
    assert data["outputs"]["report"] == str(out / "report.json")
    assert len(data["findings"]) == len(report.get("findings") or [])
    assert "Analysed 65 frames" in res.stderr  # the human summary moved to stderr
    assert "movescreen: frames analysed: 10 of 65" in res.stderr  # -v progress
    text = log.read_text()
    assert "frames analysed: 60 of 65" in text and "done: 65 frames" in text


@pytest.mark.model
def test_batch_json_summary(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(EXAMPLE_VIDEO.read_bytes())
    (folder / "broken.mp4").write_bytes(b"not a video")
    log = tmp_path / "batch.log"
    res = _run("batch", str(folder), "--out", str(tmp_path / "out"), "--json", "--workers", "1",
               "--no-video", "--no-frames", "--no-masks", "--log-file", str(log))
    assert res.returncode == 1, res.stderr[-2000:]  # one failed
    data = json.loads(res.stdout)
    assert data["counts"] == {"ok": 1, "failed": 1, "skipped": 0}
    by_video = {v["video"]: v for v in data["videos"]}
    assert by_video["a.mp4"]["status"] == "ok" and by_video["a.mp4"]["output"].endswith("a")
    assert by_video["broken.mp4"]["status"] == "failed" and by_video["broken.mp4"]["error"]
    text = log.read_text()  # one line per video in the log file
    assert "a.mp4: ok" in text and "broken.mp4: failed: " in text


def test_our_messages_survive_while_another_thread_silences_native_stderr():
    """fd 2 is pointed at /dev/null now and then for MediaPipe's native log lines (the people
    scan loads its model and runs its first calls on its own thread). Whatever we print
    meanwhile, from any thread, must still reach the terminal: the CLI gives Python's stderr its
    own descriptor. (In CI under load, the -v progress lines of the first frames vanished.)"""
    code = r'''
import os, sys, threading, logging
import movescreen.cli  # noqa: F401  (gives sys.stderr its own descriptor)
from movescreen.pose.mediapipe_backend import quiet_native_stderr
inside, done = threading.Event(), threading.Event()
def scan():
    with quiet_native_stderr():
        os.write(2, b"NATIVE-NOISE\n")  # what MediaPipe's C++ would write
        inside.set()
        done.wait(10)
t = threading.Thread(target=scan); t.start(); inside.wait(10)
logging.basicConfig(stream=sys.stderr, format="movescreen: %(message)s", level=logging.INFO)
logging.getLogger("movescreen").info("frames analysed: 10 of 65")
print("Interrupted: stopping", file=sys.stderr, flush=True)
done.set(); t.join()
print("after", file=sys.stderr, flush=True)
'''
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "movescreen: frames analysed: 10 of 65" in res.stderr
    assert "Interrupted: stopping" in res.stderr and "after" in res.stderr
    assert "NATIVE-NOISE" not in res.stderr  # the native line is still silenced
