"""Command-line interface: the only code that prints, parses flags and sets exit codes.

Exit codes: 0 success; 1 the input was read but could not be analysed (e.g. nobody in it) or,
for batch, some inputs failed or were not reached; 2 bad input, model, config or usage (nothing
analysed), or an output folder that cannot take the results (full disk, no permission); 130 / 143
stopped by Ctrl-C (SIGINT) / SIGTERM (what was measured is kept; see movescreen.interrupts).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

# MediaPipe's C++ logging is chatty on stderr; keep warnings and errors only.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# OpenCV prints its own multi-line notes when a camera index does not exist; we say it in one line.
os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")

import click

from movescreen import __version__, interrupts
from movescreen.errors import MovescreenError, NoPersonError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
from movescreen.interop.exports import EXPORT_HELP as _EXPORT_HELP  # noqa: E402
from movescreen.interop.exports import export_option_callback as _export_callback  # noqa: E402

log = logging.getLogger("movescreen")

# our messages get their own stderr descriptor before any handler holds sys.stderr: fd 2 is
# silenced now and then for MediaPipe's native log lines (pose/mediapipe_backend.py)
from movescreen.pose.mediapipe_backend import own_python_stderr  # noqa: E402

own_python_stderr()


def _set_logging(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Callback of -v/--verbose and --log-file (on the group and on each command)."""
    if value in (None, 0, False):
        return value
    log.setLevel(logging.DEBUG)
    if param.name == "verbose":
        level = logging.INFO if value == 1 else logging.DEBUG
        if not any(getattr(h, "_movescreen", "") == "console" for h in log.handlers):
            h: logging.Handler = logging.StreamHandler(sys.stderr)
            h.setFormatter(logging.Formatter("movescreen: %(message)s"))
            h._movescreen = "console"  # type: ignore[attr-defined]
            log.addHandler(h)
        for h in log.handlers:
            if getattr(h, "_movescreen", "") == "console":
                h.setLevel(min(h.level or level, level))
    else:
        try:
            fh = logging.FileHandler(value, encoding="utf-8")
        except OSError as e:
            raise click.BadParameter(f"{value} cannot be written ({e.strerror or e}).") from e
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        fh.setLevel(logging.DEBUG)
        fh._movescreen = "file"  # type: ignore[attr-defined]
        log.addHandler(fh)
    return value


def _log_options(f: Any) -> Any:
    """-v/--verbose and --log-file, accepted before or after the command name."""
    f = click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     expose_value=False, is_eager=True, callback=_set_logging,
                     help="Also write a detailed log (every step, with times) to this file.")(f)
    return click.option("-v", "--verbose", count=True, expose_value=False, is_eager=True,
                        callback=_set_logging,
                        help="Say more on stderr: -v each step and progress, -vv details.")(f)


_json_summary: dict[str, Any] | None = None  # set by a command run with --json


def _json_start(base: dict[str, Any]) -> None:
    """From now on this command ends by printing one JSON object on stdout (see _json_end)."""
    global _json_summary
    _json_summary = dict(base)


def _json_end(code: int, **fields: Any) -> None:
    """Print the command's JSON summary (once), if --json was given."""
    global _json_summary
    if _json_summary is None:
        return
    from movescreen.sinks import clean_for_json

    data = {**_json_summary, **fields, "exit_code": code}
    _json_summary = None
    click.echo(json.dumps(clean_for_json(data), ensure_ascii=False))


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    click.echo(f"movescreen: error: {message}", err=True)
    log.debug("failed (exit %d): %s", code, message)
    _json_end(code, status="failed" if code == EXIT_FAILED else "error", error=message)
    sys.exit(code)


def _warn(message: str) -> None:
    click.echo(f"movescreen: warning: {message}", err=True)


def _stopped(message: str, code: int, kept: list[Path]) -> None:
    """Report a run stopped by Ctrl-C / SIGTERM (one sentence on stderr, kept files on stdout)."""
    click.echo(f"movescreen: interrupted: {message}", err=True)
    for p in kept:
        click.echo(f"  {p}", err=_json_summary is not None)
    _json_end(code, status="interrupted", error=message,
              outputs={("report" if p.name == "report.json" else p.stem): str(p) for p in kept})
    sys.exit(code)


