"""How much time does movescreen add on top of decoding and bare MediaPipe inference?

Usage::

    python benchmarks/bench_pipeline.py [VIDEO ...] [--repeat N] [--json OUT] [--profile]

For each video, in one run, this measures frames per second for

(a) decode only        ``movescreen.sources.open_source(path)``, iterate the frames (BGR).
(b) decode + bare PoseLandmarker
                       PyAV decode straight to RGB in the same thread, ``mp.Image``,
                       ``PoseLandmarker.detect_for_video`` (VIDEO mode, num_poses=1, the model
                       in ``models/``), once with segmentation masks and once without. The
                       landmarker's creation (model load) is inside the timed region, once.
(c) movescreen analyze end to end
                       in-process: ``analyze_input(path, AnalyzeOptions())`` + ``write_outputs``;
                       subprocess: ``movescreen analyze VIDEO --out TMP -q`` (raw, and minus the
                       fixed start-up cost measured on a 1-frame video).

and prints the time ratio (c in-process)/(b with masks): movescreen's default keeps masks on, so
the ratio compares like with like. Target: < 1.10.

Each measurement is repeated (interleaved, so a burst of load from other processes hits all
columns alike) and the fastest run is reported; short clips are repeated until at least
``--min-frames`` frames were timed. The in-process runs are instrumented (thin timers patched
around movescreen's functions, about a microsecond per call) to split our time into stages.

This is a benchmark, not a test: it asserts nothing and is not collected by pytest.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import io
import json
import math
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "fixtures" / "videos" / "squat_front_banded_bodyweight_01.mp4"
SHARED_VIDEO_DIRS = (Path("/work/shared/data/videos"), REPO.parent / "shared" / "data" / "videos")
SHARED_CLIPS = ("deadlift_side_correct_01.mp4", "squat_oblique_bodyweight_01.mp4")
MODEL = REPO / "models" / "pose_landmarker_full.task"
TARGET_RATIO = 1.10

perf = time.perf_counter


# --------------------------------------------------------------------------- inputs


def find_default_videos() -> list[Path]:
    """The bundled fixture, plus two third-party clips when the shared data folder exists."""
    videos = [FIXTURE]
    for d in SHARED_VIDEO_DIRS:
        if d.is_dir():
            videos += [d / name for name in SHARED_CLIPS if (d / name).is_file()]
            break
    return videos


def probe(path: Path) -> dict[str, Any]:
    from movescreen.sources import open_source

    src = open_source(path)
    try:
        info = src.info
        return {"width": info.width, "height": info.height, "fps": info.fps,
                "frame_count": info.frame_count, "rotation_deg": info.rotation_deg}
    finally:
        src.close()


def make_one_frame_video(src: Path, out: Path) -> Path:
    """Encode the first frame of ``src`` as a 1-frame H.264 MP4 (for the start-up cost)."""
    import av

    with av.open(str(src)) as cin:
        frame = next(cin.decode(video=0)).to_ndarray(format="rgb24")
    h, w = frame.shape[:2]
    with av.open(str(out), "w") as cout:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = cout.add_stream(codec, rate=5)
        stream.width, stream.height, stream.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
        even = frame[: stream.height, : stream.width].copy()
        vf = av.VideoFrame.from_ndarray(even, format="rgb24")
        for packet in stream.encode(vf):
            cout.mux(packet)
        for packet in stream.encode():
            cout.mux(packet)
    return out


# --------------------------------------------------------------------------- (a) decode only


def measure_decode(path: Path) -> dict[str, Any]:
    from movescreen.sources import open_source

    t0 = perf()
    src = open_source(path)
    n = 0
    try:
        for _ in src:
            n += 1
    finally:
        src.close()
    return {"seconds": perf() - t0, "frames": n}


# --------------------------------------------------------------------------- (b) bare MediaPipe


def create_landmarker(*, masks: bool, num_poses: int = 1, video_mode: bool = True) -> Any:
    """A PoseLandmarker with movescreen's default options (see pose/mediapipe_backend.py)."""
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(MODEL)),
        running_mode=vision.RunningMode.VIDEO if video_mode else vision.RunningMode.IMAGE,
        num_poses=num_poses,
        min_pose_detection_confidence=0.5,
        min_pose_presence_confidence=0.5,
        min_tracking_confidence=0.5,
        output_segmentation_masks=masks,
    )
    return vision.PoseLandmarker.create_from_options(options)


