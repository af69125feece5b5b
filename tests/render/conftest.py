"""Analysis folders for the render tests, made once per session from the example clip.

- ``real_folder``: what ``movescreen analyze`` writes today (the real model on the real clip).
- ``no_reps_folder``: the same with any reps/findings/angles removed (renders "no reps").
- ``rich_folder``: a copy with fixture angles, reps, findings and joints added (see
  ``fixture_folder``), whose input video is a copy of the clip under a hostile file name.
- ``rendered_rich``: ``render_all`` run once on ``rich_folder``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.render.fixture_folder import enrich_folder

HOSTILE_NAME = "x<img src=x onerror=alert(1)>.mp4"


@pytest.fixture(scope="session")
def real_folder(tmp_path_factory, example_analysis) -> Path:
    from movescreen.pipeline import write_outputs

    out = tmp_path_factory.mktemp("real") / "example"
    write_outputs(example_analysis, out)
    return out


@pytest.fixture(scope="session")
def no_reps_folder(tmp_path_factory, real_folder) -> Path:
    out = tmp_path_factory.mktemp("noreps") / "example"
    shutil.copytree(real_folder, out)
    report = json.loads((out / "report.json").read_text())
    for key in ("reps", "findings", "joints", "not_assessed", "movement", "view", "pain"):
        report.pop(key, None)
    (out / "report.json").write_text(json.dumps(report))
    (out / "angles.csv").unlink(missing_ok=True)
    return out


@pytest.fixture(scope="session")
def hostile_video(tmp_path_factory, example_video) -> Path:
    d = tmp_path_factory.mktemp("videos")
    p = d / HOSTILE_NAME
    shutil.copyfile(example_video, p)
    return p


@pytest.fixture(scope="session")
def rich_folder(tmp_path_factory, real_folder, hostile_video) -> Path:
    out = tmp_path_factory.mktemp("rich") / "example"
    enrich_folder(real_folder, out, view="front")
    report = json.loads((out / "report.json").read_text())
    report["input"]["path"] = str(hostile_video)
    (out / "report.json").write_text(json.dumps(report))
    return out


@pytest.fixture(scope="session")
def rendered_rich(rich_folder) -> dict[str, Path]:
    from movescreen.render import render_all

    return render_all(rich_folder)
