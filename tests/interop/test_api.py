"""The Python API on the real example (the model runs once per session, in tests/conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest

import movescreen
from movescreen.api import Analysis


@pytest.fixture(scope="module")
def api_analysis(example_analysis) -> Analysis:
    from dataclasses import replace

    # what movescreen.analyze(path) returns: the render options off until save(render=True)
    opts = replace(example_analysis.options, video=False, key_frames=False, html=False)
    return Analysis._from_pipeline(replace(example_analysis, options=opts))


@pytest.mark.model
def test_analyze_save_load_gives_an_equal_analysis(api_analysis, tmp_path):
    pd = pytest.importorskip("pandas")
    a = api_analysis
    assert a.folder is None and a.reps and a.movement == "squat"
    paths = a.save(tmp_path / "out", exports="trc,mot")
    assert {"landmarks_px_trc", "landmarks_m_trc", "angles_mot", "report"} <= set(paths)
    assert not (tmp_path / "out" / "annotated.mp4").exists()  # nothing rendered unless asked
    b = movescreen.load(tmp_path / "out")
    assert b == a
    assert b.report["outputs"]["angles_mot"] == "angles.mot"
    assert isinstance(b.angles, pd.DataFrame) and list(b.angles.columns) == list(a.angles.columns)
    assert len(b.landmarks) == 33 * len(a.landmark_sequence)
    assert [r["bottom_frame"] for r in b.reps] == [r.bottom_frame for r in a._analysis.kinematics.reps]
    # a changed number is not equal
    b.report["reps"][0]["bottom_frame"] += 1
    assert b != a
    # saving a loaded analysis again keeps it equal
    c = movescreen.load(tmp_path / "out")
    c.save(tmp_path / "again")
    assert movescreen.load(tmp_path / "again") == c


def test_analyze_rejects_unknown_options(tmp_path):
    with pytest.raises(TypeError):
        movescreen.analyze(tmp_path / "x.mp4", no_such_option=True)


def test_landmarks_frame_is_long_and_named(api_analysis):
    pytest.importorskip("pandas")
    df = api_analysis.landmarks
    assert list(df.columns[:3]) == ["frame", "time_s", "landmark"]
    seq = api_analysis.landmark_sequence
    knee = df[(df.landmark == "left_knee")]
    np.testing.assert_allclose(knee.x_px.to_numpy(), seq.image_xyz[:, 25, 0])


@pytest.mark.model
def test_analyze_writes_nothing_and_takes_foreign_landmarks(example_analysis, tmp_path, monkeypatch):
    """movescreen.analyze() on a TRC pair: an Analysis in memory, not one file written (not in
    the working folder, not beside the input); save() writes only when asked."""
    from dataclasses import replace

    from movescreen.interop.trc import write_trc_m, write_trc_px

    seq = replace(example_analysis.sequence, masks={})
    src = tmp_path / "in"
    write_trc_px(src / "clip_px.trc", seq)
    write_trc_m(src / "clip_m.trc", seq)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    before = sorted(p.name for p in src.iterdir())
    a = movescreen.analyze(src / "clip_px.trc")
    assert sorted(p.name for p in src.iterdir()) == before and list(cwd.iterdir()) == []
    assert a.folder is None and len(a.reps) == len(example_analysis.kinematics.reps)
    assert a.report["landmarks_source"]["format"] == "trc"
    paths = a.save(tmp_path / "out")
    assert movescreen.load(tmp_path / "out") == a
    assert not any(p.suffix == ".trc" for p in paths.values())  # no export unless asked


def test_without_pandas_the_tables_are_arrays(api_analysis, monkeypatch):
    """pandas is optional (the [analysis] extra): without it angles is a dict of NumPy arrays and
    landmarks the LandmarkSequence."""
    import movescreen.api as api
    from movescreen.types import LandmarkSequence

    monkeypatch.setattr(api, "_pandas", lambda: None)
    angles = api_analysis.angles
    assert isinstance(angles, dict) and all(isinstance(v, np.ndarray) for v in angles.values())
    assert "time_s" in angles and len(angles["time_s"]) == len(api_analysis.landmark_sequence)
    assert isinstance(api_analysis.landmarks, LandmarkSequence)
