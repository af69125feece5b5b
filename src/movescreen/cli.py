"""Command-line interface: the only code that prints, parses flags and sets exit codes.

Exit codes: 0 success; 1 the input was read but could not be analysed (e.g. nobody in it) or,
for batch, some inputs failed or were not reached; 2 bad input, model, config or usage (nothing
analysed); 130 a batch stopped by Ctrl-C (what finished is kept).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

# MediaPipe's C++ logging is chatty on stderr; keep warnings and errors only.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# OpenCV prints its own multi-line notes when a camera index does not exist; we say it in one line.
os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")

import click

from movescreen import __version__
from movescreen.errors import MovescreenError, NoPersonError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
from movescreen.interop.exports import EXPORT_HELP as _EXPORT_HELP  # noqa: E402
from movescreen.interop.exports import export_option_callback as _export_callback  # noqa: E402


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    click.echo(f"movescreen: error: {message}", err=True)
    sys.exit(code)


def _warn(message: str) -> None:
    click.echo(f"movescreen: warning: {message}", err=True)


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="movescreen")
def main() -> None:
    """movescreen: camera-based movement screening (a screen, not a diagnosis)."""


@main.command()
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
def analyze(input_path: Path, out_dir: Path | None, model: Path | None, movement: str,
            config_path: Path | None, pain: str | None, blur_faces: bool, no_video: bool,
            no_frames: bool, no_html: bool, no_masks: bool, no_people_scan: bool,
            quiet: bool, export: tuple[str, ...] = ()) -> None:
    """Analyse a video file, a folder of images, a movescreen landmarks.csv, a TRC file or a
    folder of OpenPose/RTMPose JSON files."""
    from tqdm import tqdm

    from movescreen.pipeline import AnalyzeOptions, run_analysis

    out = out_dir or Path("movescreen-out") / input_path.stem
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
    bar: Any = None

    def on_start(info: Any) -> None:
        nonlocal bar
        bar = tqdm(total=info.frame_count or None, unit="frame", disable=quiet or None,
                   desc=input_path.name[:30], file=sys.stderr, leave=False)

    try:
        report = run_analysis(input_path, out, options,
                              progress=lambda n: bar.update(n) if bar else None, on_start=on_start)
    except NoPersonError as e:
        _fail(str(e), EXIT_FAILED)
        return
    except MovescreenError as e:
        _fail(str(e))
        return
    finally:
        if bar is not None:
            bar.close()
    for w in report.pop("_warnings", []):
        _warn(w)
    _print_summary(input_path, out, report)


def _print_summary(input_path: Path, out: Path, report: dict[str, Any]) -> None:
    q = report["quality"]
    click.echo(
        f"Analysed {q['frames']} frames of {input_path.name}: a person in "
        f"{100 * q['pose_fraction']:.0f}% of them."
    )
    mv, view, reps = report.get("movement") or {}, report.get("view") or {}, report.get("reps") or []
    if mv:
        click.echo(f"Movement: {mv.get('name')}; camera view: {view.get('name')}; {len(reps)} rep(s).")
    findings = report.get("findings") or []
    if findings:
        click.echo("Findings:")
        for f in findings:
            side = "" if f["side"] in ("none", "both") else f" ({f['side']})"
            click.echo(f"  rep {f['rep']}: {f['severity'].upper():7s} {f['rule']}{side}: {f['message_client']}")
    elif mv:
        click.echo("No compensation reached a threshold.")
    click.echo(report["safety"]["pain_guidance"])
    for name in [*report.get("outputs", {}).values(), "report.json"]:
        click.echo(f"  {out / name}")


@main.command()
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


@main.command()
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
@click.option("--model", type=click.Path(path_type=Path), default=None, envvar="MOVESCREEN_MODEL")
@click.option("--movement", type=click.Choice(["auto", "squat", "hinge", "hip_rotation_seated", "figure4", "hip_9090"]), default="auto", show_default=True)
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None)
@click.option("--blur-faces", is_flag=True)
@click.option("--no-video", is_flag=True)
@click.option("--no-frames", is_flag=True)
@click.option("--no-html", is_flag=True)
@click.option("--no-masks", is_flag=True)
@click.option("--no-people-scan", is_flag=True)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or per-video lines.")
@click.option("--export", default=None, metavar="FORMATS", callback=_export_callback, help=_EXPORT_HELP)
def batch(folder: Path, out_dir: Path, workers: int | None, recursive: bool,
          analysis_fps: float | None, force: bool, dask_address: str | None, model: Path | None,
          movement: str, config_path: Path | None, blur_faces: bool, no_video: bool,
          no_frames: bool, no_html: bool, no_masks: bool, no_people_scan: bool, quiet: bool,
          export: tuple[str, ...] = ()) -> None:
    """Analyse every video in FOLDER: one report per video and a summary table for all.

    Running the same command again resumes: videos already analysed with the same content,
    settings and version are kept; the rest are (re)done.
    """
    from movescreen.batch import run_batch
    from movescreen.pipeline import AnalyzeOptions

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
        result = run_batch(folder, out_dir, workers=workers, recursive=recursive, options=options,
                           force=force, dask_address=dask_address, analysis_fps=analysis_fps,
                           progress=not quiet)
    except MovescreenError as e:
        _fail(str(e))
        return
    c = result.counts
    click.echo(
        f"{c['ok']} ok, {c['failed']} failed, {c['skipped']} not analysed "
        f"({result.reused} kept from an earlier run): {result.summary_csv}, {result.index_html}"
    )
    sys.exit(result.exit_code)


@main.command()
@click.option("--camera", type=click.IntRange(min=0), default=None, help="Webcam index (default 0).")
@click.option("--source", "source_path", type=click.Path(path_type=Path), default=None,
              help="Play a video file (or image folder) as if it were a camera.")
@click.option("--movement", type=click.Choice(["auto", "squat", "hinge"]), default="auto", show_default=True)
@click.option("--record", "record_dir", type=click.Path(path_type=Path), default=None,
              help="Save the session's video and a full report (as analyze writes) into DIR.")
@click.option("--headless", is_flag=True, help="No window: events as JSON lines on stdout.")
@click.option("--speak", is_flag=True, help="Say cues aloud (espeak-ng; a tone if it is missing).")
@click.option("--no-pace", is_flag=True, help="With --source: process every frame as fast as possible.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None)
@click.option("--model", type=click.Path(path_type=Path), default=None, envvar="MOVESCREEN_MODEL")
def live(camera: int | None, source_path: Path | None, movement: str, record_dir: Path | None,
         headless: bool, speak: bool, no_pace: bool, config_path: Path | None, model: Path | None) -> None:
    """Live feedback from a webcam (q quits, r resets the count, space pauses)."""
    from movescreen.live import run_live

    if camera is not None and source_path is not None:
        _fail("Give either --camera or --source, not both.")
        return
    spec: str | Path = source_path if source_path is not None else f"camera:{camera or 0}"
    try:
        summary = run_live(spec, movement=movement, record_dir=record_dir, headless=headless,
                           speak=speak, pace=not no_pace, config=config_path, model=model)
    except MovescreenError as e:
        _fail(str(e))
        return
    if not headless:
        click.echo(
            f"{summary.reps} rep(s), {summary.cues} cue(s); {summary.fps:.0f} frames/s, latency "
            f"p95 {summary.latency_p95_ms:.0f} ms, {summary.frames_dropped} frame(s) dropped."
        )
        for path in summary.saved.values():
            click.echo(f"  {path}")
    # run_live already printed its warnings to stderr as they happened
    if summary.stopped_by == "interrupted":
        sys.exit(130)
    if summary.stopped_by in ("camera_lost", "error"):
        sys.exit(EXIT_FAILED)


@main.command()
def info() -> None:
    """Print versions of Python, movescreen, MediaPipe, OpenCV, NumPy, SciPy and the model checksum."""
    from movescreen.pose.model import resolve_model
    from movescreen.provenance import versions

    for k, v in versions().items():
        click.echo(f"{k:12s} {v}")
    try:
        m = resolve_model()
        click.echo(f"{'model':12s} {m.path} ({m.origin})")
        click.echo(f"{'model_sha256':12s} {m.sha256} ({'verified' if m.verified else 'not in a manifest'})")
    except MovescreenError as e:
        click.echo(f"{'model':12s} unavailable: {e}")


@main.group()
def models() -> None:
    """List, verify or fetch pose models."""


@models.command("list")
def models_list() -> None:
    """Models movescreen knows of (bundled and in the user cache)."""
    from movescreen.pose.model import list_models

    rows = list_models()
    if not rows:
        click.echo("No models found.")
    for r in rows:
        state = "present" if r["present"] else "MISSING"
        click.echo(f"{r['name']:32s} {r['origin']:8s} {state:8s} {r['sha256']}  {r['path']}")


@models.command("verify")
@click.option("--model", type=click.Path(path_type=Path), default=None, envvar="MOVESCREEN_MODEL")
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


@models.command("fetch")
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

main.add_command(__import__("movescreen.config_cli", fromlist=["config"]).config)  # config show|write
for _c in __import__("movescreen.workspace.cli", fromlist=["COMMANDS"]).COMMANDS: main.add_command(_c)  # serve, workspace


def run() -> None:  # pragma: no cover - console-script shim
    main()


if __name__ == "__main__":  # pragma: no cover
    main()
