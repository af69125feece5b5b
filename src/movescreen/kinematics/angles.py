"""Joint angles as a table of definitions, and the per-frame angle table.

Convention (every angle column)
-------------------------------
Degrees; 0 = standing upright; flexion positive; left and right separately; continuous (the
result of ``atan2`` differences wrapped to [-90, 270) for joint flexion and to (-180, 180]
otherwise, never a 0/360 flip). Column names say
where a value was measured: ``_image_`` = in the picture (pixels, y down), ``_world_`` = from
MediaPipe's metric world landmarks (y down = gravity, when the camera is level).

Sagittal angles in the image are signed by the facing direction (which way the toes point), so
a person facing image-left and one facing image-right give the same numbers. When the toes point
at (or away from) the camera the sagittal direction is not visible; the image sagittal angles
are then unsigned (the angle between the two segments), and they are marked valid for side views
only anyway.

Every function here is pure: arrays in, new arrays out. NaN in a landmark gives NaN in every
column that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from movescreen.landmarks import INDEX

Space = Literal["image", "world"]
ViewName = Literal["side", "front", "oblique"]
FloatArray = npt.NDArray[np.float64]

ALL_VIEWS: tuple[ViewName, ...] = ("side", "front", "oblique")


@dataclass(frozen=True)
class AngleDef:
    """One row of the angle table.

    Attributes
    ----------
    name : str
        Column name, e.g. ``left_knee_flexion_image_deg``.
    kind : str
        Which computation (a key of the dispatch in :func:`compute_angle_table`).
    landmarks : tuple of str
        BlazePose landmarks used.
    plane : str
        'sagittal', 'frontal', 'transverse' or 'vertical'.
    side : str
        'left', 'right' or 'mid'.
    sign : str
        What a positive value means.
    zero : str
        What 0 means.
    space : {'image', 'world'}
    views : tuple of str
        Camera views from which the value can be trusted.
    unit : str
        'deg' or 'ratio'.
    """

    name: str
    kind: str
    landmarks: tuple[str, ...]
    plane: str
    side: str
    sign: str
    zero: str
    space: Space
    views: tuple[ViewName, ...]
    unit: str = "deg"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "landmarks": list(self.landmarks),
            "plane": self.plane, "side": self.side, "sign": self.sign, "zero": self.zero,
            "space": self.space, "views": list(self.views), "unit": self.unit,
        }


def _defs() -> tuple[AngleDef, ...]:
    rows: list[AngleDef] = []
    for space in ("image", "world"):
        sag_views: tuple[ViewName, ...] = ("side",) if space == "image" else ALL_VIEWS
        fr_views: tuple[ViewName, ...] = ("front",) if space == "image" else ("front", "oblique")
        for s in ("left", "right"):
            rows += [
                AngleDef(f"{s}_hip_flexion_{space}_deg", "hip_flexion",
                         (f"{s}_shoulder", f"{s}_hip", f"{s}_knee"), "sagittal", s,
                         "thigh forward of the trunk line (flexion)", "trunk and thigh in line",
                         space, sag_views),
                AngleDef(f"{s}_knee_flexion_{space}_deg", "knee_flexion",
                         (f"{s}_hip", f"{s}_knee", f"{s}_ankle"), "sagittal" if space == "image"
                         else "3d", s, "knee bent (flexion)", "thigh and shank in line", space,
                         sag_views),
                AngleDef(f"{s}_ankle_dorsiflexion_{space}_deg", "ankle_dorsiflexion",
                         (f"{s}_knee", f"{s}_ankle"), "sagittal", s,
                         "shank leans forward over the foot", "shank vertical", space, sag_views),
                AngleDef(f"{s}_knee_fppa_{space}_deg", "fppa",
                         (f"{s}_hip", f"{s}_knee", f"{s}_ankle", "left_hip", "right_hip"),
                         "frontal", s, "knee medial of the hip-ankle line (valgus)",
                         "hip, knee and ankle in line in the frontal plane", space, fr_views),
                AngleDef(f"{s}_hip_above_knee_{space}_ratio", "hip_above_knee",
                         (f"{s}_hip", f"{s}_knee"), "vertical", s,
                         "hip above the knee, in thigh lengths (1 standing, 0 thigh level, "
                         "negative below parallel)", "hip at knee height", space, ALL_VIEWS,
                         "ratio"),
                AngleDef(f"{s}_heel_lift_{space}_ratio", "heel_lift",
                         (f"{s}_heel", f"{s}_foot_index", f"{s}_knee", f"{s}_ankle"), "vertical",
                         s, "heel raised above the toe tip, in shank lengths, against the flat "
                         "foot (heel level with the toes, or the clip's lowest heel if lower); "
                         "only where both foot points are clearly visible", "foot flat",
                         space, ("side", "oblique") if space == "image" else ALL_VIEWS, "ratio"),
            ]
            if space == "world":
                rows.append(AngleDef(
                    f"{s}_knee_foot_angle_world_deg", "knee_foot_angle",
                    (f"{s}_hip", f"{s}_knee", f"{s}_ankle", f"{s}_heel", f"{s}_foot_index"),
                    "transverse", s, "the knee points medial of the foot's direction",
                    "knee points where the toes point (NaN when the knee is nearly straight)",
                    space, ("front", "oblique")))
        rows += [
            AngleDef(f"trunk_inclination_{space}_deg", "trunk_inclination",
                     ("left_shoulder", "right_shoulder", "left_hip", "right_hip"), "sagittal",
                     "mid", "trunk leans forward", "trunk vertical", space,
                     sag_views),
            AngleDef(f"knee_ankle_width_ratio_{space}", "width_ratio",
                     ("left_knee", "right_knee", "left_ankle", "right_ankle"), "frontal", "mid",
                     "knees wider than ankles when > 1", "(ratio; 1 = knees as wide as ankles)",
                     space, fr_views, "ratio"),
            AngleDef(f"pelvic_drop_{space}_deg", "pelvic_drop", ("left_hip", "right_hip"),
                     "frontal", "mid", "the left hip is lower than the right", "hips level",
                     space, fr_views),
            AngleDef(f"lateral_shift_{space}_ratio", "lateral_shift",
                     ("left_hip", "right_hip", "left_ankle", "right_ankle"), "frontal", "mid",
                     "mid-hip shifted towards the person's left of mid-ankle, in hip widths",
                     "mid-hip over mid-ankle", space, fr_views, "ratio"),
        ]
    return tuple(rows)


ANGLE_DEFINITIONS: tuple[AngleDef, ...] = _defs()
"""Every column of the angle table, as data."""

ANGLE_BY_NAME: dict[str, AngleDef] = {d.name: d for d in ANGLE_DEFINITIONS}


def _p(xyz: np.ndarray, name: str) -> np.ndarray:
    return xyz[:, INDEX[name], :].astype(np.float64)


def _wrap_deg(a: np.ndarray) -> np.ndarray:
    """Wrap to (-180, 180]."""
    return -((-a + 180.0) % 360.0 - 180.0)


def _wrap_flexion(a: np.ndarray) -> np.ndarray:
    """Wrap a joint flexion to [-90, 270): deep flexion never flips to a large extension."""
    return (a + 90.0) % 360.0 - 90.0


def _angle_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Unsigned angle between vectors (last axis), degrees in [0, 180]."""
    if u.shape[-1] == 2:  # np.cross on 2-D vectors is deprecated
        cross_n = np.abs(u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0])
    else:
        cross_n = np.linalg.norm(np.cross(u, v), axis=-1)
    return np.degrees(np.arctan2(cross_n, np.sum(u * v, axis=-1)))


