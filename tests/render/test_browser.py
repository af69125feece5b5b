"""report.html in a real headless Chromium: no console errors, every image loads, the video plays.

Needs Debian's ``chromium`` (installed by ``make system-deps``) and ``websocket-client``.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.render.browser import (
    IMAGES_JS,
    find_chromium,
    open_browser,
    serve_directory,
    video_state_js,
)
from tests.render.conftest import HOSTILE_NAME

pytestmark = [pytest.mark.model, pytest.mark.slow]

if find_chromium() is None:
    pytest.skip("chromium is not installed (Debian package `chromium`; `make system-deps` "
                "installs it)", allow_module_level=True)
pytest.importorskip("websocket", reason="websocket-client is needed to drive chromium")


def _check_page(b, url: str, n_frames: int) -> None:
    b.navigate(url)
    images = b.evaluate(IMAGES_JS)
    assert len(images) == n_frames
    broken = [i["src"] for i in images if not i["w"]]
    assert broken == [], f"images that did not load: {broken}"
    video = b.evaluate(video_state_js())
    assert video is not None, "no <video> element"
    assert video["error"] is None, f"the video failed to load (MediaError {video['error']})"
    assert video["readyState"] >= 1
    assert video["duration"] and 0 < video["duration"] < 1e6  # finite, positive
    assert (video["width"], video["height"]) == (720, 1280)
    # the hostile file name is text on the page, not an element
    assert b.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert HOSTILE_NAME in b.evaluate("document.querySelector('h1').textContent")
    # phone width: nothing wider than the screen except inside the scrolling table boxes
    b.call("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=1, mobile=True)
    assert b.evaluate("document.documentElement.scrollWidth") <= 392
    assert b.console_errors() == []


def test_report_in_chromium_over_http_and_file(rendered_rich, rich_folder, tmp_path):
    n_frames = len(list((rich_folder / "frames").glob("*.png")))
    with open_browser() as b:
        with serve_directory(rich_folder) as base:
            _check_page(b, f"{base}/report.html", n_frames)
            b.screenshot(tmp_path / "report_laptop.png", width=1200)
            b.screenshot(tmp_path / "report_phone.png", width=390, mobile=True)
        # opened straight from disk, as a clinician double-clicking it would
        _check_page(b, (rich_folder / "report.html").as_uri(), n_frames)
    for name in ("report_laptop.png", "report_phone.png"):
        assert (tmp_path / name).stat().st_size > 20_000
    if (keep := os.environ.get("MOVESCREEN_KEEP_SCREENSHOTS")):
        for name in ("report_laptop.png", "report_phone.png"):
            shutil.copy(tmp_path / name, f"{keep}/{name}")
