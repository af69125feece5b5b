"""Batch throughput with 1 and 2 workers, and what ``--analysis-fps`` costs in agreement.

Usage::

    python benchmarks/bench_batch.py throughput [VIDEO ...] [--workers 1 2] [--repeat N] [--json OUT]
    python benchmarks/bench_batch.py fps-agreement [VIDEO ...] [--analysis-fps 15] [--json OUT]

``throughput``
    Builds one folder (symbolic links to the videos, in a temporary folder; nothing is copied
    into the repository) and runs ``movescreen.batch.run_batch`` on it with each worker count,
    ``force=True`` and a fresh output folder, interleaved ``--repeat`` times. Reports video seconds
    analysed per wall-clock second (``sum(duration_s of ok rows) / wall``; wall includes starting
    the worker processes and loading the model, as a real batch does), the best of the repeats,
    and the speed-up of each worker count over 1 worker. Target: 2 workers >= 1.7 x 1 worker on a
    2-core machine.

``fps-agreement``
    For each clip at >= 23 fps: analyse at the full rate and at ``--analysis-fps`` (the batch
    worker's subsampling), then compare on the frames both analysed:

    - landmarks: mean image distance over the 33 landmarks, pixels (raw, before any filter);
    - angles: ``analyze_kinematics`` on each sequence (each at its own rate), absolute difference
      of the main angle columns on common frames (median and 95th percentile, degrees);
    - reps: count of full reps, and (when the counts match) the largest difference over reps of
      per-rep metrics: peak hip / knee flexion, trunk inclination, shallow-bend knee FPPA, hip
      and knee flexion at the bottom (degrees);
    - rules: when the pipeline writes ``findings``, the (rule, severity) sets; reported as
      "not available" until then.

Defaults use the clips in ``../shared/data/videos`` (skipped when absent). This is a benchmark,
not a test: it asserts nothing and is not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED_VIDEOS = next(
    (
        p
        for p in (Path("/work/shared/data/videos"), REPO.parent / "shared" / "data" / "videos")
        if p.is_dir()
    ),
    REPO.parent / "shared" / "data" / "videos",
)
THROUGHPUT_CLIPS = (
    "deadlift_side_correct_01.mp4",
    "squat_side_barbell_back_01.mp4",
    "deadlift_side_good_yfgd_01.mp4",
    "squat_front_barbell_back_01.mp4",
    "rdl_oblique_barbell_01.mp4",
    "deadlift_side_rounded_back_01.mp4",
)
ANGLE_COLUMNS = (
    "left_hip_flexion_{s}_deg",
    "right_hip_flexion_{s}_deg",
    "left_knee_flexion_{s}_deg",
    "right_knee_flexion_{s}_deg",
    "trunk_inclination_{s}_deg",
    "left_knee_fppa_{s}_deg",
    "right_knee_fppa_{s}_deg",
)


def _default_clips(names: tuple[str, ...] | None = None) -> list[Path]:
    if not SHARED_VIDEOS.is_dir():
        sys.exit(f"no videos given and {SHARED_VIDEOS} is absent; pass video paths")
    if names is None:
        return sorted(SHARED_VIDEOS.glob("*.mp4"))
    return [SHARED_VIDEOS / n for n in names if (SHARED_VIDEOS / n).is_file()]


def _machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg_at_start": os.getloadavg(),
        "platform": platform.platform(),
    }


# --------------------------------------------------------------------------- throughput


def _wait_for_quiet(max_load: float | None, timeout_s: float = 600.0) -> None:
    """Wait (up to ``timeout_s``) until the 1-minute load average is below ``max_load``."""
    if max_load is None:
        return
    t0 = time.monotonic()
    while os.getloadavg()[0] > max_load and time.monotonic() - t0 < timeout_s:
        time.sleep(5)


def bench_throughput(
    videos: list[Path],
    workers: list[int],
    repeat: int,
    max_load: float | None = None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from movescreen.batch import run_batch
    from movescreen.pipeline import AnalyzeOptions

    opts = AnalyzeOptions(**(options or {}))

    with tempfile.TemporaryDirectory(prefix="movescreen-bench-batch-") as tmp:
        folder = Path(tmp) / "videos"
        folder.mkdir()
        for v in videos:
            (folder / v.name).symlink_to(v.resolve())
        runs: dict[int, list[dict[str, float]]] = {n: [] for n in workers}
        for r in range(repeat):
            for n in workers:  # interleaved: a burst of load from others hits all counts alike
                out = Path(tmp) / f"out-{n}-{r}"
                _wait_for_quiet(max_load)
                load0 = os.getloadavg()[0]
                ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                res = run_batch(folder, out, workers=n, force=True, progress=False, options=opts)
                wall = time.perf_counter() - t0
                ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # workers are reaped by now
                cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
                ok = [row for row in res.rows if row["status"] == "ok"]
                video_s = sum(float(row["duration_s"] or 0) for row in ok)
                cpu_s = sum(float(row["processing_s"] or 0) for row in ok)
                runs[n].append(
                    {
                        "wall_s": wall,
                        "video_s": video_s,
                        "throughput": video_s / wall,
                        "job_s": cpu_s,
                        "worker_cpu_s": cpu,
                        "cores_busy": cpu / wall,
                        "load_avg_1min_before": load0,
                    }
                )
                print(
                    f"  workers={n} run {r + 1}: {len(ok)}/{len(res.rows)} ok, {video_s:.1f} s of video "
                    f"in {wall:.1f} s -> {video_s / wall:.2f} video s per s; worker CPU {cpu:.1f} s "
                    f"({cpu / wall:.2f} cores busy); load before {load0:.1f}",
                    flush=True,
                )
    best = {n: max(runs[n], key=lambda x: x["throughput"]) for n in workers}
    base = best[workers[0]]["throughput"]
    return {
        "videos": [v.name for v in videos],
        "options": options or {},
        "runs": {str(n): runs[n] for n in workers},
        "best_throughput": {str(n): best[n]["throughput"] for n in workers},
        "median_throughput": {
            str(n): statistics.median(x["throughput"] for x in runs[n]) for n in workers
        },
        "speedup_vs_first": {str(n): best[n]["throughput"] / base for n in workers},
    }


# --------------------------------------------------------------------------- fps agreement


def _analyse(path: Path, out: Path, analysis_fps: float | None) -> tuple[dict[str, Any], float]:
    from movescreen.batch_worker import BatchJob, run_one

    t0 = time.perf_counter()
    row = run_one(BatchJob(str(path), str(out), path.name, analysis_fps=analysis_fps, force=True))
    return row, time.perf_counter() - t0


def _kinematics(out: Path) -> Any:
    from movescreen.kinematics.core import analyze_kinematics
    from movescreen.sinks import read_landmarks_csv

    return analyze_kinematics(read_landmarks_csv(out / "landmarks.csv"))


def _stats(d: np.ndarray) -> dict[str, float]:
    d = d[np.isfinite(d)]
    if not d.size:
        return {"median": float("nan"), "p95": float("nan"), "n": 0}
    return {"median": float(np.median(d)), "p95": float(np.percentile(d, 95)), "n": int(d.size)}


def compare_clip(path: Path, analysis_fps: float, tmp: Path) -> dict[str, Any]:
    from movescreen.sinks import read_landmarks_csv

    full_out, sub_out = tmp / f"{path.stem}-full", tmp / f"{path.stem}-sub"
    row_full, t_full = _analyse(path, full_out, None)
    row_sub, t_sub = _analyse(path, sub_out, analysis_fps)
    res: dict[str, Any] = {"clip": path.name, "time_full_s": t_full, "time_sub_s": t_sub}
    if row_full["status"] != "ok" or row_sub["status"] != "ok":
        res["error"] = row_full["error"] or row_sub["error"]
        return res
    a = read_landmarks_csv(full_out / "landmarks.csv")
    b = read_landmarks_csv(sub_out / "landmarks.csv")
    res["fps_full"], res["fps_sub"] = float(a.fps), float(b.fps)
    pos = {int(f): i for i, f in enumerate(a.frame_index)}
    rows_a = np.array([pos[int(f)] for f in b.frame_index])
    dxy = np.linalg.norm(a.image_xyz[rows_a, :, :2] - b.image_xyz[:, :, :2], axis=-1)
    res["landmark_px"] = _stats(dxy.ravel())
    res["frame_height_px"] = int(a.height)
    try:
        ka, kb = _kinematics(full_out), _kinematics(sub_out)
    except Exception as e:  # noqa: BLE001 - kinematics may not handle every clip yet
        res["kinematics_error"] = f"{type(e).__name__}: {e}"
        return res
    space = ka.angle_space
    res["view"] = [ka.view.view, kb.view.view]
    res["movement"] = [ka.movement, kb.movement]
    angles = {}
    for pattern in ANGLE_COLUMNS:
        col = pattern.format(s=space)
        if col in ka.table and col in kb.table:
            angles[col] = _stats(
                np.abs(np.asarray(ka.table[col])[rows_a] - np.asarray(kb.table[col]))
            )
    res["angles_deg"] = angles
    reps_a = [r for r in ka.reps if not r.partial]
    reps_b = [r for r in kb.reps if not r.partial]
    res["reps"] = [len(reps_a), len(reps_b)]
    peaks: dict[str, list[float]] = {}
    if len(reps_a) == len(reps_b):
        for ra, rb in zip(reps_a, reps_b, strict=True):
            ma, mb = ra.metrics, rb.metrics
            for k in (
                "peak_hip_flexion_deg",
                "peak_knee_flexion_deg",
                "peak_trunk_inclination_deg",
                f"left_knee_fppa_shallow_{space}_deg",
                f"right_knee_fppa_shallow_{space}_deg",
                "hip_flexion_bottom_deg",
                "knee_flexion_bottom_deg",
            ):
                if k in ma and k in mb:
                    peaks.setdefault(k, []).append(abs(float(ma[k]) - float(mb[k])))
    res["rep_metric_max_abs_diff_deg"] = {
        k: float(np.nanmax(v)) for k, v in peaks.items() if np.isfinite(v).any()
    }
    fa = json.loads((full_out / "report.json").read_text()).get("findings")
    fb = json.loads((sub_out / "report.json").read_text()).get("findings")
    if isinstance(fa, list) and isinstance(fb, list):
        sa = sorted({(f.get("rule"), f.get("severity")) for f in fa})
        sb = sorted({(f.get("rule"), f.get("severity")) for f in fb})
        res["findings"] = {"full": sa, "sub": sb, "same": sa == sb}
    else:
        res["findings"] = "not available (the pipeline does not write findings yet)"
    return res


def bench_fps_agreement(videos: list[Path], analysis_fps: float) -> dict[str, Any]:
    import av

    clips = []
    for v in videos:
        with av.open(str(v)) as c:
            rate = c.streams.video[0].average_rate
        if rate and float(rate) >= 23:
            clips.append(v)
    results = []
    with tempfile.TemporaryDirectory(prefix="movescreen-bench-fps-") as tmp:
        for v in clips:
            r = compare_clip(v, analysis_fps, Path(tmp))
            results.append(r)
            lp = r.get("landmark_px", {})
            ang = r.get("angles_deg", {})
            worst = max((s["p95"] for s in ang.values() if s["n"]), default=float("nan"))
            print(
                f"  {v.name:52s} landmarks median {lp.get('median', float('nan')):5.2f} px, "
                f"angles p95 (worst column) {worst:5.1f} deg, reps {r.get('reps')}, "
                f"time {r['time_full_s']:.1f} -> {r['time_sub_s']:.1f} s",
                flush=True,
            )
    return {"analysis_fps": analysis_fps, "clips": results}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("throughput")
    t.add_argument("videos", nargs="*", type=Path)
    t.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    t.add_argument("--repeat", type=int, default=2)
    t.add_argument("--json", type=Path)
    t.add_argument(
        "--max-load",
        type=float,
        default=None,
        help="before each run wait (up to 10 min) until the 1-min load average is below this",
    )
    t.add_argument(
        "--options",
        type=json.loads,
        default=None,
        help='AnalyzeOptions fields as JSON, e.g. \'{"video": false, "html": false}\'',
    )
    f = sub.add_parser("fps-agreement")
    f.add_argument("videos", nargs="*", type=Path)
    f.add_argument("--analysis-fps", type=float, default=15.0)
    f.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    result: dict[str, Any] = {"machine": _machine()}
    if args.cmd == "throughput":
        videos = args.videos or _default_clips(THROUGHPUT_CLIPS)
        result["throughput"] = bench_throughput(
            videos, args.workers, args.repeat, args.max_load, args.options
        )
        tp = result["throughput"]
        for n in args.workers:
            print(
                f"workers={n}: best {tp['best_throughput'][str(n)]:.2f} video s per wall s "
                f"(median {tp['median_throughput'][str(n)]:.2f}), speed-up "
                f"{tp['speedup_vs_first'][str(n)]:.2f}x"
            )
    else:
        videos = args.videos or _default_clips()
        result["fps_agreement"] = bench_fps_agreement(videos, args.analysis_fps)
    result["machine"]["load_avg_at_end"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
