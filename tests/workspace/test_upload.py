"""Uploads and every write, in process (FastAPI's TestClient, the job worker off so nothing is
analysed): the size limit, the type checked by decoding, storage under the content hash, the
date from the video's creation_time, the job row the progress bar polls, deletion of the stored
video, and the CSRF check on every route that writes."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="needs the workspace extra: pip install -e '.[workspace]'")
pytest.importorskip("httpx")

LIMIT = 300_000
# starlette's TestClient warns that it still uses httpx (its own dependency choice, not ours)
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


def make_video(path: Path, *, creation_time: str | None, frames: int = 12) -> Path:
    """A small real H.264 MP4 (moving gradient), with a creation_time tag when given."""
    import av

    with av.open(str(path), "w") as out:
        if creation_time:
            out.metadata["creation_time"] = creation_time
        st = out.add_stream("libx264", rate=10)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            img = np.zeros((48, 64, 3), np.uint8)
            img[..., 0] = (np.arange(64) * 4 + i * 10) % 256
            for pkt in st.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    return path


@pytest.fixture
def app_client(tmp_path):
    from fastapi.testclient import TestClient

    from movescreen.workspace.app import create_app

    app = create_app(None, tmp_path / "data", worker=False, max_upload_bytes=LIMIT)
    with TestClient(app) as c:
        c.get("/")
        c.headers["X-CSRF-Token"] = c.cookies.get("ms_csrf")
        yield c, tmp_path / "data"


def _csrf(c) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', c.get("/").text).group(1)


def _jobs(data: Path) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(data / "workspace.sqlite3") as db:
        return db.execute("select video_sha256, video_name, entered_date, status from jobs").fetchall()


def test_upload_over_the_size_limit_is_refused_and_nothing_stored(app_client, tmp_path):
    c, data = app_client
    cid = c.post("/api/clients", json={"name": "U"}).json()["id"]
    big = make_video(tmp_path / "big.mp4", creation_time=None, frames=12)
    body = big.read_bytes() + b"\0" * LIMIT  # a real video, then padding past the limit
    r = c.post(f"/clients/{cid}/upload", data={"csrf_token": _csrf(c), "movement": "auto"},
               files={"video": ("big.mp4", body, "video/mp4")}, follow_redirects=False)
    assert r.status_code == 413
    assert "larger than the upload limit" in r.text and "nothing was stored" in r.text
    assert list((data / "videos").iterdir()) == [] and list((data / "tmp").iterdir()) == []
    assert _jobs(data) == []


def test_upload_is_stored_under_its_hash_dated_from_creation_time_and_deleted_with_the_client(app_client, tmp_path):
    c, data = app_client
    cid = c.post("/api/clients", json={"name": "V"}).json()["id"]
    video = make_video(tmp_path / "clip.mp4", creation_time="2026-02-03T10:20:30.000000Z")
    body = video.read_bytes()
    assert len(body) < LIMIT
    tok = _csrf(c)
    r = c.post(f"/clients/{cid}/upload", data={"csrf_token": tok, "movement": "squat"},
               files={"video": ("../../../etc/clip name.mp4", body, "video/mp4")},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    sha = hashlib.sha256(body).hexdigest()
    assert [p.name for p in (data / "videos").iterdir()] == [f"{sha}.video"]  # never the file name
    assert (data / "videos" / f"{sha}.video").read_bytes() == body
    assert list((data / "tmp").iterdir()) == []
    [(h, name, date, status)] = _jobs(data)
    assert (h, name, status) == (sha, "../../../etc/clip name.mp4", "queued")  # the name is only text
    assert dt.date.fromisoformat(date) == dt.date(2026, 2, 3)  # from the video's creation_time
    page = c.get(f"/clients/{cid}").text
    assert 'data-job-id="1"' in page and "<progress" in page  # the progress bar the page polls
    assert "../../../etc/clip name.mp4" in page  # shown as text (escaped by Jinja2)
    job = c.get("/api/jobs/1").json()
    assert (job["status"], job["created_by"]) == ("queued", "local")
    # the same bytes again: one stored file, two jobs
    r = c.post(f"/clients/{cid}/upload", data={"csrf_token": tok, "movement": "auto", "date": "2026-01-05"},
               files={"video": ("again.mp4", body, "video/mp4")}, follow_redirects=False)
    assert r.status_code == 303
    assert len(list((data / "videos").iterdir())) == 1
    assert dt.date.fromisoformat(_jobs(data)[1][2]) == dt.date(2026, 1, 5)  # the entered date wins
    r = c.post(f"/clients/{cid}/delete", data={"csrf_token": tok, "confirm": "V"})
    assert r.status_code == 200 and "1 uploaded video(s)" in r.text
    assert list((data / "videos").iterdir()) == []


def test_a_file_without_a_video_stream_is_refused(app_client, tmp_path):
    import av

    c, data = app_client
    cid = c.post("/api/clients", json={"name": "W"}).json()["id"]
    wav = tmp_path / "tone.mp4"  # audio only, in an MP4 container
    with av.open(str(wav), "w") as out:
        st = out.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 8000
        for pkt in list(st.encode(frame)) + list(st.encode()):
            out.mux(pkt)
    r = c.post(f"/clients/{cid}/upload", data={"csrf_token": _csrf(c)},
               files={"video": ("tone.mp4", wav.read_bytes(), "video/mp4")})
    assert r.status_code == 415 and "no video stream" in r.text and "Nothing was stored" in r.text
    assert list((data / "videos").iterdir()) == [] and _jobs(data) == []


def test_every_write_route_needs_the_csrf_token(app_client):
    c, data = app_client
    c.post("/api/clients", json={"name": "keep"})
    writes = sorted((m, r.path) for r in c.app.routes for m in getattr(r, "methods", ()) or ()
                    if m in ("POST", "PUT", "PATCH", "DELETE"))
    assert {("POST", "/clients"), ("PUT", "/api/findings/{fid}/verdict"), ("POST", "/login"),
            ("POST", "/clients/{cid}/upload"), ("POST", "/clients/{cid}/delete"),
            ("POST", "/sessions/{sid}/signoff"), ("POST", "/sessions/{sid}/missed")} <= set(writes)
    del c.headers["X-CSRF-Token"]
    for method, path in writes:
        url = re.sub(r"\{[^}]+\}", "1", path)
        r = c.request(method, url, data={"name": "x", "confirm": "keep", "verdict": "agree"},
                      files={"video": ("a.mp4", b"x", "video/mp4")} if "upload" in path else None) \
            if not path.startswith("/api/") else \
            c.request(method, url, json={"name": "x", "verdict": "agree", "note": ""})
        assert r.status_code == 403, (method, path, r.status_code)
    assert [x["name"] for x in c.get("/api/clients").json()] == ["keep"]  # nothing written


def test_edit_client(app_client):
    c, _ = app_client
    cid = c.post("/api/clients", json={"name": "Old"}).json()["id"]
    r = c.post(f"/clients/{cid}/edit", data={"csrf_token": _csrf(c), "name": "New <b>name</b>",
                                             "notes": "week 3: knee sore"}, follow_redirects=False)
    assert r.status_code == 303
    [x] = c.get("/api/clients").json()
    assert (x["name"], x["notes"]) == ("New <b>name</b>", "week 3: knee sore")
    assert (x["created_by"], x["updated_by"]) == ("local", "local")  # who and when
    assert x["updated_at"] >= x["created_at"]
    assert "last edited" in c.get(f"/clients/{cid}").text
    assert "New &lt;b&gt;name&lt;/b&gt;" in c.get(f"/clients/{cid}").text
    r = c.post(f"/clients/{cid}/edit", data={"csrf_token": _csrf(c), "name": "  "})
    assert r.status_code == 400 and "1 to 200 characters" in r.text


def test_a_long_verdict_history_is_kept_whole_and_shown_bounded(app_client, tmp_path):
    """Every verdict is stored; the review page and the session API carry the latest
    HISTORY_SHOWN (so a page stays the same size however often a verdict changes) and say how
    many there are; /api/findings/{id}/history returns them all."""
    import json

    from movescreen.workspace.app import HISTORY_SHOWN

    c, data = app_client
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "report.json").write_text(json.dumps({"findings": [
        {"id": "knee_valgus-r1-left", "rule": "knee_valgus", "rep": 1, "side": "left",
         "frame_start": 3, "frame_end": 9, "severity": "caution"}]}))
    from movescreen.workspace.store import get_or_create_client, import_folder

    with c.app.state.maker.begin() as s:
        import_folder(s, data, folder, get_or_create_client(s, "H"))
    fid = c.get("/api/sessions/1").json()["findings"][0]["id"]
    n = HISTORY_SHOWN + 7
    for i in range(n):
        r = c.put(f"/api/findings/{fid}/verdict", json={"verdict": "agree" if i % 2 else "unsure",
                                                         "note": f"look {i}"})
        assert r.status_code == 200
    f = r.json()
    assert f["history_count"] == n and len(f["history"]) == HISTORY_SHOWN
    assert f["history"][-1]["note"] == f"look {n - 1}" == f["verdict"]["note"]
    assert f["history"][0]["note"] == "look 7"  # the latest ones, oldest first
    full = c.get(f"/api/findings/{fid}/history").json()
    assert [h["note"] for h in full] == [f"look {i}" for i in range(n)]
    page = c.get("/sessions/1").text
    assert f"History ({n}; the latest {HISTORY_SHOWN} shown" in page
    assert page.count("look ") == HISTORY_SHOWN + 1  # the history list plus the current note
    assert c.get("/api/findings/999/history").status_code == 404


def test_sqlite_runs_in_wal_mode_with_the_alembic_schema(app_client):
    from sqlalchemy import text

    c, data = app_client
    with c.app.state.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        head = conn.execute(text("select version_num from alembic_version")).scalar()
    assert head == "0002"
    assert (data / "workspace.sqlite3").is_file()
    assert c.get("/healthz").headers["server-timing"].startswith("app;dur=")  # for the load bench


def test_an_older_database_is_migrated_on_start_and_keeps_its_rows(tmp_path):
    """A workspace made at revision 0001 opens with the newest code: Alembic upgrades it."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from movescreen.workspace.db import open_db

    data = tmp_path / "old"
    data.mkdir()
    engine = create_engine(f"sqlite:///{data / 'workspace.sqlite3'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parents[2] / "src" /
                                               "movescreen" / "workspace" / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("insert into clients (name, notes, created_at, updated_at) "
                          "values ('Kept', 'n', '2026-01-01 10:00:00', '2026-01-01 10:00:00')"))
    engine.dispose()
    engine, maker = open_db(None, data)
    with engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() == "0002"
        assert conn.execute(text("select name, created_by from clients")).all() == [("Kept", None)]
    engine.dispose()


