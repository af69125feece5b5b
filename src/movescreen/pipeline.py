"""The analysis pipeline: input -> landmarks -> (kinematics -> rules) -> report.

``analyze_input`` does the work and returns an :class:`Analysis`; ``write_outputs`` writes it.
Both are shared by the ``analyze`` and ``batch`` commands; ``live`` shares the per-frame step.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from movescreen import __version__, interrupts
from movescreen.config import RulesConfig, load_config
from movescreen.errors import InputError, NoPersonError
from movescreen.kinematics import Kinematics
from movescreen.kinematics.lumbar import compute_foot_in_mask, compute_lumbar_columns
from movescreen.pose.model import ModelFile, resolve_model
from movescreen.provenance import versions
from movescreen.quality import Quality, assess_quality
from movescreen.rules.engine import RulesResult, evaluate_rules
from movescreen.safety import DISCLAIMER, PAIN_GUIDANCE
from movescreen.sinks import (
    OutputError,
    all_or_nothing,
    commit_pending,
    file_sha256,
    read_landmarks_csv,
    write_angles_csv,
    write_json_atomic,
    write_landmarks_csv,
)
from movescreen.types import LandmarkSequence, VideoInfo

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class AnalyzeOptions:
    """Settings for one analysis; every field is recorded in the report's provenance."""

    model: str | None = None
    masks: bool = True
    scan_people: bool = True
    scan_interval_s: float = 2.0
    detect_bars: bool = True
    movement: str = "auto"  # auto | squat | hinge | hip_rotation_seated | figure4 | hip_9090
    filter: str = "butterworth"  # butterworth | one_euro | none
    cutoff_hz: float = 6.0
    max_gap_s: float = 0.25
    analysis_fps: float | None = None  # analyse a subsample of the frames (batch --analysis-fps)
    config: str | None = None  # rule thresholds TOML overriding rules/defaults.toml
    pain: str | None = None  # pain the client reports ("left knee"): the report recommends referral
    blur_faces: bool = False
    video: bool = True  # annotated.mp4
    key_frames: bool = True  # frames/*.png
    html: bool = True  # report.html
    exports: tuple[str, ...] = ()  # --export: trc, mot, parquet, c3d (movescreen.interop.exports)

    def as_dict(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "pain": self.pain,
            "blur_faces": self.blur_faces,
            "video": self.video,
            "key_frames": self.key_frames,
            "html": self.html,
            "masks": self.masks,
            "scan_people": self.scan_people,
            "scan_interval_s": self.scan_interval_s,
            "detect_bars": self.detect_bars,
            "movement": self.movement,
            "filter": self.filter,
            "cutoff_hz": self.cutoff_hz,
            "max_gap_s": self.max_gap_s,
            "analysis_fps": self.analysis_fps,
        }


@dataclass
class Analysis:
    """Everything one analysis produced, before it is written."""

    info: VideoInfo
    sequence: LandmarkSequence
    quality: Quality
    warnings: list[str]
    model: ModelFile | None
    options: AnalyzeOptions
    input_sha256: str | None = None
    max_people_seen: int = 1
    kinematics: Kinematics | None = None
    rules: RulesResult | None = None
    config: RulesConfig | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # per-frame numbers measured on the segmentation masks as they came (masks are not kept)
    mask_columns: dict[str, Any] | None = None
    back_traces: dict[int, dict[str, dict[str, Any] | None]] | None = None
    frame_change: Any = None  # per row: picture change since the previous frame (shot cuts)
    # background line segments of a few frames (kinematics/scene_lines.py): the true vertical
    scene_samples: dict[int, Any] | None = None


def is_landmarks_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv"


