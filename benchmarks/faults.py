"""Every bad input and fault from issue 14, run against the installed ``movescreen`` command.

Usage::

    python benchmarks/faults.py [--quick] [--only NAME ...] [--json OUT] [--markdown OUT]

Each row builds its input in a temporary folder (nothing is written into the repository; real
clips from ../shared/data are read in place, rows that need them say "not run" when absent),
runs the command as a subprocess (as a user would, with the ``movescreen`` found beside this
Python), optionally interrupts or kills it, and records:

- **exit**: the exit code (negative: killed by that signal);
- **sentence**: the ``movescreen: error:`` / ``warning:`` line (or the status the run wrote);
- **clear**: a one-line sentence, no traceback, and the exit code the row expects;
- **files left**: what is in the output folder afterwards (``.part`` files are half-written);
- **lost**: whether an earlier result in that folder (a ``report.json`` from a good run put
  there first) was damaged, or, for interrupts, whether what was measured was thrown away.

Totals: bad inputs tried / clear sentences / results lost. ``--quick`` runs 3 kill-and-resume
points instead of 10. Needs root for the full-disk and read-only-folder rows (a small tmpfs is
mounted); without it those rows say "not run".
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "fixtures" / "videos" / "squat_front_banded_bodyweight_01.mp4"
SHARED_VIDEOS = Path(os.environ.get("MOVESCREEN_SHARED", REPO.parent / "shared")) / "data" / "videos"
EXE = shutil.which("movescreen", path=str(Path(sys.executable).parent)) or shutil.which("movescreen")
FAST = ["--no-masks", "-q"]
ORPHANS: list[int] = []  # killed batches whose workers were still running 2 s later  # the rows test faults, not the back-contour measure


@dataclass
class Row:
    name: str
    expect: str  # "error": exit 2 (1 for nobody) and an error sentence; "warning": 0/1 and a warning;
    # "interrupt": 130/143 and status interrupted kept; "ok": 0; "resume": identical summaries
    exit: int | None = None
    sentence: str = ""
    clear: bool = False
    files: list[str] = field(default_factory=list)
    lost: bool = False
    note: str = ""
    seconds: float = 0.0
    run: bool = True


def _sentence(stderr: str, stdout: str = "") -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for prefix in ("movescreen: error:", "movescreen: warning:", "Error:"):
        hits = [ln for ln in lines if ln.startswith(prefix)]
        if hits:
            return " | ".join(hits[-2:])
    events = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    for ln in reversed(events):
        try:
            ev = json.loads(ln)
        except json.JSONDecodeError:
            continue
        if ev.get("type") in ("error", "warning", "summary", "stopped"):
            return f"[{ev.get('type')} event] " + str(ev.get("message") or ev.get("reason") or ev)[:200]
    return lines[-1] if lines else ""


def _one_sentence(s: str) -> bool:
    text = s.split("movescreen: error:")[-1].split("movescreen: warning:")[-1].strip()
    return bool(text) and "Traceback" not in text and len(text) < 400


def _files(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    if folder.is_file():
        return [f"(a file: {folder.name})"]
    out = []
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            out.append(p.relative_to(folder).as_posix())
    return out


def _short_files(files: list[str]) -> str:
    if not files:
        return "none"
    frames = [f for f in files if "/frames/" in f"/{f}"]
    rest = [f for f in files if f not in frames]
    parts = rest[:8] + ([f"frames/ ({len(frames)})"] if frames else [])
    return ", ".join(parts) + (f" +{len(rest) - 8}" if len(rest) > 8 else "")


def _sha(p: Path) -> str | None:
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None


def _run(cmd: list[str], *, timeout: float = 300, env: dict[str, str] | None = None,
         signal_after: tuple[float, int] | None = None, second_signal: float | None = None,
         signal_when: tuple[str, int, int] | None = None, second_when: str | None = None,
         stdin: int | None = subprocess.DEVNULL) -> tuple[int, str, str]:
    """Run ``cmd``; optionally signal it after a delay (``signal_after``), or when a stderr line
    matches ``signal_when = (regex, at_least, signal)`` (the regex's group 1 >= at_least: e.g. the
    ``-v`` progress "frames analysed: N"), then again when a line matches ``second_when``."""
    import re

    full_env = {**os.environ, **(env or {})}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env,
                            stdin=stdin, start_new_session=True)
    if signal_when is not None:
        pattern, at_least, sig = signal_when
        seen: list[str] = []
        assert proc.stderr is not None
        sent = False
        for line in proc.stderr:
            seen.append(line)
            m = re.search(pattern, line)
            if not sent and m and int(m.group(1)) >= at_least:
                proc.send_signal(sig)
                sent = True
                if second_when is None:
                    break
            elif sent and second_when is not None and re.search(second_when, line):
                proc.send_signal(sig)
                break
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            err += "\n[faults.py: timed out]"
        return proc.returncode, out, "".join(seen) + err
    if signal_after is not None:
        delay, sig = signal_after
        try:
            out, err = proc.communicate(timeout=delay)
            return proc.returncode, out, err  # finished before the signal
        except subprocess.TimeoutExpired:
            pass
        proc.send_signal(sig)
        if sig == signal.SIGKILL:
            # the main process is gone; do its worker processes outlive it?
            proc.wait()
            time.sleep(2.0)
            try:
                os.killpg(proc.pid, 0)
                ORPHANS.append(proc.pid)
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if second_signal is not None:
            time.sleep(second_signal)
            if proc.poll() is None:
                proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        err += "\n[faults.py: timed out]"
    return proc.returncode, out, err


# ---- inputs -----------------------------------------------------------------------------------


def _write_video(path: Path, frames, fps: int = 30, *, faststart: bool = False) -> Path:
    import av

    with av.open(str(path), "w", options={"movflags": "faststart"} if faststart else {}) as c:
        s = c.add_stream("libx264", rate=fps)
        first = True
        for img in frames:
            if first:
                s.height, s.width = img.shape[:2]
                s.pix_fmt = "yuv420p"
                first = False
            for pkt in s.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _put(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _example_frames():
    import av

    with av.open(str(EXAMPLE)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


def _looped(path: Path, times: int) -> Path:
    frames = _example_frames()
    return _write_video(path, (f for _ in range(times) for f in frames))


def _earlier_result(out: Path, good: Path) -> str | None:
    """Put a good run's report.json into ``out`` first; return its hash to check afterwards."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(good / "report.json", out / "report.json")
    return _sha(out / "report.json")


