"""Angle-over-time plots as inline SVG strings (no plotting library, no script).

Every text that goes into the SVG is escaped; numbers are formatted here.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from html import escape

import numpy as np
import numpy.typing as npt

from movescreen.render.joints import SEVERITY_CSS, split_side

SIDE_CSS = {"left": "#1d4ed8", "right": "#ea580c", "none": "#111827"}


@dataclass(frozen=True)
class Threshold:
    """A horizontal line on a plot: a finding's threshold (and its worst point)."""

    value: float
    label: str
    severity: str = "note"
    worst_time_s: float | None = None
    worst_value: float | None = None


@dataclass(frozen=True)
class RepSpan:
    """One rep on the time axis, in seconds."""

    index: int
    start_s: float
    bottom_s: float
    end_s: float


@dataclass(frozen=True)
class Series:
    """One line: ``label`` values over ``time_s`` (NaN breaks the line)."""

    label: str
    time_s: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]
    color: str = "#111827"


@dataclass
class PlotSpec:
    """Everything one plot shows."""

    title: str
    unit: str
    series: list[Series]
    reps: list[RepSpan] = field(default_factory=list)
    thresholds: list[Threshold] = field(default_factory=list)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering [lo, hi].

    >>> nice_ticks(0, 100)
    [0, 20, 40, 60, 80, 100]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else [0.0]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-9:
        if t >= lo - step * 1e-9:
            ticks.append(round(t, 10))
        t += step
    return ticks


def format_tick(value: float, ticks: list[float]) -> str:
    """A tick label with just enough decimals to tell neighbouring ticks apart.

    >>> [format_tick(v, [11.5, 11.75, 12.0]) for v in (11.5, 11.75, 12.0)]
    ['11.50', '11.75', '12.00']
    >>> format_tick(20.0, [0.0, 20.0])
    '20'
    """
    step = min((abs(b - a) for a, b in itertools.pairwise(ticks) if b != a), default=1.0)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
    if step * 10**decimals % 1 > 1e-6:
        decimals += 1
    return f"{value:.{decimals}f}"


