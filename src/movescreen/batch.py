"""Batch analysis of a folder of recorded videos: one report per video, one table for all.

``run_batch(folder, out_dir)`` analyses every video under ``folder`` into
``out_dir/<relative path without extension>/`` (the same outputs as ``movescreen analyze``) and
writes ``out_dir/summary.csv`` and ``out_dir/index.html``.

- **Nothing lost.** A video that cannot be analysed becomes a ``failed`` row with a one-sentence
  reason and the batch goes on. Every file is written atomically. ``summary.csv`` and
  ``index.html`` are rewritten after each video, so at any moment they describe what is done;
  videos not analysed (yet) are ``skipped`` rows.
- **Resumable.** Running the same command again skips videos whose outputs exist for the same
  input content, options, rule config, model and version (see :mod:`movescreen.batch_worker`),
  keeping their original row (processing time included); ``force=True`` redoes all.
- **Parallel.** ``workers`` processes (``spawn`` context: the parent never loads MediaPipe), or an
  existing Dask cluster (``dask_address``), each analysing one video at a time.

Exit codes (``BatchResult.exit_code``): 0 every video ok; 1 some failed or were not analysed;
130 / 143 the batch was stopped by Ctrl-C (SIGINT) / SIGTERM.

**Interrupts** (:mod:`movescreen.interrupts`): the first Ctrl-C or SIGTERM cancels the videos not
started and tells the workers to stop at the next frame; each keeps what it measured
(``landmarks.csv`` and a ``report.json`` with ``status: "interrupted"``) but writes no done
marker, so its row says ``skipped`` and running the same command again redoes it. A second
signal stops the workers at once (their temporary files are removed). ``summary.csv`` and
``index.html`` are rewritten at the end either way.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from movescreen import interrupts
from movescreen.batch_worker import (
    SEVERITY_ORDER,
    BatchJob,
    make_row,
    run_one,
    select_every_k,
    subsample_frames,
)
from movescreen.errors import InputError
from movescreen.pipeline import AnalyzeOptions
from movescreen.sinks import write_text_atomic
from movescreen.sources import SINGLE_THREAD_ENV, VIDEO_SUFFIXES

__all__ = [
    "BatchResult",
    "find_videos",
    "plan_jobs",
    "run_batch",
    "run_one",
    "select_every_k",
    "subsample_frames",
    "write_index_html",
    "write_summary_csv",
]

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130  # 143 when stopped by SIGTERM
STOP_GRACE_S = 3.0  # after a second signal: time the workers get to unwind before SIGKILL
DEFAULT_OPTIONS = AnalyzeOptions()
RESERVED_NAMES = frozenset({"summary.csv", "index.html"})
BASE_COLUMNS = ("video", "status", "error", "movement", "view", "reps")
TAIL_COLUMNS = ("duration_s", "processing_s", "output")
NOT_REACHED = (
    "Not analysed: the batch had not reached this video when this summary was written; run the "
    "same command again to finish it."
)
WORKER_CRASHED = (
    "The worker process analysing this video stopped unexpectedly (crashed or ran out of "
    "memory) twice; try it alone with movescreen analyze."
)


@dataclass
class BatchResult:
    """What a batch did.

    Attributes
    ----------
    rows : list of dict
        One summary row per video, sorted by ``video`` (the path relative to the folder).
    counts : dict
        Rows per status: ``{"ok": n, "failed": n, "skipped": n}``.
    reused : int
        Videos whose finished outputs from an earlier run were kept.
    exit_code : int
        0 all ok, 1 some failed or skipped, 130 interrupted (Ctrl-C), 143 stopped by SIGTERM.
    summary_csv, index_html : Path
    interrupted : bool
    signal : int or None
        The signal that stopped the batch.
    at_once : bool
        A second signal asked to stop at once (the videos in progress were stopped without
        keeping what they measured, unless they had already stopped).
    """

    rows: list[dict[str, Any]]
    counts: dict[str, int]
    reused: int
    exit_code: int
    summary_csv: Path
    index_html: Path
    interrupted: bool = False
    wall_s: float = 0.0
    signal: int | None = None
    at_once: bool = False
    jobs: list[BatchJob] = field(default_factory=list, repr=False)


# --------------------------------------------------------------------------- planning


def find_videos(
    folder: Path, *, recursive: bool = False, exclude: Path | None = None
) -> list[Path]:
    """Video files in ``folder`` (by extension), sorted; hidden files and ``exclude`` left out.

    A file with a video extension is listed even when it is not really a video: the batch then
    records it as failed with the reason, rather than ignoring it silently.
    """
    pattern = "**/*" if recursive else "*"
    excl = exclude.resolve() if exclude is not None else None
    found = []
    for p in folder.glob(pattern):
        rel = p.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if p.suffix.lower() not in VIDEO_SUFFIXES or not p.is_file():
            continue
        if excl is not None and (p.resolve() == excl or excl in p.resolve().parents):
            continue
        found.append(p)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def output_names(rel_paths: Sequence[str]) -> dict[str, str]:
    """Output folder (relative, POSIX) for each video path: the path without its extension.

    Two videos that would share a folder (``a.mp4`` and ``a.mov``), or a name that would clash
    with ``summary.csv`` / ``index.html``, keep their extension as ``a_mp4`` / ``a_mov``.

    >>> output_names(["a.mp4", "a.mov", "sub/b.mp4"])
    {'a.mp4': 'a_mp4', 'a.mov': 'a_mov', 'sub/b.mp4': 'sub/b'}
    """
    stems: dict[str, list[str]] = {}
    for rel in rel_paths:
        stem = rel.rsplit(".", 1)[0] if "." in rel.rsplit("/", 1)[-1] else rel
        stems.setdefault(stem.lower(), []).append(rel)
    names: dict[str, str] = {}
    taken: set[str] = set()
    for rel in rel_paths:
        stem = rel.rsplit(".", 1)[0] if "." in rel.rsplit("/", 1)[-1] else rel
        if len(stems[stem.lower()]) > 1 or stem.lower() in RESERVED_NAMES:
            base, ext = rel.rsplit(".", 1)
            stem = f"{base}_{ext}"
        name, n = stem, 2
        while name.lower() in taken:  # pathological clashes (a_mp4.mov next to a.mp4 and a.mov)
            name, n = f"{stem}_{n}", n + 1
        taken.add(name.lower())
        names[rel] = name
    return names


def plan_jobs(
    folder: Path,
    out_dir: Path,
    *,
    recursive: bool = False,
    options: AnalyzeOptions = DEFAULT_OPTIONS,
    config: Mapping[str, Any] | None = None,
    model_sha256: str | None = None,
    analysis_fps: float | None = None,
    force: bool = False,
) -> list[BatchJob]:
    """One :class:`BatchJob` per video under ``folder``, in path order (pure apart from listing)."""
    folder = folder.resolve()
    out_dir = out_dir.resolve()
    videos = find_videos(folder, recursive=recursive, exclude=out_dir)
    rels = [v.relative_to(folder).as_posix() for v in videos]
    names = output_names(rels)
    return [
        BatchJob(
            input_path=str(v),
            out_dir=str(out_dir / names[rel]),
            rel=rel,
            options=options,
            config=dict(config or {}),
            model_sha256=model_sha256,
            analysis_fps=analysis_fps,
            force=force,
        )
        for v, rel in zip(videos, rels, strict=True)
    ]


# --------------------------------------------------------------------------- summary and index


def _rule_columns(rows: Iterable[Mapping[str, Any]], rule_keys: Iterable[str]) -> list[str]:
    keys: set[str] = set(rule_keys)
    for row in rows:
        keys.update(row.get("findings", {}))
    sev_rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}

    def order(k: str) -> tuple[str, int]:
        rule, _, sev = k.rpartition(":")
        return rule, sev_rank.get(sev, 99)

    return sorted(keys, key=order)


def _configured_rule_keys(rules: Any) -> list[str]:
    """``<rule>:<severity>`` for every enabled rule and each severity it can give."""
    if rules is None:
        return []
    return [
        f"{rid}:{sev}" for rid, rc in rules.rules.items() if rc.enabled for sev, _ in rc.thresholds
    ]


def resolve_config(
    options: AnalyzeOptions, config: Mapping[str, Any] | None = None
) -> tuple[Any, dict[str, Any]]:
    """The rule config ``options.config`` names (or the defaults), and the dict that goes into
    every job's resume key: the thresholds themselves plus ``config``.

    Raises
    ------
    ConfigError
        For a bad rule file.
    """
    from movescreen.config import load_config

    rules = load_config(getattr(options, "config", None))
    return rules, {"rules": rules.as_dict(), **(config or {})}


def summary_table(
    rows: Sequence[Mapping[str, Any]],
    out_dir: Path,
    jobs_by_rel: Mapping[str, BatchJob],
    rule_keys: Iterable[str] = (),
) -> tuple[list[str], list[list[Any]]]:
    """The summary as a header and string-able cells (pure).

    Columns: ``video, status, error, movement, view, reps``, findings per severity
    (``findings_note`` ...), one ``<rule>:<severity>`` count for each of ``rule_keys`` and each
    pair seen in a row, then ``duration_s, processing_s, output`` (the output folder, relative to ``out_dir``).
    """
    rule_cols = _rule_columns(rows, rule_keys)
    header = [*BASE_COLUMNS, *(f"findings_{s}" for s in SEVERITY_ORDER), *rule_cols, *TAIL_COLUMNS]
    table = []
    for row in rows:
        f: Mapping[str, int] = row.get("findings", {})
        analysed = row["status"] == "ok"
        per_sev = [
            sum(n for k, n in f.items() if k.endswith(":" + s)) if analysed else ""
            for s in SEVERITY_ORDER
        ]
        per_rule = [f.get(k, 0) if analysed else "" for k in rule_cols]
        job = jobs_by_rel.get(row["video"])
        output = Path(job.out_dir).relative_to(out_dir).as_posix() if job else ""
        table.append(
            [
                *(row.get(c, "") for c in BASE_COLUMNS),
                *per_sev,
                *per_rule,
                row.get("duration_s", ""),
                row.get("processing_s", ""),
                output,
            ]
        )
    return header, table


def write_summary_csv(path: Path, header: Sequence[str], table: Sequence[Sequence[Any]]) -> Path:
    """Write the summary table as CSV (atomic)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(table)
    return write_text_atomic(path, buf.getvalue())