# ---- the rows ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--markdown", type=Path, default=None)
    args = ap.parse_args(argv)
    if EXE is None:
        print("faults.py: no movescreen command installed beside this Python.", file=sys.stderr)
        return 2
    import numpy as np

    tmp = Path(tempfile.mkdtemp(prefix="movescreen-faults-"))
    rows: list[Row] = []
    mounts: list[Path] = []
    t_all = time.perf_counter()

    good = tmp / "good"
    code, _, err = _run([EXE, "analyze", str(EXAMPLE), "--out", str(good), *FAST])
    if code != 0:
        print(f"faults.py: the example clip does not analyse ({err.strip()[-300:]}).", file=sys.stderr)
        return 2

    def wanted(name: str) -> bool:
        return not args.only or any(o in name for o in args.only)

    def analyze_row(name: str, expect: str, make_input: Callable[[Path], Path | str] | None,
                    extra: list[str] | None = None, *, out: Path | None = None, env: dict[str, str] | None = None,
                    earlier: bool = True, needs: Path | None = None, cmd: list[str] | None = None,
                    signal_after: tuple[float, int] | None = None, second_signal: float | None = None,
                    signal_when: tuple[str, int, int] | None = None, second_when: str | None = None,
                    check: Callable[[Row, Path, str, str], None] | None = None) -> None:
        if not wanted(name):
            return
        row = Row(name, expect)
        rows.append(row)
        if needs is not None and not needs.exists():
            row.run, row.note = False, f"not run: {needs.name} is not here"
            return
        case = tmp / f"case{len(rows):02d}"
        case.mkdir()
        out = out or case / "out"
        before = _earlier_result(out, good) if earlier and not out.exists() else None
        inp = make_input(case) if make_input else None
        command = cmd or [EXE, "analyze", str(inp), "--out", str(out), *FAST, *(extra or [])]
        t0 = time.perf_counter()
        code, so, se = _run(command, env=env, signal_after=signal_after, second_signal=second_signal,
                            signal_when=signal_when, second_when=second_when)
        row.seconds = time.perf_counter() - t0
        row.exit, row.sentence = code, _sentence(se, so)
        row.files = _files(out)
        tb = "Traceback" in se
        if tb:
            row.note = "traceback: " + se.strip().splitlines()[-1][:160]
        if expect == "error":
            row.clear = not tb and code in (1, 2) and "movescreen: error:" in se and _one_sentence(row.sentence)
        elif expect == "warning":
            row.clear = not tb and code in (0, 1) and "movescreen: warning:" in se and _one_sentence(row.sentence)
        elif expect == "ok":
            row.clear = not tb and code == 0
        if before is not None and code != 0:
            row.lost = _sha(out / "report.json") != before  # a failed run damaged the earlier result
        if any(f.endswith((".part", ".tmp")) for f in row.files):
            row.note = (row.note + "; " if row.note else "") + "half-written .part/.tmp file left"
        if check:
            check(row, out, so, se)

    def interrupt_check(expected_code: int, *, at_once: bool = False) -> Callable[[Row, Path, str, str], None]:
        """130/143, no traceback, no temporary file left; a first signal must leave a report.json
        with status "interrupted" (analyze: in the folder; batch: for the video in progress) and
        its landmarks; a second one must say it stopped at once."""
        def check(row: Row, out: Path, so: str, se: str) -> None:
            statuses: dict[str, str | None] = {}
            for rj in [out / "report.json", *out.glob("*/report.json")]:
                if not rj.exists():
                    continue
                try:
                    statuses[rj.parent.name] = json.loads(rj.read_text()).get("status")
                except (OSError, json.JSONDecodeError):
                    statuses[rj.parent.name] = "unreadable"
            temporary = [f for f in row.files if f.endswith((".tmp", ".part"))]
            said = [ln for ln in se.splitlines() if ln.startswith("movescreen: interrupted:")]
            row.sentence = (said[-1] if said else row.sentence).strip()
            interrupted = [k for k, v in statuses.items() if v == "interrupted"]
            row.clear = (row.exit == expected_code and "Traceback" not in se and len(said) == 1
                         and not temporary)
            if at_once:
                row.clear = row.clear and "Stopped at once" in said[-1] if said else False
                row.lost = bool(temporary) or any(v not in ("ok", "interrupted") for v in statuses.values())
            else:
                kept = all((out / k / "landmarks.csv").is_file() or (out / "landmarks.csv").is_file()
                           for k in interrupted)
                row.clear = row.clear and bool(interrupted)
                row.lost = not interrupted or not kept or bool(temporary)
            shown = ", ".join(f"{'.' if k == out.name else k}: {v}" for k, v in sorted(statuses.items())) or "none"
            row.note = (row.note + "; " if row.note else "") + f"report status ({shown})"
            if temporary:
                row.note += f"; temporary files left: {', '.join(temporary)}"
        return check

    # -- inputs that are not a usable video
    analyze_row("missing path", "error", lambda d: d / "no_such_clip.mp4")
    analyze_row("empty file", "error", lambda d: _put(d / "empty.mp4", b""))
    analyze_row("text named .mp4", "error", lambda d: _put(d / "notes.mp4", b"session notes, not a video\n"))
    analyze_row("truncated video (end cut off)", "error",
                lambda d: _put(d / "cut.mp4", EXAMPLE.read_bytes()[: EXAMPLE.stat().st_size * 2 // 5]))
    analyze_row("video with nobody", "error",
                lambda d: _write_video(d / "empty_room.mp4", (np.full((360, 640, 3), 90 + i % 5, np.uint8) for i in range(45))))
    two = SHARED_VIDEOS / "rdl_side_dumbbell_split_correct_vs_incorrect_01.mp4"
    analyze_row("two people", "warning", lambda d: two, ["--no-video", "--no-frames"], needs=two)

    def leaving(d: Path) -> Path:
        frames = _example_frames()
        h = len(frames) // 2
        return _write_video(d / "leaves.mp4", frames[:h] + [np.full_like(frames[0], 40)] * (len(frames) - h))
    analyze_row("person leaving the picture", "warning", leaving)
    analyze_row("wrong view for the movement", "warning", lambda d: EXAMPLE, ["--movement", "hinge"])
    analyze_row("sideways video (no rotation tag)", "warning",
                lambda d: _write_video(d / "sideways.mp4", (np.ascontiguousarray(np.rot90(f)) for f in _example_frames())))

    # -- output folder faults
    if wanted("--out naming a file"):
        f = tmp / "a_file.txt"
        f.write_text("keep me\n")
        analyze_row("--out naming a file", "error", lambda d: EXAMPLE, out=f, earlier=False,
                    check=lambda row, out, so, se: setattr(row, "lost", out.read_text() != "keep me\n"))

    def mounted(name: str, opts: str) -> Path | None:
        m = tmp / name
        m.mkdir()
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(m)], capture_output=True)
        if res.returncode != 0:
            return None
        mounts.append(m)
        return m

    if wanted("read-only output folder"):
        ro = mounted("ro", "ro,size=1m")
        if ro is None:
            rows.append(Row("read-only output folder", "error", run=False, note="not run: needs root (mount)"))
        else:
            analyze_row("read-only output folder", "error", lambda d: EXAMPLE, out=ro / "out", earlier=False)
    if wanted("full disk"):
        full = mounted("full", "size=700k")
        if full is None:
            rows.append(Row("full disk part-way through the video", "error", run=False, note="not run: needs root"))
        else:
            (full / "out").mkdir()
            shutil.copy(good / "report.json", full / "out" / "report.json")
            before = _sha(full / "out" / "report.json")
            analyze_row("full disk part-way through the video", "error", lambda d: EXAMPLE, out=full / "out",
                        earlier=False,
                        check=lambda row, out, so, se: setattr(row, "lost", _sha(out / "report.json") != before and row.exit != 0))

    # -- bad configuration, one row per kind of mistake
    for label, text in [
        ('enabled = "false"', '[heel_lift]\nenabled = "false"\n'),
        ("caution = true", "[heel_lift]\ncaution = true\n"),
        ('views = "front"', '[knee_valgus]\nviews = "front"\n'),
        ("min_confidence = 7", "[knee_twist]\nmin_confidence = 7\n"),
        ("unknown key", "[heel_lift]\ncautoin = 0.2\n"),
        ("wrong schema", "schema = 2\n"),
        ("not TOML", "[heel_lift\n"),
    ]:
        if wanted(f"bad config: {label}"):
            case_cfg = tmp / f"cfg{len(rows):02d}.toml"
            case_cfg.write_text(text)
            analyze_row(f"bad config: {label}", "error", lambda d: EXAMPLE, ["--config", str(case_cfg)])

    # -- landmarks.csv and the model
    def bad_landmarks(d: Path) -> Path:  # a good analysis folder whose landmarks.csv is damaged
        folder = d / "analysis"
        shutil.copytree(good, folder)
        lines = (folder / "landmarks.csv").read_text().splitlines()
        lines[5] = lines[5].replace(",", ",abc,", 1)
        (folder / "landmarks.csv").write_text("\n".join(lines[:200]) + "\n")
        return folder
    if wanted("malformed landmarks.csv"):
        case = tmp / "lm"
        case.mkdir()
        folder = bad_landmarks(case)
        before = _sha(folder / "report.json")
        analyze_row("malformed landmarks.csv (report)", "error", None, out=folder, earlier=False,
                    cmd=[EXE, "report", str(folder)],
                    check=lambda row, out, so, se: setattr(row, "lost", _sha(out / "report.json") != before))

    def corrupt_model(d: Path) -> Path:
        from movescreen.pose.model import resolve_model

        data = bytearray(resolve_model().path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        (d / "pose.task").write_bytes(bytes(data))
        return EXAMPLE
    if wanted("corrupt model"):
        mdir = tmp / "corrupt_model"
        mdir.mkdir()
        corrupt_model(mdir)
        analyze_row("corrupt model (--model, a file with no manifest)", "error", lambda d: EXAMPLE,
                    ["--model", str(mdir / "pose.task")])
        from movescreen.pose.model import resolve_model

        bundle = tmp / "corrupt_bundle"
        bundle.mkdir()
        shutil.copy(resolve_model().path.parent / "manifest.json", bundle / "manifest.json")
        shutil.copy(mdir / "pose.task", bundle / "pose_landmarker_full.task")
        analyze_row("corrupt model (bundle copy with its manifest)", "error", lambda d: EXAMPLE,
                    ["--model", str(bundle / "pose_landmarker_full.task")])
        (mdir / "junk.task").write_bytes(os.urandom(5000))
        analyze_row("not a model file (--model)", "error", lambda d: EXAMPLE, ["--model", str(mdir / "junk.task")])
    analyze_row("missing model (MOVESCREEN_MODEL)", "error", lambda d: EXAMPLE,
                env={"MOVESCREEN_MODEL": str(tmp / "gone.task")})

    # -- camera faults (live, fake camera)
    analyze_row("no camera (live --camera 9)", "error", None, earlier=False,
                cmd=[EXE, "live", "--camera", "9", "--headless"])
    if wanted("camera lost mid-session"):
        # a faststart clip (index first) cut in half: it opens, plays, then stops delivering frames
        whole = _write_video(tmp / "feed_whole.mp4", _example_frames() * 3, faststart=True)
        cut = _put(tmp / "camera_feed.mp4", whole.read_bytes()[: whole.stat().st_size // 2])
        analyze_row("camera lost mid-session (live --source, feed cut)", "warning", None, earlier=False,
                    out=tmp / "live_rec", cmd=[EXE, "live", "--source", str(cut), "--headless", "--no-pace",
                                               "--record", str(tmp / "live_rec")])

    # -- interrupts
    long_clip = tmp / "long.mp4"
    interrupt_rows = [f"{w} in {c}" for w in ("Ctrl-C", "SIGTERM", "second Ctrl-C") for c in ("analyze", "batch")]
    if any(wanted(n) for n in (*interrupt_rows, "kill -9", "worker killed")):
        _looped(long_clip, 10)
    # signalled when the -v progress shows 30 frames analysed (not after a fixed delay); the second
    # Ctrl-C when the command says it is stopping
    progress = r"frames analysed: (\d+)"
    for label, sig, code, second in [("Ctrl-C in analyze", signal.SIGINT, 130, None),
                                     ("SIGTERM in analyze", signal.SIGTERM, 143, None),
                                     ("second Ctrl-C in analyze", signal.SIGINT, 130, "stopping at the next frame")]:
        out_a = tmp / f"a_{label[:6]}_{sig}"
        analyze_row(label, "interrupt", None, earlier=False, out=out_a,
                    cmd=[EXE, "-v", "analyze", str(long_clip), "--out", str(out_a), *FAST],
                    signal_when=(progress, 30, sig), second_when=second,
                    check=interrupt_check(code, at_once=second is not None))

    batch_in = tmp / "batch_in"
    if any(wanted(n) for n in (*interrupt_rows[1::2], "kill -9", "worker killed")):
        batch_in.mkdir()
        frames = _example_frames()
        _write_video(batch_in / "a.mp4", frames)
        _write_video(batch_in / "b_mirrored.mp4", [np.ascontiguousarray(f[:, ::-1]) for f in frames])
        _write_video(batch_in / "c_short.mp4", frames[: len(frames) * 2 // 3])
        shutil.copy(long_clip, batch_in / "d_long.mp4")
    # d_long is the largest file, so the one worker starts with it; signalled part-way through it
    for label, sig, code, second in [("Ctrl-C in batch", signal.SIGINT, 130, None),
                                     ("SIGTERM in batch", signal.SIGTERM, 143, None),
                                     ("second Ctrl-C in batch", signal.SIGINT, 130, "Interrupted: stopping")]:
        out_b = tmp / f"b_{label[:6]}_{sig}"
        analyze_row(label, "interrupt", None, earlier=False, out=out_b,
                    cmd=[EXE, "-v", "batch", str(batch_in), "--out", str(out_b), "--workers", "1", *FAST],
                    signal_when=(r"d_long.mp4: " + progress, 25, sig), second_when=second,
                    check=interrupt_check(code, at_once=second is not None))

    # -- kill -9 mid-batch, then resume: summaries identical to a clean run
    if wanted("kill -9"):
        small = tmp / "batch_small"
        small.mkdir()
        for p in sorted(batch_in.glob("[abc]*.mp4")):
            shutil.copy(p, small / p.name)
        clean = tmp / "clean_batch"
        t0 = time.perf_counter()
        _run([EXE, "batch", str(small), "--out", str(clean), "--workers", "1", *FAST])
        clean_s = time.perf_counter() - t0

        def summary(folder: Path) -> list[dict[str, str]]:
            try:
                with open(folder / "summary.csv", newline="") as f:
                    return [{k: v for k, v in r.items() if k not in ("processing_s", "output")} for r in csv.DictReader(f)]
            except OSError:
                return []
        reference = summary(clean)
        rng = random.Random(14)
        points = 3 if args.quick else 10
        same = 0
        t0 = time.perf_counter()
        for i in range(points):
            out = tmp / f"killed{i}"
            at = rng.uniform(0.5, max(1.0, clean_s))
            _run([EXE, "batch", str(small), "--out", str(out), "--workers", "1", *FAST], signal_after=(at, signal.SIGKILL))
            code, so, se = _run([EXE, "batch", str(small), "--out", str(out), "--workers", "1", *FAST])
            same += int(code == 0 and summary(out) == reference and bool(reference))
        row = Row("kill -9 mid-batch, then resume", "resume", exit=0,
                  sentence=f"{same}/{points} resumed summaries identical to a clean run", clear=same == points,
                  lost=same < points, seconds=time.perf_counter() - t0,
                  note=f"{len(ORPHANS)}/{points} killed batches left a worker running 2 s later" if ORPHANS else "")
        rows.append(row)

    # -- a worker killed mid-file
    if wanted("worker killed"):
        out = tmp / "worker_kill"
        proc = subprocess.Popen([EXE, "batch", str(batch_in), "--out", str(out), "--workers", "2", *FAST],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        t0 = time.perf_counter()
        killed, killed_cmd = None, ""
        while time.perf_counter() - t0 < 60 and proc.poll() is None and killed is None:
            time.sleep(0.5)
            kids = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
            # a worker, not multiprocessing's resource tracker
            workers = [int(k) for k in kids if "resource_tracker" not in _cmdline(int(k))]
            if workers and time.perf_counter() - t0 > 4:
                killed = workers[0]
                killed_cmd = _cmdline(killed)[:80]
                os.kill(killed, signal.SIGKILL)
        try:
            so, se = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            so, se = proc.communicate()
        row = Row("a batch worker killed mid-file (SIGKILL)", "error", exit=proc.returncode, seconds=time.perf_counter() - t0)
        rows.append(row)
        row.sentence = _sentence(se, so)
        row.files = _files(out)
        statuses = {}
        try:
            with open(out / "summary.csv", newline="") as f:
                statuses = {r["video"]: (r["status"], r.get("error", "")) for r in csv.DictReader(f)}
        except OSError:
            pass
        done = sum(1 for s, _ in statuses.values() if s == "ok")
        row.note = f"killed pid {killed} ({killed_cmd if killed else '-'}); summary: {done}/{len(list(batch_in.glob('*.mp4')))} ok; " + \
            "; ".join(f"{k}: {s} {e[:60]}" for k, (s, e) in statuses.items() if s != "ok")
        row.clear = killed is not None and "Traceback" not in se and len(statuses) == 4
        row.lost = done < 3

    # -- a hostile file name, through every output
    if wanted("hostile file name"):
        hostile = "<img src=x onerror=alert(1)> $(touch pwned); 'client' \"x\" \u00fc\u202e.mp4"
        case = tmp / "hostile"
        case.mkdir()
        shutil.copy(EXAMPLE, case / hostile)
        out = case / "out"
        analyze_row("hostile file name in every output", "ok", lambda d: case / hostile, out=out, earlier=False,
                    check=lambda row, out, so, se: _check_hostile(row, out, case))

    for m in mounts:
        subprocess.run(["umount", str(m)], capture_output=True)
    total_s = time.perf_counter() - t_all
    _print(rows, total_s)
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=2))
    if args.markdown:
        args.markdown.write_text(_markdown(rows, total_s))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _check_hostile(row: Row, out: Path, case: Path) -> None:
    problems = []
    html = out / "report.html"
    if html.is_file() and "<img src=x onerror" in html.read_text(errors="replace"):
        problems.append("report.html carries the name unescaped")
    if (case / "pwned").exists() or Path("pwned").exists():
        problems.append("the name was run by a shell")
    rj = out / "report.json"
    if not rj.is_file():
        problems.append("no report.json")
    row.clear = row.clear and not problems
    row.note = "; ".join(problems) or "name escaped in report.html, kept verbatim in report.json"


def _totals(rows: list[Row]) -> tuple[int, int, int, int]:
    ran = [r for r in rows if r.run]
    return len(ran), sum(r.clear for r in ran), sum(r.lost for r in ran), len(rows) - len(ran)


def _print(rows: list[Row], total_s: float) -> None:
    for r in rows:
        mark = "ok " if r.clear and not r.lost else ("-- " if not r.run else "NO ")
        print(f"{mark} {r.name:52s} exit {r.exit!s:>4}  lost {'YES' if r.lost else 'no ':3s}  {r.seconds:5.1f}s")
        if r.sentence:
            print(f"      {r.sentence[:230]}")
        print(f"      files: {_short_files(r.files)}" + (f"   note: {r.note}" if r.note else ""))
    tried, clear, lost, skipped = _totals(rows)
    print(f"\nbad inputs tried {tried} / clear sentences {clear} / results lost {lost}"
          f"{f' ({skipped} not run)' if skipped else ''}; {total_s:.0f} s")


def _markdown(rows: list[Row], total_s: float) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")
    lines = ["| input or fault | exit | the sentence | clear | files left | lost | note |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {esc(r.name)} | {r.exit if r.run else '-'} | {esc(r.sentence[:220])} | "
                     f"{'yes' if r.clear else ('not run' if not r.run else '**no**')} | {esc(_short_files(r.files))} | "
                     f"{'**yes**' if r.lost else 'no'} | {esc(r.note)} |")
    tried, clear, lost, skipped = _totals(rows)
    lines.append("")
    lines.append(f"**Totals: bad inputs tried {tried} / clear sentences {clear} / results lost {lost}**"
                 f"{f' ({skipped} not run)' if skipped else ''}; the whole run took {total_s:.0f} s.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
