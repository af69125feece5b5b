"""`movescreen serve --dask ADDRESS`: an uploaded video is analysed on a Dask cluster (a
LocalCluster on loopback, one worker process) and becomes a session."""

from __future__ import annotations

import re
import time

import pytest

from tests.workspace.conftest import EXAMPLE_VIDEO, Server

pytestmark = [pytest.mark.slow, pytest.mark.model]


class DaskServer(Server):
    def __init__(self, data, address: str) -> None:
        super().__init__(data)
        self.address = address

    def args(self) -> list[str]:
        return [*super().args(), "--dask", self.address]


def test_upload_is_analysed_on_the_dask_cluster(tmp_path):
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    with distributed.LocalCluster(n_workers=1, processes=True, threads_per_worker=1,
                                  host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster:
        s = DaskServer(tmp_path / "data", cluster.scheduler_address).start()
        try:
            c = s.client()
            cid = c.post("/api/clients", json={"name": "D"}).json()["id"]
            tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get(f"/clients/{cid}").text).group(1)
            r = c.post(f"/clients/{cid}/upload", data={"csrf_token": tok, "movement": "squat",
                                                       "date": "2026-05-04"},
                       files={"video": ("clip.mp4", EXAMPLE_VIDEO.read_bytes(), "video/mp4")})
            assert r.status_code == 303, r.text
            deadline = time.monotonic() + 300
            while (job := c.get("/api/jobs/1").json())["status"] not in ("done", "failed"):
                assert time.monotonic() < deadline, job
                time.sleep(0.5)
            assert job["status"] == "done", job["message"]
            [sess] = c.get(f"/api/clients/{cid}/sessions").json()
            assert (sess["date"], sess["movement"]) == ("2026-05-04", "squat")
            full = c.get(f"/api/sessions/{sess['id']}").json()
            assert len(full["report"]["reps"]) == 3
            # the analysis ran as a task on the cluster, not in the server's own subprocess
            assert "analyse_quiet" in cluster.scheduler.task_prefixes  # Dask drops the leading _
        finally:
            s.stop()
