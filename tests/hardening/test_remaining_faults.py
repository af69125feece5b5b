"""The rows of docs/reliability.md that still failed on 2 December: a wrong view said on the
terminal, a run on a video with nobody in it keeping an earlier complete result, and a damaged
model copy under another name refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from movescreen.cli import main
from movescreen.errors import ModelError
from movescreen.pose.model import bundled_model_dirs, resolve_model
from tests.conftest import EXAMPLE_VIDEO
from tests.videos import write_video


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.model
def test_wrong_view_is_said_and_a_nobody_run_keeps_the_earlier_report(tmp_path) -> None:
    out = tmp_path / "client"
    res = _cli("analyze", EXAMPLE_VIDEO, "--movement", "hinge", "--out", out, "--no-video",
               "--no-frames", "--no-html")
    assert res.exit_code == 0, res.output
    # the front-view hinge: the warning and the rules that could not judge, not a clean screen
    assert "filmed from the front" in res.output
    assert "Not assessed: " in res.output and "lumbar_rounding" in res.output
    before = (out / "report.json").read_bytes()
    assert json.loads(before)["status"] == "ok"

    empty = tmp_path / "empty.mp4"
    write_video(empty, [np.full((120, 160, 3), 40, np.uint8)] * 10, fps=10)
    res = _cli("analyze", empty, "--out", out, "--no-video", "--no-frames", "--no-html")
    assert res.exit_code == 1
    assert "No person was found" in res.output and "earlier complete report" in res.output
    assert "Traceback" not in res.output
    assert (out / "report.json").read_bytes() == before  # the earlier result is untouched
    # into a fresh folder the failed report is still written, as before
    res = _cli("analyze", empty, "--out", tmp_path / "fresh", "--no-video", "--no-frames", "--no-html")
    assert res.exit_code == 1
    assert json.loads((tmp_path / "fresh" / "report.json").read_text())["status"] == "failed"


def test_a_damaged_model_copy_under_another_name_is_refused(tmp_path) -> None:
    bundled = next(d / "pose_landmarker_full.task" for d in bundled_model_dirs()
                   if (d / "pose_landmarker_full.task").is_file())
    data = bytearray(bundled.read_bytes())
    copy = tmp_path / "my_model.task"
    copy.write_bytes(bytes(data))
    assert resolve_model(copy).verified  # a known model under another name is checked and kept
    data[len(data) // 2] ^= 0xFF
    damaged = tmp_path / "damaged.task"
    damaged.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="damaged copy"):
        resolve_model(damaged)
