"""Back-line bend from the person-segmentation mask: the lumbar-flexion estimate.

BlazePose has no spine landmarks, and landmark-only measures (the shoulder-hip chord, the
ear-shoulder-hip angle) do not separate a rounded hinge from a neutral one. The outline of the
back in the segmentation mask does. For every frame this module

1. draws the chord from mid-shoulder to mid-hip and finds which side of it is posterior (from the
   direction the person faces);
2. at many stations along the chord, marches along the perpendicular on the posterior side until
   the mask (probability > 0.5) ends for good, which gives one point of the back outline;
3. rejects stations that jump away from their neighbours (an arm, a bar, a plate, a caption
   touching the body), that run to the border of the mask crop, or that never start inside the
   body;
4. fits a robust line to the upper and to the lower part of the remaining points and reports
   the angle between the two lines: **positive when the back is convex (rounded), negative when
   it is concave (arched)**, 0 for a straight back line.

What it is and is not: it is the bend of the whole posterior outline between the shoulder and
the hip, seen from the side, including the upper back, soft tissue and clothing. It is not an
angle between spine segments, it does not isolate the lumbar spine, and it is meaningless in a
front view (the confidence then drops to 0). Compare it with the same person's standing or
lockout value (:func:`relative_to_baseline`) rather than across people.

Everything here is pure numpy/scipy: no image I/O, no model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from movescreen.landmarks import INDEX
from movescreen.types import LandmarkSequence, MaskCrop

FloatArray = npt.NDArray[np.floating[Any]]
Facing = Literal["left", "right"]

_LS, _RS = INDEX["left_shoulder"], INDEX["right_shoulder"]
_LH, _RH = INDEX["left_hip"], INDEX["right_hip"]
_LE, _RE = INDEX["left_ear"], INDEX["right_ear"]
_NOSE = INDEX["nose"]
_LHEEL, _RHEEL = INDEX["left_heel"], INDEX["right_heel"]
_LTOE, _RTOE = INDEX["left_foot_index"], INDEX["right_foot_index"]

MASK_THRESHOLD = 127.5  # uint8 mask: probability 0.5


@dataclass(frozen=True)
class BackBendOptions:
    """Settings of the back-outline trace (defaults defined once, here).

    Attributes
    ----------
    stations : int
        Number of stations sampled along the shoulder-hip chord.
    span : tuple of float
        First and last station as fractions of the chord from the shoulder (0) to the hip (1).
        The ends are left out: the neck and arms meet the outline near the shoulder and the
        buttocks near the hip.
    split : float
        Fraction of the chord where the upper part ends and the lower part begins. 0.55 puts it
        near the thoracolumbar junction: the shoulder landmark sits near T2-T3 and the hip joint
        centre near the sacrum's tip, and T3-T12 is a little longer than L1-S5 in adults.
    max_depth : float
        How far the march goes from the chord, as a fraction of the chord length.
    min_gap : float
        The mask must stay below 0.5 for this fraction of the chord length for the edge to count,
        so a small hole (a caption letter, a dark stripe on a shirt) is crossed.
    jump_tol : float
        A station whose edge lies further than this fraction of the chord length from the median
        of its neighbours is rejected.
    line_tol : float
        Edge points further than this fraction of the chord length from a part's line are
        outliers of that line (the line is the one through two points with the most inliers).
    min_valid_fraction : float
        Below this fraction of valid stations per part, the frame gets no value.
    """

    stations: int = 41
    span: tuple[float, float] = (0.12, 0.95)
    split: float = 0.55
    max_depth: float = 0.9
    min_gap: float = 0.03
    jump_tol: float = 0.05
    line_tol: float = 0.02
    min_valid_fraction: float = 0.4

    def __post_init__(self) -> None:
        a, b = self.span
        if not (0.0 <= a < self.split < b <= 1.0):
            raise ValueError(f"expected 0 <= span[0] < split < span[1] <= 1, got {self}")
        if self.stations < 8:
            raise ValueError(f"expected at least 8 stations, got {self.stations}")


@dataclass(frozen=True)
class BackBend:
    """Back-outline bend per frame, plus landmark-only trunk measures.

    All arrays have shape (T,) (one value per row of the sequence) unless stated; NaN where the
    value could not be measured.

    Attributes
    ----------
    bend_deg : ndarray, float64, degrees
        Angle between the upper and lower back lines; convex (rounded) positive, concave (arched)
        negative, 0 for a straight back line. NaN in front-view frames (not traced: the outline
        is not the back there).
    confidence : ndarray, float64, 0..1
        Product of: valid-station fraction, line-fit residuals, shoulder/hip visibility and how
        side-on the view is. 0 where ``bend_deg`` is NaN.
    upper_deg, lower_deg : ndarray, float64, degrees
        Inclination of the upper and lower back lines against the shoulder-hip chord, positive
        when the line leaves the chord towards the back going from shoulder to hip. ``bend_deg``
        is ``upper_deg - lower_deg``.
    valid_fraction : ndarray, float64, 0..1
        Fraction of stations that gave an accepted edge point.
    residual_px : ndarray, float64, pixels
        Root-mean-square distance of the accepted edge points from their fitted lines.
    clipped_fraction : ndarray, float64, 0..1
        Fraction of stations where the body still filled the mask crop at its border, so the
        outline was cut off (the crop is too tight or the person leaves the frame).
    side_view : ndarray, float64, 0..1
        1 for a clean side view, 0 for a front view (from how far apart the left and right
        shoulders and hips are in the image, relative to the trunk length).
    edge_xy : ndarray, shape (T, K, 2), float64, pixels
        The accepted outline points (full-frame x, y) at the K stations; NaN where rejected.
    trunk_inclination_deg : ndarray, float64, degrees
        Shoulder-hip line against the image vertical, 0 upright, positive leaning forward (the
        way the person faces).
    chord_px : ndarray, float64, pixels
        Mid-shoulder to mid-hip distance in the image.
    chord_ratio : ndarray, float64
        ``chord_px`` relative to the median over upright frames (trunk inclination < 20 deg);
        NaN when the clip has no upright frame.
    chord_3d_ratio : ndarray, float64
        Same with the world (metric) landmarks.
    ear_shoulder_hip_deg : ndarray, float64, degrees
        Flexion of the ear-shoulder line against the hip-shoulder line: 0 when ear, shoulder and
        hip are in line, positive when the ear is in front of the trunk line.
    facing : {"left", "right"} or None
        The direction the person faces in the image (None when it could not be told).
    """

    bend_deg: FloatArray
    confidence: FloatArray
    upper_deg: FloatArray
    lower_deg: FloatArray
    valid_fraction: FloatArray
    residual_px: FloatArray
    clipped_fraction: FloatArray
    side_view: FloatArray
    edge_xy: FloatArray
    trunk_inclination_deg: FloatArray
    chord_px: FloatArray
    chord_ratio: FloatArray
    chord_3d_ratio: FloatArray
    ear_shoulder_hip_deg: FloatArray
    facing: Facing | None
    options: BackBendOptions

    def __len__(self) -> int:
        return len(self.bend_deg)


@dataclass(frozen=True)
class BendSummary:
    """A robust summary of ``bend_deg`` over some rows.

    Attributes
    ----------
    value_deg : float
        Confidence-weighted median of ``bend_deg`` over the rows (NaN when none is usable).
    confidence : float
        Median confidence of the rows used (0 when none).
    noise_deg : float
        Median absolute frame-to-frame change of ``bend_deg`` over the rows, degrees.
    n_frames : int
        Number of rows used.
    """

    value_deg: float
    confidence: float
    noise_deg: float
    n_frames: int


# --------------------------------------------------------------------------------------------
# facing and landmark-only measures


def _mid(xyz: FloatArray, a: int, b: int) -> FloatArray:
    """Mean of two landmarks, or the one that exists: shape (T, k)."""
    pa, pb = np.asarray(xyz[:, a], np.float64), np.asarray(xyz[:, b], np.float64)
    return np.where(np.isnan(pa), pb, np.where(np.isnan(pb), pa, 0.5 * (pa + pb)))


def infer_facing(seq: LandmarkSequence) -> Facing | None:
    """Tell which way the person faces in the image, from toes vs heels and nose vs ears.

    Parameters
    ----------
    seq : LandmarkSequence
        Landmarks of one person, shape (T, 33, 3).

    Returns
    -------
    {"left", "right"} or None
        "right" when the toes and the nose are mostly to the right of the heels and the ears
        (image x grows to the right); None when the evidence is missing or balanced (e.g. a
        front view).

    Notes
    -----
    Each frame votes with the horizontal toe-heel and nose-ear offsets, scaled by the trunk
    length and weighted by visibility; the sign of the sum decides. NaN landmarks do not vote.
    """
    xyz = np.asarray(seq.image_xyz, np.float64)
    vis = np.nan_to_num(np.asarray(seq.visibility, np.float64))
    if len(xyz) == 0:
        return None
    trunk = np.linalg.norm(_mid(xyz, _LS, _RS)[:, :2] - _mid(xyz, _LH, _RH)[:, :2], axis=1)
    trunk = np.where(trunk > 1e-6, trunk, np.nan)
    votes = []
    for a, b in ((_LTOE, _LHEEL), (_RTOE, _RHEEL), (_NOSE, _LE), (_NOSE, _RE)):
        dx = (xyz[:, a, 0] - xyz[:, b, 0]) / trunk
        w = np.minimum(vis[:, a], vis[:, b])
        votes.append(np.clip(dx, -1, 1) * w)
    total = np.nansum(np.stack(votes))
    scale = np.nansum(np.abs(np.stack(votes)))
    if not np.isfinite(total) or scale <= 0 or abs(total) < 0.2 * scale:
        return None
    return "right" if total > 0 else "left"


def _anterior(up: FloatArray, facing: Facing) -> FloatArray:
    """Rotate trunk 'up' unit vectors (image x, y; y down) to point to the person's front."""
    x, y = up[..., 0], up[..., 1]
    if facing == "right":
        return np.stack([-y, x], axis=-1)
    return np.stack([y, -x], axis=-1)


