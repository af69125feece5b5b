"""Background analysis jobs: rows in the database, run one at a time in a subprocess (so the
server stays responsive and a crash in the pipeline cannot take it down), or on a Dask cluster."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select

from movescreen.workspace.db import Client, Job, utcnow


def recover(maker: Any) -> None:
    """After a restart: jobs that were running are queued again (they resume from the start)."""
    with maker.begin() as db:
        for job in db.scalars(select(Job).where(Job.status == "running")):
            if job.attempts >= 2:
                job.status = "failed"
                job.message = ("The server stopped twice while this video was being analysed; "
                               "it was not retried again. Upload it again to retry.")
            else:
                job.status = "queued"
                job.progress = 0.0
                job.message = "The server restarted while this video was being analysed; it is analysed again."
            job.updated_at = utcnow()


class Worker:
    def __init__(self, maker: Any, data_dir: Path, dask: str | None = None) -> None:
        self.maker, self.data_dir, self.dask = maker, data_dir, dask
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="movescreen-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self.maker.begin() as db:
                job = db.scalars(select(Job).where(Job.status == "queued").order_by(Job.id)).first()
                if job is not None:
                    job.status, job.attempts, job.updated_at = "running", job.attempts + 1, utcnow()
                    job_id = job.id
            if job is None:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            try:
                self._run(job_id)
            except Exception as e:  # a job failure must not stop the worker
                self._finish(job_id, "failed", f"The analysis failed: {e}")

    def _set(self, job_id: int, **kw: Any) -> None:
        with self.maker.begin() as db:
            job = db.get(Job, job_id)
            if job is not None:
                for k, v in kw.items():
                    setattr(job, k, v)
                job.updated_at = utcnow()

    def _finish(self, job_id: int, status: str, message: str, session_id: int | None = None) -> None:
        self._set(job_id, status=status, message=message, session_id=session_id,
                  progress=1.0 if status == "done" else 0.0)

    def _run(self, job_id: int) -> None:
        with self.maker() as db:
            job = db.get(Job, job_id)
            sha, movement, name, client_id, date = (job.video_sha256, job.movement,
                                                    job.video_name, job.client_id, job.entered_date)
        video = self.data_dir / "videos" / f"{sha}.video"
        out = self.data_dir / "work" / f"job{job_id}"
        import shutil

        shutil.rmtree(out, ignore_errors=True)  # a resumed job starts again from nothing
        if self.dask:
            from distributed import Client as DaskClient

            with DaskClient(self.dask, timeout=30) as dc:
                fut = dc.submit(_analyse_quiet, str(video), str(out), movement, pure=False)
                err = fut.result()
        else:
            cmd = [sys.executable, "-m", "movescreen.workspace.jobs", str(video), str(out), movement]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    preexec_fn=_die_with_parent if sys.platform == "linux" else None)
            assert proc.stdout is not None
            err = ""
            for line in proc.stdout:
                msg = json.loads(line)
                if "progress" in msg:
                    self._set(job_id, progress=float(msg["progress"]))
                if "error" in msg:
                    err = msg["error"]
            proc.wait()
            if proc.returncode and not err:
                err = (proc.stderr.read() if proc.stderr else "").strip().splitlines()[-1:] or ["?"]
                err = f"The analysis process stopped (exit {proc.returncode}): {err[0]}"
        if err:
            self._finish(job_id, "failed", err)
            return
        from movescreen.workspace.store import import_folder, stage_folder

        staged = stage_folder(self.data_dir, out)  # the copy, outside the write transaction
        with self.maker.begin() as db:
            client = db.get(Client, client_id)
            if client is None:
                return
            sess = import_folder(db, self.data_dir, out, client, date=date, video=video,
                                 source_name=name, staged=staged)
            sid = sess.id
        self._finish(job_id, "done", "Analysed.", session_id=sid)


def _die_with_parent() -> None:
    """Linux: the analysis process is killed when the server dies (even by kill -9), so a
    restarted server never races an orphan writing the same folder."""
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _analyse_quiet(video: str, out: str, movement: str) -> str:
    from movescreen.pipeline import AnalyzeOptions, run_analysis

    try:
        run_analysis(video, out, AnalyzeOptions(movement=movement))
    except Exception as e:
        return f"The analysis failed: {e}"
    return ""


def _main(argv: list[str]) -> int:
    video, out, movement = argv
    from movescreen.pipeline import AnalyzeOptions, run_analysis

    total, done = [0], [0]

    def on_start(info: Any) -> None:
        total[0] = int(getattr(info, "frame_count", 0) or 0)

    def progress(n: int) -> None:  # n frames more (as tqdm's update)
        done[0] += n
        if total[0]:
            print(json.dumps({"progress": min(0.99, done[0] / total[0])}), flush=True)

    try:
        run_analysis(video, out, AnalyzeOptions(movement=movement), progress=progress,
                     on_start=on_start)
    except Exception as e:
        print(json.dumps({"error": f"The analysis failed: {e}"}), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
