"""Annotators: each takes a BGR frame and data and returns a NEW frame (``copy=False``: draws on
the given frame and returns it, for a caller that made its own copy once). None computes kinematics;
the numbers drawn are the ones in the analysis folder.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from movescreen.landmarks import SKELETON_EDGE_INDICES
from movescreen.render.joints import (
    JOINT_POINTS,
    RULE_COMPENSATION,
    SEVERITY_BGR,
    arc_geometry_for,
    fill_side,
    label_anchor_for,
    point_xy,
    short_label,
    split_side,
)

Image = npt.NDArray[np.uint8]
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
SKELETON_BGR = (80, 220, 80)
ARC_BGR = (0, 220, 255)


def ui_scale(image: Image) -> float:
    """Line and text scale for a frame: 1.0 for a 720-pixel short side."""
    return max(0.45, min(image.shape[:2]) / 720.0)


def _pt(xy: tuple[float, float]) -> tuple[int, int]:
    return round(xy[0]), round(xy[1])


def put_text(
    image: Image,
    text: str,
    org: tuple[float, float],
    *,
    color: tuple[int, int, int] = WHITE,
    scale: float = 1.0,
    background: bool = False,
) -> Image:
    """Write ``text`` at ``org`` (bottom-left, pixels) with a dark outline; returns the input.

    Draws in place on ``image``: callers pass a copy (every public annotator copies first).
    Non-ASCII characters are dropped because cv2's Hershey fonts cannot draw them.
    """
    text = text.encode("ascii", "replace").decode("ascii")
    font, fs = cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale
    thick = max(1, round(1.5 * scale))
    x, y = _pt(org)
    if background:
        (tw, th), base = cv2.getTextSize(text, font, fs, thick)
        pad = int(4 * scale)
        cv2.rectangle(image, (x - pad, y - th - pad), (x + tw + pad, y + base + pad), (30, 30, 30), -1)
    else:
        cv2.putText(image, text, (x, y), font, fs, BLACK, thick + 2 * max(1, int(scale)), cv2.LINE_AA)
    cv2.putText(image, text, (x, y), font, fs, color, thick, cv2.LINE_AA)
    return image


def draw_skeleton(image: Image, row_xyz: npt.NDArray[np.floating], *, copy: bool = True) -> Image:
    """Skeleton lines and joint dots.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), uint8
        BGR frame (not modified).
    row_xyz : ndarray, shape (33, 3)
        Image landmarks in pixels for this frame; NaN points and their edges are skipped.
    """
    out = image.copy() if copy else image
    s = ui_scale(out)
    xy = row_xyz[:, :2]
    ok = np.isfinite(xy).all(axis=1)
    for a, b in SKELETON_EDGE_INDICES:
        if ok[a] and ok[b]:
            cv2.line(out, _pt(xy[a]), _pt(xy[b]), SKELETON_BGR, max(1, int(3 * s)), cv2.LINE_AA)
    for j in np.flatnonzero(ok):
        if j > 10:  # face points stay undrawn: they would mark the face we may be blurring
            cv2.circle(out, _pt(xy[j]), max(2, int(4 * s)), WHITE, -1, cv2.LINE_AA)
    return out


def draw_angle_labels(
    image: Image, row_xyz: npt.NDArray[np.floating], values: dict[str, float], *, copy: bool = True
) -> Image:
    """Write each angle value next to its joint (``knee 95``).

    Parameters
    ----------
    values : dict[str, float]
        Angle column -> value in degrees (or a ratio for ``*_ratio`` columns); NaN is skipped,
        as are columns with no joint to anchor to.
    """
    out = image.copy() if copy else image
    s = ui_scale(out)
    used: list[tuple[float, float]] = []
    xs = row_xyz[:, 0][np.isfinite(row_xyz[:, 0])]
    centre_x = float(np.median(xs)) if xs.size else out.shape[1] / 2
    for col, v in values.items():
        if not np.isfinite(v):
            continue
        anchor = label_anchor_for(col)
        xy = point_xy(anchor, row_xyz) if anchor else None
        if xy is None:
            continue
        # push labels of the same joint apart instead of stacking them
        dy = 22 * s * sum(1 for u in used if abs(u[0] - xy[0]) < 40 * s and abs(u[1] - xy[1]) < 20 * s)
        used.append(xy)
        unit = "" if "_ratio" in col else " deg"
        fmt = f"{v:.2f}" if "_ratio" in col else f"{v:.0f}"
        text = f"{short_label(col)} {fmt}{unit}"
        x = xy[0] + 12 * s
        if xy[0] < centre_x:  # joints left of the body centre get their label on the left
            (tw, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.6 * s * 0.9, 2)
            x = xy[0] - 12 * s - tw
        put_text(out, text, (max(2.0, x), xy[1] + dy), scale=s * 0.9)
    return out


def draw_rep_banner(image: Image, text_lines: list[str], *, copy: bool = True) -> Image:
    """Lines of status text in the top-left corner (rep number, phase, time)."""
    out = image.copy() if copy else image
    s = ui_scale(out)
    for i, line in enumerate(text_lines):
        put_text(out, line, (10 * s, (30 + 30 * i) * s), scale=s * 1.1, background=True)
    return out


def _highlight_joint(
    out: Image, row_xyz: npt.NDArray[np.floating], joint: str, side: str, color: tuple[int, int, int]
) -> bool:
    points, segments = JOINT_POINTS.get(joint, ((), ()))
    s = ui_scale(out)
    drawn = False
    for a_name, b_name in segments:
        for a, b in zip(fill_side(a_name, side), fill_side(b_name, side)):
            pa, pb = point_xy(a, row_xyz), point_xy(b, row_xyz)
            if pa and pb:
                cv2.line(out, _pt(pa), _pt(pb), color, max(2, int(7 * s)), cv2.LINE_AA)
                drawn = True
    for name in points:
        for n in fill_side(name, side):
            p = point_xy(n, row_xyz)
            if p:
                cv2.circle(out, _pt(p), max(6, int(16 * s)), color, max(2, int(4 * s)), cv2.LINE_AA)
                drawn = True
    return drawn


def finding_title(finding: dict[str, Any]) -> str:
    """``"FLAG knee valgus (left), rep 2"``."""
    rule = str(finding.get("rule", "finding")).replace("_", " ")
    side = finding.get("side")
    side_txt = f" ({side})" if side in ("left", "right", "both") else ""
    rep = finding.get("rep")
    rep_txt = f", rep {rep}" if rep is not None else ""
    return f"{str(finding.get('severity', 'note')).upper()} {rule}{side_txt}{rep_txt}"


def draw_finding(
    image: Image, row_xyz: npt.NDArray[np.floating] | None, finding: dict[str, Any], *, line: int = 0,
    copy: bool = True,
) -> Image:
    """Highlight the compensating joint of a finding and write its title at the bottom.

    Parameters
    ----------
    finding : dict
        A finding from ``report.json`` (``rule``, ``severity``, ``side``, ``rep`` ...).
    line : int
        Which text line from the bottom, when several findings cover the same frame.
    """
    out = image.copy() if copy else image
    s = ui_scale(out)
    color = SEVERITY_BGR.get(str(finding.get("severity")), SEVERITY_BGR["note"])
    comp = RULE_COMPENSATION.get(str(finding.get("rule")))
    if comp is not None and row_xyz is not None:
        for joint in comp.compensating:
            _highlight_joint(out, row_xyz, joint, str(finding.get("side") or "both"), color)
    h = out.shape[0]
    put_text(out, finding_title(finding), (10 * s, h - (18 + 34 * line) * s), color=color,
             scale=s * 1.1, background=True)
    return out


def _direction(
    ref: str, vertex: tuple[float, float], row_xyz: npt.NDArray[np.floating], side: str
) -> tuple[float, float] | None:
    if ref == "up":
        return (0.0, -1.0)
    extend = ref.startswith("extend:")
    name = ref.split(":", 1)[1] if extend else ref
    names = fill_side(name, side)
    p = point_xy(names[0], row_xyz) if names else None
    if p is None:
        return None
    d = (vertex[0] - p[0], vertex[1] - p[1]) if extend else (p[0] - vertex[0], p[1] - vertex[1])
    n = math.hypot(*d)
    return None if n < 1e-6 else (d[0] / n, d[1] / n)


def draw_angle_arc(
    image: Image,
    row_xyz: npt.NDArray[np.floating],
    column: str,
    value: float,
    *,
    threshold: float | None = None,
    unit: str = "deg",
    color: tuple[int, int, int] = ARC_BGR,
    label_line: int = 0,
) -> Image:
    """Draw the angle of ``column`` as an arc at its joint with its value (and threshold).

    ``label_line`` moves the value label down by that many text lines, so the labels of several
    arcs drawn on one frame (e.g. both knees in a front view) do not cover each other.

    The arc runs from the reference direction (the continued proximal segment for flexion
    angles, so a straight limb is 0; the vertical for trunk angles) to the moving segment.
    Only the geometry comes from the landmarks; the number written is ``value`` as measured.
    When the column has no simple geometry (e.g. a back-contour estimate), only the text is
    written, at the top of the frame.
    """
    out = image.copy()
    s = ui_scale(out)
    unit_txt = " deg" if unit == "deg" else f" {unit}" if unit and unit != "ratio" else ""
    fmt = (lambda v: f"{v:.2f}") if unit == "ratio" or "_ratio" in column else (lambda v: f"{v:.1f}")
    side_name, _ = split_side(column)
    name = {"left": "L ", "right": "R "}.get(side_name, "") + short_label(column)
    text = f"{name} {fmt(value)}{unit_txt}" if np.isfinite(value) else f"{name} n/a"
    if threshold is not None and np.isfinite(threshold):
        text += f" (threshold {fmt(threshold)}{unit_txt})"
    geo = arc_geometry_for(column)
    anchor: tuple[float, float] | None = None
    if geo is not None:
        side, g = geo
        v_names = fill_side(g.vertex, side)
        vertex = point_xy(v_names[0], row_xyz) if v_names else None
        if vertex is not None:
            d_ref = _direction(g.reference, vertex, row_xyz, side)
            d_mov = _direction(g.moving, vertex, row_xyz, side)
            if d_ref is not None and d_mov is not None:
                r = 60 * s
                a0 = math.degrees(math.atan2(d_ref[1], d_ref[0]))
                a1 = math.degrees(math.atan2(d_mov[1], d_mov[0]))
                sweep = (a1 - a0 + 180) % 360 - 180  # shortest way round
                tip = (vertex[0] + d_ref[0] * r * 1.6, vertex[1] + d_ref[1] * r * 1.6)
                _dashed_line(out, vertex, tip, color, max(1, int(2 * s)))
                cv2.ellipse(out, _pt(vertex), (int(r), int(r)), 0, a0, a0 + sweep, color,
                            max(2, int(4 * s)), cv2.LINE_AA)
                cv2.circle(out, _pt(vertex), max(3, int(6 * s)), color, -1, cv2.LINE_AA)
                mid = math.radians(a0 + sweep / 2)
                anchor = (vertex[0] + math.cos(mid) * r * 1.25, vertex[1] + math.sin(mid) * r * 1.25)
    if anchor is None:
        anchor = (10 * s, out.shape[0] * 0.12)
    # keep the label inside the frame
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.6 * s * 1.1, 2)
    x = min(max(4.0, anchor[0]), out.shape[1] - tw - 8)
    y = min(max(24 * s, anchor[1] + label_line * (th + 14 * s)), out.shape[0] - 8)
    put_text(out, text, (x, y), color=color, scale=s * 1.1, background=True)
    return out


def _dashed_line(
    out: Image, a: tuple[float, float], b: tuple[float, float], color: tuple[int, int, int], thick: int
) -> None:
    n = 10
    for i in range(0, n, 2):
        p = (a[0] + (b[0] - a[0]) * i / n, a[1] + (b[1] - a[1]) * i / n)
        q = (a[0] + (b[0] - a[0]) * (i + 1) / n, a[1] + (b[1] - a[1]) * (i + 1) / n)
        cv2.line(out, _pt(p), _pt(q), color, thick, cv2.LINE_AA)


def phase_at(reps: list[dict[str, Any]], frame: int, fps: float) -> tuple[dict[str, Any] | None, str]:
    """The rep covering source frame ``frame`` and its phase.

    The phase is 'descent' from the rep's start to its bottom, 'bottom' within half the rep's
    ``tempo.bottom_s`` (at least one frame) of its bottom frame, 'ascent' after; outside every
    rep it is 'between reps'.
    """
    for rep in reps:
        try:
            start, bottom, end = int(rep["start_frame"]), int(rep["bottom_frame"]), int(rep["end_frame"])
        except (KeyError, TypeError, ValueError):
            continue
        if start <= frame <= end:
            tempo = rep.get("tempo") or {}
            bottom_s = tempo.get("bottom_s", tempo.get("pause_s"))
            half = 0
            if isinstance(bottom_s, (int, float)) and np.isfinite(bottom_s) and fps > 0:
                half = round(bottom_s * fps / 2)
            if abs(frame - bottom) <= max(half, 0):
                return rep, "bottom"
            return rep, "descent" if frame < bottom else "ascent"
    return None, "between reps"
