"""Hip rotation measures for the seated rotation test, the figure-4 and the 90/90 position.

Pure, NaN-aware functions on a :class:`~movescreen.types.LandmarkSequence` (or its arrays);
every angle is in degrees. Conventions (front view, the person faces the camera, image y down):

* **Shin angle** (frontal plane, per side): the angle of knee -> ankle from the downward
  vertical, signed by side: positive when the ankle is *lateral* to the knee (the foot moved
  outward, away from the midline) = hip **internal** rotation; negative when the ankle moved
  across, toward the midline = hip **external** rotation. Measured in the image (the frontal
  plane as the camera sees it, like a goniometer held against the shin) and in world
  coordinates (x-y plane) as a cross-check; the two disagreeing widens the uncertainty.
* **Thigh drift** (deg): the thigh's sideways swing in the floor plane, from the knee's
  sideways position relative to the hip (world x, lateral +) over the 3-D thigh length
  (``asin``), minus its value at the start of the clip.
* **Foot sickle** (deg): the foot's turn about the shin axis: the angle, around knee -> ankle,
  from the thigh direction (hip -> knee) to the foot direction (heel -> foot_index), both
  projected perpendicular to the shin (world), minus the start value. In a clean seated rotation
  the leg below the knee turns as one piece about the thigh, so the foot keeps pointing forward
  along the thigh and this stays near 0; a foot that twists against the shin (sole turning up,
  "sickling") moves it.
* **Pelvis hike**: the tilt of the hip line (left hip -> right hip) from horizontal in the
  image, minus its start value. **Trunk side lean**: the angle of mid-hip -> mid-shoulder from
  vertical in the image, minus its start value. **Trunk forward flexion** (figure-4): the same
  line's angle from vertical in the world sagittal plane (y-z), minus its start value.

"Start" is the median of the first ``baseline_s`` seconds (default 0.5 s): the test starts
from the neutral seated position (docs/hip_rotation.md).

**Uncertainty** of a range (deg): the robust frame-to-frame scatter (MAD of successive
differences / sqrt 2) within +-0.5 s of the extreme frame, combined with half the image/world
disagreement, divided by the legs' landmark visibility there (floored at 0.2), never below
0.5 deg. The 90/90 and figure-4 values use the scatter over the frames they are taken from.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from movescreen.landmarks import LANDMARK_NAMES

_IDX = {n: i for i, n in enumerate(LANDMARK_NAMES)}
SIDES = ("left", "right")
HIP_ROTATION_TESTS = ("hip_rotation_seated", "figure4", "hip_9090")
FRONT_VIEW_REASON = (
    "needs a front view: the shin turns in the frontal plane, which a camera at the side sees "
    "edge-on (this clip was filmed from the {view})"
)
MIN_LEG_VISIBILITY = 0.5


def _p(arr: np.ndarray, name: str) -> np.ndarray:
    return np.asarray(arr[:, _IDX[name], :], dtype=np.float64)


def _other(side: str) -> str:
    return "right" if side == "left" else "left"


def _nanmedian(x: np.ndarray) -> float:
    x = np.asarray(x, np.float64)
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")


def _lateral_sign(xyz: np.ndarray, side: str) -> np.ndarray:
    """+1 where this side's hip lies at larger x than the other hip (per frame), else -1."""
    d = _p(xyz, f"{side}_hip")[:, 0] - _p(xyz, f"{_other(side)}_hip")[:, 0]
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(d), np.where(d >= 0, 1.0, -1.0), np.nan)


def shin_angle_frontal(xyz: np.ndarray, side: str) -> np.ndarray:
    """Signed shin angle from vertical in the x-y plane (deg, + = foot out = hip IR), shape (T,)."""
    k, a = _p(xyz, f"{side}_knee"), _p(xyz, f"{side}_ankle")
    lat = (a[:, 0] - k[:, 0]) * _lateral_sign(xyz, side)
    down = a[:, 1] - k[:, 1]
    return np.degrees(np.arctan2(lat, down))


def thigh_length(world: np.ndarray, side: str) -> np.ndarray:
    return np.linalg.norm(_p(world, f"{side}_knee") - _p(world, f"{side}_hip"), axis=1)


def shank_length(world: np.ndarray, side: str) -> np.ndarray:
    return np.linalg.norm(_p(world, f"{side}_ankle") - _p(world, f"{side}_knee"), axis=1)


def thigh_sideways_deg(world: np.ndarray, side: str) -> np.ndarray:
    """The thigh's sideways angle (deg, knee lateral of the hip +): asin(dx / 3-D thigh length)."""
    dx = (_p(world, f"{side}_knee")[:, 0] - _p(world, f"{side}_hip")[:, 0]) * _lateral_sign(world, side)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.degrees(np.arcsin(np.clip(dx / thigh_length(world, side), -1, 1)))