def _stopped_at_once() -> None:
    signum = interrupts.requested() or signal.SIGINT
    click.echo(
        "movescreen: interrupted: Stopped at once by a second signal; nothing half-written was "
        "left and files from earlier runs are untouched.",
        err=True,
    )
    _json_end(interrupts.exit_code(signum), status="interrupted", error="Stopped at once by a second signal.")
    sys.exit(interrupts.exit_code(signum))


def _out_dir_problem(out: Path) -> str | None:
    """Why ``out`` cannot be the output folder (one sentence), or None when it can."""
    if out.exists() and not out.is_dir():
        return f"--out {out} is a file, not a folder; give a folder name (it is created if needed)."
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent  # the nearest existing ancestor is where the folder would be made
    if not probe.is_dir():
        return f"--out {out} cannot be created: {probe} is a file, not a folder."
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"--out {out} cannot be written (no permission in {probe}); choose another folder."
    return None


@click.group(context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Example: movescreen analyze squat.mp4 --out results/anna")
@click.version_option(__version__, prog_name="movescreen")
@_log_options
def main() -> None:
    """movescreen: camera-based movement screening (a screen, not a diagnosis)."""


@main.command(
    short_help="Analyse one video, image folder or landmarks file.",
    epilog="Example: movescreen analyze squat.mp4 --out results/anna --pain \"left knee\"",
)
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: ./movescreen-out/<input name>).")
@click.option("--model", type=click.Path(path_type=Path), default=None, envvar="MOVESCREEN_MODEL",
              help="Pose model .task file (default: the bundled BlazePose full model).")
@click.option("--movement", type=click.Choice(["auto", "squat", "hinge", "hip_rotation_seated", "figure4", "hip_9090"]),
              default="auto", show_default=True,
              help="Movement filmed; auto decides (squat/hinge from the bottom position; the seated hip "
                   "rotation tests from the sitting posture, docs/hip_rotation.md).")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="TOML file overriding rule thresholds (see rules/defaults.toml).")
@click.option("--pain", default=None, metavar="WHERE",
              help='Pain the client reports, e.g. "left knee": the report recommends referral.')
@click.option("--blur-faces", is_flag=True, help="Blur faces in every output image and video.")
@click.option("--no-video", is_flag=True, help="Do not write annotated.mp4.")
@click.option("--no-frames", is_flag=True, help="Do not write key frames (frames/*.png).")
@click.option("--no-html", is_flag=True, help="Do not write report.html.")
@click.option("--no-masks", is_flag=True, help="Skip segmentation masks (no back-contour measure).")
@click.option("--no-people-scan", is_flag=True, help="Do not check for other people in the picture.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--export", default=None, metavar="FORMATS", callback=_export_callback, help=_EXPORT_HELP)
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON summary on stdout (everything else goes to stderr).")
@_log_options
def analyze(input_path: Path, out_dir: Path | None, model: Path | None, movement: str,
            config_path: Path | None, pain: str | None, blur_faces: bool, no_video: bool,
            no_frames: bool, no_html: bool, no_masks: bool, no_people_scan: bool,
            quiet: bool, export: tuple[str, ...] = (), as_json: bool = False) -> None:
    """Analyse a video file, a folder of images, a movescreen landmarks.csv, a TRC file or a
    folder of OpenPose/RTMPose JSON files.

    Ctrl-C or SIGTERM stops at the next frame and keeps what was measured (landmarks.csv and a
    report.json with status "interrupted"), exit 130 / 143; a second Ctrl-C stops at once.
    """
    from tqdm import tqdm

    from movescreen.pipeline import AnalyzeOptions, run_analysis

    out = out_dir or Path("movescreen-out") / input_path.stem
    if as_json:
        _json_start({"command": "analyze", "input": str(input_path), "out": str(out)})
    problem = _out_dir_problem(out)
    if problem:
        _fail(problem)
        return
    options = AnalyzeOptions(
        model=str(model) if model else None, masks=not no_masks, scan_people=not no_people_scan,
        movement=movement, config=str(config_path) if config_path else None, pain=pain,
        blur_faces=blur_faces, video=not no_video, key_frames=not no_frames, html=not no_html,
        exports=export,
    )
    log.info("analysing %s into %s", input_path, out)
    bar: Any = None
    total: int | None = None
    done = 0

    def on_start(info: Any) -> None:
        nonlocal bar, total
        total = info.frame_count or None
        log.info("%s: %s, %sx%s, %.2f fps, about %s frames", input_path.name, info.kind,
                 info.width, info.height, info.fps, total)
        bar = tqdm(total=total, unit="frame", disable=quiet or None,
                   desc=input_path.name[:30], file=sys.stderr, leave=False)

    def progress(n: int) -> None:
        nonlocal done
        done += n
        if bar is not None:
            bar.update(n)
        if done == 1 or done % 10 == 0:
            log.info("frames analysed: %d of %s", done, total or "?")

    with interrupts.install():  # Ctrl-C / SIGTERM: stop at the next frame, keep what was measured
        try:
            report = run_analysis(input_path, out, options, progress=progress, on_start=on_start)
        except interrupts.Interrupted as e:
            if bar is not None:
                bar.close()
            _stopped(str(e), e.exit_code, list(e.paths.values()))
            return
        except KeyboardInterrupt:  # a second signal: stop at once
            _stopped_at_once()
            return
        except NoPersonError as e:
            _fail(str(e), EXIT_FAILED)
            return
        except MovescreenError as e:
            _fail(str(e))
            return
        finally:
            if bar is not None:
                bar.close()
    warnings = report.pop("_warnings", [])
    for w in warnings:
        _warn(w)
    log.info("done: %d frames, report in %s", report["quality"]["frames"], out / "report.json")
    _print_summary(input_path, out, report, err=as_json)
    if as_json:
        _json_end(EXIT_OK, status=report.get("status", "ok"), **_report_summary(report, out, warnings))


