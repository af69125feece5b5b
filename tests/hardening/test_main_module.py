"""`python -m movescreen` runs the same command line as `movescreen`."""

from __future__ import annotations

import subprocess
import sys

from movescreen import __version__


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "movescreen", *args], capture_output=True, text=True, timeout=120)


def test_python_m_movescreen_prints_version_and_help():
    res = _run("--version")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"movescreen, version {__version__}"
    res = _run("--help")
    assert res.returncode == 0 and "Usage: movescreen" in res.stdout and "analyze" in res.stdout


def test_python_m_movescreen_fails_like_the_command(tmp_path):
    res = _run("analyze", str(tmp_path / "absent.mp4"), "--out", str(tmp_path / "out"))
    assert res.returncode != 0
    assert "Traceback" not in res.stderr and "absent.mp4" in res.stderr
