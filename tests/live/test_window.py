"""The live window under a virtual X display (Xvfb): a screenshot of the screen shows the overlay."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, shared_file
from tests.live.helpers import grab_x_screen

pytestmark = pytest.mark.model
DEADLIFT = "deadlift_side_rounded_back_01.mp4"

CHILD = """
import json, sys
from movescreen.live import run_live
def show(ev):
    print(json.dumps(ev), flush=True)
s = run_live(sys.argv[1], headless=False, pace=True, on_event=show, summary_hold_s=float(sys.argv[2]))
print(json.dumps({"event": "done", "stopped_by": s.stopped_by}), flush=True)
"""


@pytest.fixture
def xvfb():
    """A private X display; skipped (with the reason) when Xvfb or xwd is missing."""
    for tool, pkg in (("Xvfb", "xvfb"), ("xwd", "x11-apps")):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (Debian package {pkg}; `make test` installs it)")
    for _ in range(20):
        n = random.randint(100, 899)
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            break
    with subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        try:
            deadline = time.monotonic() + 10
            while not Path(f"/tmp/.X11-unix/X{n}").exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.skip("Xvfb did not start")
                time.sleep(0.05)
            yield f":{n}"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _near(img: np.ndarray, rgb: tuple[int, int, int], tol: int = 30) -> int:
    return int((np.abs(img.astype(int) - np.array(rgb)).max(axis=2) <= tol).sum())


def test_window_shows_the_overlay_and_the_summary(xvfb, tmp_path) -> None:
    clip = shared_file("videos", DEADLIFT)
    env = {**os.environ, "DISPLAY": xvfb, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "xcb"}
    shots: dict[str, np.ndarray] = {}
    events: list[dict] = []
    stderr: list[str] = []
    with subprocess.Popen([sys.executable, "-c", CHILD, str(clip), "4"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env) as proc:
        reader = threading.Thread(target=lambda: stderr.extend(proc.stderr), daemon=True)
        reader.start()
        try:
            for line in proc.stdout:
                ev = json.loads(line)
                events.append(ev)
                if ev["event"] == "cue" and "overlay" not in shots:
                    time.sleep(0.4)  # a few frames later, the cue is still on screen
                    shots["overlay"] = grab_x_screen(xvfb)
                if ev["event"] == "summary":
                    time.sleep(1.0)
                    shots["summary"] = grab_x_screen(xvfb)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        reader.join(timeout=10)
    assert proc.returncode == 0, "".join(stderr)[-2000:]
    assert events[-1] == {"event": "done", "stopped_by": "end"}
    for name, img in shots.items():  # kept for a person to look at
        np.save(tmp_path / f"{name}.npy", img)
    over = shots["overlay"]
    assert over.std() > 20  # a picture, not an empty screen
    assert _near(over, (80, 220, 80)) > 300  # the skeleton's green lines
    assert _near(over, (255, 60, 60), tol=25) > 100  # the flag cue's red text
    assert _near(over, (30, 30, 30), tol=3) > 2000  # the text banners' dark boxes
    summ = shots["summary"]
    assert _near(summ, (80, 220, 80)) < 0.1 * _near(over, (80, 220, 80))  # no live skeleton
    assert _near(summ, (255, 255, 255), tol=10) > 1000  # the summary's white text


KEYS_CHILD = """
import json, sys
import cv2
real_wait, real_show = cv2.waitKey, cv2.imshow
shown = [0]
script = {40: ord("r"), 55: ord(" "), 70: ord(" "), 90: ord("q")}


def counted_show(name, image):
    shown[0] += 1
    real_show(name, image)


def scripted_wait(ms):  # a person at the keyboard: r, space, space, q after those pictures
    key = real_wait(ms)
    return script.pop(shown[0], key)


cv2.imshow = counted_show
cv2.waitKey = scripted_wait
from movescreen.live import run_live
s = run_live(sys.argv[1], headless=False, pace=False, summary_hold_s=0,
             on_event=lambda ev: print(json.dumps(ev), flush=True))
print(json.dumps({"event": "done", "stopped_by": s.stopped_by, "paused": s.frames_paused,
                  "processed": s.frames_processed}), flush=True)
"""


def test_window_keys_reset_pause_and_quit(xvfb) -> None:
    # Unpaced, so every frame is shown and the scripted keys arrive at the same frames however
    # slow or loaded the machine is (paced, a slow machine drops frames and the clip can end
    # before the 90th key poll: CI saw 'end' instead of 'quit' that way).
    clip = shared_file("videos", DEADLIFT)
    env = {**os.environ, "DISPLAY": xvfb, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "xcb"}
    res = subprocess.run([sys.executable, "-c", KEYS_CHILD, str(clip)], capture_output=True,
                         text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    events = [json.loads(x) for x in res.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert {"event": "reset", "set": 2} in [{k: e[k] for k in ("event", "set")} for e in events
                                            if e["event"] == "reset"]
    done = events[-1]
    assert done["stopped_by"] == "quit"
    assert done["paused"] > 0
    assert done["processed"] + done["paused"] < 104  # q ended it before the clip did
    assert kinds.index("reset") < kinds.index("summary")
