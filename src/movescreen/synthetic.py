"""Synthetic skeletons with answers known by construction, for tests and examples.

A parametric stick figure in 3-D (the 33 BlazePose landmarks), placed on a floor, doing a squat
or a hip hinge with prescribed joint angles over time, projected to a camera. Nothing here is
used by the analysis itself.

Conventions (the same as :mod:`movescreen.types`)
-------------------------------------------------
World: metres, y down, x to the image right, z away from the camera; the world landmarks are
centred on the mid-hip point of each frame (as MediaPipe's are). The person's yaw ``psi`` gives
the facing direction ``F = (sin psi, 0, -cos psi)``: 0 = facing the camera, +90 = toes pointing
image-right, -90 = toes pointing image-left. The person's left is ``L = (cos psi, 0, sin psi)``.

Sagittal angles follow :mod:`movescreen.kinematics.angles`: ankle dorsiflexion is the shank's
forward lean from vertical, knee flexion the thigh-shank angle, hip flexion the trunk-thigh
angle, trunk inclination the trunk's forward lean from vertical, so
``trunk = hip - knee + ankle``. The trunk is derived from the other three.

The mask drawing is numpy only (no OpenCV).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq

from movescreen.landmarks import INDEX, NUM_LANDMARKS
from movescreen.types import LandmarkSequence, MaskCrop

View = Literal["side", "front", "oblique"]
Facing = Literal["left", "right"]

# Segment lengths in metres (an adult of about 1.75 m).
SHANK_M = 0.43
THIGH_M = 0.45
TRUNK_M = 0.52
HIP_HALF_WIDTH_M = 0.10
SHOULDER_HALF_WIDTH_M = 0.19
ANKLE_HEIGHT_M = 0.08
HEEL_BACK_M = 0.05
TOE_FORWARD_M = 0.16
UPPER_ARM_M = 0.30
FOREARM_M = 0.27


@dataclass(frozen=True)
class SyntheticMotion:
    """A synthetic movement and the angles it was built with.

    Attributes
    ----------
    sequence : LandmarkSequence
        Image landmarks in pixels, world landmarks in metres (y down), visibility 1.
    truth : dict[str, ndarray], each shape (T,)
        Prescribed values per frame: ``hip_flexion_deg``, ``knee_flexion_deg``,
        ``ankle_dorsiflexion_deg``, ``trunk_inclination_deg``, ``left_fppa_deg``,
        ``right_fppa_deg``, ``heel_lift_m``, ``depth`` (0 standing .. 1 bottom).
    bottoms : list[int]
        Rows where each full or partial rep reaches its deepest point.
    """

    sequence: LandmarkSequence
    truth: dict[str, npt.NDArray[np.float64]]
    bottoms: list[int]


def make_depth_profile(
    n_reps: int = 3,
    fps: float = 30.0,
    *,
    rep_s: float = 2.0,
    pause_top_s: float = 0.5,
    pause_bottom_s: float = 0.0,
    lead_s: float = 0.5,
    depths: list[float] | None = None,
    start_at_bottom: bool = False,
) -> tuple[npt.NDArray[np.float64], list[int]]:
    """A depth profile (0 standing, 1 bottom) built from cosine half-waves.

    Parameters
    ----------
    n_reps : int
    fps : float
    rep_s : float
        Duration of one down-and-up, without pauses.
    pause_top_s, pause_bottom_s : float
        Holds between reps at the top and at the bottom.
    lead_s : float
        Standing (or, with ``start_at_bottom``, bottom) time before the first rep.
    depths : list of float, optional
        Depth of each rep (1 = full); a value like 0.4 makes a partial rep.
    start_at_bottom : bool
        Deadlift-style: start and end at the bottom; each rep goes up, holds, comes down.

    Returns
    -------
    depth : ndarray, shape (T,)
    bottoms : list of int
        The row of each rep's bottom (for ``start_at_bottom``, its lockout row).
    """
    depths = depths if depths is not None else [1.0] * n_reps
    half = max(1, int(round(rep_s / 2 * fps)))
    wave = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, half, endpoint=False))  # 0 -> 1
    parts: list[np.ndarray] = []
    marks: list[int] = []
    level = 1.0 if start_at_bottom else 0.0
    parts.append(np.full(int(round(lead_s * fps)), level))
    for d in depths:
        n = sum(len(p) for p in parts)
        if start_at_bottom:
            # bottom -> top (1 - d .. ) -> bottom
            up = 1.0 - d * wave
            parts.append(up)
            marks.append(n + len(up))
            parts.append(np.full(int(round(pause_top_s * fps)) + 1, 1.0 - d))
            parts.append((1.0 - d) + d * wave)
            parts.append(np.full(int(round(pause_bottom_s * fps)), 1.0))
        else:
            down = d * wave
            parts.append(down)
            marks.append(n + len(down) + int(round(pause_bottom_s * fps)) // 2)
            parts.append(np.full(int(round(pause_bottom_s * fps)) + 1, d))
            parts.append(d * (1.0 - wave))
            parts.append(np.full(int(round(pause_top_s * fps)), 0.0))
    parts.append(np.full(int(round(lead_s * fps)), 1.0 if start_at_bottom else 0.0))
    return np.concatenate(parts).astype(np.float64), marks


def _rot_foot(toe: np.ndarray, p: np.ndarray, f: np.ndarray, u: np.ndarray, beta: float) -> np.ndarray:
    """Rotate point ``p`` about the toe by ``beta`` rad in the (F, U) plane (heel goes up)."""
    d = p - toe
    df, du = d @ f, d @ u
    c, s = np.cos(beta), np.sin(beta)
    # heel is behind the toe (df < 0): rotating lifts it (du grows)
    nf, nu = c * df + s * du, -s * df + c * du
    return toe + nf * f + nu * u + (d - df * f - du * u)


def _knee_shift_for_fppa(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, medial: np.ndarray,
                         fppa_deg: float) -> np.ndarray:
    """Move ``knee`` along ``medial`` so that its frontal-plane (x, y) projection angle is ``fppa_deg``."""
    def angle(d: float) -> float:
        k = knee + d * medial
        a, b = (k - hip)[:2], (ankle - k)[:2]
        ang = np.degrees(np.arctan2(a[0] * b[1] - a[1] * b[0], a @ b))
        # sign: positive when the knee lies medial of the hip-ankle line
        t = np.clip(((k - hip)[:2] @ (ankle - hip)[:2]) / ((ankle - hip)[:2] @ (ankle - hip)[:2]), 0, 1)
        off = (k - hip)[:2] - t * (ankle - hip)[:2]
        return float(np.sign(off @ medial[:2]) * abs(ang)) - fppa_deg

    return knee + brentq(angle, -0.25, 0.25, xtol=1e-12) * medial


def place_head(pts: dict[str, np.ndarray], mid_shoulder: np.ndarray, forward: np.ndarray,
               left: np.ndarray, up: np.ndarray) -> None:
    """Put the face points (nose, eyes, ears, mouth) above the shoulders, in metres (in place).

    ``forward``, ``left`` and ``up`` are the body's unit axes; the head sits 0.22 m up the trunk.
    """
    head = mid_shoulder + 0.22 * up
    pts["nose"] = head + 0.10 * forward
    for side, s in (("left", 1.0), ("right", -1.0)):
        for name, fo, lo, uo in (("eye_inner", 0.09, 0.015, 0.03), ("eye", 0.09, 0.035, 0.03),
                                 ("eye_outer", 0.085, 0.05, 0.03), ("ear", 0.0, 0.075, 0.01)):
            pts[f"{side}_{name}"] = head + fo * forward + s * lo * left + uo * up
    pts["mouth_left"] = head + 0.09 * forward + 0.025 * left - 0.04 * up
    pts["mouth_right"] = head + 0.09 * forward - 0.025 * left - 0.04 * up


def make_motion(
    movement: Literal["squat", "hinge"] = "squat",
    *,
    view: View = "side",
    facing: Facing = "right",
    fps: float = 30.0,
    n_reps: int = 3,
    depth: npt.ArrayLike | None = None,
    hip_flexion_deg: float | None = None,
    knee_flexion_deg: float | None = None,
    ankle_dorsiflexion_deg: float | None = None,
    valgus_fppa_deg: float = 0.0,
    heel_lift_deg: float = 0.0,
    yaw_deg: float | None = None,
    projection: Literal["orthographic", "pinhole"] = "orthographic",
    width: int = 720,
    height: int = 1280,
    px_per_m: float = 500.0,
    camera_distance_m: float = 4.0,
    arms: Literal["forward", "down"] | None = None,
    hips_first_lag: float = 0.0,
    hips_first_tip_deg: float = 0.0,
    **profile_kw: object,
) -> SyntheticMotion:
    """Build a synthetic squat or hinge seen from a camera.

    Parameters
    ----------
    movement : {'squat', 'hinge'}
        Sets default peak angles: squat hip 115, knee 115, ankle 30 (trunk 30);
        hinge hip 85, knee 20, ankle 5 (trunk 70).
    view : {'side', 'front', 'oblique'}
        Camera direction; ``yaw_deg`` overrides it (0 front, 90 side facing right).
    facing : {'left', 'right'}
        Which way the toes point in the image (side and oblique views).
    fps : float
    n_reps : int
        Used when ``depth`` is not given (see :func:`make_depth_profile`, which also takes
        ``profile_kw``).
    depth : array_like, shape (T,), optional
        0 standing .. 1 bottom. NaN rows become missing frames.
    hip_flexion_deg, knee_flexion_deg, ankle_dorsiflexion_deg : float, optional
        Peak angles at depth 1; the angles scale linearly with depth.
    valgus_fppa_deg : float
        Knee moved medially so the frontal-plane projection angle reaches this value at depth 1
        (scaled with depth), both knees. Front view only (ValueError otherwise).
    heel_lift_deg : float
        Foot rotated about the toes by this angle at depth 1 (scaled with depth).
    projection : {'orthographic', 'pinhole'}
    width, height : int
        Frame size in pixels.
    px_per_m : float
        Image scale at the subject (orthographic) or focal length over distance (pinhole).
    camera_distance_m : float
        Pinhole only: camera distance from the mid-hip.
    arms : {'forward', 'down'}, optional
        Arms held forward (squat default) or hanging (hinge default).
    hips_first_lag : float
        "Hips rise first" on the way up (depth falling): the share (0..1) of the knee extension
        done before the trunk starts to rise. 0 = trunk and knees straighten in step (the peak
        angles scale with depth together). On the way up the knee and ankle follow the depth,
        the trunk stays at its bottom inclination until the knees have done ``hips_first_lag``
        of their extension, then rises linearly with what is left; the hip angle is derived
        (``hip = trunk + knee - ankle``), so the hips rise with the knees.
    hips_first_tip_deg : float
        During that lag the trunk also tips further forward, by up to this many degrees (a
        half-sine over the lag).

    Returns
    -------
    SyntheticMotion
    """
    if valgus_fppa_deg and (view != "front" or (yaw_deg not in (None, 0.0))):
        raise ValueError(
            f"expected view='front' for a prescribed valgus (FPPA is defined in the image plane "
            f"of a front view), got view={view!r}, yaw_deg={yaw_deg}"
        )
    if depth is None:
        d, bottoms = make_depth_profile(n_reps, fps, **profile_kw)  # type: ignore[arg-type]
    else:
        d = np.asarray(depth, np.float64)
        bottoms = []
    defaults = {"squat": (115.0, 115.0, 30.0), "hinge": (85.0, 20.0, 5.0)}[movement]
    hf = defaults[0] if hip_flexion_deg is None else hip_flexion_deg
    kf = defaults[1] if knee_flexion_deg is None else knee_flexion_deg
    af = defaults[2] if ankle_dorsiflexion_deg is None else ankle_dorsiflexion_deg
    arms = arms or ("forward" if movement == "squat" else "down")
    if yaw_deg is None:
        sgn = 1.0 if facing == "right" else -1.0
        yaw_deg = {"side": 90.0, "front": 0.0, "oblique": 45.0}[view] * sgn
    psi = np.radians(yaw_deg)
    F = np.array([np.sin(psi), 0.0, -np.cos(psi)])
    L = np.array([np.cos(psi), 0.0, np.sin(psi)])
    U = np.array([0.0, -1.0, 0.0])

    t_n = len(d)
    if not 0.0 <= hips_first_lag < 1.0:
        raise ValueError(f"expected hips_first_lag in [0, 1), got {hips_first_lag}")
    with np.errstate(invalid="ignore"):
        rising = np.zeros(t_n, bool)
        if t_n > 1:
            rising[1:] = np.diff(d) < 0  # depth falls on the way up
    tf = hf - kf + af  # trunk inclination at depth 1
    world_abs = np.full((t_n, NUM_LANDMARKS, 3), np.nan)
    truth = {k: np.full(t_n, np.nan) for k in (
        "hip_flexion_deg", "knee_flexion_deg", "ankle_dorsiflexion_deg", "trunk_inclination_deg",
        "left_fppa_deg", "right_fppa_deg", "heel_lift_m", "depth")}
    for r in range(t_n):
        if not np.isfinite(d[r]):
            continue
        x = float(d[r])
        a, k, h = np.radians(af * x), np.radians(kf * x), np.radians(hf * x)
        tr = h - k + a
        if rising[r] and (hips_first_lag > 0 or hips_first_tip_deg):
            done = 1.0 - x  # share of the knee extension done (the knee follows the depth)
            lag = hips_first_lag
            if done < lag:
                x_t = 1.0
                tip = hips_first_tip_deg * np.sin(np.pi * done / lag) if lag > 0 else 0.0
            else:
                x_t = x / (1.0 - lag)
                tip = 0.0
            tr = np.radians(tf * x_t + tip)
            h = tr + k - a
        phi_shank, phi_thigh = a, a - k
        beta = np.radians(heel_lift_deg * x)
        pts: dict[str, np.ndarray] = {}
        hips = {}
        for side, s in (("left", 1.0), ("right", -1.0)):
            lat = s * L
            toe = lat * 0.12 + F * TOE_FORWARD_M
            ankle = lat * 0.12 - U * 0 + U * ANKLE_HEIGHT_M
            heel = lat * 0.12 - F * HEEL_BACK_M
            ankle = _rot_foot(toe, ankle, F, U, beta)
            heel = _rot_foot(toe, heel, F, U, beta)
            knee = ankle + SHANK_M * (np.sin(phi_shank) * F + np.cos(phi_shank) * U)
            knee = knee - lat * 0.01  # the knees sit a little inside the ankles' line
            hip = knee + THIGH_M * (np.sin(phi_thigh) * F + np.cos(phi_thigh) * U)
            # hip lateral position: fixed hip half-width about the body's mid-line
            hip = hip - (hip @ L) * L + s * HIP_HALF_WIDTH_M * L
            knee_lat = 0.5 * (hip @ L + ankle @ L) * L
            knee = knee - (knee @ L) * L + knee_lat
            pts[f"{side}_heel"], pts[f"{side}_foot_index"] = heel, toe
            pts[f"{side}_ankle"], pts[f"{side}_knee"], hips[side] = ankle, knee, hip
        mid_hip = 0.5 * (hips["left"] + hips["right"])
        for side in ("left", "right"):
            pts[f"{side}_hip"] = hips[side]
        trunk_dir = np.sin(tr) * F + np.cos(tr) * U
        mid_sh = mid_hip + TRUNK_M * trunk_dir
        for side, s in (("left", 1.0), ("right", -1.0)):
            sh = mid_sh + s * SHOULDER_HALF_WIDTH_M * L
            pts[f"{side}_shoulder"] = sh
            arm_dir = F if arms == "forward" else -U
            el = sh + UPPER_ARM_M * arm_dir
            wr = el + FOREARM_M * arm_dir
            pts[f"{side}_elbow"], pts[f"{side}_wrist"] = el, wr
            for name, off in (("pinky", -0.03), ("index", 0.0), ("thumb", 0.03)):
                pts[f"{side}_{name}"] = wr + 0.08 * arm_dir - s * off * L
        place_head(pts, mid_sh, F, L, trunk_dir)
        for name, p in pts.items():
            world_abs[r, INDEX[name]] = p
        # valgus: move the knees medially in the frontal (image) plane
        if abs(np.sin(psi)) < 1e-9:  # front view: FPPA exactly as prescribed (0 by default)
            for side, s in (("left", 1.0), ("right", -1.0)):
                hi, ki, ai = INDEX[f"{side}_hip"], INDEX[f"{side}_knee"], INDEX[f"{side}_ankle"]
                medial = -s * L
                medial = medial - (medial @ np.array([0, 0, 1.0])) * np.array([0, 0, 1.0])
                nrm = np.linalg.norm(medial)
                if nrm < 1e-6:
                    continue
                world_abs[r, ki] = _knee_shift_for_fppa(world_abs[r, hi], world_abs[r, ki],
                                                         world_abs[r, ai], medial / nrm,
                                                         valgus_fppa_deg * x)
        truth["hip_flexion_deg"][r] = np.degrees(h)
        truth["knee_flexion_deg"][r] = np.degrees(k)
        truth["ankle_dorsiflexion_deg"][r] = np.degrees(a)
        truth["trunk_inclination_deg"][r] = np.degrees(tr)
        truth["left_fppa_deg"][r] = truth["right_fppa_deg"][r] = valgus_fppa_deg * x
        truth["heel_lift_m"][r] = (HEEL_BACK_M + TOE_FORWARD_M) * np.sin(beta)
        truth["depth"][r] = x

    # floor at y = 0 (y down, so the body has negative y); put the mid-hip standing height at 0
    image = np.full((t_n, NUM_LANDMARKS, 3), np.nan)
    cx, cy = width / 2.0, height * 0.55
    z_off = camera_distance_m
    if projection == "orthographic":
        image[..., 0] = cx + px_per_m * world_abs[..., 0]
        image[..., 1] = cy + px_per_m * (world_abs[..., 1] + 0.9)
    else:
        zc = world_abs[..., 2] + z_off
        f = px_per_m * z_off
        image[..., 0] = cx + f * world_abs[..., 0] / zc
        image[..., 1] = cy + f * (world_abs[..., 1] + 0.9) / zc
    mid = 0.5 * (world_abs[:, INDEX["left_hip"]] + world_abs[:, INDEX["right_hip"]])
    world = world_abs - mid[:, None, :]
    image[..., 2] = world[..., 2] * px_per_m / width
    ok = np.isfinite(d)
    vis = np.where(ok[:, None], 1.0, np.nan) * np.ones((t_n, NUM_LANDMARKS))
    seq = LandmarkSequence(
        frame_index=np.arange(t_n, dtype=np.int64),
        time_s=np.arange(t_n, dtype=np.float64) / fps,
        image_xyz=image.astype(np.float32),
        visibility=vis.astype(np.float32),
        presence=vis.astype(np.float32),
        world_xyz=world.astype(np.float32),
        width=width,
        height=height,
        fps=fps,
    )
    return SyntheticMotion(seq, truth, bottoms)


# --- silhouette masks ------------------------------------------------------------------------

_LIMBS = (
    ("left_shoulder", "left_elbow", 0.05), ("left_elbow", "left_wrist", 0.04),
    ("right_shoulder", "right_elbow", 0.05), ("right_elbow", "right_wrist", 0.04),
    ("left_hip", "left_knee", 0.08), ("left_knee", "left_ankle", 0.055),
    ("right_hip", "right_knee", 0.08), ("right_knee", "right_ankle", 0.055),
    ("left_heel", "left_foot_index", 0.035), ("right_heel", "right_foot_index", 0.035),
    ("left_ankle", "left_heel", 0.035), ("right_ankle", "right_heel", 0.035),
)


def _capsule(xx: np.ndarray, yy: np.ndarray, a: np.ndarray, b: np.ndarray, r: float) -> np.ndarray:
    ab = b - a
    den = float(ab @ ab) or 1e-9
    t = np.clip(((xx - a[0]) * ab[0] + (yy - a[1]) * ab[1]) / den, 0.0, 1.0)
    dx, dy = xx - (a[0] + t * ab[0]), yy - (a[1] + t * ab[1])
    return dx * dx + dy * dy <= r * r


def _draw_capsule(m: np.ndarray, x0: int, y0: int, a: np.ndarray, b: np.ndarray, r: float) -> None:
    """OR a capsule into mask ``m`` (whose pixel [0, 0] is at (x0, y0)), within its own box."""
    h, w = m.shape
    cx0 = max(int(np.floor(min(a[0], b[0]) - r)) - x0, 0)
    cx1 = min(int(np.ceil(max(a[0], b[0]) + r)) - x0 + 1, w)
    cy0 = max(int(np.floor(min(a[1], b[1]) - r)) - y0, 0)
    cy1 = min(int(np.ceil(max(a[1], b[1]) + r)) - y0 + 1, h)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    yy, xx = np.mgrid[cy0 + y0:cy1 + y0, cx0 + x0:cx1 + x0].astype(np.float64)
    m[cy0:cy1, cx0:cx1] |= _capsule(xx, yy, a, b, r)


def make_spine_arc(hip_px: np.ndarray, shoulder_px: np.ndarray, back_dir_px: np.ndarray,
                   curvature_deg: float, n: int = 41) -> npt.NDArray[np.float64]:
    """Points on a circular arc from mid-hip to mid-shoulder that turns by ``curvature_deg``.

    Positive curvature bows the arc towards ``back_dir_px`` (a rounded, flexed back); negative
    bows it forwards (an arched back). The tangents at the two ends differ by ``|curvature_deg|``.

    Returns
    -------
    ndarray, shape (n, 2), pixels
    """
    c = shoulder_px - hip_px
    chord = float(np.hypot(*c))
    t = np.linspace(0.0, 1.0, n)
    line = hip_px[None, :] + t[:, None] * c[None, :]
    if abs(curvature_deg) < 1e-9 or chord == 0:
        return line
    nrm = np.array([-c[1], c[0]]) / chord
    if nrm @ back_dir_px < 0:
        nrm = -nrm
    k = np.radians(abs(curvature_deg))
    radius = chord / (2 * np.sin(k / 2))
    # circle centre on the opposite side of the bow, angles spread by k
    sag = radius * (1 - np.cos(k / 2))
    centre = hip_px + c / 2 - (radius - sag) * nrm * np.sign(curvature_deg)
    ang0 = np.arctan2(*(hip_px - centre)[::-1])
    ang1 = np.arctan2(*(shoulder_px - centre)[::-1])
    dang = (ang1 - ang0 + np.pi) % (2 * np.pi) - np.pi
    angs = ang0 + t * dang
    return centre[None, :] + radius * np.stack([np.cos(angs), np.sin(angs)], axis=1)


def add_silhouette_masks(
    motion: SyntheticMotion | LandmarkSequence,
    *,
    spine_curvature_deg: float | npt.ArrayLike = 0.0,
    trunk_half_depth_m: float = 0.11,
    margin_px: int = 20,
) -> LandmarkSequence:
    """Draw a person-shaped mask for every frame and attach it as ``MaskCrop`` masks.

    Limbs are capsules, the trunk a thick band along a circular spine arc from mid-hip to
    mid-shoulder that bends by ``spine_curvature_deg`` (positive = rounded towards the back),
    and the head a disc. Mask value 255 inside, 0 outside.

    Parameters
    ----------
    motion : SyntheticMotion or LandmarkSequence
        Uses the image landmarks; the pixel scale is taken from the world/image thigh ratio.
    spine_curvature_deg : float or array_like, shape (T,)
        Bend of the back line per frame.
    trunk_half_depth_m : float
        Half the trunk's front-to-back thickness.
    margin_px : int
        Empty border around the person in each crop.

    Returns
    -------
    LandmarkSequence
        A copy of the sequence with ``masks`` filled for every frame with a pose.
    """
    seq = motion.sequence if isinstance(motion, SyntheticMotion) else motion
    t_n = len(seq)
    curv = np.broadcast_to(np.asarray(spine_curvature_deg, np.float64), (t_n,))
    img = seq.image_xyz.astype(np.float64)
    wld = seq.world_xyz.astype(np.float64)
    masks: dict[int, MaskCrop] = {}
    lh, rh, ls, rs = (INDEX[n] for n in ("left_hip", "right_hip", "left_shoulder", "right_shoulder"))
    for r in range(t_n):
        p = img[r, :, :2]
        if not np.isfinite(p).all():
            continue
        thigh_px = np.hypot(*(p[INDEX["left_knee"]] - p[INDEX["left_hip"]]))
        thigh_m = np.linalg.norm(wld[r, INDEX["left_knee"]] - wld[r, INDEX["left_hip"]])
        scale = thigh_px / thigh_m if thigh_m > 0 else 500.0
        # in a foreshortened view the scale from one segment is unreliable: use the largest
        seg_scales = []
        for a, b, _ in _LIMBS[:8]:
            lm = np.linalg.norm(wld[r, INDEX[a]] - wld[r, INDEX[b]])
            if lm > 0:
                seg_scales.append(np.hypot(*(p[INDEX[a]] - p[INDEX[b]])) / lm)
        scale = max([scale, *seg_scales])
        x0 = int(np.floor(np.min(p[:, 0]))) - margin_px - int(0.2 * scale)
        y0 = int(np.floor(np.min(p[:, 1]))) - margin_px - int(0.2 * scale)
        x1 = int(np.ceil(np.max(p[:, 0]))) + margin_px + int(0.2 * scale)
        y1 = int(np.ceil(np.max(p[:, 1]))) + margin_px + int(0.2 * scale)
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(seq.width, x1), min(seq.height, y1)
        if x1 <= x0 or y1 <= y0:
            continue
        m = np.zeros((y1 - y0, x1 - x0), bool)
        for a, b, rad in _LIMBS:
            _draw_capsule(m, x0, y0, p[INDEX[a]], p[INDEX[b]], rad * scale)
        hip_mid = 0.5 * (p[lh] + p[rh])
        sh_mid = 0.5 * (p[ls] + p[rs])
        # back direction in the image: away from the toes
        toes = 0.5 * (p[INDEX["left_foot_index"]] + p[INDEX["right_foot_index"]])
        heels = 0.5 * (p[INDEX["left_heel"]] + p[INDEX["right_heel"]])
        back = heels - toes
        arc = make_spine_arc(hip_mid, sh_mid, back, float(curv[r]))
        for i in range(len(arc) - 1):
            _draw_capsule(m, x0, y0, arc[i], arc[i + 1], trunk_half_depth_m * scale)
        # hip and shoulder girdles (front views)
        _draw_capsule(m, x0, y0, p[lh], p[rh], trunk_half_depth_m * scale)
        _draw_capsule(m, x0, y0, p[ls], p[rs], 0.07 * scale)
        head = 0.5 * (p[INDEX["left_ear"]] + p[INDEX["right_ear"]])
        _draw_capsule(m, x0, y0, head, p[INDEX["nose"]], 0.1 * scale)
        _draw_capsule(m, x0, y0, sh_mid, head, 0.06 * scale)
        masks[r] = MaskCrop(x0, y0, np.where(m, 255, 0).astype(np.uint8))
    return replace(seq, masks=masks)