def _report_summary(report: dict[str, Any], out: Path, warnings: list[str]) -> dict[str, Any]:
    """The machine-readable gist of an analysis (for --json)."""
    q = report.get("quality") or {}
    return {
        "frames": q.get("frames"),
        "pose_fraction": q.get("pose_fraction"),
        "movement": (report.get("movement") or {}).get("name"),
        "view": (report.get("view") or {}).get("name"),
        "reps": len(report.get("reps") or []),
        "findings": [
            {k: f.get(k) for k in ("rep", "rule", "side", "severity", "message_client")}
            for f in report.get("findings") or []
        ],
        "warnings": list(warnings),
        "outputs": {k: str(out / v) for k, v in {**(report.get("outputs") or {}),
                                                  "report": "report.json"}.items()},
    }


def _print_summary(input_path: Path, out: Path, report: dict[str, Any], *, err: bool = False) -> None:
    def echo(text: str) -> None:
        click.echo(text, err=err)

    q = report["quality"]
    echo(
        f"Analysed {q['frames']} frames of {input_path.name}: a person in "
        f"{100 * q['pose_fraction']:.0f}% of them."
    )
    mv, view, reps = report.get("movement") or {}, report.get("view") or {}, report.get("reps") or []
    if mv:
        echo(f"Movement: {mv.get('name')}; camera view: {view.get('name')}; {len(reps)} rep(s).")
        if report.get("hip_rotation"):  # issue 13
            from movescreen.render.hip_rotation import hip_rotation_text

            echo(hip_rotation_text(report))
    findings = report.get("findings") or []
    if findings:
        echo("Findings:")
        for f in findings:
            side = "" if f["side"] in ("none", "both") else f" ({f['side']})"
            echo(f"  rep {f['rep']}: {f['severity'].upper():7s} {f['rule']}{side}: {f['message_client']}")
    elif mv:
        echo("No compensation reached a threshold.")
    blocked: dict[str, str] = {}  # rules that could not judge, and why (a clean screen it is not)
    for st in report.get("rules") or []:
        if isinstance(st, dict) and st.get("status") == "not_assessed" and st.get("rule"):
            blocked.setdefault(str(st["rule"]), str(st.get("reason", "")).rstrip("."))
    by_reason: dict[str, list[str]] = {}
    for rule, why in blocked.items():
        by_reason.setdefault(why, []).append(rule)
    for why, rules in by_reason.items():
        echo(f"Not assessed: {', '.join(rules)} ({why}).")
    echo(report["safety"]["pain_guidance"])
    for name in [*report.get("outputs", {}).values(), "report.json"]:
        echo(f"  {out / name}")


@main.command(
    short_help="Redraw report.html, the video and key frames of an analysis folder.",
    epilog="Example: movescreen report results/anna --blur-faces",
)
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--video", type=click.Path(path_type=Path), default=None,
              help="The input video (default: the one named in report.json, if it still exists).")
