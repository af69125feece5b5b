"""Exposed mode (a non-loopback --host; 127.0.0.2 is still loopback, so nothing leaves the machine):
accounts, 401s, redirects, CSRF, escaping, traversal, uploads checked by decoding."""

from __future__ import annotations

import re
import subprocess

import httpx
import pytest

from tests.workspace.conftest import PY, Server

PASSWORD = "correct horse battery"
HOSTILE = "<script>alert(1)</script>"


def _login(s: Server, name: str = "clinician", password: str = PASSWORD) -> tuple[httpx.Client, httpx.Response]:
    c = httpx.Client(base_url=s.url, timeout=30)
    s.clients.append(c)
    page = c.get("/login")
    _plain(c, page)
    tok = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = c.post("/login", data={"name": name, "password": password, "csrf_token": tok})
    _plain(c, r)
    return c, r


def _plain(c: httpx.Client, r: httpx.Response) -> None:
    """The cookies are Secure (HTTPS only) in exposed mode; this test talks plain HTTP on
    loopback, so it hands them back by hand."""
    jar = {k: v for k, v in ((x.name, x.value) for x in c.cookies.jar)}
    jar |= dict(r.cookies.items())
    c.cookies = httpx.Cookies(jar)


def _csrf(c: httpx.Client) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', c.get("/").text).group(1)


@pytest.fixture
def exposed(tmp_path):
    s = Server(tmp_path / "data", host="127.0.0.2")
    r = subprocess.run([PY, "-m", "movescreen", "serve", "--host", "127.0.0.2", "--port",
                        str(s.port), *s.args()], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "add-user" in r.stderr  # refuses without an account
    s.cli("add-user", "clinician", "--password", PASSWORD)
    s.start()
    yield s
    s.stop()


def test_without_login_api_is_401_and_pages_redirect(exposed):
    c = httpx.Client(base_url=exposed.url, timeout=30)
    exposed.clients.append(c)
    for path in ("/api/clients", "/api/clients/1/sessions", "/api/sessions/1",
                 "/api/clients/1/progress", "/api/jobs/1"):
        assert c.get(path).status_code == 401, path
    assert c.put("/api/findings/1/verdict", json={"verdict": "agree"}).status_code == 401
    for path in ("/", "/clients/1", "/sessions/1", "/clients/1/progress", "/compare?a=1&b=2",
                 "/media/1/annotated.mp4", "/sessions/1/report.pdf"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/login", path
    assert c.get("/healthz").status_code == 200


def test_login_rate_limited_and_session_cookie(exposed):
    for _ in range(5):
        _, r = _login(exposed, password="wrong password!")
        assert r.status_code == 401
    _, r = _login(exposed)  # even the right password waits after 5 failures
    assert r.status_code == 429 and "Too many" in r.text


def test_cookie_flags_csrf_escaping_traversal_upload(exposed, folders):
    c, r = _login(exposed)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie
    # CSRF: a form without the token is refused, nothing created
    r = c.post("/clients", data={"name": "x"})
    assert r.status_code == 403
    assert c.get("/api/clients").json() == []
    tok = _csrf(c)
    r = c.post("/clients", data={"name": HOSTILE, "notes": "<img src=x onerror=alert(2)>",
                                 "csrf_token": tok})
    assert r.status_code == 303
    cid = int(r.headers["location"].rsplit("/", 1)[1])
    for page in ("/", f"/clients/{cid}", f"/clients/{cid}/progress", f"/clients/{cid}/delete"):
        html = c.get(page).text
        assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html, page
        assert "<img src=x" not in html
    exposed.cli("import", str(folders[0]), "--client", HOSTILE)  # the same client, by name
    sid = c.get("/api/clients").json()
    sess_id = [s for x in sid for s in c.get(f"/api/clients/{x['id']}/sessions").json()][0]["id"]
    assert c.get(f"/media/{sess_id}/frames/rep01_bottom.png").status_code == 200
    for bad in ("../../../../etc/passwd", "%2e%2e/%2e%2e/%2e%2e/etc/passwd", "..%2f..%2fetc%2fpasswd",
                "frames/../../../../etc/passwd", "/etc/passwd"):
        assert c.get(f"/media/{sess_id}/{bad}").status_code == 404, bad
    assert c.get("/static/../app.py").status_code == 404
    # an upload of a text file named .mp4: a sentence, nothing stored
    r = c.post(f"/clients/{cid}/upload", data={"csrf_token": tok, "movement": "auto"},
               files={"video": ("../../evil.mp4", b"just some text, not a video\n" * 100, "video/mp4")})
    assert r.status_code == 415 and "not a video" in r.text and "Nothing was stored" in r.text
    data = exposed.data
    assert list((data / "videos").iterdir()) == [] and list((data / "tmp").iterdir()) == []
    assert not (data.parent / "evil.mp4").exists()
    assert len(c.get(f"/api/clients/{cid}/sessions").json()) == 1  # the imported one only
    assert "data-job-id" not in c.get(f"/clients/{cid}").text  # no analysis job queued


def test_pdf_download_works_behind_the_login(exposed, folders):
    """The PDF is printed by headless Chromium from the page itself, with the user's session."""
    import os
    from pathlib import Path

    pytest.importorskip("playwright.sync_api", reason="needs playwright (test extra)")
    if not Path(os.environ.get("MOVESCREEN_CHROMIUM", "/usr/bin/chromium")).exists():
        pytest.skip("no Chromium")
    exposed.cli("import", str(folders[0]), "--client", "P")
    c, _ = _login(exposed)
    r = c.get("/sessions/1/report.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and b"/Type /Page" in r.content
    assert b"/Title (Review: P " in r.content  # the review page itself, not the login page
    anonymous = httpx.get(exposed.url + "/sessions/1/report.pdf", timeout=30)
    assert anonymous.status_code == 303  # to the login page, no PDF