def _nanpct(x: np.ndarray, q: float) -> float:
    x = x[np.isfinite(x)]
    return float(np.percentile(x, q)) if x.size else np.nan


def estimate_image_facing(image_xyz: np.ndarray) -> tuple[int, FloatArray]:
    """Which way the toes point in the image.

    Parameters
    ----------
    image_xyz : ndarray, shape (T, 33, 3), pixels

    Returns
    -------
    sign : int
        +1 toes point image-right, -1 image-left, 0 towards or away from the camera (the median
        heel-to-toe direction is less than 0.35 foot lengths sideways).
    per_frame : ndarray, shape (T,)
        Heel-to-toe x direction per frame, in foot lengths (-1 .. 1), NaN without feet.
    """
    vals = []
    for s in ("left", "right"):
        d = _p(image_xyz, f"{s}_foot_index")[:, :2] - _p(image_xyz, f"{s}_heel")[:, :2]
        n = np.linalg.norm(d, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            vals.append(np.where(n > 0, d[:, 0] / n, np.nan))
    both = np.stack(vals)
    fin = np.isfinite(both)
    cnt = fin.sum(axis=0)
    per_frame = np.where(cnt > 0, np.where(fin, both, 0).sum(axis=0) / np.maximum(cnt, 1), np.nan)
    med = _nanpct(per_frame, 50)
    if not np.isfinite(med):
        # no feet: fall back on the nose against the ears
        nose = _p(image_xyz, "nose")[:, 0]
        ears = 0.5 * (_p(image_xyz, "left_ear")[:, 0] + _p(image_xyz, "right_ear")[:, 0])
        sh = np.abs(_p(image_xyz, "left_shoulder")[:, 0] - _p(image_xyz, "right_shoulder")[:, 0])
        med = _nanpct((nose - ears) / np.maximum(sh, 1.0), 50)
        return (int(np.sign(med)) if np.isfinite(med) and abs(med) > 0.3 else 0), per_frame
    return (int(np.sign(med)) if abs(med) >= 0.35 else 0), per_frame


def compute_world_axes(world_xyz: np.ndarray) -> tuple[FloatArray, FloatArray]:
    """The body's horizontal forward and left axes from the world landmarks.

    Parameters
    ----------
    world_xyz : ndarray, shape (T, 33, 3), metres, y down

    Returns
    -------
    forward, left : ndarray, shape (T, 3)
        Unit horizontal vectors (y = 0); NaN where the hips and shoulders are missing.
        ``left`` follows the left-minus-right hip and shoulder axis; ``forward = left x up``
        with up = (0, -1, 0).
    """
    ax = (_p(world_xyz, "left_hip") - _p(world_xyz, "right_hip")) + (
        _p(world_xyz, "left_shoulder") - _p(world_xyz, "right_shoulder"))
    ax[:, 1] = 0.0
    n = np.linalg.norm(ax, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        left = np.where(n > 1e-9, ax / n, np.nan)
    up = np.array([0.0, -1.0, 0.0])
    forward = np.cross(left, up)
    return forward, left


def _phi_image(v: np.ndarray, f: int) -> np.ndarray:
    """Angle of image vector(s) from 'up', positive towards the facing side (deg)."""
    return np.degrees(np.arctan2(f * v[:, 0], -v[:, 1]))


def _phi_world(v: np.ndarray, fwd: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(np.sum(v * fwd, axis=1), -v[:, 1]))


def _ref_length(a: np.ndarray, b: np.ndarray) -> float:
    """A standing length for a segment: the 90th percentile of its length over the clip."""
    return _nanpct(np.linalg.norm(a - b, axis=1), 90)


def compute_angle_table(
    image_xyz: np.ndarray,
    world_xyz: np.ndarray,
    *,
    facing_sign: int | None = None,
    visibility: np.ndarray | None = None,
    foot_min_visibility: float = 0.8,
) -> dict[str, FloatArray]:
    """Compute every column of :data:`ANGLE_DEFINITIONS` for every frame.

    Parameters
    ----------
    image_xyz : ndarray, shape (T, 33, 3)
        Pixels (x, y); z unused.
    world_xyz : ndarray, shape (T, 33, 3)
        Metres, y down.
    facing_sign : int, optional
        +1 / -1 / 0 (see :func:`estimate_image_facing`); estimated when not given.
    visibility : ndarray, shape (T, 33), optional
        Landmark visibility. Heel lift is only computed where the heel and the toe tip both
        have at least ``foot_min_visibility`` (BlazePose foot points are unreliable when the
        feet are hidden by plates or hands).

    Returns
    -------
    dict[str, ndarray]
        One array of shape (T,) per definition, in table order. NaN where a landmark is missing.

    Notes
    -----
    Ratios that need a reference length (hip above knee in the image, heel lift) use the 90th
    percentile of that segment's length over the clip, i.e. its standing, un-foreshortened length.

    Examples
    --------
    >>> from movescreen.synthetic import make_motion
    >>> m = make_motion("squat", n_reps=1, fps=10)
    >>> t = compute_angle_table(m.sequence.image_xyz, m.sequence.world_xyz)
    >>> round(float(np.nanmax(t["left_knee_flexion_image_deg"])))
    115
    """
    img = np.asarray(image_xyz, np.float64)
    wld = np.asarray(world_xyz, np.float64)
    if facing_sign is None:
        facing_sign, _ = estimate_image_facing(img)
    f = int(facing_sign)
    fwd, left = compute_world_axes(wld)
    up = np.array([0.0, -1.0, 0.0])
    out: dict[str, FloatArray] = {}

    def pts(space: str, name: str) -> np.ndarray:
        return _p(img, name)[:, :2] if space == "image" else _p(wld, name)

    with np.errstate(invalid="ignore", divide="ignore"):
        for d in ANGLE_DEFINITIONS:
            sp, s = d.space, d.side
            if d.kind in ("hip_flexion", "knee_flexion", "ankle_dorsiflexion"):
                hip, knee, ank = pts(sp, f"{s}_hip"), pts(sp, f"{s}_knee"), pts(sp, f"{s}_ankle")
                thigh_up, shank_up = hip - knee, knee - ank
                if d.kind == "hip_flexion":
                    trunk = pts(sp, f"{s}_shoulder") - hip
                    if sp == "image":
                        val = (_wrap_flexion(_phi_image(trunk, f) - _phi_image(thigh_up, f)) if f
                               else _angle_between(trunk, thigh_up))
                    else:
                        val = _wrap_flexion(_phi_world(trunk, fwd) - _phi_world(thigh_up, fwd))
                elif d.kind == "knee_flexion":
                    if sp == "image":
                        val = (_wrap_flexion(_phi_image(shank_up, f) - _phi_image(thigh_up, f)) if f
                               else _angle_between(shank_up, thigh_up))
                    else:
                        val = _angle_between(shank_up, thigh_up)
                else:
                    if sp == "image":
                        val = _phi_image(shank_up, f) if f else np.abs(_phi_image(shank_up, 1))
                    else:
                        val = _phi_world(shank_up, fwd)
            elif d.kind == "trunk_inclination":
                mh = 0.5 * (pts(sp, "left_hip") + pts(sp, "right_hip"))
                ms = 0.5 * (pts(sp, "left_shoulder") + pts(sp, "right_shoulder"))
                v = ms - mh
                if sp == "image":
                    val = _phi_image(v, f) if f else np.abs(_phi_image(v, 1))
                else:
                    val = _phi_world(v, fwd)
            elif d.kind == "fppa":
                hip, knee, ank = pts(sp, f"{s}_hip"), pts(sp, f"{s}_knee"), pts(sp, f"{s}_ankle")
                other = pts(sp, ("right" if s == "left" else "left") + "_hip")
                if sp == "image":
                    a2, b2, hk, ha = knee - hip, ank - knee, knee - hip, ank - hip
                    medial = np.stack([np.sign(other[:, 0] - hip[:, 0]), np.zeros(len(hip))], 1)
                else:
                    # project onto the frontal plane (left, up)
                    def fr(v: np.ndarray) -> np.ndarray:
                        return np.stack([np.sum(v * left, axis=1), v @ up], axis=1)
                    a2, b2, hk, ha = fr(knee - hip), fr(ank - knee), fr(knee - hip), fr(ank - hip)
                    medial = np.stack([-np.ones(len(hip)) if s == "left" else np.ones(len(hip)),
                                       np.zeros(len(hip))], 1)
                mag = _angle_between(a2, b2)
                t = np.clip(np.sum(hk * ha, axis=1) / np.sum(ha * ha, axis=1), 0, 1)
                off = hk - t[:, None] * ha
                sgn = np.sign(np.sum(off * medial, axis=1))
                val = np.where(np.isfinite(mag), sgn * mag, np.nan)
            elif d.kind == "hip_above_knee":
                hip, knee = pts(sp, f"{s}_hip"), pts(sp, f"{s}_knee")
                if sp == "image":
                    val = (knee[:, 1] - hip[:, 1]) / _ref_length(hip, knee)
                else:
                    val = (knee[:, 1] - hip[:, 1]) / np.linalg.norm(knee - hip, axis=1)
            elif d.kind == "heel_lift":
                heel, toe = pts(sp, f"{s}_heel"), pts(sp, f"{s}_foot_index")
                e = toe[:, 1] - heel[:, 1]  # > 0 when the heel is above the toes (y down)
                if visibility is not None:
                    seen = (visibility[:, INDEX[f"{s}_heel"]] >= foot_min_visibility) & (
                        visibility[:, INDEX[f"{s}_foot_index"]] >= foot_min_visibility)
                    e = np.where(seen, e, np.nan)
                shank = _ref_length(pts(sp, f"{s}_knee"), pts(sp, f"{s}_ankle"))
                # a flat foot has the heel level with the toe tip; the clip's own lowest heel is
                # the reference only when it sits lower than that (camera tilt, shoe shape), never
                # higher: a lifter whose heels stay up all clip must not become the baseline
                ref = min(0.0, _nanpct(e, 10)) if np.isfinite(e).any() else 0.0
                val = (e - ref) / shank
            elif d.kind == "knee_foot_angle":
                hip, knee, ank = pts(sp, f"{s}_hip"), pts(sp, f"{s}_knee"), pts(sp, f"{s}_ankle")
                ha, hk = ank - hip, knee - hip
                t = np.sum(hk * ha, axis=1) / np.sum(ha * ha, axis=1)
                kdir = hk - t[:, None] * ha
                kdir[:, 1] = 0.0
                fdir = pts(sp, f"{s}_foot_index") - pts(sp, f"{s}_heel")
                fdir[:, 1] = 0.0
                ak = np.degrees(np.arctan2(np.sum(kdir * left, 1), np.sum(kdir * fwd, 1)))
                af = np.degrees(np.arctan2(np.sum(fdir * left, 1), np.sum(fdir * fwd, 1)))
                diff = _wrap_deg(ak - af) * (-1.0 if s == "left" else 1.0)
                bent = np.linalg.norm(kdir, axis=1) > 0.08 * np.linalg.norm(hk, axis=1)
                val = np.where(bent, diff, np.nan)
            elif d.kind == "width_ratio":
                k = pts(sp, "left_knee") - pts(sp, "right_knee")
                a = pts(sp, "left_ankle") - pts(sp, "right_ankle")
                if sp == "image":
                    val = np.abs(k[:, 0]) / np.abs(a[:, 0])
                else:
                    val = np.abs(np.sum(k * left, 1)) / np.abs(np.sum(a * left, 1))
            elif d.kind == "pelvic_drop":
                v = pts(sp, "left_hip") - pts(sp, "right_hip")
                if sp == "image":
                    val = np.degrees(np.arctan2(v[:, 1], np.abs(v[:, 0])))
                else:
                    val = np.degrees(np.arctan2(v[:, 1], np.abs(np.sum(v * left, 1))))
            elif d.kind == "lateral_shift":
                lh, rh = pts(sp, "left_hip"), pts(sp, "right_hip")
                mh = 0.5 * (lh + rh)
                ma = 0.5 * (pts(sp, "left_ankle") + pts(sp, "right_ankle"))
                if sp == "image":
                    hw = lh[:, 0] - rh[:, 0]
                    val = (mh[:, 0] - ma[:, 0]) * np.sign(hw) / np.abs(hw)
                else:
                    hw = np.sum((lh - rh) * left, 1)
                    val = np.sum((mh - ma) * left, 1) / np.abs(hw)
            else:  # pragma: no cover - the table and the dispatch are kept together
                raise ValueError(f"unknown angle kind {d.kind!r}")
            val = np.asarray(val, np.float64)
            out[d.name] = np.where(np.isfinite(val), val, np.nan)
    return out
