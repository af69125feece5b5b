"""Workspace fixtures: two real analysis folders (one model run), servers on loopback, PostgreSQL.

The analysis is the real pipeline on the committed example clip, run once per test session. The
clip shows no compensation, so the two session folders get findings injected here (a TEST
FIXTURE: made-up findings on the real reps, with stable ids) and session B gets changed metrics,
so verdicts, progress and compare have something to show.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="needs the workspace extra: pip install -e '.[workspace]'")
httpx = pytest.importorskip("httpx")

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_VIDEO = REPO / "fixtures" / "videos" / "squat_front_banded_bodyweight_01.mp4"
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def base_analysis(tmp_path_factory) -> Path:
    from movescreen.pipeline import AnalyzeOptions, run_analysis

    out = tmp_path_factory.mktemp("ws_base") / "example"
    run_analysis(EXAMPLE_VIDEO, out, AnalyzeOptions())
    return out


def _inject(folder: Path, *, hip_delta: float, reps_with_valgus: int) -> None:
    report = json.loads((folder / "report.json").read_text())
    findings = []
    for rep in report["reps"][:reps_with_valgus]:
        s, b, e = rep["start_frame"], rep["bottom_frame"], rep["end_frame"]
        findings.append({
            "id": f"knee_valgus-r{rep['index']}-right-f{s}-{e}", "rule": "knee_valgus",
            "severity": "caution", "rep": rep["index"], "side": "right", "frame_start": s,
            "frame_end": e, "worst_frame": b, "value": 11.5, "threshold": 8.0, "unit": "deg",
            "view": "front", "confidence": 0.7, "message_client": "Right knee drifted in <b>x</b>.",
            "message_clinician": "Right knee valgus (fixture).", "evidence": {},
            "uncertainty": {"some_new_field": True},  # fields the workspace does not know yet
        })
    report["findings"] = findings
    for rep in report["reps"]:
        rep["metrics"]["peak_hip_flexion_deg"] += hip_delta
    (folder / "report.json").write_text(json.dumps(report))


@pytest.fixture(scope="session")
def folders(tmp_path_factory, base_analysis) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("ws_folders")
    a, b = root / "week01", root / "week05"
    shutil.copytree(base_analysis, a)
    shutil.copytree(base_analysis, b)
    _inject(a, hip_delta=0.0, reps_with_valgus=3)
    _inject(b, hip_delta=12.0, reps_with_valgus=1)
    return a, b


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory):
    d = Path(f"/tmp/ms_pg_{os.getpid()}")
    port = free_port()
    try:
        r = subprocess.run(["bash", str(REPO / "scripts" / "postgres-test.sh"), "start", str(d),
                            str(port)], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        pytest.skip(f"PostgreSQL could not start: {e}")
    if r.returncode != 0:
        pytest.skip(f"PostgreSQL could not start (scripts/postgres-test.sh): {r.stderr.strip()[-300:]}")
    yield r.stdout.strip()
    subprocess.run(["bash", str(REPO / "scripts" / "postgres-test.sh"), "stop", str(d)],
                   capture_output=True, timeout=60)
    shutil.rmtree(d, ignore_errors=True)


class Server:
    def __init__(self, data: Path, db: str | None = None, host: str = "127.0.0.1") -> None:
        self.data, self.db, self.host = data, db, host
        self.port = free_port()
        self.url = f"http://{host}:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.clients: list[httpx.Client] = []

    def args(self) -> list[str]:
        a = ["--data", str(self.data)]
        return a + (["--db", self.db] if self.db else [])

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        r = subprocess.run([PY, "-m", "movescreen", "workspace", *args, *self.args()],
                           capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(r.stderr)
        return r

    def start(self) -> Server:
        self.log = open(self.data.parent / f"server-{self.port}.log", "a")
        self.proc = subprocess.Popen(
            [PY, "-m", "movescreen", "serve", "--host", self.host, "--port", str(self.port),
             *self.args()], stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {(self.data.parent / f'server-{self.port}.log').read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("server did not answer /healthz within 60 s")

    def stop(self, kill: bool = False) -> None:
        for c in self.clients:
            c.close()
        self.clients = []
        if self.proc and self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            self.proc.wait(timeout=30)
        self.log.close()

    def client(self) -> httpx.Client:
        c = httpx.Client(base_url=self.url, timeout=30)
        self.clients.append(c)
        c.get("/healthz")
        c.get("/")  # sets the CSRF cookie (or redirects to login in exposed mode)
        tok = c.cookies.get("ms_csrf")
        if tok:
            c.headers["X-CSRF-Token"] = tok
        return c


@pytest.fixture
def local_server(tmp_path):
    s = Server(tmp_path / "data").start()
    yield s
    s.stop()
