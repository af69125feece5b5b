"""The wheel carries what `movescreen serve` reads at run time besides Python files: the
templates, the static files (no CDN: the page loads nothing else) and the Alembic migrations."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def test_wheel_carries_templates_static_files_and_migrations(tmp_path):
    code = ("import sys; from hatchling.builders.wheel import WheelBuilder; "
            "print(next(WheelBuilder(sys.argv[1]).build(directory=sys.argv[2])))")
    r = subprocess.run([sys.executable, "-c", code, str(REPO), str(tmp_path)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(r.stdout.strip().splitlines()[-1]) as z:
        names = set(z.namelist())
    ws = "movescreen/workspace/"
    src = REPO / "src" / "movescreen" / "workspace"
    wanted = {ws + p.relative_to(src).as_posix() for sub in ("templates", "static", "migrations")
              for p in (src / sub).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert {ws + "templates/review.html", ws + "static/app.js", ws + "migrations/env.py"} <= wanted
    assert wanted <= names, sorted(wanted - names)
