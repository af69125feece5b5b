"""A landmark-driven piecewise-affine warp that makes a real squat's knees cave in (or out).

Test code only: it builds a *constructed* knee-valgus case from a real clip (docs/valgus_warp.md).
No real clip of knees caving in was available, so the knees of a real front-view squat are moved
medially in the image by a known amount, and the real model is then run on the warped frames.

How one frame is warped
-----------------------
* Each knee's displacement is ``amount * depth_fraction * (knee midpoint - knee)``: towards the
  midpoint between the knees (medially), so the knee-to-knee distance in the image becomes
  exactly ``(1 - amount * depth_fraction)`` times the original. ``amount = 1`` would bring the
  knees together; a negative amount moves them outward.
* A smooth displacement field spreads that over the leg (:func:`compute_knee_displacement`):
  full at the knee (a block about half a hip width around it), tapering linearly to zero at the
  hip and the ankle, fading out sideways (cosine) beyond the leg, and blending between the two
  knees so the space between them is compressed evenly.
* Source control points: the frame's image landmarks (NaN points dropped), points at 25/50/75 %
  along hip->knee and knee->ankle, a dense grid around the legs and a coarse grid over the rest of
  the frame (border included). Target points: each source point plus the field there. Points far
  from the legs, the hips and the ankles do not move, so the background and the feet stay put.
* The target points are triangulated (``scipy.spatial.Delaunay``) and every output pixel is sent
  back to the source through the affine map of its triangle (barycentric coordinates), then
  ``cv2.remap``. Triangles whose corners do not move are the identity, so only the leg region is
  resampled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from scipy.spatial import Delaunay

from movescreen.landmarks import INDEX

FloatArray = npt.NDArray[np.float64]

FIXED_STEP_FRACTION = 0.08  # fixed grid spacing away from the legs, fraction of the longer side
DENSE_STEP_FRACTION = 0.015  # moving grid spacing around the legs, fraction of the longer side
CORE_OF_HIP_WIDTH = 0.5  # leg half-width that moves as one piece, as a fraction of hip width
TAPER_OF_SHIFT = 3.0  # lateral taper length, in knee displacements (keeps the stretch under ~50 %)


@dataclass(frozen=True)
class WarpedFrame:
    """One warped frame and the knee displacement applied to it.

    Attributes
    ----------
    image : ndarray, shape (H, W, 3), uint8
        The warped BGR image.
    knee_shift_px : ndarray, shape (2, 2)
        Displacement (x, y) in pixels applied to the left and right knee (rows); zeros when the
        frame was left as it was.
    folded_triangles : int
        Triangles whose orientation flips between source and target (0 for a clean warp: a fold
        would copy some pixels twice and lose others).
    """

    image: npt.NDArray[np.uint8]
    knee_shift_px: FloatArray
    folded_triangles: int


def compute_depth_fraction(
    knee_flexion_deg: FloatArray,
    frame_index: npt.NDArray[np.int64],
    bottom_frames: Sequence[int],
) -> FloatArray:
    """How far down each frame is: 0 standing, 1 at the bottom of its nearest rep.

    Parameters
    ----------
    knee_flexion_deg : ndarray, shape (T,)
        Knee flexion (deg, 0 = straight), e.g. the mean of both sides; NaN where unknown.
    frame_index : ndarray, shape (T,)
        Source frame numbers of the rows.
    bottom_frames : sequence of int
        The bottom frame of every rep (source frame numbers).

    Returns
    -------
    ndarray, shape (T,)
        In [0, 1]; 0 where the flexion is NaN or there are no reps.

    Notes
    -----
    Standing is the clip's 10th percentile of knee flexion; each frame is scaled against the
    flexion at the bottom of the rep whose bottom is nearest in frame number.
    """
    flex = np.asarray(knee_flexion_deg, np.float64)
    out = np.zeros(len(flex))
    if not len(bottom_frames) or not np.isfinite(flex).any():
        return out
    frames = np.asarray(frame_index)
    stand = float(np.nanpercentile(flex, 10))
    bottoms = np.asarray(bottom_frames)
    rows_of_bottom = np.array([int(np.flatnonzero(frames == b)[0]) for b in bottoms])
    nearest = np.argmin(np.abs(frames[:, None] - bottoms[None, :]), axis=1)
    deepest = flex[rows_of_bottom[nearest]]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (flex - stand) / (deepest - stand)
    return np.where(np.isfinite(frac), np.clip(frac, 0.0, 1.0), 0.0)


def _grid(x0: float, y0: float, x1: float, y1: float, step: float) -> FloatArray:
    """Points of a regular grid covering [x0, x1] x [y0, y1] (edges included), shape (N, 2)."""
    xs = np.linspace(x0, x1, max(2, int(np.ceil((x1 - x0) / step)) + 1))
    ys = np.linspace(y0, y1, max(2, int(np.ceil((y1 - y0) / step)) + 1))
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def _nearest_on_leg(
    p: FloatArray, hip: FloatArray, knee: FloatArray, ankle: FloatArray, plateau_px: float
) -> tuple[FloatArray, FloatArray]:
    """Distance of points to the hip-knee-ankle polyline and the weight there (1 at the knee).

    Returns ``(distance_px, weight)``, each shape (N,). The weight is 1 within ``plateau_px`` of
    the knee along the leg (the knee moves as a block) and falls linearly to 0 at the hip and at
    the ankle.
    """
    best_d = np.full(len(p), np.inf)
    best_w = np.zeros(len(p))
    for far in (hip, ankle):
        seg = far - knee
        length = max(float(np.linalg.norm(seg)), 1e-9)
        t = np.clip(((p - knee) @ seg) / length**2, 0.0, 1.0)
        d = np.linalg.norm(p - (knee + t[:, None] * seg), axis=1)
        flat = min(plateau_px, 0.5 * length) / length
        w = np.clip((1.0 - t) / (1.0 - flat), 0.0, 1.0)
        closer = d < best_d
        best_d = np.where(closer, d, best_d)
        best_w = np.where(closer, w, best_w)
    return best_d, best_w


def compute_knee_displacement(
    points: FloatArray,
    legs: dict[str, tuple[FloatArray, FloatArray, FloatArray]],
    shift: dict[str, FloatArray],
    core_px: float,
    taper_px: float,
) -> FloatArray:
    """The smooth displacement field that moves each knee by ``shift`` (pixels), at ``points``.

    Parameters
    ----------
    points : ndarray, shape (N, 2)
        Source points in pixels.
    legs : dict side -> (hip, knee, ankle), each shape (2,)
        The image landmarks of both legs.
    shift : dict side -> ndarray, shape (2,)
        Knee displacement of each side in pixels.
    core_px : float
        Distance from the leg's line within which the leg moves as one piece.
    taper_px : float
        Beyond ``core_px`` the displacement fades out (cosine) over this distance.

    Returns
    -------
    ndarray, shape (N, 2)
        Displacement in pixels.

    Notes
    -----
    Each leg's share is ``weight along the leg (1 at the knee, 0 at hip and ankle) * lateral fade
    * r_other / (r_left + r_right)``. The last factor is 1 on the leg's own line and 0 on the other
    leg's line, so between the knees the displacement goes smoothly from one knee's shift to the
    other's: the space between the knees is compressed by exactly the same factor as the
    knee-to-knee distance (no folds while ``amount < 1``). The field is 0 at the hips, the ankles
    and everywhere farther than ``core_px + taper_px`` from both legs.
    """
    r, w = {}, {}
    for s, (hip, knee, ank) in legs.items():
        r[s], w[s] = _nearest_on_leg(points, hip, knee, ank, core_px)
    out = np.zeros_like(points)
    total = r["left"] + r["right"]
    for s, o in (("left", "right"), ("right", "left")):
        x = np.clip((r[s] - core_px) / taper_px, 0.0, 1.0)
        fade = 0.5 * (1.0 + np.cos(np.pi * x))
        share = np.where(total > 0, r[o] / np.maximum(total, 1e-9), 0.5)
        out += (w[s] * fade * share)[:, None] * shift[s][None, :]
    return out


def build_control_points(
    image_xy: FloatArray,
    width: int,
    height: int,
    *,
    amount: float,
    depth_fraction: float,
) -> tuple[FloatArray, FloatArray]:
    """Source and target control points for one frame.

    Parameters
    ----------
    image_xy : ndarray, shape (33, 2)
        Image landmarks of the frame in pixels; NaN rows are dropped.
    width, height : int
        Frame size in pixels.
    amount : float
        Fraction of half the knee-to-knee distance each knee moves medially at full depth;
        negative moves the knees outward.
    depth_fraction : float
        0 standing .. 1 at the bottom; scales the displacement.

    Returns
    -------
    src, dst : ndarray, shape (N, 2)
        Matching control points (pixels): the landmarks, points at 25/50/75 % along each thigh
        and shank, a dense grid around the legs and a coarse fixed grid (with the frame border).
        The knee landmarks move by exactly ``amount * depth_fraction * (knee midpoint - knee)``.
    """
    pts = np.asarray(image_xy, np.float64)[:, :2]
    landmarks = pts[np.isfinite(pts).all(axis=1)]
    fixed = _grid(0.0, 0.0, width - 1.0, height - 1.0, FIXED_STEP_FRACTION * max(width, height))
    names = [f"{s}_{j}" for s in ("left", "right") for j in ("hip", "knee", "ankle")]
    if amount * depth_fraction == 0 or not all(np.isfinite(pts[INDEX[n]]).all() for n in names):
        src = np.concatenate([landmarks, fixed])
        return src, src.copy()
    legs = {s: (pts[INDEX[f"{s}_hip"]], pts[INDEX[f"{s}_knee"]], pts[INDEX[f"{s}_ankle"]])
            for s in ("left", "right")}
    mid = 0.5 * (legs["left"][1] + legs["right"][1])
    shift = {s: amount * depth_fraction * (mid - legs[s][1]) for s in legs}
    core_px = CORE_OF_HIP_WIDTH * float(np.linalg.norm(legs["left"][0] - legs["right"][0]))
    taper_px = max(TAPER_OF_SHIFT * max(float(np.linalg.norm(v)) for v in shift.values()),
                   core_px, 1.0)
    reach = core_px + taper_px
    along = [a + t * (b - a) for leg in legs.values() for a, b in ((leg[0], leg[1]), (leg[1], leg[2]))
             for t in (0.25, 0.5, 0.75)]
    leg_pts = np.array([q for leg in legs.values() for q in leg])
    lo = np.maximum(leg_pts.min(axis=0) - reach, 0.0)
    hi = np.minimum(leg_pts.max(axis=0) + reach, [width - 1.0, height - 1.0])
    dense = _grid(lo[0], lo[1], hi[0], hi[1], DENSE_STEP_FRACTION * max(width, height))
    inside_box = ((fixed[:, 0] > lo[0]) & (fixed[:, 0] < hi[0])
                  & (fixed[:, 1] > lo[1]) & (fixed[:, 1] < hi[1]))
    src = np.concatenate([landmarks, np.array(along), dense, fixed[~inside_box]])
    dst = src + compute_knee_displacement(src, legs, shift, core_px, taper_px)
    for s in legs:  # the knees move by exactly their shift (their own share is 1)
        at = np.all(src == legs[s][1], axis=1)
        dst[at] = legs[s][1] + shift[s]
    # keep every point inside the frame and drop duplicates (Delaunay needs distinct points)
    dst[:, 0] = np.clip(dst[:, 0], 0.0, width - 1.0)
    dst[:, 1] = np.clip(dst[:, 1], 0.0, height - 1.0)
    _, keep = np.unique(np.round(dst, 2), axis=0, return_index=True)
    keep = np.sort(keep)
    return src[keep], dst[keep]


def count_folded_triangles(src: FloatArray, dst: FloatArray) -> int:
    """How many triangles of the target triangulation are flipped or flattened in the source.

    Parameters
    ----------
    src, dst : ndarray, shape (N, 2)
        Matching control points in pixels.
    """
    simplices = Delaunay(dst).simplices

    def signed_area(p: FloatArray) -> FloatArray:
        a, b, c = p[simplices[:, 0]], p[simplices[:, 1]], p[simplices[:, 2]]
        return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])

    return int(np.sum(signed_area(src) * signed_area(dst) <= 0))


def warp_piecewise_affine(
    image: npt.NDArray[np.uint8], src: FloatArray, dst: FloatArray
) -> npt.NDArray[np.uint8]:
    """Warp ``image`` so that the points ``src`` land on ``dst`` (piecewise affine).

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), uint8
    src, dst : ndarray, shape (N, 2)
        Matching control points in pixels; ``dst`` must cover the frame (include its corners).

    Returns
    -------
    ndarray, shape (H, W, 3), uint8
        A new image; pixels outside every triangle, and triangles that do not move, are copied.

    Notes
    -----
    The triangulation is made on ``dst`` (where the output pixels are), and each output pixel is
    sent back to ``src`` with the barycentric coordinates of its triangle.
    """
    h, w = image.shape[:2]
    moved = np.linalg.norm(dst - src, axis=1) > 1e-6
    if not moved.any():
        return image.copy()
    tri = Delaunay(dst)
    simplices = tri.simplices
    moving = moved[simplices].any(axis=1)
    corners = dst[simplices[moving]].reshape(-1, 2)
    x0, y0 = np.floor(corners.min(axis=0)).astype(int)
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w - 1), min(y1, h - 1)
    map_x, map_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    gx, gy = np.meshgrid(np.arange(x0, x1 + 1), np.arange(y0, y1 + 1))
    q = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float64)
    s = tri.find_simplex(q)
    inside = s >= 0
    q, s = q[inside], s[inside]
    trans = tri.transform[s]  # (n, 3, 2): inverse affine to barycentric, then the offset
    b01 = np.einsum("nij,nj->ni", trans[:, :2, :], q - trans[:, 2, :])
    bary = np.concatenate([b01, 1.0 - b01.sum(axis=1, keepdims=True)], axis=1)
    source = np.einsum("ni,nij->nj", bary, src[simplices[s]])
    rows, cols = gy.ravel()[inside], gx.ravel()[inside]
    map_x[rows, cols] = source[:, 0]
    map_y[rows, cols] = source[:, 1]
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def warp_knees(
    frames: Iterable[npt.NDArray[np.uint8]],
    image_xyz: FloatArray,
    depth_fraction: FloatArray,
    *,
    amount: float,
) -> list[WarpedFrame]:
    """Move the knees of every frame medially by ``amount`` (see the module docstring).

    Parameters
    ----------
    frames : iterable of ndarray, shape (H, W, 3), uint8
        The clip's frames, in the order of the landmark rows.
    image_xyz : ndarray, shape (T, 33, 3)
        Image landmarks in pixels (x, y, z); NaN where missing.
    depth_fraction : ndarray, shape (T,)
        0 standing .. 1 at a rep's bottom (:func:`compute_depth_fraction`).
    amount : float
        Fraction of half the knee-to-knee distance moved at full depth (negative: outward).

    Returns
    -------
    list of WarpedFrame, length T
    """
    out = []
    for i, img in enumerate(frames):
        h, w = img.shape[:2]
        src, dst = build_control_points(image_xyz[i, :, :2], w, h, amount=amount,
                                        depth_fraction=float(depth_fraction[i]))
        shifts = np.zeros((2, 2))
        for k, s in enumerate(("left", "right")):
            j = INDEX[f"{s}_knee"]
            at = np.flatnonzero(np.all(np.isclose(src, image_xyz[i, j, :2]), axis=1))
            if len(at):
                shifts[k] = dst[at[0]] - src[at[0]]
        out.append(WarpedFrame(warp_piecewise_affine(img, src, dst), shifts,
                               count_folded_triangles(src, dst)))
    return out