def _unit(v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def foot_turn_about_shin(world: np.ndarray, side: str) -> np.ndarray:
    """Angle (deg) about knee->ankle from the thigh direction to the foot direction, signed so
    that + is the toes turning toward the midline (a sickle) on both sides."""
    s = _unit(_p(world, f"{side}_ankle") - _p(world, f"{side}_knee"))
    t = _p(world, f"{side}_knee") - _p(world, f"{side}_hip")
    f = _p(world, f"{side}_foot_index") - _p(world, f"{side}_heel")
    tp = _unit(t - np.sum(t * s, axis=1, keepdims=True) * s)
    fp = _unit(f - np.sum(f * s, axis=1, keepdims=True) * s)
    sin = np.sum(np.cross(tp, fp) * s, axis=1)
    cos = np.sum(tp * fp, axis=1)
    # about a downward shin, a turn toward the person's left is -, so toward the midline is +
    # for the left leg and - for the right: sign by which side of the body the leg is on
    return np.degrees(np.arctan2(sin, cos)) * _lateral_sign(world, side)


def knee_flexion(world: np.ndarray, side: str) -> np.ndarray:
    """Knee angle as flexion (0 = straight), from hip-knee-ankle in world, deg."""
    a = _unit(_p(world, f"{side}_hip") - _p(world, f"{side}_knee"))
    b = _unit(_p(world, f"{side}_ankle") - _p(world, f"{side}_knee"))
    return 180.0 - np.degrees(np.arccos(np.clip(np.sum(a * b, axis=1), -1, 1)))


def hip_line_tilt(image: np.ndarray) -> np.ndarray:
    """Hip line tilt from horizontal in the image (deg; + = the image-left hip higher)."""
    lh, rh = _p(image, "left_hip"), _p(image, "right_hip")
    first = lh[:, :1] <= rh[:, :1]
    a, b = np.where(first, lh, rh), np.where(first, rh, lh)
    return np.degrees(np.arctan2(a[:, 1] - b[:, 1], b[:, 0] - a[:, 0]))


def trunk_side_lean(image: np.ndarray) -> np.ndarray:
    """Mid-hip -> mid-shoulder angle from vertical in the image (deg; + = toward image right)."""
    mh = (_p(image, "left_hip") + _p(image, "right_hip")) / 2
    ms = (_p(image, "left_shoulder") + _p(image, "right_shoulder")) / 2
    return np.degrees(np.arctan2(ms[:, 0] - mh[:, 0], mh[:, 1] - ms[:, 1]))


def trunk_forward_flexion(world: np.ndarray) -> np.ndarray:
    """Mid-hip -> mid-shoulder angle from vertical in the world y-z plane (deg; + = toward camera)."""
    mh = (_p(world, "left_hip") + _p(world, "right_hip")) / 2
    ms = (_p(world, "left_shoulder") + _p(world, "right_shoulder")) / 2
    return np.degrees(np.arctan2(mh[:, 2] - ms[:, 2], mh[:, 1] - ms[:, 1]))


def baseline(x: np.ndarray, n: int) -> float:
    return _nanmedian(x[: max(1, n)])


def frame_scatter(x: np.ndarray) -> float:
    """Frame-to-frame noise (deg): robust SD of successive differences / sqrt(2)."""
    d = np.diff(np.asarray(x, np.float64)[np.isfinite(x)])
    if d.size < 3:
        return float("nan")
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0))