def measure_bare(path: Path, *, masks: bool) -> dict[str, Any]:
    """Sequential decode (PyAV, straight to RGB) + ``detect_for_video`` in one thread."""
    import av
    import mediapipe as mp
    import numpy as np

    from movescreen.pose.mediapipe_backend import quiet_native_stderr

    with quiet_native_stderr():  # MediaPipe's C++ log lines (redirecting fd 2 costs nothing)
        return _run_bare(path, masks=masks, av=av, mp=mp, np=np)


def _run_bare(path: Path, *, masks: bool, av: Any, mp: Any, np: Any) -> dict[str, Any]:
    t0 = perf()
    landmarker = create_landmarker(masks=masks)
    t_loaded = perf()
    n = 0
    infer_s = 0.0
    last_ts = -1
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        start = stream.start_time or 0
        tb = float(stream.time_base)
        for frame in container.decode(stream):
            rgb = frame.to_ndarray(format="rgb24")
            k = (int(round(getattr(frame, "rotation", 0) or 0)) // 90) % 4
            if k:
                rgb = np.ascontiguousarray(np.rot90(rgb, k))
            ts = max(int(round((frame.pts - start) * tb * 1000)), last_ts + 1)
            last_ts = ts
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
            ti = perf()
            landmarker.detect_for_video(image, ts)
            infer_s += perf() - ti
            n += 1
    landmarker.close()
    return {"seconds": perf() - t0, "frames": n, "load_s": t_loaded - t0, "inference_s": infer_s}


# --------------------------------------------------------------------------- (c) movescreen


_THREAD_LABELS = {"movescreen-decode": "decode thread", "movescreen-mask": "mask worker",
                  "movescreen-scan": "scan"}


class Stages:
    """Accumulated seconds and call counts per named stage.

    ``mode`` is per thread: the inference (main) thread is "track" (or "scan" inside the scan
    backend's ``process``), movescreen's own threads are named after their job.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._local = threading.local()

    @property
    def mode(self) -> str:
        mode = getattr(self._local, "mode", None)
        if mode is None:
            name = threading.current_thread().name
            mode = next((v for k, v in _THREAD_LABELS.items() if name.startswith(k)), "track")
        return mode

    @mode.setter
    def mode(self, value: str | None) -> None:
        self._local.mode = value

    def add(self, name: str, dt: float) -> None:
        self.seconds[name] += dt
        self.calls[name] += 1

    def timed(self, name: str | Callable[[], str], fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            label = name() if callable(name) else name
            t0 = perf()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(label, perf() - t0)

        return wrapper


class _TimedLandmarker:
    def __init__(self, inner: Any, stages: Stages, mode: str) -> None:
        self._inner, self._stages, self._mode = inner, stages, mode

    def detect_for_video(self, image: Any, ts: int) -> Any:
        t0 = perf()
        try:
            return self._inner.detect_for_video(image, ts)
        finally:
            self._stages.add(f"{self._mode}: MediaPipe inference", perf() - t0)

    def detect(self, image: Any) -> Any:
        t0 = perf()
        try:
            return self._inner.detect(image)
        finally:
            self._stages.add(f"{self._mode}: MediaPipe inference", perf() - t0)

    def close(self) -> None:
        self._inner.close()


@contextlib.contextmanager
def instrumented(stages: Stages) -> Iterator[None]:
    """Patch thin timers around movescreen's stages for the duration of the block."""
    import movescreen.pose.mediapipe_backend as mpb
    from movescreen import pipeline, sources, step
    from movescreen.pose import estimate

    saved: list[tuple[Any, str, Any]] = []

    def patch(obj: Any, attr: str, new: Any) -> None:
        saved.append((obj, attr, getattr(obj, attr)))
        setattr(obj, attr, new)

    def wrap(obj: Any, attr: str, name: str | Callable[[], str]) -> None:
        if not hasattr(obj, attr):  # internals move; time what exists
            return
        patch(obj, attr, stages.timed(name, getattr(obj, attr)))

    wrap(pipeline, "resolve_model", "setup: model lookup + checksum")
    wrap(pipeline, "file_sha256", "outputs: input sha256")  # imported from sinks
    wrap(pipeline, "assess_quality", "outputs: quality checks")
    wrap(pipeline, "write_landmarks_csv", "outputs: landmarks.csv")
    wrap(pipeline, "build_report", "outputs: report build")
    wrap(pipeline, "write_json_atomic", "outputs: report.json write")
    wrap(sources, "open_source", "setup: open video")
    wrap(estimate, "estimate_landmarks", "pose stage (estimate_landmarks)")
    wrap(step, "detect_content_box", "setup: letterbox detection")
    wrap(step, "content_box_from_profiles", "setup: letterbox detection")
    wrap(step, "bar_profile", lambda: f"{stages.mode}: letterbox profile of a frame")
    wrap(step, "choose_subject", "loop: subject choice + others count")
    wrap(step, "count_others", "loop: subject choice + others count")
    wrap(mpb, "from_mediapipe", lambda: f"{stages.mode}: from_mediapipe (incl. masks)")
    wrap(mpb, "_mask_view", lambda: f"{stages.mode}: mask view out of MediaPipe")
    wrap(mpb, "_crop_mask", lambda: f"{stages.mode}: mask crop to uint8")
    wrap(mpb, "prepare_input", lambda: f"{stages.mode}: model input (BGR->RGB, mp.Image)")
    wrap(step, "prepare_frame", lambda: f"{stages.mode}: frame prep (incl. model input)")
    wrap(estimate, "_measure_mask", lambda: f"{stages.mode}: mask measures (incl. crop)")

    orig_threaded = estimate._threaded

    def timed_threaded(it: Iterator[Any], *a: Any, **k: Any) -> Iterator[Any]:
        gen = orig_threaded(it, *a, **k)
        while True:
            t0 = perf()
            try:
                item = next(gen)
            except StopIteration:
                stages.add("loop: waiting for decoded frames", perf() - t0)
                return
            stages.add("loop: waiting for decoded frames", perf() - t0)
            yield item

    patch(estimate, "_threaded", timed_threaded)

    cls = mpb.MediaPipePoseBackend
    orig_init, orig_process = cls.__init__, cls.process

    def init(self: Any, *a: Any, **k: Any) -> None:
        mode = "track" if k.get("video_mode", True) else "scan"
        t0 = perf()
        orig_init(self, *a, **k)
        stages.add(f"setup: model load ({mode})", perf() - t0)
        self._landmarker = _TimedLandmarker(self._landmarker, stages, mode)

    def process(self: Any, *a: Any, **k: Any) -> Any:
        stages.mode = "track" if self.video_mode else "scan"
        t0 = perf()
        try:
            return orig_process(self, *a, **k)
        finally:
            stages.add(f"{stages.mode}: backend.process total", perf() - t0)
            stages.mode = None

    patch(cls, "__init__", init)
    patch(cls, "process", process)
    try:
        yield
    finally:
        for obj, attr, old in reversed(saved):
            setattr(obj, attr, old)


def measure_inprocess(path: Path, out_dir: Path, *, instrument: bool = True) -> dict[str, Any]:
    from movescreen.pipeline import AnalyzeOptions, analyze_input, write_outputs

    stages = Stages()
    with instrumented(stages) if instrument else contextlib.nullcontext():
        t0 = perf()
        analysis = analyze_input(path, AnalyzeOptions())
        t1 = perf()
        write_outputs(analysis, out_dir)
        t2 = perf()
    return {"seconds": t2 - t0, "frames": len(analysis.sequence), "analyze_s": t1 - t0,
            "write_s": t2 - t1, "stages": dict(stages.seconds), "calls": dict(stages.calls)}


def movescreen_command() -> list[str]:
    exe = Path(sys.executable).parent / "movescreen"
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("movescreen")
    return [found] if found else [sys.executable, "-m", "movescreen.cli"]


def measure_subprocess(path: Path, out_dir: Path) -> dict[str, Any]:
    cmd = movescreen_command() + ["analyze", str(path), "--out", str(out_dir), "-q"]
    t0 = perf()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    dt = perf() - t0
    if proc.returncode not in (0, 1):  # 1 = analysed but nobody found (still a full run)
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return {"seconds": dt, "returncode": proc.returncode}


def measure_imports() -> dict[str, Any]:
    code = "import movescreen.cli, movescreen.pipeline, movescreen.pose.estimate, mediapipe, av"
    t0 = perf()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    t1 = perf()
    subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True)
    return {"imports_s": t1 - t0, "python_s": perf() - t1}