def analyze_input(
    input_path: str | os.PathLike[str],
    options: AnalyzeOptions = AnalyzeOptions(),
    *,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[VideoInfo], None] | None = None,
) -> Analysis:
    """Run the pose stage (or read landmarks) and the checks on one input.

    Raises
    ------
    InputError, ModelError
        When the input or the model cannot be used; nothing was analysed.
    NoPersonError
        When no frame has a person. ``error.analysis`` holds what was produced.
    """
    path = Path(input_path)
    config = load_config(options.config)  # a bad --config fails before any decoding
    from movescreen.interop.imports import is_foreign_landmarks, read_foreign_landmarks

    imported = read_foreign_landmarks(path) if is_foreign_landmarks(path) else None  # TRC, OpenPose JSON
    if is_landmarks_csv(path) or imported is not None:
        seq = read_landmarks_csv(path) if imported is None else imported.sequence
        info = VideoInfo(
            path=str(path),
            fps=seq.fps,
            frame_count=len(seq),
            width=seq.width,
            height=seq.height,
            duration_s=float(seq.time_s[-1]) if len(seq) else 0.0,
            kind="landmarks",
        )
        analysis = Analysis(info, seq, assess_quality(seq), [] if imported is None else list(imported.warnings),
                            None, options, file_sha256(path) if path.is_file() else None)
        if imported is not None:
            analysis.extra["landmarks_source"] = imported.source
    else:
        analysis = _analyze_frames(path, options, progress=progress, on_start=on_start)
        if interrupts.requested():  # stopped part-way: run_analysis keeps the landmarks so far
            return analysis
    if analysis.quality.frames_with_pose == 0:
        err = NoPersonError(
            f"No person was found in any of the {analysis.quality.frames} frames of {path.name}; "
            "film the whole body, well lit, with one person in the picture."
        )
        err.analysis = analysis  # type: ignore[attr-defined]
        raise err
    analysis.config = config
    analysis.kinematics = compute_kinematics(analysis.sequence, options, analysis=analysis)
    add_scene_vertical(analysis)
    analysis.rules = evaluate_rules(analysis.kinematics, config, pain=options.pain)
    return analysis


def compute_kinematics(
    seq: LandmarkSequence, options: AnalyzeOptions, *, analysis: Analysis | None = None
) -> Kinematics:
    """Angles, lumbar estimate, view, reps and per-rep metrics (pure; shared by every command).

    The mask columns come from the per-frame measures the pose stage made while the masks were
    fresh (``analysis.mask_columns`` / ``back_traces``), or from ``seq.masks`` when a caller
    kept masks (synthetic sequences).
    """
    from movescreen.kinematics import analyze_kinematics

    extra: dict[str, Any] | None = None
    if analysis is not None and analysis.mask_columns is not None:
        extra = {**compute_lumbar_columns(seq, traces=analysis.back_traces or {}),
                 **analysis.mask_columns}
    elif seq.masks:
        extra = {**compute_lumbar_columns(seq), **compute_foot_in_mask(seq)}
    kin = analyze_kinematics(
        seq,
        movement=options.movement,  # type: ignore[arg-type]
        filter=options.filter,  # type: ignore[arg-type]
        cutoff_hz=options.cutoff_hz,
        max_gap_s=options.max_gap_s,
        extra_columns=extra,
        frame_change=None if analysis is None else analysis.frame_change,
    )
    from movescreen.kinematics.hip_rotation import (
        apply_hip_rotation_test,  # seated hip tests (issue 13)
    )

    return apply_hip_rotation_test(kin, seq, options.movement)


def add_scene_vertical(analysis: Analysis) -> None:
    """Add the true vertical's tilt per shot (``scene_vertical_tilt_deg`` / ``_sd_deg``) to the
    kinematics table, from the background lines the pose stage kept (nothing without them: a
    landmarks file, or no sampled frame). ``lockout_hyperextension`` measures the lean from it
    (docs/uncertainty.md); the columns are written to angles.csv."""
    kin, seq = analysis.kinematics, analysis.sequence
    if kin is None or not analysis.scene_samples or "frame" not in kin.table:
        return
    import numpy as np

    from movescreen.kinematics.scene_lines import scene_vertical_columns

    cols = scene_vertical_columns(analysis.scene_samples, seq.frame_index, seq.image_xyz, kin.shots,
                                  width=seq.width, height=seq.height, content_box=analysis.info.content_box)
    rows = np.searchsorted(seq.frame_index, np.asarray(kin.table["frame"], np.int64))
    rows = np.clip(rows, 0, max(len(seq) - 1, 0))
    for name, values in cols.items():
        kin.table[name] = values[rows] if len(values) else np.full(len(rows), np.nan)