def running_median(x: np.ndarray, k: int) -> np.ndarray:
    """Centred running median over ``k`` rows (odd), NaN-aware (NaN where a window is empty)."""
    k = max(1, int(k) | 1)
    if k == 1 or len(x) < k:
        return np.asarray(x, np.float64).copy()
    pad = np.pad(np.asarray(x, np.float64), k // 2, constant_values=np.nan)
    win = np.lib.stride_tricks.sliding_window_view(pad, k)
    out = np.full(len(x), np.nan)
    ok = np.isfinite(win).any(axis=1)
    if ok.any():
        with np.errstate(all="ignore"):
            out[ok] = np.nanmedian(win[ok], axis=1)
    return out


@dataclass(frozen=True)
class RangeValue:
    """A measured value with its uncertainty (deg), the row it came from and how well it was seen."""

    value: float
    uncertainty: float
    row: int | None
    visibility: float
    world_value: float = float("nan")

    def as_dict(self, frames: np.ndarray | None = None) -> dict[str, Any]:
        def r(v: float, d: int = 2) -> float | None:
            return round(float(v), d) if np.isfinite(v) else None

        frame = None
        if self.row is not None:
            frame = int(frames[self.row]) if frames is not None else int(self.row)
        return {"value": r(self.value), "uncertainty": r(self.uncertainty), "frame": frame,
                "visibility": r(self.visibility), "world_value": r(self.world_value)}


def extreme_value(img: np.ndarray, wld: np.ndarray, vis: np.ndarray, fps: float, sign: float,
                  *, hold_s: float = 0.1, noise_s: float = 0.5) -> RangeValue:
    """The extreme of ``sign * img`` held for a moment, clipped at 0 (no range in that direction).

    The series is smoothed by a 0.2 s running median; its maximum gives the row; the value is
    the median of the raw series within +-``hold_s`` of it (one bad frame cannot make a range).
    """
    x = sign * np.asarray(img, np.float64)
    if not np.isfinite(x).any():
        return RangeValue(float("nan"), float("nan"), None, 0.0)
    sm = running_median(x, int(round(0.2 * fps)))
    row = int(np.nanargmax(np.where(np.isfinite(sm), sm, -np.inf)))
    h, hn = max(1, int(round(hold_s * fps))), max(3, int(round(noise_s * fps)))
    near = slice(max(0, row - h), row + h + 1)
    around = slice(max(0, row - hn), row + hn + 1)
    value = max(0.0, _nanmedian(x[near]))
    wv = sign * np.asarray(wld, np.float64)
    world_value = max(0.0, _nanmedian(wv[near])) if np.isfinite(wv[near]).any() else float("nan")
    v = _nanmedian(vis[around])
    v = 0.0 if not np.isfinite(v) else float(np.clip(v, 0, 1))
    noise = frame_scatter(x[around])
    noise = 0.0 if not np.isfinite(noise) else noise
    spread = abs(value - world_value) / 2 if np.isfinite(world_value) else 0.0
    u = float(np.hypot(noise, spread) / max(v, 0.2))
    return RangeValue(value, max(u, 0.5), row, v, world_value)


def _scatter_value(x: np.ndarray, rows: np.ndarray, vis: np.ndarray) -> RangeValue:
    """Median of ``x`` over ``rows`` with the scatter there (robust SD) as its uncertainty."""
    vals = np.asarray(x, np.float64)[rows]
    ok = np.isfinite(vals)
    if not ok.any():
        return RangeValue(float("nan"), float("nan"), None, 0.0)
    med = float(np.median(vals[ok]))
    mad = 1.4826 * float(np.median(np.abs(vals[ok] - med)))
    v = _nanmedian(vis[rows])
    v = 0.0 if not np.isfinite(v) else float(np.clip(v, 0, 1))
    row = int(rows[ok][np.argmin(np.abs(vals[ok] - med))])
    return RangeValue(med, max(float(np.hypot(mad, frame_scatter(vals) if ok.sum() > 3 else 0.0)) / max(v, 0.2), 0.5), row, v)


def _vis(seq: Any, names: tuple[str, ...]) -> np.ndarray:
    v = np.stack([np.asarray(seq.visibility[:, _IDX[n]], dtype=np.float64) for n in names])
    with np.errstate(invalid="ignore"):
        return np.min(np.where(np.isfinite(v), v, 0.0), axis=0)


# ------------------------------------------------------------------ seated rotation test


@dataclass(frozen=True)
class HipRotationMeasures:
    """Per-clip seated-test measures.

    ``ranges[side]['internal'|'external']`` are :class:`RangeValue` (deg from vertical).
    ``series`` holds the per-frame arrays the rules look at (also written to angles.csv).
    """

    ranges: dict[str, dict[str, RangeValue]]
    asymmetry_deg: dict[str, float]
    series: dict[str, np.ndarray] = field(repr=False)
    baseline_rows: int = 0


def seated_series(seq: Any, *, baseline_s: float = 0.5) -> dict[str, np.ndarray]:
    """The per-frame columns of the hip rotation screen (``hip_rot_*``), shape (T,) each."""
    img, wld = np.asarray(seq.image_xyz, np.float64), np.asarray(seq.world_xyz, np.float64)
    n0 = max(1, int(round(baseline_s * float(seq.fps or 30.0))))
    out: dict[str, np.ndarray] = {}
    for side in SIDES:
        out[f"hip_rot_{side}_shin_image_deg"] = shin_angle_frontal(img, side)
        out[f"hip_rot_{side}_shin_world_deg"] = shin_angle_frontal(wld, side)
        drift = thigh_sideways_deg(wld, side)
        out[f"hip_rot_{side}_thigh_drift_deg"] = drift - baseline(drift, n0)
        turn = foot_turn_about_shin(wld, side)
        out[f"hip_rot_{side}_foot_sickle_deg"] = turn - baseline(turn, n0)
    tilt = hip_line_tilt(img)
    out["hip_rot_pelvis_hike_deg"] = tilt - baseline(tilt, n0)
    lean = trunk_side_lean(img)
    out["hip_rot_trunk_lean_deg"] = lean - baseline(lean, n0)
    flex = trunk_forward_flexion(wld)
    out["hip_rot_trunk_flexion_deg"] = flex - baseline(flex, n0)
    return out


def hip_rotation_measures(seq: Any, *, baseline_s: float = 0.5, yaw_deg: float | None = None) -> HipRotationMeasures:
    """Seated-test ranges per side and direction, and their left-right differences.

    ``yaw_deg`` (the body's turn from facing the camera, e.g. the median of the angle table's
    ``yaw_deg``) adds the view error to each uncertainty: a frontal-plane angle ``v`` seen from a
    camera turned ``d`` reads about ``v cos d`` (image and world alike, so their agreement does
    not reveal it), hence ``v (1 - cos d)`` (measured: 40 deg reads 38.3 at 20 deg, 37.3 at 25 deg).
    """
    series = seated_series(seq, baseline_s=baseline_s)
    fps = float(seq.fps or 30.0)
    turn = abs(float(yaw_deg)) if yaw_deg is not None and np.isfinite(yaw_deg) else 0.0
    ranges: dict[str, dict[str, RangeValue]] = {}
    for side in SIDES:
        vis = _vis(seq, (f"{side}_hip", f"{side}_knee", f"{side}_ankle"))
        si, sw = series[f"hip_rot_{side}_shin_image_deg"], series[f"hip_rot_{side}_shin_world_deg"]
        ranges[side] = {}
        for d, sign in (("internal", +1.0), ("external", -1.0)):
            rv = extreme_value(si, sw, vis, fps, sign)
            if turn and np.isfinite(rv.value):
                view_err = rv.value * (1 - np.cos(np.radians(min(turn, 90.0))))
                rv = replace(rv, uncertainty=float(np.hypot(rv.uncertainty, view_err)))
            ranges[side][d] = rv
    asym = {d: float(abs(ranges["left"][d].value - ranges["right"][d].value)) for d in ("internal", "external")}
    return HipRotationMeasures(ranges, asym, series, max(1, int(round(baseline_s * fps))))


# ------------------------------------------------------------------ figure-4 and 90/90


def crossed_rows(seq: Any, side: str, *, near: float = 0.6, lift: float = 0.5) -> np.ndarray:
    """Rows where ``side``'s ankle rests on the other knee (image; front or side view): within
    ``near`` of the other knee and at least ``lift`` above the other ankle, both in lengths of
    the other (supporting, hanging) shin in the image."""
    img = np.asarray(seq.image_xyz, np.float64)[:, :, :2]
    o = _other(side)
    sh = _nanmedian(np.linalg.norm(_p(img, f"{o}_ankle") - _p(img, f"{o}_knee"), axis=1))
    if not np.isfinite(sh) or sh <= 0:
        return np.array([], np.intp)
    d = np.linalg.norm(_p(img, f"{side}_ankle") - _p(img, f"{o}_knee"), axis=1) / sh
    up = (_p(img, f"{o}_ankle")[:, 1] - _p(img, f"{side}_ankle")[:, 1]) / sh
    with np.errstate(invalid="ignore"):
        return np.flatnonzero(np.isfinite(d) & (d < near) & (up > lift))


def crossed_column(seq: Any) -> np.ndarray:
    """Per row: 1 where the left ankle rests on the right knee, 2 where the right rests on the
    left, 0 otherwise (:func:`crossed_rows`), shape (T,)."""
    col = np.zeros(len(seq), np.float64)
    for code, side in ((1.0, "left"), (2.0, "right")):
        col[crossed_rows(seq, side)] = code
    return col


def rows_crossed(column: np.ndarray, side: str) -> np.ndarray:
    """The rows of :func:`crossed_column`'s output where ``side``'s ankle rests on the other knee."""
    return np.flatnonzero(np.asarray(column) == (1.0 if side == "left" else 2.0))


def figure4_measures(seq: Any, *, min_fraction: float = 0.1, crossed: np.ndarray | None = None) -> dict[str, Any]:
    """Per crossed side: the crossed shin's angle from horizontal (image, deg; 0 = shin level,
    the most external rotation) and the crossed knee's height above the supporting knee (world,
    in supporting-thigh lengths, + = above), each a :class:`RangeValue` over the crossed frames
    (a side crossed in fewer than ``min_fraction`` of the frames is left out). ``crossed`` (a
    :func:`crossed_column`, e.g. found on the unfiltered landmarks) gives the crossed frames;
    by default they are found on ``seq``."""
    img, wld = np.asarray(seq.image_xyz, np.float64), np.asarray(seq.world_xyz, np.float64)
    n = len(img)
    out: dict[str, Any] = {}
    if crossed is None or len(crossed) != n:
        crossed = crossed_column(seq)
    for side in SIDES:
        rows = rows_crossed(crossed, side)
        if n == 0 or rows.size < max(3, min_fraction * n):
            continue
        o = _other(side)
        k, a = _p(img, f"{side}_knee"), _p(img, f"{side}_ankle")
        ang = np.degrees(np.arctan2(np.abs(a[:, 1] - k[:, 1]), np.abs(a[:, 0] - k[:, 0])))
        with np.errstate(invalid="ignore", divide="ignore"):
            height = (_p(wld, f"{o}_knee")[:, 1] - _p(wld, f"{side}_knee")[:, 1]) / thigh_length(wld, o)
        vis = _vis(seq, (f"{side}_knee", f"{side}_ankle", f"{o}_knee"))
        out[side] = {
            "rows": rows,
            "fraction": float(rows.size / n),
            "shin_from_horizontal": _scatter_value(ang, rows, vis),
            "knee_height": _scatter_value(height, rows, vis),
        }
    return out


def hip_9090_measures(seq: Any) -> dict[str, Any]:
    """Front and back shin angles (deg, floor plane, world): each shin's angle from the line
    across the hips (0 = parallel to it; a textbook 90/90 has the front shin near 0 and the back
    shin near 90). The front leg is the one whose knee is further ahead of the pelvis. Each is
    a :class:`RangeValue` (median over the clip, scatter as its uncertainty)."""
    wld = np.asarray(seq.world_xyz, np.float64)
    lh, rh = _p(wld, "left_hip"), _p(wld, "right_hip")
    across = _unit((rh - lh)[:, [0, 2]])
    ahead = np.stack([-across[:, 1], across[:, 0]], axis=1)
    mid = ((lh + rh) / 2)[:, [0, 2]]
    fwd = {s: _nanmedian(np.sum((_p(wld, f"{s}_knee")[:, [0, 2]] - mid) * ahead, axis=1)) for s in SIDES}
    if not all(np.isfinite(v) for v in fwd.values()):
        return {"front_side": None}
    front = max(SIDES, key=lambda s: abs(fwd[s]))
    out: dict[str, Any] = {"front_side": front}
    rows = np.arange(len(wld))
    for role, side in (("front", front), ("back", _other(front))):
        sh = _unit((_p(wld, f"{side}_ankle") - _p(wld, f"{side}_knee"))[:, [0, 2]])
        ang = np.degrees(np.arccos(np.clip(np.abs(np.sum(sh * across, axis=1)), 0, 1)))
        vis = _vis(seq, (f"{side}_hip", f"{side}_knee", f"{side}_ankle"))
        out[role] = _scatter_value(ang, rows, vis)
        out[f"{role}_knee_flexion_deg"] = _nanmedian(knee_flexion(wld, side))
    return out


# ------------------------------------------------------------------ recogniser


def _floor_and_chair_evidence(seq: Any) -> dict[str, Any]:
    """Image evidence for sitting (in trunk lengths, medians over frames with a pose)."""
    img = np.asarray(seq.image_xyz, np.float64)[:, :, :2]
    mh = (_p(img, "left_hip") + _p(img, "right_hip")) / 2
    ms = (_p(img, "left_shoulder") + _p(img, "right_shoulder")) / 2
    trunk = _nanmedian(np.linalg.norm(ms - mh, axis=1))
    ev: dict[str, Any] = {"trunk_px": trunk}
    if not np.isfinite(trunk) or trunk <= 0:
        return ev
    ev["trunk_upright"] = _nanmedian((mh[:, 1] - ms[:, 1]) / trunk)
    hip_y = mh[:, 1]
    q = hip_y[np.isfinite(hip_y)]
    ev["hip_height_range"] = float(np.percentile(q, 95) - np.percentile(q, 5)) / trunk if q.size else float("nan")
    for s in SIDES:
        ev[f"{s}_knee_below_hip"] = _nanmedian((_p(img, f"{s}_knee")[:, 1] - hip_y) / trunk)
        ev[f"{s}_ankle_below_hip"] = _nanmedian((_p(img, f"{s}_ankle")[:, 1] - hip_y) / trunk)
    return ev


def recognise_hip_rotation_test(seq: Any, table: dict[str, np.ndarray] | None = None) -> tuple[str, dict[str, Any]] | None:
    """``(name, evidence)`` when the clip is one of the hip rotation tests, else None.

    Works on the image landmarks (front or side view), medians over the clip; ``table`` (the
    angle table) is accepted for the caller's convenience and not needed. In trunk lengths
    (mid-hip to mid-shoulder in the image), the person must sit still and upright: the trunk
    within about 45 deg of vertical (``trunk_upright`` > 0.7) and the hips moving up and down by
    less than 0.3 (a squat moves them by about one trunk length). Then:

    * **figure4**: one ankle rests on the other knee (:func:`crossed_rows`) in >= 15 % of frames
      and that (supporting) knee is within 0.45 of hip height (sitting, not standing);
    * **hip_rotation_seated** (chair or box): both knees within 0.35 of hip height and both
      ankles more than 0.5 below the hips (legs hanging);
    * **hip_9090** (floor): both knees and both ankles within 0.45 of hip height.
    """
    ev = _floor_and_chair_evidence(seq)
    n = len(seq)
    if n == 0 or "trunk_upright" not in ev:
        return None
    if not (ev["trunk_upright"] > 0.7 and ev["hip_height_range"] < 0.3):
        return None
    for side in SIDES:
        rows = crossed_rows(seq, side)
        ev[f"{side}_crossed_fraction"] = float(rows.size / n)
    best = max(SIDES, key=lambda s: ev[f"{s}_crossed_fraction"])
    support_knee = ev.get(f"{_other(best)}_knee_below_hip", float("nan"))
    if ev[f"{best}_crossed_fraction"] >= 0.15 and abs(support_knee) < 0.45:
        ev["crossed_side"] = best
        ev["reason"] = (f"Seated with the {best} ankle resting on the other knee in "
                        f"{100 * ev[f'{best}_crossed_fraction']:.0f}% of the frames: a figure-4.")
        return "figure4", _clean(ev)
    knees = [ev[f"{s}_knee_below_hip"] for s in SIDES]
    ankles = [ev[f"{s}_ankle_below_hip"] for s in SIDES]
    if not all(np.isfinite(v) for v in (*knees, *ankles)):
        return None
    if all(abs(k) < 0.35 for k in knees) and all(a > 0.5 for a in ankles):
        ev["reason"] = ("Seated still and upright, knees at hip height and the feet hanging below "
                        "them: the seated hip rotation test.")
        return "hip_rotation_seated", _clean(ev)
    if all(abs(k) < 0.45 for k in knees) and all(abs(a) < 0.45 for a in ankles):
        ev["reason"] = ("Seated still and upright on the floor with both knees and feet near hip "
                        "height: the 90/90 hip position.")
        return "hip_9090", _clean(ev)
    return None


def _clean(ev: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(float(v), 3) if isinstance(v, float | np.floating) else v) for k, v in ev.items()}


