"""Synthetic seated skeletons for the hip rotation screen, with answers known by construction.

Three tests (see docs/hip_rotation.md): the seated internal/external rotation test
(:func:`make_seated_rotation`), the figure-4 (:func:`make_figure4`) and the static 90/90 floor
position (:func:`make_hip_9090`). Conventions are those of :mod:`movescreen.synthetic`: world in
metres, y down, x to the image right, z away from the camera, the person's yaw ``psi`` gives the
facing direction ``F = (sin psi, 0, -cos psi)`` and the person's left ``L = (cos psi, 0, sin psi)``;
0 = facing the camera (front view), 90 = side view. Nothing here is used by the analysis.

Seated rotation geometry: hips and knees at 90 deg, the thigh horizontal along ``F``, the shin
hanging down. Hip rotation turns the whole leg below the knee about the thigh's long axis:
**internal** rotation swings the foot *outward* (lateral), **external** rotation swings it
*inward*, so the shin's angle from vertical in the frontal plane equals the hip rotation.
Compensations are prescribed separately so each rule can be tested on its own:

* ``thigh_drift_deg``: the thigh swings sideways (lateral +) about the hip in the floor plane,
  the shin keeps its angle (the knee moves in place of the hip turning);
* ``foot_sickle_deg``: the foot turns about the shin axis, toes inward (the ankle/knee twist);
* ``pelvis_hike_deg``: the pelvis tilts in the frontal plane, lifting that side's hip (and its
  leg, which moves with it); the trunk is translated, not tilted;
* ``trunk_lean_deg``: the trunk leans sideways about the mid-hip (+ toward the person's left);
* ``trunk_flexion_deg``: the trunk leans forward (figure-4: rounding to reach the foot).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq

from movescreen.landmarks import INDEX, NUM_LANDMARKS
from movescreen.synthetic import (
    ANKLE_HEIGHT_M,
    FOREARM_M,
    HEEL_BACK_M,
    HIP_HALF_WIDTH_M,
    SHANK_M,
    SHOULDER_HALF_WIDTH_M,
    THIGH_M,
    TOE_FORWARD_M,
    TRUNK_M,
    UPPER_ARM_M,
    place_head,
)
from movescreen.types import LandmarkSequence

Side = Literal["left", "right"]
SEAT_M = SHANK_M + ANKLE_HEIGHT_M
"""Seat height: the hip joint sits this far above the floor (thigh horizontal, shin vertical)."""
_U = np.array([0.0, -1.0, 0.0])


@dataclass(frozen=True)
class SyntheticHip:
    """A synthetic hip-rotation clip: the landmarks and the values it was built with.

    ``truth`` holds per-frame arrays (shape (T,)): ``left_rotation_deg``/``right_rotation_deg``
    (+ internal, - external) and every prescribed compensation; ``expected`` holds the clip's
    answers (peak ranges, figure-4 and 90/90 values) by name.
    """

    sequence: LandmarkSequence
    truth: dict[str, npt.NDArray[np.float64]]
    expected: dict[str, float]


def rotate(v: np.ndarray, axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """Rodrigues' rotation of ``v`` about the unit vector ``axis`` (right-handed)."""
    a = axis / np.linalg.norm(axis)
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return v * c + np.cross(a, v) * s + a * (a @ v) * (1 - c)


def _frame(yaw_deg: float) -> tuple[np.ndarray, np.ndarray]:
    psi = np.radians(yaw_deg)
    return np.array([np.sin(psi), 0.0, -np.cos(psi)]), np.array([np.cos(psi), 0.0, np.sin(psi)])


def _ramp(n_up: int, n_hold: int, n_down: int) -> np.ndarray:
    up = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n_up, endpoint=False))
    return np.concatenate([up, np.ones(n_hold), up[::-1]])


def _upper_body(pts: dict[str, np.ndarray], mid_hip: np.ndarray, F: np.ndarray, L: np.ndarray,
                lean_rad: float, flex_rad: float) -> None:
    """Trunk, arms (hands resting forward, on the thighs) and face points."""
    up = rotate(_U, F, -lean_rad)  # + lean: the top of the trunk moves toward L
    up = rotate(up, np.cross(_U, F), flex_rad)  # (L x up = F): + flexion: the top moves toward F
    side_axis = rotate(L, F, -lean_rad)
    mid_sh = mid_hip + TRUNK_M * up
    for side, s in (("left", 1.0), ("right", -1.0)):
        sh = mid_sh + s * SHOULDER_HALF_WIDTH_M * side_axis
        el = sh - UPPER_ARM_M * up + 0.05 * F
        wr = el + FOREARM_M * F
        pts[f"{side}_shoulder"], pts[f"{side}_elbow"], pts[f"{side}_wrist"] = sh, el, wr
        for name, off in (("pinky", -0.03), ("index", 0.0), ("thumb", 0.03)):
            pts[f"{side}_{name}"] = wr + 0.08 * F - s * off * side_axis
    place_head(pts, mid_sh, F, side_axis, up)