def _angle_deg(u: FloatArray, v: FloatArray) -> FloatArray:
    cos = np.sum(u * v, axis=-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


# --------------------------------------------------------------------------------------------
# tracing one frame


def _robust_line(x: FloatArray, y: FloatArray, tol: float) -> tuple[float, float, FloatArray]:
    """Fit ``y = a + b x`` robustly: the line through two points that has most points within
    ``tol`` (exhaustive over pairs, deterministic), then least squares on those inliers.

    Returns the slope, the RMS residual of the inliers and the boolean mask of inliers. A blob
    that covers up to about half the points of a part cannot pull the line.
    """
    n = len(x)
    if n < 3:
        return np.nan, np.nan, np.zeros(n, bool)
    i, j = np.triu_indices(n, k=1)
    far = np.abs(x[j] - x[i]) >= 0.25 * (x.max() - x.min())
    i, j = i[far], j[far]
    b = (y[j] - y[i]) / (x[j] - x[i])
    a = y[i] - b * x[i]
    r = np.abs(y[None, :] - (a[:, None] + b[:, None] * x[None, :]))  # (pairs, n)
    inl = r <= tol
    score = inl.sum(axis=1) - np.where(inl, r, 0.0).sum(axis=1) / (tol * n + 1e-9)
    keep = inl[int(np.argmax(score))]
    for _ in range(2):
        if keep.sum() < 3:
            return np.nan, np.nan, keep
        bb, aa = np.polyfit(x[keep], y[keep], 1)
        keep = np.abs(y - (aa + bb * x)) <= tol
    if keep.sum() < 3:
        return np.nan, np.nan, keep
    bb, aa = np.polyfit(x[keep], y[keep], 1)
    res = y[keep] - (aa + bb * x[keep])
    return float(bb), float(np.sqrt(np.mean(res**2))), keep


def _trace_frame(
    crop: MaskCrop,
    shoulder: FloatArray,
    hip: FloatArray,
    posterior: FloatArray,
    opt: BackBendOptions,
) -> tuple[float, float, float, float, float, FloatArray]:
    """Trace the posterior outline of one frame.

    Returns ``(upper_deg, lower_deg, valid_fraction, residual_px, clipped_fraction,
    edge_xy (K, 2))``.
    """
    k = opt.stations
    nan_edges = np.full((k, 2), np.nan)
    chord = hip - shoulder
    length = float(np.hypot(*chord))
    if not np.isfinite(length) or length < 8.0:
        return np.nan, np.nan, 0.0, np.nan, 0.0, nan_edges
    t = np.linspace(opt.span[0], opt.span[1], k)
    base = shoulder[None, :] + t[:, None] * chord[None, :]  # (K, 2)
    step = max(length / 200.0, 0.5)
    s = np.arange(0.0, opt.max_depth * length + step, step)  # (S,)
    pts = base[:, None, :] + s[None, :, None] * posterior[None, None, :]  # (K, S, 2)
    rows = pts[..., 1] - crop.y0
    cols = pts[..., 0] - crop.x0
    m = crop.mask.astype(np.float32)
    vals = ndimage.map_coordinates(
        m, [rows.ravel(), cols.ravel()], order=1, mode="constant", cval=np.nan
    ).reshape(rows.shape)
    inside = vals > MASK_THRESHOLD
    outside = vals <= MASK_THRESHOLD  # NaN (outside the crop) is neither
    gap = max(int(np.ceil(opt.min_gap * length / step)), 2)
    # the edge is the first inside->outside transition followed by `gap` samples of outside
    depth = np.full(k, np.nan)
    start_ok = inside[:, : max(gap, 3)].any(axis=1)
    # run[i, j]: number of consecutive outside samples starting at j; a run that reaches the
    # crop border (NaN) counts as long enough once it has 3 samples, because the crop often ends
    # a few pixels beyond the body where the person nears the frame edge.
    n_s = len(s)
    run = np.zeros((k, n_s + 1), np.int32)
    border = np.zeros((k, n_s + 1), bool)
    border[:, n_s] = True
    for j in range(n_s - 1, -1, -1):
        run[:, j] = np.where(outside[:, j], run[:, j + 1] + 1, 0)
        border[:, j] = np.where(outside[:, j], border[:, j + 1], ~np.isfinite(vals[:, j]))
    good_run = (run[:, :n_s] >= gap) | ((run[:, :n_s] >= 3) & border[:, 1 : n_s + 1])
    clipped = 0
    for i in range(k):
        if not start_ok[i]:
            continue
        first_in = int(np.argmax(inside[i]))
        cand = np.nonzero(good_run[i, first_in:])[0]
        if len(cand) == 0:
            clipped += int(not np.isfinite(vals[i, -1]))
            continue  # ran into the crop border or past max_depth without leaving the body
        j = first_in + int(cand[0])
        if j == 0 or not np.isfinite(vals[i, j]):
            continue
        # sub-sample position of the 0.5 crossing between j-1 and j
        v0, v1 = vals[i, j - 1], vals[i, j]
        frac = (v0 - MASK_THRESHOLD) / (v0 - v1) if v0 != v1 else 0.0
        depth[i] = s[j - 1] + float(np.clip(frac, 0.0, 1.0)) * step
    # reject stations that jump away from their neighbours
    ok = np.isfinite(depth)
    if ok.sum() >= 5:
        med = np.full(k, np.nan)
        for i in range(k):
            near = depth[max(0, i - 3) : i + 4]
            near = near[np.isfinite(near)]
            if len(near):
                med[i] = np.median(near)
        ok &= np.abs(depth - med) <= opt.jump_tol * length
    x = t * length
    upper = ok & (t <= opt.split)
    lower = ok & (t >= opt.split)
    n_up = int(np.sum(t <= opt.split))
    n_lo = int(np.sum(t >= opt.split))
    if upper.sum() < opt.min_valid_fraction * n_up or lower.sum() < opt.min_valid_fraction * n_lo:
        return np.nan, np.nan, float(ok.mean()), np.nan, clipped / k, nan_edges
    tol = max(opt.line_tol * length, 1.5)
    b_up, r_up, keep_up = _robust_line(x[upper], depth[upper], tol)
    b_lo, r_lo, keep_lo = _robust_line(x[lower], depth[lower], tol)
    final = np.zeros(k, bool)
    final[np.nonzero(upper)[0][keep_up]] = True
    final[np.nonzero(lower)[0][keep_lo]] = True
    edges = np.where(final[:, None], base + depth[:, None] * posterior[None, :], np.nan)
    frac_valid = float(final.mean())
    if not (np.isfinite(b_up) and np.isfinite(b_lo)):
        return np.nan, np.nan, frac_valid, np.nan, clipped / k, edges
    resid = float(np.sqrt((r_up**2 + r_lo**2) / 2.0))
    return (
        float(np.degrees(np.arctan(b_up))),
        float(np.degrees(np.arctan(b_lo))),
        frac_valid,
        resid,
        clipped / k,
        edges,
    )


# --------------------------------------------------------------------------------------------
# tracing one frame while its mask is fresh


def trace_back_frame(
    crop: MaskCrop,
    image_xyz: FloatArray,
    facing: Facing,
    options: BackBendOptions = BackBendOptions(),
) -> dict[str, Any] | None:
    """Trace one frame's back outline while its mask is fresh (the per-frame part of
    :func:`compute_back_bend`, which gives the same numbers from these results).

    Parameters
    ----------
    crop : MaskCrop
        The subject's segmentation mask in this frame.
    image_xyz : ndarray, shape (33, 3)
        The subject's landmarks in this frame, full-frame pixels.
    facing : {"left", "right"}
        Which way the person faces (the posterior side); trace both when it is not known yet.

    Returns
    -------
    dict or None
        ``upper_deg``, ``lower_deg``, ``valid_fraction``, ``residual_px``, ``clipped_fraction``
        (floats) and ``edge_xy`` (ndarray (K, 2)); None when the frame is not traced (no
        shoulder/hip, or a front view).
    """
    xyz = np.asarray(image_xyz, np.float64)[None]
    sh = _mid(xyz, _LS, _RS)[:, :2]
    hp = _mid(xyz, _LH, _RH)[:, :2]
    chord = hp - sh
    if not np.all(np.isfinite(chord)):
        return None
    chord_px = np.linalg.norm(chord, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        up = -chord / chord_px[:, None]
        sep = (
            0.5
            * (
                np.linalg.norm(xyz[:, _LS, :2] - xyz[:, _RS, :2], axis=1)
                + np.linalg.norm(xyz[:, _LH, :2] - xyz[:, _RH, :2], axis=1)
            )
            / chord_px
        )
    side_view = np.clip(1.0 - (sep - 0.25) / 0.35, 0.0, 1.0)
    if not (np.isfinite(sep[0]) and side_view[0] > 0.0):  # a front view: confidence would be 0
        return None
    ant = _anterior(up, facing)
    u_deg, l_deg, f, r, cf, e = _trace_frame(crop, sh[0], hp[0], -ant[0], options)
    return {"upper_deg": u_deg, "lower_deg": l_deg, "valid_fraction": f, "residual_px": r,
            "clipped_fraction": cf, "edge_xy": e}


# --------------------------------------------------------------------------------------------
# public API


def compute_back_bend(
    seq: LandmarkSequence,
    *,
    facing: Facing | None = None,
    options: BackBendOptions = BackBendOptions(),
    upright_max_deg: float = 20.0,
    traces: Mapping[int, Mapping[str, dict[str, Any] | None]] | None = None,
) -> BackBend:
    """Measure the bend of the back outline in every frame of a side-view clip.

    Parameters
    ----------
    seq : LandmarkSequence
        Landmarks, shape (T, 33, 3) image pixels, with segmentation ``masks`` (row -> MaskCrop).
        Rows without a mask or without shoulder/hip landmarks get NaN.
    facing : {"left", "right"} or None
        Which way the person faces in the image; inferred with :func:`infer_facing` when None.
    options : BackBendOptions
        Trace settings.
    upright_max_deg : float
        Trunk inclination (degrees) below which a frame counts as upright for the standing
        reference of ``chord_ratio`` and ``chord_3d_ratio``.
    traces : mapping, optional
        Row -> {facing -> :func:`trace_back_frame` result} for frames traced as they were
        decoded (the pipeline does not keep masks); used instead of ``seq.masks``.

    Returns
    -------
    BackBend
        Per-frame arrays of length T. When the facing cannot be told, every ``bend_deg`` is NaN
        (the posterior side is unknown) and the landmark-only columns that need it are NaN too.

    Notes
    -----
    Assumes one person filmed from the side, the whole trunk in the picture, the camera roughly
    level. The mask is read at probability 0.5. The input is not modified.
    """
    t_len = len(seq)
    if facing is None:
        facing = infer_facing(seq)
    elif facing not in ("left", "right"):
        raise ValueError(f"expected facing 'left', 'right' or None, got {facing!r}")
    xyz = np.asarray(seq.image_xyz, np.float64)
    vis = np.nan_to_num(np.asarray(seq.visibility, np.float64))
    sh = _mid(xyz, _LS, _RS)[:, :2]
    hp = _mid(xyz, _LH, _RH)[:, :2]
    ear = _mid(xyz, _LE, _RE)[:, :2]
    chord = hp - sh
    chord_px = np.linalg.norm(chord, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        up = -chord / chord_px[:, None]  # hip -> shoulder, unit

    # view: left/right shoulder and hip separation in the image relative to the trunk length
    with np.errstate(invalid="ignore", divide="ignore"):
        sep = (
            0.5
            * (
                np.linalg.norm(xyz[:, _LS, :2] - xyz[:, _RS, :2], axis=1)
                + np.linalg.norm(xyz[:, _LH, :2] - xyz[:, _RH, :2], axis=1)
            )
            / chord_px
        )
    side_view = np.clip(1.0 - (sep - 0.25) / 0.35, 0.0, 1.0)
    side_view = np.where(np.isfinite(sep), side_view, 0.0)
    vis_trunk = np.max(
        np.stack([np.minimum(vis[:, _LS], vis[:, _LH]), np.minimum(vis[:, _RS], vis[:, _RH])]),
        axis=0,
    )
    c_vis = np.clip((vis_trunk - 0.3) / 0.5, 0.0, 1.0)

    nan = np.full(t_len, np.nan)
    upper, lower, valid, resid = nan.copy(), nan.copy(), np.zeros(t_len), nan.copy()
    clipped = np.zeros(t_len)
    edge_xy = np.full((t_len, options.stations, 2), np.nan)
    incl = nan.copy()
    esh = nan.copy()
    if facing is not None and t_len:
        ant = _anterior(up, facing)
        # trunk inclination: angle of 'up' from the image vertical, positive towards the front
        vertical = np.array([0.0, -1.0])
        forward = np.array([1.0, 0.0]) if facing == "right" else np.array([-1.0, 0.0])
        incl = np.degrees(np.arctan2(up @ forward, up @ vertical))
        # ear-shoulder-hip: angle between shoulder->ear and hip->shoulder, signed to the front
        se = ear - sh
        esh = _angle_deg(se, up) * np.sign(np.sum(se * ant, axis=1))
        if traces is not None:  # traced frame by frame while the masks were fresh
            done = ((row, (tr or {}).get(facing)) for row, tr in traces.items())
        else:
            done = ((row, trace_back_frame(crop, xyz[row], facing, options))
                    for row, crop in seq.masks.items() if 0 <= row < t_len)
        for row, one in done:
            if one is None or not (0 <= row < t_len):
                continue
            upper[row], lower[row] = one["upper_deg"], one["lower_deg"]
            valid[row], resid[row] = one["valid_fraction"], one["residual_px"]
            clipped[row] = one["clipped_fraction"]
            edge_xy[row] = one["edge_xy"]

    bend = upper - lower
    with np.errstate(invalid="ignore", divide="ignore"):
        c_valid = np.clip((valid - 0.3) / 0.5, 0.0, 1.0)
        c_res = 1.0 / (1.0 + (resid / np.maximum(0.02 * chord_px, 1.0)) ** 2)
    conf = c_valid * np.nan_to_num(c_res) * c_vis * side_view
    conf = np.where(np.isfinite(bend), conf, 0.0)

    upright = np.isfinite(incl) & (np.abs(incl) < upright_max_deg)
    w_sh = _mid(np.asarray(seq.world_xyz, np.float64), _LS, _RS)
    w_hp = _mid(np.asarray(seq.world_xyz, np.float64), _LH, _RH)
    chord_3d = np.linalg.norm(w_sh - w_hp, axis=1)
    chord_ratio = nan.copy()
    chord_3d_ratio = nan.copy()
    if upright.any():
        ref = np.nanmedian(chord_px[upright])
        ref3 = np.nanmedian(chord_3d[upright]) if np.isfinite(chord_3d[upright]).any() else np.nan
        chord_ratio = chord_px / ref
        chord_3d_ratio = chord_3d / ref3
    return BackBend(
        bend_deg=bend,
        confidence=conf,
        upper_deg=upper,
        lower_deg=lower,
        valid_fraction=valid,
        residual_px=resid,
        clipped_fraction=clipped,
        side_view=side_view,
        edge_xy=edge_xy,
        trunk_inclination_deg=incl,
        chord_px=chord_px,
        chord_ratio=chord_ratio,
        chord_3d_ratio=chord_3d_ratio,
        ear_shoulder_hip_deg=esh,
        facing=facing,
        options=options,
    )


def find_upright_rows(
    bend: BackBend, *, max_inclination_deg: float = 20.0
) -> npt.NDArray[np.intp]:
    """Rows where the trunk is upright (standing or lockout), for a baseline.

    Parameters
    ----------
    bend : BackBend
        Output of :func:`compute_back_bend`.
    max_inclination_deg : float
        Largest shoulder-hip inclination from the vertical (either way) that counts as upright.

    Returns
    -------
    ndarray of int, shape (n,)
        Row numbers, ascending; empty when the trunk is never upright. NaN inclinations are
        left out.
    """
    inc = bend.trunk_inclination_deg
    with np.errstate(invalid="ignore"):
        return np.nonzero(np.isfinite(inc) & (np.abs(inc) <= max_inclination_deg))[0]


def summarize_bend(
    bend: BackBend, rows: npt.ArrayLike, *, min_confidence: float = 0.3
) -> BendSummary:
    """Robust value of ``bend_deg`` over some rows (a rep's bottom, a standing phase).

    Parameters
    ----------
    bend : BackBend
        Output of :func:`compute_back_bend`.
    rows : array_like of int
        Rows to summarise (e.g. a few frames around the bottom of a rep).
    min_confidence : float
        Rows with a lower confidence, or a NaN bend, are left out.

    Returns
    -------
    BendSummary
        Confidence-weighted median, median confidence, frame-to-frame noise (median absolute
        difference between consecutive usable rows, NaN with fewer than 2) and the number of
        rows used. ``value_deg`` is NaN and ``confidence`` 0 when no row is usable.

    Examples
    --------
    >>> import numpy as np
    >>> from movescreen.kinematics.back_contour import BackBend, BackBendOptions
    >>> t = 4
    >>> z = np.zeros(t)
    >>> b = BackBend(np.array([10.0, 12.0, np.nan, 11.0]), np.array([0.9, 0.9, 0.0, 0.9]),
    ...     z, z, z, z, z, z, np.zeros((t, 41, 2)), z, z, z, z, z, "right", BackBendOptions())
    >>> s = summarize_bend(b, [0, 1, 2, 3])
    >>> (s.value_deg, s.n_frames)
    (11.0, 3)
    """
    idx = np.asarray(rows, dtype=np.intp).ravel()
    idx = idx[(idx >= 0) & (idx < len(bend))]
    vals = bend.bend_deg[idx]
    conf = bend.confidence[idx]
    use = np.isfinite(vals) & (conf >= min_confidence)
    if not use.any():
        return BendSummary(np.nan, 0.0, np.nan, 0)
    v, w = vals[use], conf[use]
    order = np.argsort(v)
    cw = np.cumsum(w[order])
    value = float(v[order][np.searchsorted(cw, 0.5 * cw[-1])])
    noise = float(np.median(np.abs(np.diff(v)))) if len(v) >= 2 else np.nan
    return BendSummary(value, float(np.median(w)), noise, int(use.sum()))


def relative_to_baseline(
    bend: BackBend, baseline_rows: npt.ArrayLike, *, min_confidence: float = 0.3
) -> FloatArray:
    """Express ``bend_deg`` relative to the person's own standing or lockout value.

    Parameters
    ----------
    bend : BackBend
        Output of :func:`compute_back_bend`.
    baseline_rows : array_like of int
        Rows of the reference posture, e.g. :func:`find_upright_rows` or a rep's lockout.
    min_confidence : float
        Passed to :func:`summarize_bend` for the baseline.

    Returns
    -------
    ndarray, shape (T,), float64, degrees
        ``bend_deg - baseline``; all NaN when no baseline row is usable (then use the absolute
        value and say so).
    """
    base = summarize_bend(bend, baseline_rows, min_confidence=min_confidence).value_deg
    return bend.bend_deg - base


UPPER_PART = (0.12, 0.33, 0.55)
"""Upper (thoracic) part of the outline: stations from 0.12 to 0.55 of the shoulder-hip chord,
split at 0.33 (about mid-thoracic, T6-T7)."""
LOWER_PART = (0.55, 0.75, 0.95)
"""Lower (lumbar) part: 0.55 (thoracolumbar junction, see ``BackBendOptions.split``) to 0.95,
split at 0.75 (about L2-L3)."""


def part_bends(
    bend: BackBend,
    seq: LandmarkSequence,
    parts: tuple[tuple[float, float, float], ...] = (UPPER_PART, LOWER_PART),
    *,
    min_points: int = 4,
) -> list[FloatArray]:
    """The bend within each part of the back outline (issue 11, item 7): upper-back (thoracic)
    and lower-back (lumbar) rounding as their own measures.

    For each part ``(a, m, b)`` (fractions of the shoulder-hip chord), lines are fitted to the
    accepted outline points between ``a`` and ``m`` and between ``m`` and ``b``; the value is the
    angle between them, convex (rounded) positive, concave (arched) negative, like ``bend_deg``.

    Parameters
    ----------
    bend : BackBend
        Output of :func:`compute_back_bend` (its ``edge_xy`` and ``facing`` are used).
    seq : LandmarkSequence
        The same sequence (for the chord).
    parts : tuple of (a, m, b)
    min_points : int
        Fewer accepted points on either side of ``m`` gives NaN.

    Returns
    -------
    list of ndarray, each shape (T,), degrees
    """
    t_len = len(seq)
    out = [np.full(t_len, np.nan) for _ in parts]
    if bend.facing is None or t_len == 0:
        return out
    opt = bend.options
    t = np.linspace(opt.span[0], opt.span[1], opt.stations)
    xyz = np.asarray(seq.image_xyz, np.float64)
    sh = _mid(xyz, _LS, _RS)[:, :2]
    hp = _mid(xyz, _LH, _RH)[:, :2]
    chord = hp - sh
    length = np.linalg.norm(chord, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        along = chord / length[:, None]  # shoulder -> hip
    posterior = -_anterior(-along, bend.facing)
    for r in range(t_len):
        e = bend.edge_xy[r]
        if not (np.isfinite(length[r]) and length[r] > 8.0) or not np.isfinite(e).any():
            continue
        rel = e - sh[r]
        x = rel @ along[r]
        d = rel @ posterior[r]
        ok = np.isfinite(x) & np.isfinite(d)
        for k, (a, m, b) in enumerate(parts):
            s1 = ok & (t >= a) & (t <= m)
            s2 = ok & (t >= m) & (t <= b)
            if s1.sum() < min_points or s2.sum() < min_points:
                continue
            b1 = np.polyfit(x[s1], d[s1], 1)[0]
            b2 = np.polyfit(x[s2], d[s2], 1)[0]
            out[k][r] = float(np.degrees(np.arctan(b1)) - np.degrees(np.arctan(b2)))
    return out