def _analyze_frames(
    path: Path,
    options: AnalyzeOptions,
    *,
    progress: Callable[[int], None] | None,
    on_start: Callable[[VideoInfo], None] | None,
) -> Analysis:
    from movescreen.kinematics.scene_lines import SceneLineSampler
    from movescreen.pose.estimate import estimate_landmarks
    from movescreen.pose.mediapipe_backend import MediaPipePoseBackend
    from movescreen.sources import SubsampledSource, open_source

    model = resolve_model(options.model)  # fail on a bad model before decoding anything
    source = open_source(path)
    if options.analysis_fps is not None:
        source = SubsampledSource(source, options.analysis_fps)
    try:
        if on_start is not None:
            on_start(source.info)

        def make_backend() -> MediaPipePoseBackend:
            return MediaPipePoseBackend(model, with_masks=options.masks)

        def make_scanner() -> MediaPipePoseBackend:
            return MediaPipePoseBackend(model, num_poses=4, video_mode=False)

        lines = SceneLineSampler(interrupts.stoppable(source))  # ends early on Ctrl-C / SIGTERM
        run = estimate_landmarks(
            lines,
            make_backend,
            make_scanner=make_scanner if options.scan_people else None,
            scan_interval_s=options.scan_interval_s,
            detect_bars=options.detect_bars,
            progress=progress,
        )
    finally:
        source.close()
    run, source, lines = _turn_upright(path, options, run, source, lines, make_backend, make_scanner)
    quality = assess_quality(run.sequence)
    warnings = list(source.warnings) + run.warnings
    if not model.verified:  # --model / MOVESCREEN_MODEL outside any manifest
        warnings.insert(0, f"The model file {model.path.name} is not in a checksum manifest, so it "
                           "could not be verified; results are only as good as that file.")
    if isinstance(source, SubsampledSource):  # report the video's own rate; the sequence keeps its own
        run.info = replace(run.info, fps=source.source_fps)
    sha = file_sha256(path) if path.is_file() else None
    return Analysis(
        run.info, run.sequence, quality, warnings, model, options, sha, run.max_people_seen,
        mask_columns=run.mask_columns, back_traces=run.back_traces, frame_change=run.frame_change,
        scene_samples=lines.samples,
    )


def _turn_upright(path: Path, options: AnalyzeOptions, run: Any, source: Any, lines: Any,
                  make_backend: Callable[[], Any], make_scanner: Callable[[], Any]) -> tuple[Any, Any, Any]:
    """A video stored sideways without rotation metadata (the person lies across the picture,
    :func:`movescreen.kinematics.orientation.detect_orientation`) is analysed again turned
    upright; when the turned copy does not show an upright person, the first run is kept with a
    sentence saying how to fix the file (issue 11)."""
    from movescreen.kinematics.orientation import detect_orientation
    from movescreen.kinematics.scene_lines import SceneLineSampler
    from movescreen.pose.estimate import estimate_landmarks
    from movescreen.sources import SubsampledSource, open_source, set_upright_turn

    orient = detect_orientation(run.sequence.image_xyz)
    if source.info.kind != "video" or not orient.sideways or interrupts.requested():
        return run, source, lines
    set_upright_turn(path, orient.quarter_turns)  # the renderers open the same upright frames
    turned = open_source(path)
    if options.analysis_fps is not None:
        turned = SubsampledSource(turned, options.analysis_fps)
    try:
        lines2 = SceneLineSampler(interrupts.stoppable(turned))
        run2 = estimate_landmarks(lines2, make_backend,
                                  make_scanner=make_scanner if options.scan_people else None,
                                  scan_interval_s=options.scan_interval_s,
                                  detect_bars=options.detect_bars)
    finally:
        turned.close()
    upright = detect_orientation(run2.sequence.image_xyz)
    if upright.head_towards == "up" and run2.sequence.has_pose.sum() >= 0.5 * run.sequence.has_pose.sum():
        run2.warnings.insert(0, orient.turned_sentence(path.name))
        run2.info = replace(run2.info, rotation_deg=run.info.rotation_deg)
        return run2, turned, lines2
    set_upright_turn(path, 0)
    run.warnings.insert(0, orient.refused_sentence(path.name))
    return run, source, lines