def render_svg(spec: PlotSpec, *, width: int = 760, height: int = 260) -> str:
    """An SVG line plot with rep spans, rep bottoms, threshold lines and worst points.

    Returns
    -------
    str
        ``<svg>`` markup sized by ``viewBox`` (it scales to its container).
    """
    left, right, top, bottom = 52, 12, 26, 34
    pw, ph = width - left - right, height - top - bottom
    times = np.concatenate([s.time_s for s in spec.series]) if spec.series else np.array([0.0, 1.0])
    vals = np.concatenate([s.values for s in spec.series]) if spec.series else np.array([0.0])
    extra = [t.value for t in spec.thresholds if math.isfinite(t.value)]
    finite = vals[np.isfinite(vals)]
    if finite.size == 0 and not extra:
        finite = np.array([0.0, 1.0])
    y_lo = float(min([*finite.tolist(), *extra]))
    y_hi = float(max([*finite.tolist(), *extra]))
    pad = max(1e-6, (y_hi - y_lo) * 0.08) if y_hi > y_lo else 1.0
    y_lo, y_hi = y_lo - pad, y_hi + pad
    ft = times[np.isfinite(times)]
    t_lo, t_hi = (float(ft.min()), float(ft.max())) if ft.size else (0.0, 1.0)
    if t_hi <= t_lo:
        t_hi = t_lo + 1.0

    def x(t: float) -> float:
        return left + (t - t_lo) / (t_hi - t_lo) * pw

    def y(v: float) -> float:
        return top + (y_hi - v) / (y_hi - y_lo) * ph

    parts = [
        (f'<svg class="plot" viewBox="0 0 {width} {height}" role="img" '
         f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(spec.title)}">'),
        f'<title>{escape(spec.title)}</title>',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#d1d5db"/>',
    ]
    for i, rep in enumerate(spec.reps):
        x0, x1 = x(rep.start_s), x(rep.end_s)
        fill = "#eef2ff" if i % 2 == 0 else "#f5f3ff"
        parts.append(f'<rect x="{x0:.1f}" y="{top}" width="{max(0.5, x1 - x0):.1f}" height="{ph}" fill="{fill}"/>')
        parts.append(f'<line x1="{x0:.1f}" x2="{x0:.1f}" y1="{top}" y2="{top + ph}" stroke="#6366f1" stroke-width="1"/>')
        parts.append(f'<line x1="{x(rep.bottom_s):.1f}" x2="{x(rep.bottom_s):.1f}" y1="{top}" y2="{top + ph}" '
                     f'stroke="#6366f1" stroke-dasharray="2 3"/>')
        parts.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{top - 6}" text-anchor="middle" class="rep">rep {rep.index}</text>')
    y_ticks = nice_ticks(y_lo, y_hi)
    for tick in y_ticks:
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
                     f'{format_tick(tick, y_ticks)}</text>')
    t_ticks = nice_ticks(t_lo, t_hi, 8)
    for tick in t_ticks:
        parts.append(f'<text x="{x(tick):.1f}" y="{top + ph + 16}" text-anchor="middle">'
                     f'{format_tick(tick, t_ticks)}</text>')
    parts.append(f'<text x="{left + pw / 2}" y="{height - 2}" text-anchor="middle">time (s)</text>')
    parts.append(f'<text x="12" y="{top + ph / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 12 {top + ph / 2})">{escape(spec.unit)}</text>')
    for s in spec.series:
        for seg in _segments(s.time_s, s.values):
            pts = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in seg)
            if len(seg) == 1:
                parts.append(f'<circle cx="{x(seg[0][0]):.1f}" cy="{y(seg[0][1]):.1f}" r="2" fill="{s.color}"/>')
            else:
                parts.append(f'<polyline points="{pts}" fill="none" stroke="{s.color}" stroke-width="2"/>')
    for th in spec.thresholds:
        color = SEVERITY_CSS.get(th.severity, "#6b7280")
        yy = y(th.value)
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{color}" '
                     f'stroke-width="1.5" stroke-dasharray="6 4"/>')
        parts.append(f'<text x="{left + pw - 4}" y="{yy - 4:.1f}" text-anchor="end" fill="{color}">'
                     f'{escape(th.label)}</text>')
        if th.worst_time_s is not None and th.worst_value is not None and math.isfinite(th.worst_value):
            parts.append(f'<circle cx="{x(th.worst_time_s):.1f}" cy="{y(th.worst_value):.1f}" r="5" '
                         f'fill="none" stroke="{color}" stroke-width="2"/>')
    # legend
    lx = left + 6
    for s in spec.series:
        parts.append(f'<rect x="{lx}" y="{top + 6}" width="12" height="4" fill="{s.color}"/>')
        parts.append(f'<text x="{lx + 16}" y="{top + 12}" class="legend">{escape(s.label)}</text>')
        lx += 24 + 7 * len(s.label)
    parts.append("</svg>")
    return "\n".join(parts)


def _segments(t: npt.NDArray[np.float64], v: npt.NDArray[np.float64]) -> list[list[tuple[float, float]]]:
    ok = np.isfinite(t) & np.isfinite(v)
    segs: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    for ti, vi, oi in zip(t.tolist(), v.tolist(), ok.tolist()):
        if oi:
            cur.append((ti, vi))
        elif cur:
            segs.append(cur)
            cur = []
    if cur:
        segs.append(cur)
    return segs


def group_columns(columns: list[str]) -> dict[str, list[str]]:
    """Left and right versions of a column share one plot: ``{"knee_flexion_image_deg": [...]}``.

    >>> group_columns(["left_knee_flexion_image_deg", "trunk_inclination_image_deg",
    ...                "right_knee_flexion_image_deg"])
    {'knee_flexion_image_deg': ['left_knee_flexion_image_deg', 'right_knee_flexion_image_deg'], 'trunk_inclination_image_deg': ['trunk_inclination_image_deg']}
    """
    groups: dict[str, list[str]] = {}
    for c in columns:
        groups.setdefault(split_side(c)[1], []).append(c)
    return groups
