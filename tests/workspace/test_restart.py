"""kill -9 the server while an upload is being analysed; the restarted server resumes the job (or
fails it with a sentence) and no verdict is lost."""

from __future__ import annotations

import re
import time

import pytest

from tests.workspace.conftest import EXAMPLE_VIDEO, Server

pytestmark = [pytest.mark.slow, pytest.mark.model]


def _wait(pred, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill_during_job_then_restart(tmp_path, folders):
    s = Server(tmp_path / "data").start()
    s.cli("import", str(folders[0]), "--client", "R")
    c = s.client()
    sess = c.get("/api/clients/1/sessions").json()[0]
    fid = c.get(f"/api/sessions/{sess['id']}").json()["findings"][0]["id"]
    assert c.put(f"/api/findings/{fid}/verdict", json={"verdict": "unsure", "note": "kept?"}).status_code == 200
    tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/clients/1").text).group(1)
    r = c.post("/clients/1/upload", data={"csrf_token": tok, "movement": "squat",
                                          "date": "2026-03-01"},
               files={"video": ("clip.mp4", EXAMPLE_VIDEO.read_bytes(), "video/mp4")})
    assert r.status_code == 303
    _wait(lambda: c.get("/api/jobs/1").json()["status"] == "running", 120, "the job to start")
    s.stop(kill=True)  # SIGKILL: no shutdown code runs
    s2 = Server(s.data)
    s2.start()
    try:
        c2 = s2.client()
        job = _wait(lambda: (j := c2.get("/api/jobs/1").json())["status"] in ("done", "failed") and j,
                    300, "the job to finish after the restart")
        assert job["message"].endswith(".") and len(job["message"]) > 5  # a sentence either way
        if job["status"] == "done":
            sessions = c2.get("/api/clients/1/sessions").json()
            new = [x for x in sessions if x["id"] == job["session_id"]][0]
            assert new["date"] == "2026-03-01" and new["movement"] == "squat"
        v = c2.get(f"/api/sessions/{sess['id']}").json()["findings"][0]["verdict"]
        assert (v["verdict"], v["note"]) == ("unsure", "kept?")
    finally:
        s2.stop()
