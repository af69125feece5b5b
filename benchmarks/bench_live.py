"""Live latency benchmark: capture -> cue on screen, p50/p95, sustained frame rate, dropped frames.

A real clip is looped as a 640x480 "camera" delivering 30 frames per second in real time (the
picture sits on a blurred copy of itself, as phone videos shown in landscape do, so the model
sees the whole 640x480 frame as it would a webcam's). ``movescreen.live.run_live`` runs on it
for ``--seconds`` (default 60) with the window under a private Xvfb display (so drawing and
``imshow`` are timed; the latency is measured after the frame is on screen), or headless.

Reported: frames delivered, processed and dropped, the sustained processing rate, latency
p50/p95/max (capture -> overlay shown, or JSON line written), lag growth (median latency in the
first vs the last 10 s, and the slope of a line through all of them), the longest delay between
the end of a rep and its judged events, reps and cues.

    python benchmarks/bench_live.py                       # 60 s, window under Xvfb if present
    python benchmarks/bench_live.py --mode headless --seconds 20
    python benchmarks/bench_live.py --json out.json

Target (issue 6): p95 latency under 50 ms and no growing lag over a 60-second run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
CLIPS = [
    REPO.parent / "shared" / "data" / "videos" / "deadlift_side_rounded_back_01.mp4",
    REPO / "fixtures" / "videos" / "squat_front_banded_bodyweight_01.mp4",
]


def to_640x480(image: np.ndarray) -> np.ndarray:
    """Fit the picture (inside any black bars) into 640x480 over a blurred copy of itself."""
    import cv2

    from movescreen.sources import detect_content_box

    box = detect_content_box([image])
    if box is not None:
        image = image[box.y0:box.y1, box.x0:box.x1]
    h, w = image.shape[:2]
    back = cv2.GaussianBlur(cv2.resize(image, (640, 480)), (0, 0), 25)
    k = min(640 / w, 480 / h)
    fw, fh = round(w * k), round(h * k)
    x0, y0 = (640 - fw) // 2, (480 - fh) // 2
    back[y0:y0 + fh, x0:x0 + fw] = cv2.resize(image, (fw, fh), interpolation=cv2.INTER_AREA)
    return back


class LoopingCamera:
    """A clip looped forever as a 30 fps camera: frames come in real time, whether taken or not."""

    def __init__(self, clip: Path, *, fps: float = 30.0) -> None:
        import cv2

        from movescreen.types import VideoInfo

        # decoded with OpenCV, not PyAV: PyAV loaded before the live window freezes it (see
        # movescreen.live._open_window)
        cap = cv2.VideoCapture(str(clip))
        self.images = []
        while True:
            ok, img = cap.read()
            if not ok:
                break
            self.images.append(to_640x480(img))
        cap.release()
        if not self.images:
            raise SystemExit(f"{clip} gave no frames")
        self.fps = fps
        self.delivered = 0
        self.warnings: list[str] = []
        self.info = VideoInfo(path=f"loop:{clip.name}", fps=fps, frame_count=0, width=640,
                              height=480, duration_s=0.0, kind="camera")

    def __iter__(self):
        from movescreen.types import Frame

        t0 = time.perf_counter()
        i = 0
        while True:
            t = i / self.fps
            wait = t0 + t - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            self.delivered += 1
            yield Frame(i, t, self.images[i % len(self.images)])
            i += 1

    def close(self) -> None:
        pass


def start_xvfb() -> tuple[subprocess.Popen | None, str | None]:
    if shutil.which("Xvfb") is None:
        return None, None
    for n in range(140, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            break
    proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if Path(f"/tmp/.X11-unix/X{n}").exists():
            return proc, f":{n}"
        time.sleep(0.05)
    proc.terminate()
    return None, None


def run(mode: str, seconds: float, clip: Path) -> dict:
    from movescreen.live import run_live

    cam = LoopingCamera(clip)
    events = io.StringIO()
    s = run_live(cam, headless=(mode == "headless"), out=events, err=sys.stderr,
                 max_duration_s=seconds, summary_hold_s=0.0)
    t = np.array([a for a, _ in s.latency_series])
    lat = np.array([b for _, b in s.latency_series])
    span = t[-1] - t[0] if len(t) > 1 else np.nan
    first = lat[t <= t[0] + 10.0]
    last = lat[t >= t[-1] - 10.0]
    slope = float(np.polyfit(t, lat, 1)[0] * 60.0) if len(t) > 10 else np.nan
    return {
        "mode": mode,
        "clip": clip.name,
        "seconds": round(float(s.duration_s), 1),
        "frame_size": "640x480",
        "frames_delivered": cam.delivered,
        "frames_processed": s.frames_processed,
        "frames_dropped": s.frames_dropped,
        "sustained_fps": round(float((len(t) - 1) / span), 1) if span > 0 else None,
        "latency_ms_p50": round(float(np.percentile(lat, 50)), 1),
        "latency_ms_p95": round(float(np.percentile(lat, 95)), 1),
        "latency_ms_max": round(float(lat.max()), 1),
        "latency_ms_first_10s_median": round(float(np.median(first)), 1),
        "latency_ms_last_10s_median": round(float(np.median(last)), 1),
        "lag_slope_ms_per_min": round(slope, 2),
        "judge_delay_max_ms": round(float(s.judge_delay_max_ms), 1),
        "reps": s.reps,
        "cues": s.cues,
        "cpu_count": os.cpu_count(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--mode", choices=["auto", "window", "headless", "both"], default="auto")
    ap.add_argument("--clip", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    clip = args.clip or next((c for c in CLIPS if c.exists()), None)
    if clip is None:
        sys.exit("no clip to loop: pass --clip FILE")
    modes = {"auto": ["window"], "both": ["window", "headless"]}.get(args.mode, [args.mode])
    xvfb, display = (None, None)
    if "window" in modes and not os.environ.get("DISPLAY"):
        xvfb, display = start_xvfb()
        if display is None:
            print("no display and no Xvfb: running headless only", file=sys.stderr)
            modes = ["headless"]
        else:
            os.environ["DISPLAY"] = display
    results = []
    try:
        for mode in modes:
            r = run(mode, args.seconds, clip)
            results.append(r)
            print(json.dumps(r), flush=True)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(timeout=10)
    print()
    print("| mode | fps | delivered | processed | dropped | p50 ms | p95 ms | max ms "
          "| first 10 s | last 10 s | slope ms/min | judge delay max ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['mode']} | {r['sustained_fps']} | {r['frames_delivered']} | "
              f"{r['frames_processed']} | {r['frames_dropped']} | {r['latency_ms_p50']} | "
              f"{r['latency_ms_p95']} | {r['latency_ms_max']} | "
              f"{r['latency_ms_first_10s_median']} | {r['latency_ms_last_10s_median']} | "
              f"{r['lag_slope_ms_per_min']} | {r['judge_delay_max_ms']} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
