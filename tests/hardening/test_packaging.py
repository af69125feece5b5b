"""LICENSE and NOTICE travel with the package; the metadata names the licence and the project."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser

import pytest

from tests.conftest import REPO


def _build(kind: str, out) -> str:
    code = (
        "import sys; from hatchling.builders.{m} import {c}; "
        "print(next({c}(sys.argv[1]).build(directory=sys.argv[2])))"
    ).format(m=kind, c="WheelBuilder" if kind == "wheel" else "SdistBuilder")
    res = subprocess.run([sys.executable, "-c", code, str(REPO), str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip().splitlines()[-1]


def test_repository_has_the_apache_licence_and_a_notice_for_the_model():
    licence = (REPO / "LICENSE").read_text()
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
    notice = (REPO / "NOTICE").read_text()
    assert "pose_landmarker_full.task" in notice and "Apache License, Version 2.0" in notice
    assert "Google" in notice


@pytest.mark.slow
def test_wheel_ships_licence_notice_and_metadata(tmp_path):
    wheel = _build("wheel", tmp_path)
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        [meta_name] = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = Parser().parsestr(z.read(meta_name).decode())
        licence_files = [n for n in names if "/licenses/" in n]
        assert any(n.endswith("/licenses/LICENSE") for n in licence_files), names
        assert any(n.endswith("/licenses/NOTICE") for n in licence_files), names
    assert meta["License-Expression"] == "Apache-2.0"
    urls = meta.get_all("Project-URL")
    assert any(u.startswith("Repository, https://github.com/movescreen/movescreen") for u in urls), urls
    classifiers = meta.get_all("Classifier")
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # PEP 639: the expression only


@pytest.mark.slow
def test_sdist_ships_licence_and_notice(tmp_path):
    sdist = _build("sdist", tmp_path)
    with tarfile.open(sdist) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    assert {"LICENSE", "NOTICE", "models/pose_landmarker_full.task", "pyproject.toml"} <= names