# --------------------------------------------------------------------------- reporting


def fps(frames: int, seconds: float) -> float:
    return frames / seconds if seconds > 0 else math.nan


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return min(runs, key=lambda r: r["seconds"])


def summarize_stages(run: dict[str, Any]) -> list[tuple[str, float, int]]:
    """Stages of one instrumented run, with derived rows for time not covered by a timer."""
    s: dict[str, float] = defaultdict(float, run["stages"])
    c: dict[str, int] = defaultdict(int, run["calls"])

    def derive(name: str, seconds: float, calls: int) -> None:
        s[name], c[name] = seconds, calls

    for mode in ("track", "scan"):
        total = s[f"{mode}: backend.process total"]
        conv = s[f"{mode}: from_mediapipe (incl. masks)"]
        masks = s[f"{mode}: mask view out of MediaPipe"] + s[f"{mode}: mask crop to uint8"]
        if total:
            derive(f"{mode}: rest of backend.process (image prep when not done ahead)",
                   total - s[f"{mode}: MediaPipe inference"] - conv,
                   c[f"{mode}: backend.process total"])
        if conv:
            derive(f"{mode}: landmark conversion (from_mediapipe minus masks)", conv - masks,
                   c[f"{mode}: from_mediapipe (incl. masks)"])
    pose = s["pose stage (estimate_landmarks)"]
    # main-thread timers only (the scan, the decode thread and the mask worker run beside it)
    inside_pose = ("track: backend.process total", "setup: model load (track)",
                   "setup: letterbox detection", "loop: subject choice + others count",
                   "loop: waiting for decoded frames")
    derive("loop: rest of the estimate_landmarks loop (lists, stacking)",
           pose - sum(s[k] for k in inside_pose), 1)
    outside_pose = ("outputs:", "setup: model lookup", "setup: open video")
    derive("other (analyze_input / write_outputs glue)",
           run["seconds"] - pose - sum(v for k, v in s.items() if k.startswith(outside_pose)), 1)
    skip = {"pose stage (estimate_landmarks)", "track: backend.process total",
            "scan: backend.process total", "track: from_mediapipe (incl. masks)",
            "scan: from_mediapipe (incl. masks)"}
    rows = [(k, v, c[k]) for k, v in s.items() if k not in skip and (v or c[k])]
    return sorted(rows, key=lambda r: -r[1])


