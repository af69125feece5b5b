"""Camera view: side, front or oblique, which side is nearer, which way the person faces.

Pure functions on landmark arrays. The view is estimated per frame from two cues and then
summarised over windows (a rep) or the whole clip by majority:

- image: the widths of the shoulders and hips against the trunk length (about 0.5 seen from
  the front, near 0 from the side); ``yaw = arccos(ratio / 0.5)``;
- world: the angle of the left-right hip and shoulder axis against the camera's x axis in the
  horizontal plane of MediaPipe's world landmarks.

The two yaw estimates (0 = front, 90 = side) are averaged; < 30 deg is front, > 60 deg side,
in between oblique.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from movescreen.kinematics.angles import ANGLE_BY_NAME, estimate_image_facing
from movescreen.landmarks import INDEX

View = Literal["side", "front", "oblique", "unknown"]
FRONT_WIDTH_RATIO = 0.5
FRONT_MAX_DEG = 30.0
SIDE_MIN_DEG = 60.0


@dataclass(frozen=True)
class ViewEstimate:
    """The camera view of a clip.

    Attributes
    ----------
    per_frame : ndarray of str, shape (T,)
        'side', 'front', 'oblique' or 'unknown' (no pose).
    yaw_deg : ndarray, shape (T,)
        0 = the camera sees the front (or back), 90 = the side. NaN without pose.
    view : str
        Majority over frames with a pose.
    facing : str
        Which way the toes point: 'left' or 'right' (image), 'camera' or 'away'.
    facing_sign : int
        +1 right, -1 left, 0 camera/away (used to sign the image sagittal angles).
    near_side : str or None
        'left' or 'right': the body side nearer the camera (side and oblique views).
    """

    per_frame: npt.NDArray[np.str_]
    yaw_deg: npt.NDArray[np.float64]
    view: View
    facing: str
    facing_sign: int
    near_side: str | None

    def as_dict(self) -> dict[str, object]:
        return {"view": self.view, "facing": self.facing, "near_side": self.near_side,
                "median_yaw_deg": float(np.nanmedian(self.yaw_deg))
                if np.isfinite(self.yaw_deg).any() else None}


def _xyz(a: np.ndarray, name: str) -> np.ndarray:
    return a[:, INDEX[name], :].astype(np.float64)


def estimate_yaw(image_xyz: np.ndarray, world_xyz: np.ndarray) -> npt.NDArray[np.float64]:
    """Per-frame yaw of the body against the camera, degrees in [0, 90].

    Parameters
    ----------
    image_xyz, world_xyz : ndarray, shape (T, 33, 3)

    Returns
    -------
    ndarray, shape (T,)
        0 = front (or back) to the camera, 90 = side on. NaN where neither cue is available.
    """
    img, wld = np.asarray(image_xyz, np.float64), np.asarray(world_xyz, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        sw = np.abs(_xyz(img, "left_shoulder")[:, 0] - _xyz(img, "right_shoulder")[:, 0])
        hw = np.abs(_xyz(img, "left_hip")[:, 0] - _xyz(img, "right_hip")[:, 0])
        ms = 0.5 * (_xyz(img, "left_shoulder") + _xyz(img, "right_shoulder"))[:, :2]
        mh = 0.5 * (_xyz(img, "left_hip") + _xyz(img, "right_hip"))[:, :2]
        trunk = np.linalg.norm(ms - mh, axis=1)
        ratio = (sw + hw) / (2 * trunk)
        yaw_img = np.degrees(np.arccos(np.clip(ratio / FRONT_WIDTH_RATIO, 0.0, 1.0)))
        ax = (_xyz(wld, "left_hip") - _xyz(wld, "right_hip")) + (
            _xyz(wld, "left_shoulder") - _xyz(wld, "right_shoulder"))
        yaw_w = np.degrees(np.arctan2(np.abs(ax[:, 2]), np.abs(ax[:, 0])))
        both = np.stack([yaw_img, yaw_w])
        fin = np.isfinite(both)
        n = fin.sum(axis=0)
        yaw = np.where(n > 0, np.where(fin, both, 0.0).sum(axis=0) / np.maximum(n, 1), np.nan)
    return yaw


def classify_yaw(yaw_deg: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """Map yaw (deg) to 'front' (< 30), 'oblique' (30-60), 'side' (> 60) or 'unknown' (NaN).

    >>> classify_yaw([5.0, 45.0, 80.0, float('nan')]).tolist()
    ['front', 'oblique', 'side', 'unknown']
    """
    y = np.asarray(yaw_deg, np.float64)
    out = np.full(y.shape, "unknown", dtype="<U8")
    out[y < FRONT_MAX_DEG] = "front"
    out[(y >= FRONT_MAX_DEG) & (y <= SIDE_MIN_DEG)] = "oblique"
    out[y > SIDE_MIN_DEG] = "side"
    return out


def summarise_view(per_frame: npt.ArrayLike) -> View:
    """The most common known view among ``per_frame`` labels ('unknown' when none)."""
    c = Counter(v for v in np.asarray(per_frame).tolist() if v != "unknown")
    return c.most_common(1)[0][0] if c else "unknown"  # type: ignore[return-value]


def estimate_view(image_xyz: np.ndarray, world_xyz: np.ndarray) -> ViewEstimate:
    """Classify the camera view per frame and overall, and the facing direction.

    Parameters
    ----------
    image_xyz : ndarray, shape (T, 33, 3), pixels
    world_xyz : ndarray, shape (T, 33, 3), metres

    Returns
    -------
    ViewEstimate
    """
    img, wld = np.asarray(image_xyz, np.float64), np.asarray(world_xyz, np.float64)
    yaw = estimate_yaw(img, wld)
    per = classify_yaw(yaw)
    view = summarise_view(per)
    sign, _ = estimate_image_facing(img)
    if sign > 0:
        facing = "right"
    elif sign < 0:
        facing = "left"
    else:
        # the person's left shoulder on the image right means they face the camera
        d = _xyz(img, "left_shoulder")[:, 0] - _xyz(img, "right_shoulder")[:, 0]
        d = d[np.isfinite(d)]
        facing = "camera" if d.size == 0 or np.median(d) >= 0 else "away"
    near: str | None = None
    if view in ("side", "oblique"):
        dz = (_xyz(wld, "left_hip")[:, 2] + _xyz(wld, "left_shoulder")[:, 2]) - (
            _xyz(wld, "right_hip")[:, 2] + _xyz(wld, "right_shoulder")[:, 2])
        dz = dz[np.isfinite(dz)]
        if dz.size:
            near = "left" if np.median(dz) < 0 else "right"  # smaller z is nearer
    return ViewEstimate(per, yaw, view, facing, sign, near)


_MOVEMENT_VIEWS = {"squat": ("side", "front", "oblique"), "hinge": ("side", "oblique")}


def check_view(view: str, movement: str) -> list[str]:
    """Plain-sentence warnings when the view does not suit the movement.

    >>> check_view("front", "hinge")[0][:40]
    'The hip hinge was filmed from the front:'
    """
    out: list[str] = []
    if view == "unknown":
        out.append("The camera view could not be determined, so no angle is marked as valid.")
    elif movement == "hinge" and view == "front":
        out.append(
            "The hip hinge was filmed from the front: hip flexion and trunk lean are foreshortened "
            "in the picture, so the sagittal angles come from the estimated 3-D landmarks only. "
            "Film a hinge from the side for reliable angles."
        )
    elif movement == "squat" and view == "side":
        out.append(
            "The squat was filmed from the side: knee valgus (knees caving in) cannot be seen "
            "from there. Film from the front to check the knees."
        )
    elif movement == "squat" and view == "oblique":
        out.append(
            "The squat was filmed at an angle (oblique): both sagittal and frontal-plane angles "
            "in the picture are distorted; the 3-D estimates are used where possible."
        )
    return out


def is_valid_for_view(column: str, view: str) -> bool:
    """Whether a column of the angle table can be trusted from ``view``.

    Columns not in the definition table (e.g. merged-in extra columns) are always valid.
    """
    d = ANGLE_BY_NAME.get(column)
    return True if d is None else view in d.views