# ------------------------------------------------------------------ the hook and the report


def apply_hip_rotation_test(kin: Any, raw: Any, requested: str) -> Any:
    """The kinematics of a hip rotation test, or ``kin`` unchanged.

    ``requested`` is the ``--movement`` value: a hip test name forces that test; ``auto`` asks
    :func:`recognise_hip_rotation_test` (on ``raw``, the unfiltered sequence, whose low-visibility
    points the filter would have blanked). For a hip test the movement is renamed, the squat/hinge
    repetitions are replaced by one whole-clip trial (the rules judge it), the hip columns
    are added to the angle table, and squat/hinge warnings are dropped.
    """
    from movescreen.kinematics.view import check_view
    from movescreen.types import Rep

    if requested in HIP_ROTATION_TESTS:
        name, reason = requested, f"Set by the caller to {requested}."
        evidence: dict[str, Any] = {}
    elif requested == "auto":
        hit = recognise_hip_rotation_test(raw)
        if hit is None:
            return kin
        name, evidence = hit
        reason = str(evidence.get("reason", name))
    else:
        return kin
    seq = kin.sequence
    table = dict(kin.table)
    cols = seated_series(seq)
    # crossed frames on the unfiltered landmarks: the gap filter blanks a crossed ankle seen
    # with visibility under 0.5, as it often is (the shared figure-4: 75 % of frames raw, 7 % filtered)
    cols["hip_rot_crossed_side"] = crossed_column(raw if len(raw) == len(seq) else seq)
    table.update(cols)
    frames = np.asarray(table["frame"], np.int64)
    if len(frames) == 0:
        return kin
    drop = set(check_view(kin.view.view, kin.movement))
    warnings = [w for w in kin.warnings if w not in drop and not w.startswith("No repetition")
                and "repetitions are partial" not in w]
    if name != "hip_9090" and kin.view.view != "front":
        warnings.append(f"The {name} measures need a front view; this clip was filmed from the "
                        f"{kin.view.view}, so the ranges are not assessed.")
    # the trial's "bottom" (its key frame): the most-rotated shin, or the middle of the crossing
    key = len(frames) // 2
    if name == "figure4" and (cross := np.flatnonzero(cols["hip_rot_crossed_side"] > 0)).size:
        key = int(cross[cross.size // 2])
    elif name == "hip_rotation_seated":
        shin = np.abs(np.stack([cols[f"hip_rot_{s}_shin_image_deg"] for s in SIDES]))
        if np.isfinite(shin).any():
            key = int(np.nanargmax(np.nanmax(np.where(np.isfinite(shin), shin, -1.0), axis=0)))
    trial = Rep(index=1, start_frame=int(frames[0]), bottom_frame=int(frames[key]),
                end_frame=int(frames[-1]), order="top_first", turn_frame=int(frames[key]),
                descent_s=float("nan"), pause_s=float("nan"), ascent_s=float("nan"),
                total_s=float(np.asarray(table["time_s"])[-1] - np.asarray(table["time_s"])[0]),
                partial=False, view=str(kin.view.view),
                # squat/hinge peaks do not describe a seated test: present (the schema needs
                # them) but not measured; the hip measures are in report.json's hip_rotation
                metrics={k: float("nan") for k in ("peak_hip_flexion_deg", "peak_knee_flexion_deg",
                                                    "peak_trunk_inclination_deg")})
    # the squat/hinge reading ("read as 'other' ... no squat or hinge rule was run") does not apply
    warnings = [w for w in warnings if not w.startswith("This clip was read as '")]
    prov = dict(kin.provenance)
    prov["hip_rotation"] = {"test": name, "recognition": evidence,
                            "squat_hinge_movement_before": kin.movement}
    extra: dict[str, Any] = {}
    decision = getattr(kin, "movement_decision", None)
    if decision is not None:  # the movement block of report.json says what decided it
        extra["movement_decision"] = replace(
            decision, name=name, ambiguous=False, reason=reason, score=float("nan"),
            evidence=evidence, reps=[], decided_by="auto" if requested == "auto" else "user")
    return replace(kin, table=table, movement=name, movement_reason=reason, reps=[trial],
                   warnings=warnings, provenance=prov, **extra)


NORMAL_RANGE_KEYS = ("normal_internal_low_deg", "normal_internal_high_deg",
                     "normal_external_low_deg", "normal_external_high_deg")


def hip_rotation_report(kin: Any, params: dict[str, float] | None = None) -> dict[str, Any]:
    """The report.json ``hip_rotation`` block (see docs/hip_rotation.md and the schema)."""
    params = dict(params or {})
    test, view = str(kin.movement), str(kin.view.view)
    seq = kin.sequence
    frames = np.asarray(kin.table["frame"], np.int64)
    normal = {
        "internal_deg": [params.get("normal_internal_low_deg"), params.get("normal_internal_high_deg")],
        "external_deg": [params.get("normal_external_low_deg"), params.get("normal_external_high_deg")],
        "source": "see the [hip_rotation_asymmetry] comments in rules/defaults.toml and docs/hip_rotation.md",
    }
    block: dict[str, Any] = {"test": test, "view": view, "assessed": True, "reason": "",
                             "normal_range": normal, "sides": None, "asymmetry_deg": None,
                             "figure4": None, "hip_9090": None, "protocol": protocol_text(test)}
    if test == "hip_9090":
        m = hip_9090_measures(seq)
        if m.get("front_side") is None:
            block.update(assessed=False, reason="The legs were not found in enough frames to measure the 90/90 position.")
            return block
        out: dict[str, Any] = {"front_side": m["front_side"]}
        hidden = []
        for role in ("front", "back"):
            rv: RangeValue = m[role]
            if rv.visibility < MIN_LEG_VISIBILITY:
                hidden.append(f"the {role} leg was not seen well (visibility {rv.visibility:.2f})")
                out[f"{role}_shin_from_hip_line_deg"] = None
            else:
                out[f"{role}_shin_from_hip_line_deg"] = rv.as_dict(frames)
            out[f"{role}_knee_flexion_deg"] = (round(m[f"{role}_knee_flexion_deg"], 1)
                                               if np.isfinite(m[f"{role}_knee_flexion_deg"]) else None)
        block["hip_9090"] = out
        if hidden:
            block.update(assessed=False, reason="Not assessed: " + "; ".join(hidden) + ".")
        return block
    if view != "front":
        block.update(assessed=False, reason="Not assessed: " + FRONT_VIEW_REASON.format(view=view) + ".")
        return block
    if test == "figure4":
        f4 = figure4_measures(seq, crossed=kin.table.get("hip_rot_crossed_side"))
        if not f4:
            block.update(assessed=False, reason="Not assessed: no frame with an ankle resting on the other knee was found.")
            return block
        block["figure4"] = {
            side: {"crossed_fraction": round(v["fraction"], 3),
                   "crossed_shin_from_horizontal_deg": v["shin_from_horizontal"].as_dict(frames),
                   "knee_height_thigh_lengths": v["knee_height"].as_dict(frames)}
            for side, v in f4.items()}
        if len(f4) == 2:
            block["asymmetry_deg"] = {"crossed_shin_from_horizontal": round(abs(
                f4["left"]["shin_from_horizontal"].value - f4["right"]["shin_from_horizontal"].value), 2)}
        return block
    yaw = np.asarray(kin.table.get("yaw_deg", np.full(len(frames), np.nan)), np.float64)
    hm = hip_rotation_measures(seq, yaw_deg=_nanmedian(yaw))
    if not any(np.isfinite(hm.ranges[s][d].value) for s in SIDES for d in ("internal", "external")):
        block.update(assessed=False, reason="Not assessed: the knees and ankles were not found in enough frames.")
        return block
    block["sides"] = {s: {d: hm.ranges[s][d].as_dict(frames) for d in ("internal", "external")} for s in SIDES}
    block["asymmetry_deg"] = {d: round(v, 2) for d, v in hm.asymmetry_deg.items()}
    block["asymmetry_uncertainty_deg"] = {  # the two ranges' uncertainties combined
        d: round(float(np.hypot(hm.ranges["left"][d].uncertainty, hm.ranges["right"][d].uncertainty)), 2)
        for d in ("internal", "external")}
    return block


def hip_rotation_block(kin: Any, config: Any = None) -> dict[str, Any] | None:
    """report.json's ``hip_rotation`` block for a hip rotation test, else None. The normal
    ranges come from the ``[hip_rotation_asymmetry]`` table of the rule configuration."""
    if kin is None or kin.movement not in HIP_ROTATION_TESTS:
        return None
    params: dict[str, float] = {}
    try:
        if config is None:
            from movescreen.config import load_config

            config = load_config()
        params = dict(config["hip_rotation_asymmetry"].params)
    except (KeyError, TypeError):
        params = {}
    return hip_rotation_report(kin, params)


def progress_metrics(report: dict[str, Any]) -> dict[str, float | None]:
    """Per-session numbers for the workspace progress page, from a report's ``hip_rotation``
    block (None where not measured): each side's internal and external range (seated test) and
    each side's figure-4 crossed-shin angle."""
    block = report.get("hip_rotation") if isinstance(report, dict) else None
    out: dict[str, float | None] = {f"hip_{d}_rotation_{s}_deg": None for s in SIDES for d in ("internal", "external")}
    out.update({f"figure4_shin_{s}_deg": None for s in SIDES})
    if not isinstance(block, dict) or not block.get("assessed"):
        return out
    for s, dirs in (block.get("sides") or {}).items():
        for d, v in (dirs or {}).items():
            if isinstance(v, dict) and isinstance(v.get("value"), int | float):
                out[f"hip_{d}_rotation_{s}_deg"] = float(v["value"])
    for s, v in (block.get("figure4") or {}).items():
        val = (v or {}).get("crossed_shin_from_horizontal_deg") or {}
        if isinstance(val.get("value"), int | float):
            out[f"figure4_shin_{s}_deg"] = float(val["value"])
    return out


# ------------------------------------------------------------------ protocol (live calibration)

SAFETY_TEXT = (
    "Before you start: not every hip is ready to be stretched. Move only as far as is comfortable; "
    "sharp pain in the joint means stop and see a medical professional."
)
PROTOCOL = {
    "hip_rotation_seated": (
        "Seated hip rotation test. Camera: in front of the person, at knee height, 2-3 m away, the "
        "whole body from head to feet in the picture. Person: sit on a box or chair with hips and "
        "knees at 90 degrees, thighs parallel and hands resting on the thighs; sit still for a "
        "second. Then, one leg at a time, turn the foot out as far as it goes, back to the middle, "
        "then in as far as it goes, back to the middle, without moving the thigh; then the other "
        "leg. Keep the pelvis flat on the seat and the trunk upright."
    ),
    "figure4": (
        "Figure-4 test (the shoe-putting pattern). Camera: in front of the person, at knee height, "
        "the whole body in the picture. Person: sit upright on a box or chair, feet flat; lift one "
        "ankle onto the opposite knee, let the lifted knee lower as far as is comfortable, hold "
        "3 seconds sitting tall (do not lean forward to reach the foot), put it down; then the "
        "other side."
    ),
    "hip_9090": (
        "90/90 position. Camera: in front of the person or at an angle, the whole body and both "
        "feet in the picture. Person: sit on the floor, front leg and back leg both bent to about "
        "90 degrees, trunk upright, and hold still for 5 seconds; then the other way round."
    ),
}


def protocol_text(movement: str) -> str:
    """The filming protocol and safety text shown before a hip rotation test starts (for
    ``movescreen live``'s calibration screen); '' for other movements."""
    p = PROTOCOL.get(movement)
    return f"{SAFETY_TEXT}\n{p}" if p else ""
