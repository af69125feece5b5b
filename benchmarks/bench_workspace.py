"""Load on the review workspace (loopback only): N concurrent clients read review pages and write
verdicts for D seconds against `movescreen serve` on SQLite; prints p50/p95/max latency and errors,
the server's own time per request (its Server-Timing header: the rest is waiting for a CPU and the
client threads' own work) and the machine's load average.

    python benchmarks/bench_workspace.py [--clients 20] [--seconds 30] [--folder ANALYSIS_FOLDER]

Without --folder the example clip is analysed once (the real model) into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--folder", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    from tests.workspace.conftest import Server

    tmp = Path(tempfile.mkdtemp(prefix="bench_ws_"))
    folder = args.folder
    if folder is None:
        from movescreen.pipeline import AnalyzeOptions, run_analysis

        folder = tmp / "example"
        run_analysis(REPO / "fixtures/videos/squat_front_banded_bodyweight_01.mp4", folder,
                     AnalyzeOptions())
        rep = json.loads((folder / "report.json").read_text())
        if not rep.get("findings"):  # the example shows no compensation: give it findings to judge
            rep["findings"] = [{"id": f"knee_valgus-r{r['index']}-right", "rule": "knee_valgus",
                                "severity": "caution", "rep": r["index"], "side": "right",
                                "frame_start": r["start_frame"], "frame_end": r["end_frame"],
                                "worst_frame": r["bottom_frame"], "value": 11.0, "threshold": 8.0,
                                "unit": "deg"} for r in rep.get("reps", [])]
            (folder / "report.json").write_text(json.dumps(rep))
    s = Server(tmp / "data")
    for _ in range(3):
        s.cli("import", str(folder), "--client", "bench")
    s.start()
    try:
        c0 = s.client()
        sessions = c0.get("/api/clients/1/sessions").json()
        fids = [f["id"] for x in sessions for f in c0.get(f"/api/sessions/{x['id']}").json()["findings"]]
        lat: dict[str, list[float]] = {"page": [], "verdict": []}
        server: list[float] = []  # the server's own time per request (Server-Timing header)
        errors: list[str] = []
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds

        def worker(i: int) -> None:
            c = s.client()
            rnd = random.Random(i)
            while time.monotonic() < stop:
                if rnd.random() < 0.5:
                    kind, t0 = "page", time.perf_counter()
                    r = c.get(f"/sessions/{rnd.choice(sessions)['id']}")
                else:
                    kind, t0 = "verdict", time.perf_counter()
                    r = c.put(f"/api/findings/{rnd.choice(fids)}/verdict",
                              json={"verdict": rnd.choice(["agree", "disagree", "unsure"]),
                                    "note": f"bench {i}"})
                dt = time.perf_counter() - t0
                st = r.headers.get("server-timing", "")
                with lock:
                    lat[kind].append(dt)
                    if st.startswith("app;dur="):
                        server.append(float(st[8:]) / 1000)
                    if r.status_code != 200:
                        errors.append(f"{kind} {r.status_code}")

        ts = [threading.Thread(target=worker, args=(i,)) for i in range(args.clients)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    finally:
        s.stop()
    allv = lat["page"] + lat["verdict"]

    def q(xs: list[float], p: float) -> float:
        return 1000 * statistics.quantiles(xs, n=100)[int(p) - 1] if len(xs) > 1 else float("nan")

    out = {"clients": args.clients, "seconds": args.seconds, "requests": len(allv),
           "errors": len(errors), "rps": len(allv) / args.seconds,
           "p50_ms": q(allv, 50), "p95_ms": q(allv, 95), "max_ms": 1000 * max(allv),
           "page_p95_ms": q(lat["page"], 95), "verdict_p95_ms": q(lat["verdict"], 95),
           "server_p50_ms": q(server, 50), "server_p95_ms": q(server, 95),
           "load_average_1min": _loadavg()}
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0 if not errors else 1


def _loadavg() -> float | None:
    """The machine's 1-minute load average at the end (the number to read the latency with)."""
    try:
        import os

        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


if __name__ == "__main__":
    sys.exit(main())