_INDEX_JS = """
document.querySelectorAll('th').forEach(function (th, col) {
  th.addEventListener('click', function () {
    var tbody = th.closest('table').tBodies[0];
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    th.parentNode.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col].getAttribute('data-v'), y = b.cells[col].getAttribute('data-v');
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y, undefined, {numeric: true});
      return asc ? c : -c;
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
  });
});
"""

_INDEX_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left}
th{background:#f3f3f3;cursor:pointer;user-select:none}th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}tr.failed td{background:#fdecea}
tr.skipped td{background:#f6f6f6;color:#666}td.num{text-align:right}
"""


def render_index_html(
    header: Sequence[str],
    table: Sequence[Sequence[Any]],
    out_dir: Path,
    *,
    title: str = "movescreen batch",
) -> str:
    """A self-contained HTML page with the summary as a sortable table (pure apart from
    checking which report files exist). Every name and message is escaped."""
    col = {c: i for i, c in enumerate(header)}
    shown = [c for c in header if c != "output" and ":" not in c]
    esc = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title><style>{_INDEX_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    counts: dict[str, int] = {}
    for cells in table:
        counts[str(cells[col["status"]])] = counts.get(str(cells[col["status"]]), 0) + 1
    out.append(
        "<p>"
        + esc(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no videos")
        + '. Click a column heading to sort. The full table is in <a href="summary.csv">summary.csv</a>.</p>'
    )
    out.append(
        "<table><thead><tr>"
        + "".join(f"<th>{esc(c)}</th>" for c in shown)
        + "<th>report</th></tr></thead><tbody>"
    )
    for cells in table:
        status = str(cells[col["status"]])
        tds = []
        for c in shown:
            v = cells[col[c]]
            text = "" if v is None else str(v)
            cls = ' class="num"' if isinstance(v, (int, float)) and not isinstance(v, bool) else ""
            tds.append(f'<td data-v="{esc(text)}"{cls}>{esc(text)}</td>')
        links = []
        folder = str(cells[col["output"]])
        for name in ("report.html", "report.json"):
            if folder and (out_dir / folder / name).is_file():
                href = urllib.parse.quote(f"{folder}/{name}")
                links.append(f'<a href="{esc(href)}">{esc(name)}</a>')
        tds.append(f'<td data-v="{esc(" ".join(links))}">{" ".join(links)}</td>')
        out.append(f'<tr class="{esc(status)}">' + "".join(tds) + "</tr>")
    out.append(f"</tbody></table><script>{_INDEX_JS}</script></body></html>")
    return "\n".join(out) + "\n"


def write_index_html(path: Path, header: Sequence[str], table: Sequence[Sequence[Any]]) -> Path:
    """Write ``index.html`` (atomic)."""
    return write_text_atomic(path, render_index_html(header, table, path.parent))


# --------------------------------------------------------------------------- progress


class _Progress:
    """A tqdm bar with ETA on a terminal; one plain line per video otherwise."""

    def __init__(self, total: int, enabled: bool, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.total, self.done = total, 0
        self.enabled = enabled
        self.bar: Any = None
        if enabled and getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self.bar = tqdm(
                total=total, unit="video", file=self.stream, desc="batch", dynamic_ncols=True
            )

    def update(self, row: Mapping[str, Any]) -> None:
        self.done += 1
        if not self.enabled:
            return
        reused = " (kept from an earlier run)" if row.get("reused") else ""
        line = f"[{self.done}/{self.total}] {row['status']:6s} {row['video']}{reused}"
        if row.get("error"):
            line += f": {row['error']}"
        if self.bar is not None:
            if row["status"] != "ok":
                self.bar.write(line, file=self.stream)
            self.bar.update(1)
        else:
            print(line, file=self.stream, flush=True)

    def notify(self, message: str) -> None:
        """Say something that matters even with progress off (e.g. that Ctrl-C was heard)."""
        if self.bar is not None:
            self.bar.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# --------------------------------------------------------------------------- execution


def _console_log_level() -> int | None:
    """The level of the parent's console log (``movescreen -v``), or None when it has none."""
    import logging

    levels = [h.level for h in logging.getLogger("movescreen").handlers
              if getattr(h, "_movescreen", "") == "console"]
    return min(levels) if levels else None


def _worker_init(single_threaded: bool = False, log_level: int | None = None) -> None:
    """In each worker process: quiet MediaPipe, leave Ctrl-C to the parent, and exit when the
    parent dies (kill -9) instead of working on as an orphan. With several workers, each keeps
    its video decoder to one thread: the workers already fill the cores, and extra threads would
    only compete with the other workers' pose models (decoded frames are the same either way).
    With ``log_level`` (``movescreen -v batch``) the worker logs its steps and frame progress on
    the stderr it shares with the parent."""
    from movescreen.pose.mediapipe_backend import own_python_stderr

    own_python_stderr()  # before the handler below takes sys.stderr
    if log_level is not None:
        import logging

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(f"movescreen: [worker {os.getpid()}] %(message)s"))
        handler.setLevel(log_level)
        logger = logging.getLogger("movescreen")
        logger.addHandler(handler)
        logger.setLevel(log_level)
    if single_threaded:
        os.environ[SINGLE_THREAD_ENV] = "1"
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    interrupts.install_worker()  # SIGINT/SIGTERM ignored; the parent sends SIGUSR1/SIGUSR2
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="movescreen-parent-watch", daemon=True).start()


