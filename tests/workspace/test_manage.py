"""Deleting a client (after a confirmation, saying what was deleted) and the online backup."""

from __future__ import annotations

import re
import sqlite3


def test_delete_client_and_backup(local_server, folders, tmp_path):
    s = local_server
    s.cli("import", str(folders[0]), str(folders[1]), "--client", "Gone")
    s.cli("import", str(folders[0]), "--client", "Stays")  # shares folder A's content
    c = s.client()
    outputs = s.data / "outputs"
    assert len(list(outputs.iterdir())) == 2
    page = c.get("/clients/1/delete").text
    assert "2 session(s)" in page and "4 finding(s)" in page
    tok = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = c.post("/clients/1/delete", data={"csrf_token": tok, "confirm": "gone"})
    assert "nothing was deleted" in r.text and len(c.get("/api/clients").json()) == 2
    r = c.post("/clients/1/delete", data={"csrf_token": tok, "confirm": "Gone"})
    assert r.status_code == 200
    assert "2 session(s), 4 finding(s) with 0 verdict(s), 1 analysis folder(s)" in r.text
    assert [x["name"] for x in c.get("/api/clients").json()] == ["Stays"]
    assert len(list(outputs.iterdir())) == 1  # B removed, A kept for the other client
    assert c.get("/api/sessions/1").status_code == 404
    out = tmp_path / "backup.sqlite3"
    r = s.cli("backup", "--out", str(out))
    assert out.is_file()
    with sqlite3.connect(out) as db:
        assert db.execute("select name from clients").fetchall() == [("Stays",)]
    r = s.cli("backup", "--out", str(tmp_path / "x"), "--db", "postgresql://u@127.0.0.1:1/x", check=False)
    assert r.returncode == 1 and "pg_dump" in r.stderr


def test_import_a_batch_output_imports_every_video_in_it(local_server, folders, tmp_path):
    """`movescreen batch --recursive` nests the per-video folders; summary.csv and index.html sit
    at the top, and an unfinished video's hidden temporary folder is not an analysis."""
    import shutil

    batch = tmp_path / "batch_out"
    shutil.copytree(folders[0], batch / "monday" / "squat_a")
    shutil.copytree(folders[1], batch / "squat_b")
    shutil.copytree(folders[1], batch / ".squat_c.tmp")
    (batch / "summary.csv").write_text("video,status\n")
    (batch / "index.html").write_text("<html></html>")
    s = local_server
    out = s.cli("import", str(batch), "--client", "Batch client", "--date", "2026-04-01")
    assert "2 session(s) added" in out.stdout
    c = s.client()
    sessions = c.get("/api/clients/1/sessions").json()
    assert sorted(x["date"] for x in sessions) == ["2026-04-01", "2026-04-01"]
    assert sum(len(c.get(f"/api/sessions/{x['id']}").json()["findings"]) for x in sessions) == 4
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    r = s.cli("import", str(tmp_path / "empty"), "--client", "x", check=False)
    assert r.returncode == 2 and "neither an analysis folder nor a batch output" in r.stderr
    assert len(c.get("/api/clients").json()) == 1  # nothing imported, no client made