@pytest.fixture
def exposed_client(tmp_path):
    """An exposed-mode app in process, over https://testserver (the cookies are Secure)."""
    from fastapi.testclient import TestClient

    from movescreen.workspace.app import create_app
    from movescreen.workspace.db import User
    from movescreen.workspace.security import hash_password

    app = create_app(None, tmp_path / "data", worker=False, exposed=True)
    with app.state.maker.begin() as s:
        s.add(User(name="clin", password_hash=hash_password("a long password")))
    with TestClient(app, base_url="https://testserver") as c:
        yield c


def _login_in_process(c, name="clin", password="a long password"):
    tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    return c.post("/login", data={"name": name, "password": password, "csrf_token": tok},
                  follow_redirects=False)


def test_a_login_session_expires_on_the_server_after_12_hours(exposed_client):
    import datetime as dt

    from movescreen.workspace.app import SESSION_HOURS
    from movescreen.workspace.db import AuthSession

    c = exposed_client
    assert _login_in_process(c).status_code == 303
    assert c.get("/api/clients").status_code == 200
    with c.app.state.maker.begin() as s:
        for a in s.query(AuthSession):
            a.created_at -= dt.timedelta(hours=SESSION_HOURS, minutes=1)
    assert c.get("/api/clients").status_code == 401  # the cookie alone is not enough
    r = c.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_failed_logins_are_limited_per_address_whatever_the_names(exposed_client):
    c = exposed_client
    for i in range(20):  # 20 different names, one failure each: under the per-name limit
        assert _login_in_process(c, name=f"guess{i}").status_code == 401
    r = _login_in_process(c)  # the right account from the same address now waits too
    assert r.status_code == 429 and "Too many failed logins" in r.text


def test_api_docs_are_served_from_the_package_and_list_the_api(app_client):
    """FastAPI's /docs and /redoc would load Swagger UI / ReDoc from a CDN: they are off; the
    local /api-docs page lists the API from the OpenAPI description."""
    c, _ = app_client
    assert c.get("/docs").status_code == 404 and c.get("/redoc").status_code == 404
    page = c.get("/api-docs").text
    for path in ("/api/clients", "/api/clients/{cid}/sessions", "/api/sessions/{sid}",
                 "/api/findings/{fid}/verdict", "/api/clients/{cid}/progress", "/healthz"):
        assert f"<code>{path}</code>" in page
    assert "Give a verdict on a finding" in page and "verdict, note" in page
    for url in ("/", "/api-docs", "/login", "/clients/999"):
        html = c.get(url).text
        assert not re.search(r'(src|href)="(https?:)?//', html), url  # nothing from elsewhere