def _worker_processes(pool: ProcessPoolExecutor) -> list[Any]:
    # Python 3.14 has pool.kill_workers(); before that the process table is private.
    return list(getattr(pool, "_processes", {}).values())


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    for proc in _worker_processes(pool):
        try:
            proc.kill()
        except (OSError, ValueError):
            pass


def _signal_workers(pool: ProcessPoolExecutor, signum: int | None) -> None:
    if signum is None:  # no SIGUSR1/SIGUSR2 (Windows): see interrupts.STOP_SOFT
        return
    for proc in _worker_processes(pool):
        try:
            if proc.pid is not None and proc.is_alive():
                os.kill(proc.pid, signum)
        except (OSError, ValueError):
            pass


def _remove_temporary_files(jobs: Iterable[BatchJob]) -> None:
    """Delete the atomic writers' temporary files a killed worker left in its output folder."""
    for job in jobs:
        for tmp in Path(job.out_dir).glob("**/.*.tmp"):
            try:
                tmp.unlink()
            except OSError:
                pass


def _top_up(
    pool: ProcessPoolExecutor,
    futures: dict[Future[dict[str, Any]], BatchJob],
    queue: list[BatchJob],
    limit: int,
) -> None:
    """Submit queued jobs until ``limit`` are in flight. About two per worker: little to cancel
    on Ctrl-C, and a broken pool takes few innocent jobs with it."""
    while queue and len(futures) < limit:
        job = queue.pop(0)
        futures[pool.submit(run_one, job)] = job


