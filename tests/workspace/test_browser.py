"""The whole review flow in a real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright; nothing downloads a browser)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.workspace.conftest import Server

CHROMIUM = Path(os.environ.get("MOVESCREEN_CHROMIUM", "/usr/bin/chromium"))
pytestmark = pytest.mark.slow



def _wait_until(page, expression: str, timeout_s: float = 60.0) -> None:
    """Poll ``expression`` in the page until it is true. Not ``page.wait_for_function``: when
    the condition is not true at once (a slow machine), Playwright polls with an in-page
    ``eval``, which the workspace's Content-Security-Policy (script-src 'self') rightly blocks;
    ``page.evaluate`` goes through DevTools and is not subject to it."""
    import time

    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s:.0f} s: {expression}")
        time.sleep(0.05)


@pytest.fixture
def browser():
    sync = pytest.importorskip("playwright.sync_api", reason="needs playwright (test extra)")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-dev-shm-usage", "--mute-audio"])
        yield b
        b.close()


def test_review_flow(browser, tmp_path, folders):
    s = Server(tmp_path / "data").start()
    try:
        page = browser.new_page(accept_downloads=True)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(s.url + "/")
        page.fill("#new-client input[name=name]", "Week-block client")
        page.click("#new-client button")
        page.wait_for_selector("#client-name")
        assert page.text_content("#client-name") == "Week-block client"
        s.cli("import", str(folders[0]), str(folders[1]), "--client", "Week-block client")
        page.reload()
        links = page.locator("a.session-link")
        assert links.count() == 2
        links.first.click()
        page.wait_for_selector("#video")
        _wait_until(page, "document.getElementById('video').readyState >= 1")
        fps = float(page.get_attribute("#video", "data-fps"))
        card = page.locator(".finding").nth(1)
        frame = int(card.locator("button.finding-seek").get_attribute("data-frame"))
        assert frame > 0
        card.locator("button.finding-seek").click()
        _wait_until(page, f"Math.abs(document.getElementById('video').currentTime - {frame / fps}) < 0.05")
        rep = page.locator("ul.reps button.seek").nth(2)  # a rep seeks to its first frame too
        rep_frame = int(rep.get_attribute("data-frame"))
        assert rep_frame != frame
        rep.click()
        _wait_until(page, f"Math.abs(document.getElementById('video').currentTime - {rep_frame / fps}) < 0.05")
        assert page.locator("#joints tr").count() >= 2 and page.locator(".plots svg.plot").count() >= 1
        assert page.locator(".frames img").count() >= 2  # key frames
        fid = card.get_attribute("data-finding-id")
        card.locator("input[value=disagree]").check()
        card.locator("input[name=note]").fill("band pulls the knee, not valgus")
        card.locator("button", has_text="Save verdict").click()
        page.wait_for_load_state("load")
        page.reload()
        card = page.locator(f"#finding-{fid}")
        assert card.locator(".verdict-value").text_content() == "disagree"
        assert card.locator(".verdict-note").text_content() == "band pulls the knee, not valgus"
        page.click("#missed summary")
        page.fill("#missed-form input[name=rule]", "excessive_forward_lean")
        page.fill("#missed-form input[name=rep]", "2")
        page.select_option("#missed-form select[name=side]", "none")
        page.fill("#missed-form input[name=frame]", "30")
        page.fill("#missed-form input[name=note]", "trunk dives at the bottom")
        page.click("#missed-form button")
        page.wait_for_selector(".finding.clinician")
        assert "trunk dives at the bottom" in page.text_content(".finding.clinician")
        page.click("#signoff-form button")
        page.wait_for_selector("#signed-off")
        assert "signed off by local" in page.text_content("#signed-off")
        with page.expect_download() as dl:
            page.click("#pdf-link")
        pdf = Path(dl.value.path()).read_bytes()
        assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 1
        page.go_back() if page.url.endswith(".pdf") else None
        page.goto(page.url.split("/sessions/")[0] + "/")
        page.click("text=Week-block client")
        page.click("#progress-link")
        rows = page.locator("tr.progress-session")
        assert rows.count() == 2
        assert page.locator("svg.plot").count() >= 3
        page.go_back()
        page.click("#compare-button")
        page.wait_for_selector("#compare-table")
        change = page.locator("#compare-table tr").nth(1).locator("td").nth(3).text_content()
        assert change == "+12.00"
        assert page.locator(".compare img").count() >= 2
        with page.expect_download() as dl:
            page.goto(s.url + "/clients/1/progress")
            page.click("#pdf-link")
        assert Path(dl.value.path()).read_bytes().startswith(b"%PDF")
        assert errors == []
        assert all(u.startswith(s.url) for u in requests), [u for u in requests if not u.startswith(s.url)]
        page.close()
    finally:
        s.stop()


@pytest.mark.model
def test_upload_in_the_page_polls_progress_then_shows_the_session(browser, tmp_path):
    """Upload the example clip through the page: the job list shows a progress bar that polls
    /api/jobs/{id} until the background analysis is done, then the page shows the session."""
    from tests.workspace.conftest import EXAMPLE_VIDEO

    s = Server(tmp_path / "data").start()
    try:
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        polls: list[str] = []
        page.on("request", lambda r: polls.append(r.url) if "/api/jobs/" in r.url else None)
        page.goto(s.url + "/")
        page.fill("#new-client input[name=name]", "Uploader")
        page.click("#new-client button")
        page.wait_for_selector("#client-name")
        page.set_input_files("#upload input[type=file]", str(EXAMPLE_VIDEO))
        page.select_option("#upload select[name=movement]", "squat")
        page.fill("#upload input[name=date]", "2026-06-01")
        page.click("#upload button")
        page.wait_for_selector("#jobs progress")
        assert page.text_content("#jobs li").startswith(EXAMPLE_VIDEO.name)
        # done: the polling script reloads the page, which then lists the session
        page.wait_for_selector("a.session-link", timeout=300_000)
        assert page.text_content("#jobs .job-status") == "done"
        assert page.get_attribute("#jobs progress", "value") == "1.0"
        assert page.text_content("a.session-link") == "2026-06-01"
        assert polls and all(u.endswith("/api/jobs/1") for u in polls)
        assert errors == []
        page.close()
    finally:
        s.stop()
