"""Model lookup, checksum verification and the offline failure of `models fetch`."""

from __future__ import annotations

import json
import shutil
import zipfile

import pytest

from movescreen.errors import ModelError
from movescreen.pose import model as model_mod
from movescreen.pose.model import fetch_model, resolve_model, verify_model

EXPECTED_SHA = "5edd017682e83d1595a53ca0be450da306e15b1360b1d7f55c5b80edeb1ed987"


def test_bundled_model_is_found_and_verified(monkeypatch):
    monkeypatch.delenv("MOVESCREEN_MODEL", raising=False)
    m = resolve_model()
    assert m.sha256 == EXPECTED_SHA and m.verified and m.origin == "bundled"
    assert m.size_bytes == 9_398_356


def _copy_bundle(tmp_path, monkeypatch, corrupt: bool):
    m = resolve_model()
    folder = tmp_path / "pkg" / "_models"
    folder.mkdir(parents=True)
    shutil.copy(m.path.parent / "manifest.json", folder / "manifest.json")
    data = bytearray(m.path.read_bytes())
    if corrupt:
        data[len(data) // 2] ^= 0xFF
    (folder / m.path.name).write_bytes(bytes(data))
    monkeypatch.setattr(model_mod, "bundled_model_dirs", lambda: [folder])
    monkeypatch.delenv("MOVESCREEN_MODEL", raising=False)
    return folder


def test_corrupt_bundled_model_is_refused_with_instructions(tmp_path, monkeypatch):
    _copy_bundle(tmp_path, monkeypatch, corrupt=True)
    with pytest.raises(ModelError, match="corrupt") as ei:
        resolve_model()
    assert "models fetch" in str(ei.value) and "--model" in str(ei.value)


def test_missing_bundled_model_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(model_mod, "bundled_model_dirs", lambda: [tmp_path / "nowhere"])
    monkeypatch.delenv("MOVESCREEN_MODEL", raising=False)
    with pytest.raises(ModelError, match="missing.*reinstall"):
        resolve_model()


def test_environment_variable_and_argument_take_precedence(tmp_path, monkeypatch):
    folder = _copy_bundle(tmp_path, monkeypatch, corrupt=False)
    other = tmp_path / "mine.task"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("pose_detector.tflite", b"x")
        z.writestr("pose_landmarks_detector.tflite", b"y")
    monkeypatch.setenv("MOVESCREEN_MODEL", str(other))
    m = resolve_model()
    assert m.origin == "environment" and m.path == other and not m.verified
    m2 = resolve_model(folder / "pose_landmarker_full.task")
    assert m2.origin == "argument" and m2.verified
    monkeypatch.setenv("MOVESCREEN_MODEL", str(tmp_path / "absent.task"))
    with pytest.raises(ModelError, match="MOVESCREEN_MODEL points to"):
        resolve_model()


def test_a_non_bundle_file_is_refused(tmp_path):
    p = tmp_path / "model.task"
    p.write_text("not a zip")
    with pytest.raises(ModelError, match="not a MediaPipe .task bundle"):
        verify_model(p, "argument")
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("other.tflite", b"x")
    with pytest.raises(ModelError, match="lacks pose_detector.tflite"):
        verify_model(p, "argument")


def test_manifest_matches_committed_readme():
    m = resolve_model()
    manifest = json.loads((m.path.parent / "manifest.json").read_text())
    entry = manifest["models"][m.path.name]
    readme = (m.path.parent / "README.md").read_text()
    assert entry["sha256"] in readme and entry["sha256"] == EXPECTED_SHA


def test_fetch_fails_clearly_when_offline(tmp_path, monkeypatch):
    # port 9 (discard) on loopback refuses connections: a real network failure, fast and local
    monkeypatch.setenv("MOVESCREEN_MODEL_URL", "http://127.0.0.1:9/pose_landmarker_{name}.task")
    with pytest.raises(ModelError, match="offline") as ei:
        fetch_model("lite", dest_dir=tmp_path, timeout_s=5)
    assert "movescreen models fetch lite" in str(ei.value)
    assert not list(tmp_path.glob("*.task")) and not list(tmp_path.glob("*.part"))


def test_fetch_rejects_unknown_names(tmp_path):
    with pytest.raises(ModelError, match="expected one of lite, full, heavy"):
        fetch_model("giant", dest_dir=tmp_path)


@pytest.mark.slow
def test_wheel_carries_the_model(tmp_path):
    """A plain `pip install` of the wheel must find the model outside the checkout."""
    import subprocess
    import sys

    from tests.conftest import REPO

    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True,
    )
    assert res.returncode == 0, res.stderr
    [wheel] = tmp_path.glob("movescreen-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        info = z.getinfo("movescreen/_models/pose_landmarker_full.task")
        assert "movescreen/_models/manifest.json" in names
        assert info.file_size == 9_398_356
        manifest = json.loads(z.read("movescreen/_models/manifest.json"))
    assert manifest["models"]["pose_landmarker_full.task"]["sha256"] == EXPECTED_SHA