def _run_local(
    jobs: Sequence[BatchJob],
    workers: int,
    on_row: Callable[[dict[str, Any]], None],
    notify: Callable[[str], None] = lambda _msg: None,
) -> bool:
    """Run jobs in ``workers`` spawned processes (even for one worker: a crash in native code
    then costs one video, not the batch, and the parent never loads MediaPipe).

    A broken pool (a worker killed or crashed) is replaced and its in-flight jobs retried once.
    The first Ctrl-C or SIGTERM (counted by :mod:`movescreen.interrupts`, polled here) cancels
    the jobs not started and tells the running ones to stop at the next frame (SIGUSR1): they
    keep what they measured and come back as ``skipped`` rows. A second one stops them at once
    (SIGUSR2, then SIGKILL after :data:`STOP_GRACE_S`) and removes their temporary files.
    Returns True when the batch was stopped that way (a ``KeyboardInterrupt`` raised here, when
    no handler is installed, counts as a first signal).
    """
    ctx = multiprocessing.get_context("spawn")
    crashes: dict[str, int] = {}
    pending = list(jobs)
    stopping = False
    while pending and not stopping:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                                   initargs=(workers > 1, _console_log_level()))
        futures: dict[Future[dict[str, Any]], BatchJob] = {}
        queue, pending = pending, []
        killed_at: float | None = None

        try:
            _top_up(pool, futures, queue, 2 * workers)
            while futures:
                try:
                    done, _ = wait(futures, timeout=0.2, return_when=FIRST_COMPLETED)
                except KeyboardInterrupt:  # no handler installed (a library caller's Ctrl-C)
                    done = set()
                    interrupts.record(signal.SIGINT)
                if interrupts.requested() is not None and not stopping:
                    stopping = True
                    queue.clear()
                    for f in futures:
                        f.cancel()  # the ones not started; the running ones are told below
                    _signal_workers(pool, interrupts.STOP_SOFT)
                    notify(
                        "Interrupted: stopping the video(s) in progress at the next "
                        "frame (what they measured is kept; the same command finishes them); "
                        "press Ctrl-C again to stop at once."
                    )
                if stopping and interrupts.count() > 1 and killed_at is None:
                    notify("Stopping now; the videos in progress will be redone next time.")
                    _signal_workers(pool, interrupts.STOP_NOW)
                    killed_at = time.monotonic() - (STOP_GRACE_S + 1 if interrupts.STOP_NOW is None else 0)
                if killed_at is not None and time.monotonic() - killed_at > STOP_GRACE_S:
                    _kill_workers(pool)
                    _remove_temporary_files(futures.values())
                    killed_at = float("inf")
                crashed: list[BatchJob] = []
                for fut in done:
                    job = futures.pop(fut)
                    if fut.cancelled():
                        continue
                    try:
                        row = fut.result()
                    except BrokenProcessPool:
                        if stopping:  # killed by us: recorded as not reached
                            continue
                        crashed.append(job)
                        continue
                    except KeyboardInterrupt:  # a worker told to stop at once
                        continue
                    except Exception as e:  # noqa: BLE001 - e.g. a result that cannot be pickled
                        msg = " ".join(str(e).split())[:200]
                        row = {
                            **make_row(
                                job.rel,
                                "failed",
                                error=f"The worker could not return this video's result "
                                f"({type(e).__name__}: {msg}); please report it.",
                            ),
                            "reused": False,
                        }
                    on_row(row)
                if crashed:
                    crashed.extend(futures.values())  # in flight too: any of them may be the cause
                    futures.clear()
                    for job in crashed:
                        crashes[job.rel] = crashes.get(job.rel, 0) + 1
                        if crashes[job.rel] >= 2:
                            on_row(
                                {
                                    **make_row(job.rel, "failed", error=WORKER_CRASHED),
                                    "reused": False,
                                }
                            )
                        else:
                            pending.append(job)
                    pending.extend(queue)
                    queue.clear()
                    break
                _top_up(pool, futures, queue, 2 * workers)
        finally:
            if stopping and killed_at is not None:
                _kill_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)
            if killed_at is not None:
                _remove_temporary_files(jobs)
    return stopping