def _foot(pts: dict[str, np.ndarray], side: str, ankle: np.ndarray, shin: np.ndarray,
          forward: np.ndarray) -> None:
    """Heel and toe below the ankle along the shin, the foot pointing ``forward``."""
    base = ankle + ANKLE_HEIGHT_M * shin
    pts[f"{side}_ankle"] = ankle
    pts[f"{side}_heel"] = base - HEEL_BACK_M * forward
    pts[f"{side}_foot_index"] = base + TOE_FORWARD_M * forward


def _seated_leg(pts: dict[str, np.ndarray], side: str, hip: np.ndarray, F: np.ndarray, L: np.ndarray,
                rot_rad: float, drift_rad: float, sickle_rad: float) -> None:
    lat = L if side == "left" else -L
    sgn = 1.0 if side == "left" else -1.0  # rotations toward +L are positive about these axes
    thigh = rotate(F, _U, sgn * drift_rad)  # (up x F = L): + drift moves the knee lateral
    knee = hip + THIGH_M * thigh
    shin = rotate(-_U, thigh, sgn * rot_rad)  # (F x down = L): + = foot lateral = hip IR
    forward = thigh - (thigh @ shin) * shin
    forward = forward / np.linalg.norm(forward)
    fsick = rotate(forward, shin, sgn * sickle_rad)  # (down x F = -L): + = toes medial
    assert not sickle_rad or (fsick - forward) @ lat < 0
    pts[f"{side}_hip"], pts[f"{side}_knee"] = hip, knee
    _foot(pts, side, knee + SHANK_M * shin, shin, fsick)


