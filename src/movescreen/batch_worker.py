"""One batch job: analyse one video into its own folder and return its summary row.

This module is what worker processes (``concurrent.futures`` with the ``spawn`` context, or Dask
workers) import and run. It never imports MediaPipe itself: the pipeline does, inside the worker,
so the parent process never loads the model.

Resume rule
-----------
A job's *key* is the sha256 of the input's content, the resolved analysis options, the rule
config, the model file's checksum, ``analysis_fps`` and the movescreen version. After a job ends
with a result that would be the same on a rerun (``ok``, or ``failed`` because nobody is in the
video) a marker ``.movescreen-done.json`` is written (atomically, after ``report.json``) holding
the key, the summary row and the sha256 of ``report.json``. A later run skips the job when the
marker's key matches and ``report.json`` still has that checksum; anything else is redone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from movescreen import __version__, interrupts
from movescreen.errors import InputError, MovescreenError, NoPersonError
from movescreen.pipeline import AnalyzeOptions
from movescreen.sinks import file_sha256
from movescreen.sources import SubsampledSource, select_every_k, subsample_frames  # noqa: F401

Status = Literal["ok", "failed", "skipped"]
STATUSES: tuple[Status, ...] = ("ok", "failed", "skipped")
SEVERITY_ORDER = ("note", "caution", "flag")
DONE_MARKER = ".movescreen-done.json"
MARKER_VERSION = 1
# Outputs a (re)run replaces; removed before the job starts so a stale report of older content
# can never sit beside a failed rerun looking complete.
REPORT_FILES = ("report.json", "report.html")
log = logging.getLogger("movescreen.batch")
NOT_STARTED = (
    "Not analysed: the batch was stopped before this video started; run the same command again "
    "to finish it."
)


# --------------------------------------------------------------------------- jobs and keys


@dataclass(frozen=True)
class BatchJob:
    """Everything a worker needs to analyse one video (picklable; paths absolute)."""

    input_path: str
    out_dir: str
    rel: str  # the video's path relative to the batch folder, POSIX separators
    options: AnalyzeOptions = field(default_factory=AnalyzeOptions)
    config: Mapping[str, Any] = field(default_factory=dict)
    model_sha256: str | None = None
    analysis_fps: float | None = None
    force: bool = False


def _canonical(o: Any) -> str:
    return json.dumps(o, sort_keys=True, separators=(",", ":"), default=str)


def _plain(o: Any) -> Any:
    """JSON-able form of options for the key: dataclasses field by field (every field, so a new
    option can never be missed), mappings, sequences; anything else by ``as_dict()`` or ``str``."""
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return {f.name: _plain(getattr(o, f.name)) for f in dataclasses.fields(o)}
    if isinstance(o, Mapping):
        return {str(k): _plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_plain(v) for v in o]
    if o is None or isinstance(o, (bool, int, float, str)):
        return o
    as_dict = getattr(o, "as_dict", None)
    return _plain(as_dict()) if callable(as_dict) else str(o)


def compute_job_key(job: BatchJob, input_sha256: str) -> str:
    """The resume key: same key means a rerun would produce the same outputs."""
    material = {
        "input_sha256": input_sha256,
        # every field, not only as_dict(): a new option must never be missed by the key
        "options": _plain(job.options),
        "model_sha256": job.model_sha256,
        "config": dict(job.config),
        "analysis_fps": job.analysis_fps,
        "movescreen_version": __version__,
        "marker_version": MARKER_VERSION,
    }
    return hashlib.sha256(_canonical(material).encode()).hexdigest()


def read_done_marker(out_dir: Path, key: str) -> dict[str, Any] | None:
    """The stored summary row when ``out_dir`` holds a finished job with this key, else None."""
    marker = out_dir / DONE_MARKER
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("key") != key
        or not isinstance(data.get("row"), dict)
    ):
        return None
    report = out_dir / "report.json"
    try:
        if file_sha256(report) != data.get("report_sha256"):
            return None
    except OSError:
        return None
    return data["row"]  # type: ignore[no-any-return]


def _clear_previous(out_dir: Path) -> None:
    """Remove the marker, reports and leftover temporary files of an earlier (killed) run."""
    if not out_dir.is_dir():
        return
    for name in (DONE_MARKER, *REPORT_FILES):
        try:
            (out_dir / name).unlink()
        except FileNotFoundError:
            pass
    for tmp in out_dir.glob(".*.tmp"):  # sinks.write_atomic's temporary files
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass


# --------------------------------------------------------------------------- rows


def _name_of(v: Any) -> str:
    if isinstance(v, dict):
        v = v.get("name")
    return "" if v is None else str(v)


def _count_reps(v: Any) -> int | str:
    """Full reps: the entries of ``report["reps"]`` not marked ``partial``."""
    if isinstance(v, list):
        return sum(not (isinstance(r, dict) and r.get("partial")) for r in v)
    if isinstance(v, int):
        return v
    return ""


def count_findings(findings: Any) -> dict[str, int]:
    """Findings counted by ``<rule>:<severity>`` (pure).

    >>> count_findings([{"rule": "a", "severity": "flag"}, {"rule": "a", "severity": "flag"}])
    {'a:flag': 2}
    """
    counts: dict[str, int] = {}
    if not isinstance(findings, list):
        return counts
    for f in findings:
        if not isinstance(f, dict):
            continue
        sev = str(f.get("severity", ""))
        if sev not in SEVERITY_ORDER:
            continue  # e.g. "not assessed" entries are not findings
        key = f"{f.get('rule', 'unknown')}:{sev}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def make_row(
    rel: str,
    status: Status,
    *,
    error: str = "",
    report: Mapping[str, Any] | None = None,
    processing_s: float | None = None,
    has_report: bool = False,
) -> dict[str, Any]:
    """One summary row (pure). ``findings`` maps ``<rule>:<severity>`` to a count."""
    r: Mapping[str, Any] = report or {}
    inp = r.get("input") if isinstance(r.get("input"), dict) else {}
    duration = inp.get("duration_s") if isinstance(inp, dict) else None
    return {
        "video": rel,
        "status": status,
        "error": error,
        "movement": _name_of(r.get("movement")),
        "view": _name_of(r.get("view")),
        "reps": _count_reps(r.get("reps")),
        "findings": count_findings(r.get("findings")),
        "duration_s": round(float(duration), 3) if isinstance(duration, (int, float)) else "",
        "processing_s": "" if processing_s is None else round(processing_s, 2),
        "has_report": has_report,
    }


def _one_sentence(e: BaseException) -> str:
    msg = " ".join(str(e).split())
    if isinstance(e, MovescreenError) and msg:
        return msg
    what = type(e).__name__
    return f"Unexpected {what} while analysing ({msg[:200] or 'no details'}); please report it."


def _interrupted_sentence(e: interrupts.Interrupted) -> str:
    what = "what it measured is kept, " if e.kept else ""
    return (
        f"Not finished: the batch was stopped while this video was analysed ({what}report.json "
        "says interrupted); run the same command again to finish it."
    )


def _run_one(job: BatchJob) -> dict[str, Any]:
    """Analyse ``job.input_path`` into ``job.out_dir`` (or reuse a finished result).

    Never raises for a bad input: every outcome is a summary row (see :func:`make_row`) with an
    extra ``reused`` flag (True when a finished result of the same key was found and kept).
    A stop asked for by the batch (SIGUSR1, see :mod:`movescreen.interrupts`) makes a
    ``skipped`` row: before the job starts, nothing in its folder is touched; part-way, what was
    measured is kept (``report.json`` says ``interrupted``) and no done marker is written, so the
    next run redoes it. ``KeyboardInterrupt`` (stop now) and ``SystemExit`` still propagate.
    """
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from movescreen.pipeline import run_analysis
    from movescreen.sinks import write_json_atomic

    t0 = time.perf_counter()
    out = Path(job.out_dir)
    src = Path(job.input_path)
    if interrupts.requested() is not None:  # the batch is stopping: leave this folder alone
        return {**make_row(job.rel, "skipped", error=NOT_STARTED), "reused": False}
    try:
        sha = file_sha256(src)
    except OSError as e:
        row = make_row(
            job.rel, "failed", error=f"{src.name} could not be read ({e.strerror or e})."
        )
        return {**row, "processing_s": round(time.perf_counter() - t0, 2), "reused": False}
    key = compute_job_key(job, sha)
    if not job.force:
        stored = read_done_marker(out, key)
        if stored is not None:
            return {**stored, "reused": True}
    _clear_previous(out)

    report: dict[str, Any] | None = None
    status: Status = "ok"
    error = ""
    final = True  # would a rerun give the same result? (then a done marker is written)
    options = job.options if job.analysis_fps is None else replace(job.options, analysis_fps=job.analysis_fps)
    frames = 0

    def progress(n: int) -> None:
        nonlocal frames
        frames += n
        if frames == 1 or frames % 25 == 0:
            log.info("%s: frames analysed: %d", job.rel, frames)

    log.info("%s: analysing into %s", job.rel, out)
    try:
        report = run_analysis(src, out, options, progress=progress)
        report.pop("_warnings", None)
    except interrupts.Interrupted as e:  # measured part kept, no done marker: redone next time
        status, error, final = "skipped", _interrupted_sentence(e), False
    except NoPersonError as e:
        status, error = "failed", _one_sentence(e)
    except InputError as e:
        # nothing was written; cheap to retry, and the user may replace the file
        status, error, final = "failed", _one_sentence(e), False
    except Exception as e:  # noqa: BLE001 - one bad video must not stop the batch
        status, error, final = "failed", _one_sentence(e), False
    report_path = out / "report.json"
    if report is None and report_path.is_file():  # e.g. NoPersonError wrote a failed report
        try:
            report = json.loads(report_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            report = None
    row = make_row(
        job.rel,
        status,
        error=error,
        report=report,
        processing_s=time.perf_counter() - t0,
        has_report=report_path.is_file(),
    )
    if final and report_path.is_file():
        write_json_atomic(
            out / DONE_MARKER,
            {
                "marker_version": MARKER_VERSION,
                "key": key,
                "input_sha256": sha,
                "movescreen_version": __version__,
                "report_sha256": file_sha256(report_path),
                "row": row,
            },
        )
    return {**row, "reused": False}


def run_one(job: BatchJob) -> dict[str, Any]:
    """:func:`_run_one` marked as a job in progress (a "stop now" signal interrupts it; an idle
    worker just exits, see :func:`movescreen.interrupts.worker_job`)."""
    with interrupts.worker_job():
        return _run_one(job)