def build_report(analysis: Analysis, *, status: str = "ok", error: str | None = None) -> dict[str, Any]:
    """The ``report.json`` content for an analysis (pure: no I/O)."""
    v = versions()
    info = analysis.info.as_dict()
    info["sha256"] = analysis.input_sha256
    if analysis.options.analysis_fps is not None:
        info["analysed_fps"] = round(float(analysis.sequence.fps), 4)  # frame_count counts these
    q = analysis.quality.as_dict()
    q["warnings"] = list(analysis.warnings) + list(analysis.quality.warnings)
    q["max_people_seen"] = analysis.max_people_seen
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "status": status,
        "error": error,
        "input": info,
        "quality": q,
        "safety": {"disclaimer": DISCLAIMER, "pain_guidance": PAIN_GUIDANCE},
        "provenance": {
            "movescreen_version": __version__,
            "mediapipe_version": v["mediapipe"],
            "model": None if analysis.model is None else analysis.model.as_dict(),
            "versions": v,
            "settings": analysis.options.as_dict(),
            "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }
    kin = analysis.kinematics
    if kin is not None:
        report["quality"]["warnings"] += [w for w in kin.warnings if w not in report["quality"]["warnings"]]
        report["movement"] = {
            "name": kin.movement,
            "decided_by": "user" if analysis.options.movement != "auto" else "auto",
            "reason": kin.movement_reason,
        }
        if kin.movement_decision is not None:  # evidence per rep, ambiguity, judged movements
            report["movement"].update({k: v for k, v in kin.movement_decision.as_dict().items()
                                       if k not in ("name", "decided_by", "reason")})
        report["view"] = {"name": kin.view.view, **kin.view.as_dict(), "angle_space": kin.angle_space}
        report["reps"] = kin.reps_as_dicts()
        report["shots"] = list(kin.shots)  # cuts and camera jumps: no rep spans one
        from movescreen.kinematics.hip_rotation import hip_rotation_block  # issue 13

        if (hip := hip_rotation_block(kin, analysis.config)) is not None:
            report["hip_rotation"] = hip
        report["provenance"]["filter"] = kin.provenance.get("filter")
        report["provenance"]["kinematics"] = {k: v for k, v in kin.provenance.items() if k != "filter"}
    if analysis.rules is not None:
        report.update(analysis.rules.as_report())
    else:
        from movescreen.safety import pain_recommendation

        report["pain"] = pain_recommendation(analysis.options.pain)
    if analysis.config is not None:
        report["provenance"]["config"] = analysis.config.as_dict()
    report.update(analysis.extra)
    return report


def write_outputs(analysis: Analysis, out_dir: str | os.PathLike[str], *, status: str = "ok", error: str | None = None) -> dict[str, Path]:
    """Write ``landmarks.csv`` and ``report.json`` (report last, so its presence means done)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    if analysis.info.kind != "landmarks" or Path(analysis.info.path).resolve() != (out / "landmarks.csv").resolve():
        paths["landmarks"] = write_landmarks_csv(out / "landmarks.csv", analysis.sequence)
    if analysis.kinematics is not None:
        paths["angles"] = write_angles_csv(out / "angles.csv", analysis.kinematics.table)
    report = build_report(analysis, status=status, error=error)
    report["outputs"] = {k: p.name for k, p in paths.items()}
    paths["report"] = write_json_atomic(out / "report.json", report)
    return paths


def check_input_exists(path: Path) -> None:
    if not path.exists() and not str(path).isdigit():
        raise InputError(f"No file or folder at {path}; check the path.")


def _has_complete_report(out_dir: str | os.PathLike[str]) -> bool:
    """True when ``out_dir`` holds a finished analysis (``report.json`` with status ok)."""
    import json

    try:
        with open(Path(out_dir) / "report.json", encoding="utf-8") as f:
            return json.load(f).get("status") == "ok"
    except (OSError, ValueError, AttributeError):
        return False


def run_analysis(
    input_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    options: AnalyzeOptions = AnalyzeOptions(),
    *,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[VideoInfo], None] | None = None,
) -> dict[str, Any]:
    """Analyse one input and write every output into ``out_dir``; return the report dict.

    This is what ``analyze`` and each ``batch`` job run. Every output is written once, from the
    in-memory :class:`Analysis`; ``report.json`` is written last, so a folder with a
    ``report.json`` whose ``status`` is ``ok`` is complete.

    Raises
    ------
    InputError, ModelError, ConfigError
        Nothing could be analysed; nothing was written.
    NoPersonError
        The input was read but nobody was found; a ``report.json`` with ``status: failed`` was
        written.
    """
    try:
        analysis = analyze_input(input_path, options, progress=progress, on_start=on_start)
    except NoPersonError as e:
        partial = getattr(e, "analysis", None)
        if partial is not None:
            if _has_complete_report(out_dir):  # a re-run by mistake must not replace a result
                raise NoPersonError(f"{e} The earlier complete report in {out_dir} was kept "
                                    "(this run wrote nothing there).") from e
            write_outputs(partial, out_dir, status="failed", error=str(e))
        raise
    except InputError:
        if interrupts.requested():  # stopped before the first frame: nothing was measured
            raise interrupts.nothing_kept() from None
        raise
    if interrupts.requested():
        raise interrupts.keep_partial(analysis, out_dir, write_outputs)
    try:
        with all_or_nothing():  # a full disk or Ctrl-C while drawing replaces no earlier file
            report, render_warnings = write_all(analysis, out_dir)
    except interrupts.Interrupted:  # while drawing: the measurements are complete, keep them
        raise interrupts.keep_partial(analysis, out_dir, write_outputs, stage="review") from None
    # every warning the report carries (the kinematics' too: a view that does not suit the
    # movement, a cut, a turned video), then the renderers', each once
    said = list((report.get("quality") or {}).get("warnings") or [])
    said += list(analysis.warnings) + list(analysis.quality.warnings) + render_warnings
    report["_warnings"] = list(dict.fromkeys(said))
    return report


def write_all(analysis: Analysis, out_dir: str | os.PathLike[str]) -> tuple[dict[str, Any], list[str]]:
    """Write every output of a finished analysis once: CSVs, annotated video, key frames,
    report.html, then report.json. Returns the report dict and the rendering warnings.

    The renderers take the in-memory analysis (:func:`analysis_folder`, the same form
    ``movescreen report DIR`` loads from disk); nothing written here is read back.
    A rendering failure never loses the analysis: it becomes a warning in the report.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    if analysis.info.kind != "landmarks" or Path(analysis.info.path).resolve() != (out / "landmarks.csv").resolve():
        paths["landmarks"] = write_landmarks_csv(out / "landmarks.csv", analysis.sequence)
    if analysis.kinematics is not None:
        paths["angles"] = write_angles_csv(out / "angles.csv", analysis.kinematics.table)
    if analysis.options.exports:
        from movescreen.interop.exports import write_exports

        paths.update(write_exports(analysis, out, analysis.options.exports))
    report = build_report(analysis)
    report["outputs"] = {k: p.name for k, p in paths.items()}
    opts = analysis.options
    warnings: list[str] = []
    if opts.video or opts.key_frames or opts.html:
        from movescreen.errors import MovescreenError
        from movescreen.render import render_folder

        video = Path(analysis.info.path) if analysis.info.kind == "video" else None
        folder = analysis_folder(analysis, out, report)
        try:
            with interrupts.stop_now():  # Ctrl-C drops the half-drawn video, not the analysis
                rendered = render_folder(folder, video, blur_faces=opts.blur_faces, video=opts.video,
                                         key_frames=opts.key_frames, html=False)
        except OutputError:  # the disk is full or the folder became unwritable: not a warning
            raise
        except (MovescreenError, OSError, ValueError, RuntimeError) as e:
            warnings.append(f"The review outputs (annotated video, key frames, HTML) could not be made: {e}")
            rendered = {}
        commit_pending()  # CSVs, video and key frames into place together (report.html links them)
        report["outputs"].update({k: p.name for k, p in rendered.items()})
        if opts.html and not warnings:
            report["outputs"]["html"] = "report.html"
        report["quality"]["warnings"] += warnings
        if opts.html and not warnings:
            from movescreen.render import write_html_report

            try:
                write_html_report(folder, out / "report.html")
            except OutputError:
                raise
            except (MovescreenError, OSError, ValueError, RuntimeError) as e:
                report["outputs"].pop("html", None)
                warnings.append(f"report.html could not be made: {e}")
                report["quality"]["warnings"].append(warnings[-1])
    write_json_atomic(out / "report.json", report)
    return report, warnings


def analysis_folder(analysis: Analysis, out: Path, report: dict[str, Any]) -> Any:
    """The in-memory form of what an analysis writes (an :class:`AnalysisFolder`), for the
    renderers. Numbers are rounded as the CSV files store them, so drawing from memory and
    ``movescreen report DIR`` (which loads the files) give the same pictures.
    """
    import numpy as np

    from movescreen.render.folder import AnalysisFolder

    def as_saved(a: Any, digits: int) -> Any:
        flat = np.asarray(a, np.float64).ravel()
        vals = [float(f"{v:.{digits}f}") if np.isfinite(v) else np.nan for v in flat.tolist()]
        return np.array(vals, np.float64).reshape(np.shape(a))

    seq = analysis.sequence
    img = np.array(seq.image_xyz, np.float64)
    img[..., :2] = as_saved(img[..., :2], 2)
    img[..., 2] = as_saved(img[..., 2], 4)
    landmarks = replace(seq, image_xyz=img.astype(np.float32), time_s=as_saved(seq.time_s, 4), masks={})
    angles: dict[str, Any] = {}
    if analysis.kinematics is not None:
        for col, arr in analysis.kinematics.table.items():
            a = np.asarray(arr)
            if col == "frame":
                angles[col] = a.astype(np.int64)
            elif col == "view" or a.dtype.kind in "UO":
                angles[col] = np.array([str(v) for v in a], dtype=object)
            else:
                angles[col] = as_saved(a, 4 if col == "time_s" else 3)
    return AnalysisFolder(path=out, report=report, angles=angles, landmarks=landmarks)