def format_table(results: list[dict[str, Any]], startup_s: float) -> str:
    head = ("video", "size", "frames", "(a) dec", "(b) masks", "(b) no-mask", "(c) in-proc",
            "(c) subproc", "(c) sub-net", "c_in/b", "c_net/b", f"<{TARGET_RATIO:.2f}")
    lines = []
    for r in results:
        b = r["b_masks"]["seconds"]
        ratio_in = r["c_inprocess"]["seconds"] / b
        ratio_net = (r["c_subprocess"]["seconds"] - startup_s) / b
        lines.append((
            Path(r["video"]).stem, f"{r['width']}x{r['height']}", str(r["frames"]),
            f"{r['a_fps']:.0f}", f"{r['b_masks_fps']:.1f}", f"{r['b_nomasks_fps']:.1f}",
            f"{r['c_inprocess_fps']:.1f}", f"{r['c_subprocess_fps']:.1f}",
            f"{r['c_subprocess_net_fps']:.1f}",
            f"{ratio_in:.3f}", f"{ratio_net:.3f}", "met" if ratio_in < TARGET_RATIO else "NOT met",
        ))
    widths = [max(len(h), *(len(row[i]) for row in lines)) for i, h in enumerate(head)]
    def fmt(row: list[str]) -> str:
        return "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))
        )
    return "\n".join([fmt(head), fmt(tuple("-" * w for w in widths))] + [fmt(row) for row in lines])


