"""Small server-side SVG plots (no JavaScript library, nothing from the network)."""

from __future__ import annotations

import csv
import functools
import json
import math
from html import escape
from pathlib import Path
from typing import Any

COLOURS = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989"]


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"


def line_plot(series: dict[str, list[tuple[float, float]]], *, title: str, xlabel: str,
              ylabel: str, xticks: list[tuple[float, str]] | None = None, width: int = 560,
              height: int = 220, marks: list[tuple[float, float]] | None = None) -> str:
    pts = [p for s in series.values() for p in s if math.isfinite(p[1])]
    w, h, l, r, t, b = width, height, 50, 10, 24, 34  # noqa: E741 (left margin)
    out = [f'<svg class="plot" viewBox="0 0 {w} {h}" role="img" aria-label="{escape(title)}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
           f'<text x="{l}" y="15" class="ptitle">{escape(title)}</text>']
    if not pts:
        out.append(f'<text x="{l}" y="{h / 2}">no data</text></svg>')
        return "".join(out)
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1
    pad = (y1 - y0) * 0.08
    y0, y1 = y0 - pad, y1 + pad

    def X(x: float) -> float:
        return l + (x - x0) / (x1 - x0) * (w - l - r)

    def Y(y: float) -> float:
        return t + (1 - (y - y0) / (y1 - y0)) * (h - t - b)

    out.append(f'<line x1="{l}" y1="{h - b}" x2="{w - r}" y2="{h - b}" class="axis"/>'
               f'<line x1="{l}" y1="{t}" x2="{l}" y2="{h - b}" class="axis"/>')
    for k in range(5):
        yv = y0 + (y1 - y0) * k / 4
        out.append(f'<text x="{l - 4}" y="{Y(yv) + 4:.1f}" class="tick" text-anchor="end">{_fmt(yv)}</text>')
    for xv, lab in (xticks or [(x0, _fmt(x0)), (x1, _fmt(x1))]):
        out.append(f'<text x="{X(xv):.1f}" y="{h - b + 14}" class="tick" text-anchor="middle">{escape(lab)}</text>')
    out.append(f'<text x="{(l + w) / 2}" y="{h - 4}" class="tick" text-anchor="middle">{escape(xlabel)}</text>')
    out.append(f'<text x="12" y="{(t + h - b) / 2}" class="tick" transform="rotate(-90 12 {(t + h - b) / 2})" text-anchor="middle">{escape(ylabel)}</text>')
    for (x, y) in marks or []:
        out.append(f'<rect x="{X(x):.1f}" y="{t}" width="{max(1.0, X(y) - X(x)):.1f}" height="{h - t - b}" class="mark"/>')
    for i, (name, s) in enumerate(series.items()):
        c = COLOURS[i % len(COLOURS)]
        segs, cur = [], []
        for x, y in s:
            if math.isfinite(y):
                cur.append(f"{X(x):.1f},{Y(y):.1f}")
            elif cur:
                segs.append(cur)
                cur = []
        if cur:
            segs.append(cur)
        for seg in segs:
            out.append(f'<polyline fill="none" stroke="{c}" stroke-width="1.6" points="{" ".join(seg)}"/>')
        if len(s) <= 40:
            for x, y in s:
                if math.isfinite(y):
                    out.append(f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="3" fill="{c}"/>')
        out.append(f'<text x="{w - r - 4}" y="{t + 12 + 13 * i}" text-anchor="end" fill="{c}" class="tick">{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def angle_plots(angles_csv: Path, fps: float, reps: list[dict[str, Any]]) -> list[str]:
    """The review page's angle plots, cached per file version (an analysis folder in the
    workspace never changes, and reading the CSV was most of a review page's time)."""
    try:
        st = angles_csv.stat()
    except OSError:
        return []
    key = json.dumps([(r.get("start_frame"), r.get("end_frame")) for r in reps], default=str)
    return list(_angle_plots(str(angles_csv), st.st_mtime_ns, st.st_size, fps, key))


@functools.lru_cache(maxsize=64)
def _angle_plots(path: str, _mtime_ns: int, _size: int, fps: float, reps_key: str) -> tuple[str, ...]:
    bounds = json.loads(reps_key)
    return tuple(_angle_plots_uncached(Path(path), fps, [{"start_frame": a, "end_frame": b}
                                                          for a, b in bounds]))


def _angle_plots_uncached(angles_csv: Path, fps: float, reps: list[dict[str, Any]]) -> list[str]:
    if not angles_csv.is_file():
        return []
    with open(angles_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return []
    cols = [c for c in rows[0] if c.endswith("_deg")]
    groups: dict[str, list[str]] = {}
    for c in cols:
        base = c.replace("left_", "").replace("right_", "")
        groups.setdefault(base, []).append(c)
    marks = []
    for r in reps:
        if isinstance(r, dict) and r.get("start_frame") is not None and r.get("end_frame") is not None:
            marks.append((float(r["start_frame"]), float(r["end_frame"])))
    out = []
    for base, names in list(groups.items())[:8]:
        series = {}
        for c in names:
            pts = []
            for row in rows:
                try:
                    pts.append((float(row["frame"]), float(row[c]) if row[c] != "" else math.nan))
                except (KeyError, ValueError):
                    continue
            series[c.split("_")[0] if c.startswith(("left_", "right_")) else "value"] = pts
        out.append(line_plot(series, title=base.replace("_", " "), xlabel="frame",
                             ylabel="deg", marks=marks))
    return out
