"""The same JSON API suite on SQLite and on PostgreSQL (a real server process on loopback)."""

from __future__ import annotations

import itertools
import json

import pytest

from tests.workspace.conftest import Server

_n = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path):
    db = None
    if request.param == "postgresql":
        base = request.getfixturevalue("pg_url")
        import psycopg

        name = f"ws_api_{next(_n)}_{tmp_path.name[-8:].replace('-', '_')}".lower()
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        db = base.rsplit("/", 1)[0] + "/" + name
    s = Server(tmp_path / "data", db=db).start()
    yield s
    s.stop()


def test_api_round_trip(server, folders):
    c = server.client()
    assert c.get("/healthz").json()["database"] == ("sqlite" if server.db is None else "postgresql")
    r = c.post("/api/clients", json={"name": "Client A", "notes": "12-week block"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    out = server.cli("import", str(folders[0]), str(folders[1]), "--client", "Client A")
    assert "2 session(s)" in out.stdout
    clients = c.get("/api/clients").json()
    assert [(x["name"], x["sessions"]) for x in clients] == [("Client A", 2)]
    sessions = c.get(f"/api/clients/{cid}/sessions").json()
    assert len(sessions) == 2
    s0 = c.get(f"/api/sessions/{sessions[0]['id']}").json()
    assert [f["key"] for f in s0["findings"]][0].startswith("knee_valgus-r1-right-")
    assert len(s0["findings"]) == 3 and all(f["verdict"] is None for f in s0["findings"])
    assert s0["report"]["findings"][0]["uncertainty"] == {"some_new_field": True}  # whole report kept
    fid = s0["findings"][0]["id"]
    r = c.put(f"/api/findings/{fid}/verdict", json={"verdict": "agree", "note": "first look"})
    assert r.status_code == 200, r.text
    r = c.put(f"/api/findings/{fid}/verdict", json={"verdict": "disagree", "note": "it's the band"})
    f = r.json()
    assert f["verdict"]["verdict"] == "disagree" and f["verdict"]["by"] == "local"
    assert [h["verdict"] for h in f["history"]] == ["agree", "disagree"]  # history kept
    assert f["history_count"] == 2
    full = c.get(f"/api/findings/{fid}/history").json()
    assert [(h["verdict"], h["note"], h["by"]) for h in full] == [
        ("agree", "first look", "local"), ("disagree", "it's the band", "local")]
    assert c.put(f"/api/findings/{fid}/verdict", json={"verdict": "maybe"}).status_code == 422
    assert c.put("/api/findings/999999/verdict", json={"verdict": "agree"}).status_code == 404
    # without the CSRF header a write is refused and nothing changes
    r = c.put(f"/api/findings/{fid}/verdict", json={"verdict": "agree"},
              headers={"X-CSRF-Token": ""})
    assert r.status_code == 403
    again = c.get(f"/api/sessions/{sessions[0]['id']}").json()["findings"][0]
    assert again["verdict"]["verdict"] == "disagree" and len(again["history"]) == 2
    p = c.get(f"/api/clients/{cid}/progress").json()
    hip = [m["value"] for m in p["metrics"]["peak_hip_flexion_deg"]]
    assert len(hip) == 2 and hip[1] - hip[0] == pytest.approx(12.0, abs=1e-6)
    kv = p["findings_per_rule"]["knee_valgus"]
    assert [r["tool"] for r in kv] == [3, 1] and kv[0]["disagree"] == 1
    assert c.get("/api/sessions/999999").status_code == 404
    spec = c.get("/openapi.json").json()
    for path in ("/api/clients", "/api/clients/{cid}/sessions", "/api/sessions/{sid}",
                 "/api/findings/{fid}/verdict", "/api/clients/{cid}/progress", "/healthz",
                 "/api/findings/{fid}/history"):
        assert path in spec["paths"]


def test_export_verdicts_and_agreement(server, folders, tmp_path):
    from movescreen.workspace.verdicts import agreement, read_export

    c = server.client()
    server.cli("import", str(folders[0]), "--client", "B")
    sid = c.get("/api/clients").json()[0]["id"]
    sess = c.get(f"/api/clients/{sid}/sessions").json()[0]
    fs = c.get(f"/api/sessions/{sess['id']}").json()["findings"]
    for f, v in zip(fs, ["agree", "agree", "disagree"]):
        assert c.put(f"/api/findings/{f['id']}/verdict", json={"verdict": v}).status_code == 200
    for ext in ("csv", "json"):
        out = tmp_path / f"v.{ext}"
        server.cli("export-verdicts", "--out", str(out))
        rows = read_export(out)
        assert len(rows) == 3
        st = agreement(rows)["knee_valgus"]
        assert (st["tp"], st["fp"], st["fn"]) == (2, 1, 0)
        assert st["sensitivity"] == 1.0 and st["agreement"] == pytest.approx(2 / 3)
    assert json.loads((tmp_path / "v.json").read_text())[0]["rule"] == "knee_valgus"
    if server.db is None:  # the command line of the evaluation (the same maths, once is enough)
        import subprocess
        import sys

        from tests.workspace.conftest import REPO

        r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "evaluate_rules.py"),
                            "--verdicts", str(tmp_path / "v.csv")], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        [line] = [x for x in r.stdout.splitlines() if x.startswith("knee_valgus ")]
        assert line.split()[1:] == ["2", "1", "0", "0", "0", "67%", "100%", "0%"]  # spec = tn / (tn + fp)