def _project(world_abs: np.ndarray, fps: float, *, width: int, height: int, px_per_m: float,
             noise_px: float, noise_m: float, seed: int, visibility: np.ndarray | None) -> LandmarkSequence:
    t_n = world_abs.shape[0]
    rng = np.random.default_rng(seed)
    image = np.full((t_n, NUM_LANDMARKS, 3), np.nan)
    image[..., 0] = width / 2.0 + px_per_m * world_abs[..., 0]
    image[..., 1] = height * 0.45 + px_per_m * (world_abs[..., 1] + SEAT_M)
    mid = 0.5 * (world_abs[:, INDEX["left_hip"]] + world_abs[:, INDEX["right_hip"]])
    world = world_abs - mid[:, None, :]
    image[..., 2] = world[..., 2] * px_per_m / width
    if noise_px:
        image[..., :2] += rng.normal(0, noise_px, image[..., :2].shape)
    if noise_m:
        world = world + rng.normal(0, noise_m, world.shape)
    vis = np.ones((t_n, NUM_LANDMARKS)) if visibility is None else visibility
    return LandmarkSequence(
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


def make_seated_rotation(
    *,
    internal_deg: tuple[float, float] = (40.0, 40.0),
    external_deg: tuple[float, float] = (40.0, 40.0),
    thigh_drift_deg: tuple[float, float] = (0.0, 0.0),
    foot_sickle_deg: tuple[float, float] = (0.0, 0.0),
    pelvis_hike_deg: tuple[float, float] = (0.0, 0.0),
    trunk_lean_deg: tuple[float, float] = (0.0, 0.0),
    yaw_deg: float = 0.0,
    fps: float = 30.0,
    lead_s: float = 0.6,
    ramp_s: float = 1.0,
    hold_s: float = 0.6,
    noise_px: float = 0.0,
    noise_m: float = 0.0,
    seed: int = 0,
    width: int = 720,
    height: int = 1280,
    px_per_m: float = 500.0,
) -> SyntheticHip:
    """The seated hip rotation test: left IR, left ER, right IR, right ER, one after the other.

    Each tuple is ``(left, right)``: the peak hip rotation of each side and direction, and the
    compensation that side shows *during its own rotations* (both directions), reaching its peak
    with the rotation. Pelvis hike lifts the moving side's hip; trunk lean leans toward the
    moving side. ``yaw_deg`` turns the person (0 front view, 90 side view).
    """
    F, L = _frame(yaw_deg)
    n_lead, n_r, n_h = (int(round(x * fps)) for x in (lead_s, ramp_s, hold_s))
    wave = _ramp(n_r, n_h, n_r)
    phases = [("left", +1), ("left", -1), ("right", +1), ("right", -1)]
    t_n = 2 * n_lead + len(phases) * len(wave)
    truth = {k: np.zeros(t_n) for k in ("left_rotation_deg", "right_rotation_deg", "progress")}
    active = np.array([""] * t_n, dtype=object)
    for i, (side, sign) in enumerate(phases):
        sl = slice(n_lead + i * len(wave), n_lead + (i + 1) * len(wave))
        peak = (internal_deg if sign > 0 else external_deg)[0 if side == "left" else 1]
        truth[f"{side}_rotation_deg"][sl] = sign * peak * wave
        truth["progress"][sl] = wave
        active[sl] = side
    world_abs = np.full((t_n, NUM_LANDMARKS, 3), np.nan)
    for r in range(t_n):
        side_on = active[r]
        k = truth["progress"][r]
        j = {"left": 0, "right": 1}.get(side_on, None)
        hike = np.radians(pelvis_hike_deg[j] * k) if j is not None else 0.0
        lean = np.radians(trunk_lean_deg[j] * k) if j is not None else 0.0
        hike_sign = 1.0 if side_on == "left" else -1.0  # lift the moving side's hip
        lean_sign = 1.0 if side_on == "left" else -1.0  # lean toward the moving side
        centre = SEAT_M * _U
        pts: dict[str, np.ndarray] = {}
        hips = {"left": centre + HIP_HALF_WIDTH_M * L, "right": centre - HIP_HALF_WIDTH_M * L}
        if hike:  # pivot on the other (sitting) hip: the moving side's hip lifts
            o = "right" if side_on == "left" else "left"
            v1, v2 = rotate(hike_sign * L, F, hike), rotate(hike_sign * L, F, -hike)
            hips[side_on] = hips[o] + 2 * HIP_HALF_WIDTH_M * (v1 if v1[1] < v2[1] else v2)  # y down
        for side in ("left", "right"):
            on = side == side_on
            jj = 0 if side == "left" else 1
            _seated_leg(pts, side, hips[side], F, L,
                        np.radians(truth[f"{side}_rotation_deg"][r]),
                        np.radians(thigh_drift_deg[jj] * k) if on else 0.0,
                        np.radians(foot_sickle_deg[jj] * k) if on else 0.0)
        mid_hip = 0.5 * (pts["left_hip"] + pts["right_hip"])
        _upper_body(pts, mid_hip, F, L, lean * lean_sign, 0.0)
        for name, p in pts.items():
            world_abs[r, INDEX[name]] = p
    for key, val in (("thigh_drift_deg", thigh_drift_deg), ("foot_sickle_deg", foot_sickle_deg),
                     ("pelvis_hike_deg", pelvis_hike_deg), ("trunk_lean_deg", trunk_lean_deg)):
        truth[key] = np.where(active == "left", val[0], np.where(active == "right", val[1], 0.0)) * truth["progress"]
    seq = _project(world_abs, fps, width=width, height=height, px_per_m=px_per_m,
                   noise_px=noise_px, noise_m=noise_m, seed=seed, visibility=None)
    expected = {
        "left_internal_deg": internal_deg[0], "right_internal_deg": internal_deg[1],
        "left_external_deg": external_deg[0], "right_external_deg": external_deg[1],
    }
    return SyntheticHip(seq, truth, expected)


def _figure4_pose(pts: dict[str, np.ndarray], crossed: str, F: np.ndarray, L: np.ndarray,
                  shin_from_horizontal_deg: float) -> None:
    """The crossed leg's ankle rests on top of the other knee; its shin rises from the ankle to
    the knee at ``shin_from_horizontal_deg`` above horizontal, in a plane turned back toward the
    hip as far as the thigh length needs."""
    other = "right" if crossed == "left" else "left"
    s_c = 1.0 if crossed == "left" else -1.0
    centre = SEAT_M * _U
    hip_c = centre + s_c * HIP_HALF_WIDTH_M * L
    hip_o = centre - s_c * HIP_HALF_WIDTH_M * L
    _seated_leg(pts, other, hip_o, F, L, 0.0, 0.0, 0.0)
    ankle = pts[f"{other}_knee"] + 0.07 * _U
    a = np.radians(shin_from_horizontal_deg)
    lat_c = s_c * L

    def knee_at(back_rad: float) -> np.ndarray:
        horiz = np.cos(back_rad) * lat_c - np.sin(back_rad) * F
        return ankle + SHANK_M * (np.cos(a) * horiz + np.sin(a) * _U)

    def gap(back_rad: float) -> float:
        return float(np.linalg.norm(knee_at(back_rad) - hip_c) - THIGH_M)

    back = brentq(gap, -0.6, 1.4) if gap(-0.6) * gap(1.4) < 0 else 0.0
    knee = knee_at(back)
    shin = (ankle - knee) / SHANK_M
    fwd = F - (F @ shin) * shin
    pts[f"{crossed}_hip"], pts[f"{crossed}_knee"] = hip_c, knee
    _foot(pts, crossed, ankle, _unit_perp(shin, -_U), fwd / np.linalg.norm(fwd))


def _unit_perp(v: np.ndarray, toward: np.ndarray) -> np.ndarray:
    p = toward - (toward @ v) * v
    return p / np.linalg.norm(p)


def make_figure4(
    *,
    crossed: Side = "right",
    shin_from_horizontal_deg: float = 20.0,
    trunk_flexion_deg: float = 0.0,
    pelvis_hike_deg: float = 0.0,
    both_sides: bool = False,
    other_shin_from_horizontal_deg: float | None = None,
    yaw_deg: float = 0.0,
    fps: float = 30.0,
    lead_s: float = 0.6,
    ramp_s: float = 1.0,
    hold_s: float = 2.0,
    noise_px: float = 0.0,
    noise_m: float = 0.0,
    seed: int = 0,
    width: int = 720,
    height: int = 1280,
    px_per_m: float = 500.0,
) -> SyntheticHip:
    """Seated figure-4: from neutral sitting the ankle is lifted onto the other knee, held, and
    put down (linear blend of the two poses during the ramps). With ``both_sides`` the other leg
    crosses next. ``trunk_flexion_deg`` (forward rounding) and ``pelvis_hike_deg`` (the crossing
    side's hip lifts) reach their peak in the hold."""
    F, L = _frame(yaw_deg)
    n_lead, n_r, n_h = (int(round(x * fps)) for x in (lead_s, ramp_s, hold_s))
    wave = _ramp(n_r, n_h, n_r)
    order: list[tuple[str, float]] = [(crossed, shin_from_horizontal_deg)]
    if both_sides:
        o = "right" if crossed == "left" else "left"
        order.append((o, shin_from_horizontal_deg if other_shin_from_horizontal_deg is None
                      else other_shin_from_horizontal_deg))
    t_n = 2 * n_lead + len(order) * len(wave)
    world_abs = np.full((t_n, NUM_LANDMARKS, 3), np.nan)
    truth = {k: np.zeros(t_n) for k in ("progress", "trunk_flexion_deg", "pelvis_hike_deg")}
    centre = SEAT_M * _U
    neutral: dict[str, np.ndarray] = {}
    for side, s in (("left", 1.0), ("right", -1.0)):
        _seated_leg(neutral, side, centre + s * HIP_HALF_WIDTH_M * L, F, L, 0.0, 0.0, 0.0)
    expected: dict[str, float] = {}
    for r in range(t_n):
        i = (r - n_lead) // len(wave)
        k = wave[(r - n_lead) % len(wave)] if 0 <= r - n_lead < len(order) * len(wave) else 0.0
        pts = dict(neutral)
        side_on = order[i][0] if 0 <= i < len(order) and r >= n_lead else None
        if side_on is not None:
            crossed_pts: dict[str, np.ndarray] = {}
            _figure4_pose(crossed_pts, side_on, F, L, order[i][1])
            pts = {n: (1 - k) * neutral[n] + k * crossed_pts[n] for n in neutral}
            pts[f"{side_on}_hip"] = neutral[f"{side_on}_hip"]
        hike = np.radians(pelvis_hike_deg * k)
        if hike and side_on is not None:
            s_c = 1.0 if side_on == "left" else -1.0
            lift = s_c * HIP_HALF_WIDTH_M * (rotate(L, F, -hike * s_c) - L)
            for part in ("hip", "knee", "ankle", "heel", "foot_index"):
                pts[f"{side_on}_{part}"] = pts[f"{side_on}_{part}"] + lift
        mid_hip = 0.5 * (pts["left_hip"] + pts["right_hip"])
        _upper_body(pts, mid_hip, F, L, 0.0, np.radians(trunk_flexion_deg * k))
        for name, p in pts.items():
            world_abs[r, INDEX[name]] = p
        truth["progress"][r] = k
        truth["trunk_flexion_deg"][r] = trunk_flexion_deg * k
        truth["pelvis_hike_deg"][r] = pelvis_hike_deg * k
    for side_on, ang in order:
        pts = {}
        _figure4_pose(pts, side_on, F, L, ang)
        o = "right" if side_on == "left" else "left"
        expected[f"{side_on}_crossed_shin_3d_from_horizontal_deg"] = ang
        d = pts[f"{side_on}_ankle"] - pts[f"{side_on}_knee"]
        # what a front camera sees: the shin projected on the frontal plane (x, y; the person
        # faces the camera when yaw is 0)
        lat = d @ L
        expected[f"{side_on}_crossed_shin_from_horizontal_deg"] = float(np.degrees(np.arctan2(abs(d[1]), abs(lat))))
        expected[f"{side_on}_knee_height_thigh_lengths"] = float(
            (pts[f"{o}_knee"][1] - pts[f"{side_on}_knee"][1])
            / np.linalg.norm(pts[f"{o}_knee"] - pts[f"{o}_hip"]))
    seq = _project(world_abs, fps, width=width, height=height, px_per_m=px_per_m,
                   noise_px=noise_px, noise_m=noise_m, seed=seed, visibility=None)
    return SyntheticHip(seq, truth, expected)


def make_hip_9090(
    *,
    front: Side = "left",
    front_shin_from_hip_line_deg: float = 15.0,
    back_shin_from_hip_line_deg: float = 80.0,
    yaw_deg: float = 0.0,
    fps: float = 30.0,
    duration_s: float = 3.0,
    sway_deg: float = 2.0,
    noise_px: float = 0.0,
    noise_m: float = 0.0,
    seed: int = 0,
    width: int = 720,
    height: int = 1280,
    px_per_m: float = 500.0,
) -> SyntheticHip:
    """The 90/90 floor position held still (a small trunk sway): both knees at 90 deg; the
    front shin at the given angle from the hip line (0 = parallel to it, across in front of the
    pelvis), the back shin likewise (90 = pointing straight back)."""
    F, L = _frame(yaw_deg)
    t_n = int(round(duration_s * fps))
    lf = L if front == "left" else -L
    lb = -lf
    af, ab = np.radians(front_shin_from_hip_line_deg), np.radians(back_shin_from_hip_line_deg)
    hip_h, leg_h = 0.10, 0.07
    centre = hip_h * _U
    legs: dict[str, np.ndarray] = {}
    back = "right" if front == "left" else "left"
    for side, thigh, shin in (
        (front, np.cos(af) * F + np.sin(af) * lf, np.cos(af) * lb + np.sin(af) * F),
        (back, np.sin(ab) * lb + np.cos(ab) * F, np.cos(ab) * lb - np.sin(ab) * F),
    ):
        hip = centre + (HIP_HALF_WIDTH_M * (L if side == "left" else -L))
        knee = hip + THIGH_M * thigh
        knee[1] = -leg_h
        ankle = knee + SHANK_M * shin
        legs[f"{side}_hip"], legs[f"{side}_knee"] = hip, knee
        legs[f"{side}_ankle"] = ankle
        legs[f"{side}_heel"] = ankle - 0.05 * shin - 0.03 * _U
        legs[f"{side}_foot_index"] = ankle + 0.12 * shin
    world_abs = np.full((t_n, NUM_LANDMARKS, 3), np.nan)
    for r in range(t_n):
        pts = dict(legs)
        sway = np.radians(sway_deg * np.sin(2 * np.pi * r / max(t_n, 1)))
        _upper_body(pts, 0.5 * (pts["left_hip"] + pts["right_hip"]), F, L, sway, 0.0)
        for name, p in pts.items():
            world_abs[r, INDEX[name]] = p
    seq = _project(world_abs, fps, width=width, height=height, px_per_m=px_per_m,
                   noise_px=noise_px, noise_m=noise_m, seed=seed, visibility=None)
    return SyntheticHip(seq, {"progress": np.ones(t_n)}, {
        "front_shin_from_hip_line_deg": front_shin_from_hip_line_deg,
        "back_shin_from_hip_line_deg": back_shin_from_hip_line_deg,
        "front_side": 0.0 if front == "left" else 1.0,
    })