def format_stages(r: dict[str, Any]) -> str:
    run = r["c_inprocess"]
    n = run["frames"]
    total = run["seconds"]
    bare = r["b_masks"]
    out = [f"  {Path(r['video']).name}: fastest in-process run {total:.3f} s for {n} frames "
           f"({1000 * total / n:.2f} ms/frame); bare with masks {bare['seconds']:.3f} s "
           f"({1000 * bare['seconds'] / n:.2f} ms/frame, of which inference "
           f"{1000 * bare['inference_s'] / n:.2f}, model load {bare['load_s']:.3f} s)"]
    out.append(f"    {'stage':62s} {'total s':>8s} {'ms/frame':>9s} {'% run':>6s} {'calls':>6s}")
    for name, sec, calls in summarize_stages(run):
        out.append(f"    {name:62s} {sec:8.3f} {1000 * sec / n:9.3f} {100 * sec / total:6.1f} "
                   f"{calls:6d}")
    return "\n".join(out)


def profile_inprocess(path: Path, out_dir: Path, top: int) -> str:
    """cProfile one in-process analysis (main thread only) and list movescreen's top functions."""
    prof = cProfile.Profile()
    prof.enable()
    measure_inprocess(path, out_dir, instrument=False)
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(r"movescreen", top)
    stats.sort_stats("cumulative").print_stats(r"movescreen", top)
    return buf.getvalue()


# --------------------------------------------------------------------------- main


def run_video(path: Path, rounds: int, work: Path) -> dict[str, Any]:
    meta = probe(path)
    runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for i in range(rounds):
        runs["a"].append(measure_decode(path))
        runs["b_masks"].append(measure_bare(path, masks=True))
        runs["b_nomasks"].append(measure_bare(path, masks=False))
        runs["c_inprocess"].append(measure_inprocess(path, work / f"in_{path.stem}_{i}"))
        runs["c_subprocess"].append(measure_subprocess(path, work / f"sub_{path.stem}_{i}"))
        print(f"  round {i + 1}/{rounds}: " + ", ".join(
            f"{k} {v[-1]['seconds']:.2f}s" for k, v in runs.items()), file=sys.stderr, flush=True)
    frames = best(runs["a"])["frames"]
    result: dict[str, Any] = {"video": str(path), **meta, "frames": frames, "rounds": rounds}
    for key, rs in runs.items():
        result[key] = best(rs)
        result[f"{key}_median_s"] = statistics.median(r["seconds"] for r in rs)
        result[f"{key}_all_s"] = [r["seconds"] for r in rs]
    for key in ("a", "b_masks", "b_nomasks", "c_inprocess", "c_subprocess"):
        result[f"{key}_fps"] = fps(frames, result[key]["seconds"])
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("videos", nargs="*", type=Path, help="videos (default: fixture + shared clips)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="rounds per video; the fastest counts (3)")
    ap.add_argument("--min-frames", type=int, default=250,
                    help="repeat short clips until at least this many frames were timed (250)")
    ap.add_argument("--json", type=Path, default=None, help="also write every timing to this file")
    ap.add_argument("--profile", action="store_true", help="add a cProfile run per video")
    ap.add_argument("--profile-top", type=int, default=15)
    args = ap.parse_args(argv)

    if not MODEL.is_file():
        print(f"bench_pipeline: the model {MODEL} is missing", file=sys.stderr)
        return 2
    videos = args.videos or find_default_videos()
    for v in videos:
        if not v.is_file():
            print(f"bench_pipeline: no video at {v}", file=sys.stderr)
            return 2
    load_before = os.getloadavg()
    t_start = perf()
    with tempfile.TemporaryDirectory(prefix="movescreen-bench-") as tmp:
        work = Path(tmp)
        one = make_one_frame_video(FIXTURE, work / "one_frame.mp4")
        startup_runs = []
        for i in range(max(2, args.repeat)):
            st = measure_imports()
            st["one_frame_analyze_s"] = measure_subprocess(one, work / f"one_{i}")["seconds"]
            startup_runs.append(st)
        startup = {k: min(r[k] for r in startup_runs) for k in startup_runs[0]}
        startup_s = startup["one_frame_analyze_s"]
        print(f"start-up: python {startup['python_s']:.2f} s, python + imports "
              f"{startup['imports_s']:.2f} s, `movescreen analyze` on a 1-frame video "
              f"{startup_s:.2f} s (used as the fixed cost)", file=sys.stderr)

        results = []
        profiles: dict[str, str] = {}
        for v in videos:
            frames = probe(v)["frame_count"] or 1
            rounds = max(args.repeat, math.ceil(args.min_frames / frames))
            print(f"{v.name}: {rounds} round(s)", file=sys.stderr, flush=True)
            r = run_video(v, rounds, work)
            r["c_subprocess_net_fps"] = fps(r["frames"], r["c_subprocess"]["seconds"] - startup_s)
            results.append(r)
            if args.profile:
                profiles[v.name] = profile_inprocess(v, work / f"prof_{v.stem}", args.profile_top)
    load_after = os.getloadavg()

    print()
    print(f"movescreen pipeline benchmark - {platform.node()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, load average {load_before[0]:.2f} before / "
          f"{load_after[0]:.2f} after, {perf() - t_start:.0f} s in all")
    print("frames per second (fastest of the rounds; higher is better)")
    print(format_table(results, startup_s))
    print(f"\nstart-up (fixed cost per `movescreen analyze` call): {startup_s:.2f} s "
          f"(python alone {startup['python_s']:.2f} s, "
          f"python + imports {startup['imports_s']:.2f} s; "
          "the rest is model checks, two landmarker loads and one frame)")
    print("ratio c_in/b = (c) in-process time / (b) with masks time (same mask setting as "
          "movescreen's default); c_net/b uses the subprocess time minus the start-up cost.")
    print("\nwhere the in-process time goes (instrumented, fastest run):")
    for r in results:
        print(format_stages(r))
    for name, text in profiles.items():
        print(f"\ncProfile of one in-process run of {name} (main thread only):\n{text}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "machine": {"node": platform.node(), "cpus": os.cpu_count(),
                        "python": platform.python_version(),
                        "loadavg_before": load_before, "loadavg_after": load_after},
            "startup": startup, "results": results, "target_ratio": TARGET_RATIO,
        }, indent=2, default=str) + "\n")
    return 0