@click.option("--blur-faces", is_flag=True, help="Blur faces in every output image and video.")
@click.option("--no-video", is_flag=True, help="Do not write annotated.mp4.")
@click.option("--no-frames", is_flag=True, help="Do not write key frames.")
def report(directory: Path, video: Path | None, blur_faces: bool, no_video: bool, no_frames: bool) -> None:
    """Re-render report.html (and the annotated video and key frames) from an analysis folder."""
    from movescreen.render import render_all

    try:
        out = render_all(directory, video, blur_faces=blur_faces, video=not no_video,
                         key_frames=not no_frames)
    except MovescreenError as e:
        _fail(str(e))
        return
    for p in out.values():
        click.echo(f"  {p}")


@main.command(
    short_help="Analyse every video in a folder; one summary table.",
    epilog="Example: movescreen batch clinic/2026-12-01 --out results/2026-12-01 --workers 2",
)
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Output folder: one sub-folder per video, plus summary.csv and index.html.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: the number of CPUs).")
@click.option("--recursive", is_flag=True, help="Also analyse videos in sub-folders.")
@click.option("--analysis-fps", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Analyse about this many frames per second (faster; see docs/batch.md).")
@click.option("--force", is_flag=True, help="Redo every video, even those already analysed.")
@click.option("--dask", "dask_address", default=None, metavar="ADDRESS",
              help="Send the videos to this Dask scheduler (needs movescreen[distributed]).")
@click.option("--model", type=click.Path(path_type=Path), default=None, envvar="MOVESCREEN_MODEL",
              help="Pose model .task file (default: the bundled BlazePose full model).")
@click.option("--movement", type=click.Choice(["auto", "squat", "hinge", "hip_rotation_seated", "figure4", "hip_9090"]), default="auto", show_default=True,
              help="Movement filmed in every video; auto decides per video.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="TOML file overriding rule thresholds (see rules/defaults.toml).")
@click.option("--blur-faces", is_flag=True, help="Blur faces in every output image and video.")
@click.option("--no-video", is_flag=True, help="Do not write annotated.mp4 files.")
@click.option("--no-frames", is_flag=True, help="Do not write key frames (frames/*.png).")
@click.option("--no-html", is_flag=True, help="Do not write a report.html per video.")
@click.option("--no-masks", is_flag=True, help="Skip segmentation masks (no back-contour measure).")
@click.option("--no-people-scan", is_flag=True, help="Do not check for other people in the picture.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or per-video lines.")
@click.option("--export", default=None, metavar="FORMATS", callback=_export_callback, help=_EXPORT_HELP)
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON summary on stdout (everything else goes to stderr).")
@_log_options
def batch(folder: Path, out_dir: Path, workers: int | None, recursive: bool,
          analysis_fps: float | None, force: bool, dask_address: str | None, model: Path | None,
          movement: str, config_path: Path | None, blur_faces: bool, no_video: bool,
          no_frames: bool, no_html: bool, no_masks: bool, no_people_scan: bool, quiet: bool,
          export: tuple[str, ...] = (), as_json: bool = False) -> None:
    """Analyse every video in FOLDER: one report per video and a summary table for all.

    Running the same command again resumes: videos already analysed with the same content,
    settings and version are kept; the rest are (re)done. Ctrl-C or SIGTERM stops the videos in
    progress at the next frame (exit 130 / 143); the same command finishes them.
    """
    from movescreen.batch import run_batch
    from movescreen.pipeline import AnalyzeOptions

    if as_json:
        _json_start({"command": "batch", "folder": str(folder), "out": str(out_dir)})
    problem = _out_dir_problem(out_dir)
    if problem:
        _fail(problem)
        return
    options = AnalyzeOptions(
        model=str(model) if model else None, masks=not no_masks, scan_people=not no_people_scan,
        movement=movement, config=str(config_path) if config_path else None,
        blur_faces=blur_faces, video=not no_video, key_frames=not no_frames, html=not no_html,
        exports=export,
    )
    try:
        log.info("batch %s into %s", folder, out_dir)
        result = run_batch(folder, out_dir, workers=workers, recursive=recursive, options=options,
                           force=force, dask_address=dask_address, analysis_fps=analysis_fps,
                           progress=not quiet,
                           on_row=lambda r: log.info("%s: %s%s%s", r["video"], r["status"],
                                                     " (kept from an earlier run)" if r.get("reused") else "",
                                                     f": {r['error']}" if r.get("error") else ""))
    except MovescreenError as e:
        _fail(str(e))
        return
    except KeyboardInterrupt:  # before the videos started (run_batch handles signals after)
        _stopped("Stopped before any video was analysed; nothing was written.", 130, [])
        return
    c = result.counts
    if result.interrupted:
        how = ("Stopped at once by a second signal" if result.at_once else
               f"Stopped by {interrupts.signal_name(result.signal or signal.SIGINT)}")
        click.echo(
            f"movescreen: interrupted: {how}; the videos finished are kept, the rest are listed "
            "as not analysed (nothing half-written), and running the same command again "
            "finishes them.",
            err=True,
        )
    click.echo(
        f"{c['ok']} ok, {c['failed']} failed, {c['skipped']} not analysed "
        f"({result.reused} kept from an earlier run): {result.summary_csv}, {result.index_html}",
        err=as_json,
    )
    if as_json:
        outputs = {j.rel: j.out_dir for j in result.jobs}
        _json_end(
            result.exit_code,
            status="interrupted" if result.interrupted else ("ok" if result.exit_code == EXIT_OK else "failed"),
            counts=c, reused=result.reused, summary_csv=str(result.summary_csv),
            index_html=str(result.index_html), wall_s=round(result.wall_s, 2),
            videos=[{**{k: r.get(k) for k in ("video", "status", "error", "movement", "view", "reps")},
                     "output": outputs.get(r["video"])} for r in result.rows],
        )
    sys.exit(result.exit_code)


@main.command(
    short_help="Live feedback from a webcam (or a video played as one).",
    epilog="Example: movescreen live --camera 0 --movement squat --record session1",
)
@click.option("--camera", type=click.IntRange(min=0), default=None, help="Webcam index (default 0).")
@click.option("--source", "source_path", type=click.Path(path_type=Path), default=None,
              help="Play a video file (or image folder) as if it were a camera.")
@click.option("--movement", type=click.Choice(["auto", "squat", "hinge", "hip_rotation_seated", "figure4", "hip_9090"]), default="auto", show_default=True,
              help="Movement to coach (auto: squat or hinge, decided as the reps come; a hip rotation "
                   "test shows its protocol, safety first, and is judged in the saved report).")
@click.option("--record", "record_dir", type=click.Path(path_type=Path), default=None,
              help="Save the session's video and a full report (as analyze writes) into DIR.")
@click.option("--headless", is_flag=True, help="No window: events as JSON lines on stdout.")
@click.option("--speak", is_flag=True, help="Say cues aloud (espeak-ng; a tone if it is missing).")
@click.option("--no-pace", is_flag=True, help="With --source: process every frame as fast as possible.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="TOML file overriding rule thresholds (see rules/defaults.toml).")
@click.option("--model", type=click.Path(path_type=Path), default=None, envvar="MOVESCREEN_MODEL",
              help="Pose model .task file (default: the bundled BlazePose full model).")
@_log_options
def live(camera: int | None, source_path: Path | None, movement: str, record_dir: Path | None,
         headless: bool, speak: bool, no_pace: bool, config_path: Path | None, model: Path | None) -> None:
    """Live feedback from a webcam (q quits, r resets the count, space pauses)."""
    from movescreen.live import run_live

    if camera is not None and source_path is not None:
        _fail("Give either --camera or --source, not both.")
        return
    spec: str | Path = source_path if source_path is not None else f"camera:{camera or 0}"
    # live handles Ctrl-C itself (ends the session, saves it); SIGTERM is handed to it as Ctrl-C
    with interrupts.sigterm_as_sigint() as terminated:
        try:
            summary = run_live(spec, movement=movement, record_dir=record_dir, headless=headless,
                               speak=speak, pace=not no_pace, config=config_path, model=model)
        except MovescreenError as e:
            _fail(str(e))
            return
        except KeyboardInterrupt:  # before the loop started, or a second Ctrl-C
            click.echo("movescreen: interrupted: The live session was stopped before it started "
                       "or by a second signal.", err=True)
            sys.exit(interrupts.exit_code(signal.SIGTERM if terminated() else signal.SIGINT))
    if not headless:
        click.echo(
            f"{summary.reps} rep(s), {summary.cues} cue(s); {summary.fps:.0f} frames/s, latency "
            f"p95 {summary.latency_p95_ms:.0f} ms, {summary.frames_dropped} frame(s) dropped."
        )
        for path in summary.saved.values():
            click.echo(f"  {path}")
    # run_live already printed its warnings to stderr as they happened
    if summary.stopped_by == "interrupted":
        sys.exit(interrupts.exit_code(signal.SIGTERM if terminated() else signal.SIGINT))
    if summary.stopped_by in ("camera_lost", "error"):
        sys.exit(EXIT_FAILED)


@main.command(
    short_help="Print versions and the model checksum (for bug reports).",
    epilog="Example: movescreen info --json > versions.json",
)
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object on stdout instead of the table.")
@_log_options
def info(as_json: bool = False) -> None:
    """Print versions of Python, movescreen, MediaPipe, OpenCV, NumPy, SciPy and the model checksum."""
    from movescreen.pose.model import resolve_model
    from movescreen.provenance import versions

    data: dict[str, Any] = {"command": "info", "versions": versions()}
    try:
        m = resolve_model()
        data["model"] = {"path": str(m.path), "origin": m.origin, "sha256": m.sha256,
                         "verified": m.verified, "error": None}
    except MovescreenError as e:
        data["model"] = {"path": None, "origin": None, "sha256": None, "verified": False, "error": str(e)}
    if as_json:
        click.echo(json.dumps({**data, "exit_code": EXIT_OK}, ensure_ascii=False))
        return
    for k, v in data["versions"].items():
        click.echo(f"{k:12s} {v}")
    m_ = data["model"]
    if m_["error"] is None:
        click.echo(f"{'model':12s} {m_['path']} ({m_['origin']})")
        click.echo(f"{'model_sha256':12s} {m_['sha256']} ({'verified' if m_['verified'] else 'not in a manifest'})")
    else:
        click.echo(f"{'model':12s} unavailable: {m_['error']}")


@main.group(short_help="List, verify or fetch pose models.",
            epilog="Example: movescreen models verify")
def models() -> None:
    """List, verify or fetch pose models."""


@models.command("list", short_help="Models movescreen knows of.",
                epilog="Example: movescreen models list")
def models_list() -> None:
    """Models movescreen knows of (bundled and in the user cache)."""
    from movescreen.pose.model import list_models

    rows = list_models()
    if not rows:
        click.echo("No models found.")
    for r in rows:
        state = "present" if r["present"] else "MISSING"
        click.echo(f"{r['name']:32s} {r['origin']:8s} {state:8s} {r['sha256']}  {r['path']}")


@models.command("verify", short_help="Check the model in use against its checksum.",
                epilog="Example: movescreen models verify --model ~/models/pose_landmarker_full.task")
@click.option("--model", type=click.Path(path_type=Path), default=None, envvar="MOVESCREEN_MODEL",
              help="Model file to check (default: the one analyses would use).")
def models_verify(model: Path | None) -> None:
    """Check the model that analyses would use against its checksum."""
    from movescreen.pose.model import resolve_model

    try:
        m = resolve_model(model)
    except MovescreenError as e:
        _fail(str(e))
        return
    status = "checksum OK" if m.verified else "valid bundle, no checksum on record"
    click.echo(f"{m.path}: {status} (sha256 {m.sha256})")


@models.command("fetch", short_help="Download an official pose model (needs internet).",
                epilog="Example: movescreen models fetch heavy")
@click.argument("name", type=click.Choice(["lite", "full", "heavy"]))
def models_fetch(name: str) -> None:
    """Download Google's official pose_landmarker_NAME.task into the user cache (needs internet)."""
    from movescreen.pose.model import fetch_model

    try:
        m = fetch_model(name)
    except MovescreenError as e:
        _fail(str(e))
        return
    click.echo(f"Saved {m.path} (sha256 {m.sha256}); use it with --model {m.path}")

@main.command(short_help="Print how to film a hip rotation test, safety text first.",
              epilog="Example: movescreen protocol hip_rotation_seated")
@click.argument("movement", type=click.Choice(["hip_rotation_seated", "figure4", "hip_9090"]))
def protocol(movement: str) -> None:
    """Where the camera goes and what the person does for a hip rotation test (issue 13,
    docs/hip_rotation.md); the safety text comes first."""
    from movescreen.kinematics.hip_rotation import protocol_text

    click.echo(protocol_text(movement))


main.add_command(__import__("movescreen.config_cli", fromlist=["config"]).config)  # config show|write
for _c in __import__("movescreen.workspace.cli", fromlist=["COMMANDS"]).COMMANDS:  # serve, workspace
    main.add_command(_c)


def run() -> None:  # pragma: no cover - console-script shim
    main()


if __name__ == "__main__":  # pragma: no cover
    main()