def _run_dask(
    jobs: Sequence[BatchJob], address: str, on_row: Callable[[dict[str, Any]], None]
) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError as e:
        raise InputError(
            "--dask needs the optional Dask extra; install it with pip install 'movescreen[distributed]'."
        ) from e
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as e:
        raise InputError(
            f"No Dask scheduler answered at {address} ({e}); check the address."
        ) from e
    try:
        batch_id = uuid.uuid4().hex[:12]  # keys unique per batch: a cluster may run several
        futures = {
            client.submit(run_one, job, key=f"movescreen-{batch_id}-{i}-{job.rel}", pure=False): job
            for i, job in enumerate(jobs)
        }
        try:
            for fut in as_completed(futures):
                job = futures[fut]
                try:
                    row = fut.result()
                except Exception as e:  # noqa: BLE001 - e.g. KilledWorker; record and go on
                    msg = " ".join(str(e).split())[:200]
                    row = {
                        **make_row(
                            job.rel,
                            "failed",
                            error=f"The Dask cluster could not run this job ({type(e).__name__}: {msg}).",
                        ),
                        "reused": False,
                    }
                on_row(row)
        except BaseException:
            client.cancel(list(futures))
            raise
    finally:
        client.close()


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def default_workers() -> int:
    """The number of CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_batch(
    folder: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    workers: int | None = None,
    recursive: bool = False,
    options: AnalyzeOptions = DEFAULT_OPTIONS,
    config: Mapping[str, Any] | None = None,
    force: bool = False,
    dask_address: str | None = None,
    analysis_fps: float | None = None,
    progress: bool = True,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> BatchResult:
    """Analyse every video in ``folder`` into ``out_dir``; see the module docstring.

    Parameters
    ----------
    folder : path
        Folder of videos (files with a video extension; hidden files ignored).
    out_dir : path
        Output folder; may be inside ``folder`` (it is then not scanned).
    workers : int, optional
        Worker processes; default the number of CPUs (at most the number of videos).
    recursive : bool
        Also analyse videos in sub-folders (outputs mirror the folder tree).
    options : AnalyzeOptions
        The same options as ``movescreen analyze``; part of the resume key.
    config : mapping, optional
        Anything else that changes results and is not in ``options``; part of the resume key.
        The rule thresholds are read from ``options.config`` (or the defaults) and keyed by
        content, so editing the TOML file redoes the videos.
    force : bool
        Redo every video even when finished outputs exist.
    dask_address : str, optional
        ``tcp://host:port`` of a running Dask scheduler; its workers must see ``folder`` and
        ``out_dir`` at the same paths (shared file system).
    analysis_fps : float, optional
        Analyse at most about this many frames per second (see ``subsample_frames``).
    progress : bool
        Progress on stderr: a bar with ETA on a terminal, a line per video otherwise.
    on_row : callable, optional
        Called in the parent with each finished row (after summary.csv was updated).

    Returns
    -------
    BatchResult

    Raises
    ------
    InputError
        ``folder`` is missing or holds no videos, or the Dask scheduler cannot be reached.
    ModelError
        The pose model cannot be used (checked once, before any video).
    ConfigError
        ``options.config`` is not a valid rule file (checked once, before any video).
    """
    from movescreen.pose.model import resolve_model

    t_start = time.perf_counter()
    src = Path(folder)
    if not src.is_dir():
        raise InputError(f"No folder at {src}; give the folder that holds the videos.")
    if analysis_fps is not None and not (analysis_fps > 0 and math.isfinite(analysis_fps)):
        raise InputError(
            f"--analysis-fps must be a positive number of frames per second, got {analysis_fps}."
        )
    if workers is not None and workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}.")
    out = Path(out_dir)
    model = resolve_model(options.model)  # fail once, early, on a bad model (does not load it)
    # Fail once, early, on a bad rule config; and key the resume on the thresholds themselves,
    # not on the config file's name (editing the file must redo the batch).
    rules, resolved_config = resolve_config(options, config)
    jobs = plan_jobs(
        src,
        out,
        recursive=recursive,
        options=options,
        config=resolved_config,
        model_sha256=model.sha256,
        analysis_fps=analysis_fps,
        force=force,
    )
    if not jobs:
        hint = "" if recursive else " (add --recursive to look in sub-folders)"
        raise InputError(
            f"No videos ({', '.join(sorted(VIDEO_SUFFIXES))}) in {src}{hint}; nothing to analyse."
        )
    out.mkdir(parents=True, exist_ok=True)
    for name in RESERVED_NAMES:  # temporaries of a batch killed (kill -9) while writing its tables
        for tmp in out.glob(f".{name}.*.tmp"):
            tmp.unlink(missing_ok=True)
    out_abs = out.resolve()
    jobs_by_rel = {j.rel: j for j in jobs}
    rule_keys = _configured_rule_keys(rules)
    rows: dict[str, dict[str, Any]] = {}
    reused = 0
    summary_path, index_path = out / "summary.csv", out / "index.html"

    def all_rows() -> list[dict[str, Any]]:
        return [rows.get(j.rel) or make_row(j.rel, "skipped", error=NOT_REACHED) for j in jobs]

    def write_tables() -> None:
        header, table = summary_table(all_rows(), out_abs, jobs_by_rel, rule_keys)
        write_summary_csv(summary_path, header, table)
        write_index_html(index_path, header, table)

    bar = _Progress(len(jobs), progress)

    def finished(row: dict[str, Any]) -> None:
        nonlocal reused
        reused += bool(row.get("reused"))
        rows[row["video"]] = row
        write_tables()
        bar.update(row)
        if on_row is not None:
            on_row(row)

    write_tables()
    # Largest files first: the last video to start is then a short one, so workers finish
    # together (rows stay in path order whatever the order of work).
    by_size = sorted(jobs, key=lambda j: -_file_size(j.input_path))
    interrupted = False
    # local workers: signals are counted and polled; Dask: the first one cancels the jobs
    with interrupts.install("raise" if dask_address else "poll"):
        try:
            if dask_address:
                _run_dask(by_size, dask_address, finished)
            else:
                n = min(workers or default_workers(), len(jobs))
                interrupted = _run_local(by_size, n, finished, bar.notify)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            bar.close()
            write_tables()
        signum = interrupts.requested() if interrupted else None
        at_once = interrupted and interrupts.count() > 1
    final = all_rows()
    counts = {s: sum(r["status"] == s for r in final) for s in ("ok", "failed", "skipped")}
    if interrupted:
        code = interrupts.exit_code(signum) if signum is not None else EXIT_INTERRUPTED
    elif counts["failed"] or counts["skipped"]:
        code = EXIT_FAILED
    else:
        code = EXIT_OK
    return BatchResult(
        rows=[{k: v for k, v in r.items() if k != "reused"} for r in final],
        counts=counts,
        reused=reused,
        exit_code=code,
        summary_csv=summary_path,
        index_html=index_path,
        interrupted=interrupted,
        wall_s=time.perf_counter() - t_start,
        jobs=list(jobs),
        signal=signum,
        at_once=at_once,
    )


def _main(argv: Sequence[str] | None = None) -> int:
    """``python -m movescreen.batch FOLDER OUT [workers] [analysis_fps]`` (for tests and
    benchmarks; the real command is ``movescreen batch``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2:
        print(_main.__doc__, file=sys.stderr)
        return 2
    env = json.loads(os.environ.get("MOVESCREEN_BATCH_ARGS", "{}"))
    options = AnalyzeOptions(**env.pop("options", {}))
    result = run_batch(
        args[0],
        args[1],
        workers=int(args[2]) if len(args) > 2 else None,
        analysis_fps=float(args[3]) if len(args) > 3 else None,
        options=options,
        **env,
    )
    return result.exit_code


if __name__ == "__main__":
    sys.exit(_main())