# --------------------------------------------------------------------------- issue 10 comparison
# ``--compare``: on the same clips in one run, interleaved: (a) decode only, (b) bare decode +
# PoseLandmarker (masks on, as movescreen's default), (c1) analyze with the outputs off, (c2)
# analyze with every default output (in-process ``run_analysis``), the ratios c1/b and c2/b per
# round (min, median, max: the machine is shared, so the spread is reported), and the peak
# memory (max RSS) of one ``movescreen analyze`` process per clip. ``--long`` adds a video made
# by looping a shared clip at 1920x1080 for ``--long-minutes`` (10) minutes, written to /tmp.

COMPARE_CLIPS = ("deadlift_side_correct_01.mp4", "squat_side_barbell_back_02.mp4")


def compare_videos() -> list[Path]:
    videos = [FIXTURE]
    for d in SHARED_VIDEO_DIRS:
        if d.is_dir():
            videos += [d / n for n in COMPARE_CLIPS if (d / n).is_file()]
            break
    return videos


def make_long_video(src: Path, out: Path, minutes: float, size: tuple[int, int] = (1920, 1080)) -> Path:
    """Loop ``src`` (scaled to ``size``) for ``minutes`` minutes into an H.264 MP4 (kept if present)."""
    import av
    import cv2

    if out.is_file():
        return out
    with av.open(str(src)) as cin:
        stream = cin.streams.video[0]
        fps_in = float(stream.average_rate or 30)
        frames = [cv2.resize(f.to_ndarray(format="rgb24"), size) for f in cin.decode(stream)]
    n = int(minutes * 60 * fps_in)
    tmp = out.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as cout:
        st = cout.add_stream("libx264", rate=round(fps_in))
        st.width, st.height, st.pix_fmt = size[0], size[1], "yuv420p"
        st.options = {"preset": "ultrafast", "crf": "23"}
        for i in range(n):
            # play forwards then backwards so the loop has no jump
            k = i % (2 * len(frames) - 2)
            img = frames[k if k < len(frames) else 2 * len(frames) - 2 - k]
            for pkt in st.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                cout.mux(pkt)
        for pkt in st.encode():
            cout.mux(pkt)
    tmp.rename(out)
    return out


def measure_run_analysis(path: Path, out_dir: Path, *, outputs: bool) -> dict[str, Any]:
    from movescreen.pipeline import AnalyzeOptions, run_analysis

    opts = AnalyzeOptions() if outputs else AnalyzeOptions(video=False, key_frames=False, html=False)
    t0 = perf()
    run_analysis(path, out_dir, opts)
    return {"seconds": perf() - t0}


