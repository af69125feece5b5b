"""Shared fixtures: paths to the repository's and the shared test data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_VIDEO = REPO / "fixtures" / "videos" / "squat_front_banded_bodyweight_01.mp4"
SHARED = Path(os.environ.get("MOVESCREEN_SHARED", REPO.parent / "shared"))
SHARED_DATA = SHARED / "data"
SHARED_VIDEOS = SHARED_DATA / "videos"


def shared_file(*parts: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason it is missing."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"third-party test data not available here: {p} (it lives in ../shared/data)")
    return p


@pytest.fixture(scope="session")
def example_video() -> Path:
    return EXAMPLE_VIDEO


@pytest.fixture(scope="session")
def example_analysis():
    """The example clip analysed once per test session with the real model."""
    from movescreen.pipeline import AnalyzeOptions, analyze_input

    return analyze_input(EXAMPLE_VIDEO, AnalyzeOptions(masks=True))


_ANALYSES: dict[tuple[str, str], object] = {}


def analyze_shared_clip(name: str, movement: str = "auto"):
    """Analyse a clip from ../shared/data/videos once per test session (or skip if absent)."""
    from movescreen.pipeline import AnalyzeOptions, analyze_input

    path = shared_file("videos", name)
    key = (str(path), movement)
    if key not in _ANALYSES:
        _ANALYSES[key] = analyze_input(path, AnalyzeOptions(masks=True, movement=movement))
    return _ANALYSES[key]
