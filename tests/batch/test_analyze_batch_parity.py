"""analyze and batch are one pipeline: the same reps and the same findings (same ids) per clip."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from movescreen.batch import run_batch
from movescreen.pipeline import AnalyzeOptions, run_analysis
from tests.conftest import shared_file

CLIPS = ("deadlift_side_rounded_back_01.mp4", "squat_side_barbell_back_02.mp4")
OPTS = AnalyzeOptions(video=False, key_frames=False, html=False)


def _reps(report):
    return [(r["index"], r["start_frame"], r["bottom_frame"], r["end_frame"], r["partial"])
            for r in report.get("reps") or []]


@pytest.mark.model
def test_analyze_and_batch_give_the_same_reps_and_findings(tmp_path):
    clips = [shared_file("videos", name) for name in CLIPS]
    folder = tmp_path / "in"
    folder.mkdir()
    for c in clips:
        os.symlink(c, folder / c.name) if hasattr(os, "symlink") else shutil.copy(c, folder)
    res = run_batch(folder, tmp_path / "batch", workers=1, options=OPTS, progress=False)
    assert res.exit_code == 0
    for c in clips:
        single = run_analysis(c, tmp_path / "single" / c.stem, OPTS)
        batched = json.loads(next((tmp_path / "batch").rglob(f"{c.stem}/report.json")).read_text())
        assert _reps(single) == _reps(batched) and _reps(single), c.name
        ids_single = [f["id"] for f in single.get("findings") or []]
        assert ids_single == [f["id"] for f in batched.get("findings") or []], c.name
        assert single["quality"]["frames"] == batched["quality"]["frames"]
    # the rounded-back deadlift has its lumbar finding in both (the mask trace ran per frame)
    rb = json.loads(next((tmp_path / "batch").rglob("deadlift_side_rounded_back_01/report.json")).read_text())
    assert any("lumbar" in f["rule"] for f in rb.get("findings") or []), rb.get("findings")