def measure_peak_rss(path: Path, out_dir: Path) -> dict[str, Any]:
    """Wall time and max RSS (MB) of one ``movescreen analyze`` process (os.wait4's rusage)."""
    cmd = movescreen_command() + ["analyze", str(path), "--out", str(out_dir), "-q"]
    t0 = perf()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(proc.pid, 0)
    dt = perf() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err[-300:]}")
    return {"seconds": dt, "max_rss_mb": ru.ru_maxrss / 1024}


def compare(videos: list[Path], rounds: int, work: Path, *, peak_rounds: int = 1) -> list[dict[str, Any]]:
    rows = []
    for v in videos:
        runs: dict[str, list[float]] = {"decode": [], "bare": [], "analysis": [], "all": []}
        for r in range(rounds):
            runs["decode"].append(measure_decode(v)["seconds"])
            runs["bare"].append(measure_bare(v, masks=True)["seconds"])
            runs["analysis"].append(measure_run_analysis(v, work / f"c1_{v.stem}_{r}", outputs=False)["seconds"])
            runs["all"].append(measure_run_analysis(v, work / f"c2_{v.stem}_{r}", outputs=True)["seconds"])
            shutil.rmtree(work / f"c2_{v.stem}_{r}", ignore_errors=True)
            print(f"  {v.name} round {r + 1}: " + ", ".join(f"{k} {x[-1]:.2f} s" for k, x in runs.items()),
                  file=sys.stderr, flush=True)
        peak = [measure_peak_rss(v, work / f"peak_{v.stem}_{i}") for i in range(peak_rounds)]
        ratio = {k: [a / b for a, b in zip(runs[k], runs["bare"])] for k in ("analysis", "all")}
        rows.append({"video": v.name, "frames": probe(v)["frame_count"], "runs": runs, "ratios": ratio,
                     "peak_rss_mb": max(p["max_rss_mb"] for p in peak),
                     "subprocess_s": min(p["seconds"] for p in peak)})
    return rows


def format_compare(rows: list[dict[str, Any]]) -> str:
    def spread(xs: list[float]) -> str:
        return f"{min(xs):.2f} / {statistics.median(xs):.2f} / {max(xs):.2f}"

    out = ["video | frames | decode s | bare s | analysis-only s | all outputs s | "
           "analysis/bare (min/med/max) | all/bare (min/med/max) | peak RSS MB",
           "--- | --- | --- | --- | --- | --- | --- | --- | ---"]
    for r in rows:
        m = {k: min(v) for k, v in r["runs"].items()}
        out.append(f"{r['video']} | {r['frames']} | {m['decode']:.2f} | {m['bare']:.2f} | {m['analysis']:.2f} | "
                   f"{m['all']:.2f} | {spread(r['ratios']['analysis'])} | {spread(r['ratios']['all'])} | "
                   f"{r['peak_rss_mb']:.0f}")
    return "\n".join(out)


def main_compare(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="issue 10 comparison (see the comment above main_compare)")
    ap.add_argument("videos", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--long", action="store_true", help="add the looped 1080p video")
    ap.add_argument("--long-minutes", type=float, default=10.0)
    ap.add_argument("--long-only", action="store_true", help="only the looped video")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    videos = [] if args.long_only else (args.videos or compare_videos())
    if args.long or args.long_only:
        src = next((d / COMPARE_CLIPS[0] for d in SHARED_VIDEO_DIRS if (d / COMPARE_CLIPS[0]).is_file()), FIXTURE)
        videos.append(make_long_video(src, Path(f"/tmp/movescreen_long_{args.long_minutes:g}min_1080p.mp4"),
                                      args.long_minutes))
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="movescreen-bench-") as tmp:
        rows = compare(videos, args.repeat, Path(tmp))
    print(f"movescreen pipeline comparison - {os.cpu_count()} CPUs, load {load_before[0]:.2f} before / "
          f"{os.getloadavg()[0]:.2f} after; times are the fastest of {args.repeat} interleaved rounds, "
          "ratios per round")
    print(format_compare(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    if "--compare" in sys.argv[1:]:
        sys.exit(main_compare([a for a in sys.argv[1:] if a != "--compare"]))
    sys.exit(main())
