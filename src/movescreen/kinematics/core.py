"""The kinematics stage in one call: filter -> view -> angle table -> reps -> per-rep metrics.

:func:`analyze_kinematics` is the single entry point; it is pure (no I/O, no cv2) and returns a
frozen :class:`Kinematics` record.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from movescreen.kinematics.angles import ANGLE_DEFINITIONS, compute_angle_table
from movescreen.kinematics.filters import FilterName, filter_landmarks
from movescreen.kinematics.movement import (
    AMBIGUOUS_SCORE,
    CUE_WEIGHTS,
    JUDGED_MOVEMENTS,
    MovementDecision,
    MovementInputs,
    recognise_movement,
)
from movescreen.kinematics.reps import RepSegment, detect_reps
from movescreen.kinematics.shots import (
    CUT_CHANGE,
    CUT_CONTRAST,
    MOVE_JUMP,
    SCALE_JUMP,
    Shot,
    detect_shots,
)
from movescreen.kinematics.view import ViewEstimate, check_view, estimate_view, summarise_view
from movescreen.types import LandmarkSequence, Rep

Movement = Literal["auto", "squat", "hinge", "other"]
FloatArray = npt.NDArray[np.float64]
LUMBAR_COLUMN = "lumbar_flexion_est_deg"
SQUAT_KNEE_HIP_RATIO = 0.75
"""At the bottom, knee flexion / hip flexion at or above this is a squat, below it a hinge."""
SHALLOW_BEND = (0.05, 0.4)
"""FPPA is read on the way down, between these fractions of the rep's depth."""


@dataclass(frozen=True)
class Kinematics:
    """Everything the kinematics stage produced for one clip.

    Attributes
    ----------
    sequence : LandmarkSequence
        The gap-filled, filtered landmarks.
    table : dict[str, ndarray], each shape (T,)
        ``frame``, ``time_s``, ``view`` (str), ``yaw_deg``, ``depth_signal_deg``, every column of
        :data:`ANGLE_DEFINITIONS`, and any extra columns.
    view : ViewEstimate
        Per-frame and overall view, facing, near side.
    angle_space : str
        'image' or 'world': where the summary angles (depth signal, per-rep peaks) come from.
        Image for side views, world otherwise.
    movement : str
        'squat', 'hinge', 'other' (not judged) or a name an extra recogniser gave.
    movement_reason : str
        How the movement was decided (a plain sentence).
    movement_decision : MovementDecision or None
        The evidence per rep and for the clip, and whether it is ambiguous.
    shots : list of dict
        The clip's shots (split at cuts and camera jumps), see
        :class:`movescreen.kinematics.shots.Shot`.
    reps : list of Rep
    warnings : list of str
        Plain sentences for the report.
    provenance : dict
        Filter and parameters, thresholds, rep-detection levels.
    """

    sequence: LandmarkSequence
    table: dict[str, np.ndarray]
    view: ViewEstimate
    angle_space: str
    movement: str
    movement_reason: str
    reps: list[Rep]
    warnings: list[str]
    provenance: dict[str, Any] = field(default_factory=dict)
    movement_decision: MovementDecision | None = None
    shots: list[dict[str, Any]] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return list(self.table)

    def reps_as_dicts(self) -> list[dict[str, Any]]:
        """Per-rep records as plain dicts (NaN floats left as NaN)."""
        return [r.as_dict() for r in self.reps]

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary: view, movement, reps, warnings, provenance."""
        return {
            "view": self.view.as_dict(),
            "angle_space": self.angle_space,
            "movement": self.movement,
            "movement_reason": self.movement_reason,
            "movement_detail": (None if self.movement_decision is None
                                else self.movement_decision.as_dict()),
            "shots": list(self.shots),
            "rep_count": sum(not r.partial for r in self.reps),
            "partial_rep_count": sum(r.partial for r in self.reps),
            "reps": self.reps_as_dicts(),
            "warnings": list(self.warnings),
            "provenance": self.provenance,
        }


def mean_of_sides(left: np.ndarray, right: np.ndarray) -> FloatArray:
    """Mean of two arrays ignoring NaN (NaN only where both are NaN), without warnings."""
    a, b = np.asarray(left, np.float64), np.asarray(right, np.float64)
    fa, fb = np.isfinite(a), np.isfinite(b)
    n = fa.astype(int) + fb.astype(int)
    s = np.where(fa, a, 0.0) + np.where(fb, b, 0.0)
    return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def _nanmax(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.max()) if x.size else np.nan


def _at(x: np.ndarray, i: int, half: int = 1) -> float:
    """Median of ``x`` within +-half rows of ``i`` (robust to a single bad frame)."""
    w = x[max(0, i - half): i + half + 1]
    w = w[np.isfinite(w)]
    return float(np.median(w)) if w.size else np.nan


def _summary_columns(table: dict[str, np.ndarray], space: str) -> dict[str, FloatArray]:
    out = {}
    for name in ("hip_flexion", "knee_flexion", "ankle_dorsiflexion"):
        out[name] = mean_of_sides(table[f"left_{name}_{space}_deg"],
                                  table[f"right_{name}_{space}_deg"])
    out["trunk_inclination"] = np.asarray(table[f"trunk_inclination_{space}_deg"], np.float64)
    out["hip_above_knee"] = mean_of_sides(table[f"left_hip_above_knee_{space}_ratio"],
                                          table[f"right_hip_above_knee_{space}_ratio"])
    return out


def classify_movement(knee_flexion_deg: npt.ArrayLike, hip_flexion_deg: npt.ArrayLike) -> tuple[str, str]:
    """Squat or hinge from knee against hip flexion at the bottoms.

    Parameters
    ----------
    knee_flexion_deg, hip_flexion_deg : array_like, shape (R,)
        Values at each rep's bottom.

    Returns
    -------
    movement : str
        'squat' when the median knee/hip ratio is >= 0.75, else 'hinge'.
    reason : str

    >>> classify_movement([110.0], [115.0])[0]
    'squat'
    >>> classify_movement([25.0], [85.0])[0]
    'hinge'
    """
    k = np.asarray(knee_flexion_deg, np.float64)
    h = np.asarray(hip_flexion_deg, np.float64)
    ok = np.isfinite(k) & np.isfinite(h) & (h > 1.0)
    if not ok.any():
        return "squat", "No bottom with both knee and hip angles; assumed a squat."
    ratio = float(np.median(k[ok] / h[ok]))
    mv = "squat" if ratio >= SQUAT_KNEE_HIP_RATIO else "hinge"
    return mv, (
        f"At the bottom the knees bend {ratio:.2f} times as much as the hips "
        f"(median knee {np.median(k[ok]):.0f} deg, hip {np.median(h[ok]):.0f} deg); "
        f"{'at or above' if mv == 'squat' else 'below'} {SQUAT_KNEE_HIP_RATIO} means a {mv}."
    )


def _rep_metrics(seg: RepSegment, table: dict[str, np.ndarray], summ: dict[str, FloatArray],
                 depth: FloatArray) -> dict[str, float]:
    sl = slice(seg.start, seg.end + 1)
    m: dict[str, float] = {}
    for name, arr in summ.items():
        if name != "hip_above_knee":
            m[f"peak_{name}_deg"] = _nanmax(arr[sl])
    for side in ("left", "right"):
        for name in ("hip_flexion", "knee_flexion"):
            for sp in ("image", "world"):
                m[f"peak_{side}_{name}_{sp}_deg"] = _nanmax(table[f"{side}_{name}_{sp}_deg"][sl])
        # FPPA on the way down at shallow bend (before the bottom turns FPPA into flexion)
        down = (slice(seg.start, seg.turn_start + 1) if seg.order == "top_first"
                else slice(seg.turn_end, seg.end + 1))
        d = depth[down]
        lo = np.nanmin(d) if np.isfinite(d).any() else np.nan
        rng = seg.depth
        frac = (d - lo) / rng if rng > 0 else np.full_like(d, np.nan)
        with np.errstate(invalid="ignore"):
            shallow = (frac >= SHALLOW_BEND[0]) & (frac <= SHALLOW_BEND[1])
        for sp in ("image", "world"):
            f = np.asarray(table[f"{side}_knee_fppa_{sp}_deg"][down], np.float64)
            m[f"{side}_knee_fppa_shallow_{sp}_deg"] = _nanmax(f[shallow])
        m[f"peak_{side}_heel_lift_image_ratio"] = _nanmax(table[f"{side}_heel_lift_image_ratio"][sl])
        m[f"peak_{side}_heel_lift_world_ratio"] = _nanmax(table[f"{side}_heel_lift_world_ratio"][sl])
        kf = table[f"{side}_knee_foot_angle_world_deg"]
        m[f"{side}_knee_foot_angle_bottom_world_deg"] = _at(kf, seg.deepest)
        m[f"{side}_hip_above_knee_bottom_image_ratio"] = _at(
            table[f"{side}_hip_above_knee_image_ratio"], seg.deepest)
        m[f"{side}_hip_above_knee_bottom_world_ratio"] = _at(
            table[f"{side}_hip_above_knee_world_ratio"], seg.deepest)
    for sp in ("image", "world"):
        m[f"knee_ankle_width_ratio_bottom_{sp}"] = _at(table[f"knee_ankle_width_ratio_{sp}"],
                                                       seg.deepest)
    m["depth_hip_above_knee_bottom_ratio"] = float(mean_of_sides(
        np.array([m["left_hip_above_knee_bottom_image_ratio"]]),
        np.array([m["right_hip_above_knee_bottom_image_ratio"]]))[0])
    m["hip_flexion_bottom_deg"] = _at(summ["hip_flexion"], seg.deepest)
    m["knee_flexion_bottom_deg"] = _at(summ["knee_flexion"], seg.deepest)
    for col in (LUMBAR_COLUMN, "upper_back_bend_deg", "lower_back_bend_deg"):
        if col in table:
            m[f"peak_{col}"] = _nanmax(np.asarray(table[col], np.float64)[sl])
    return m


def _slice(seq: LandmarkSequence, a: int, b: int) -> LandmarkSequence:
    return replace(seq, frame_index=seq.frame_index[a:b], time_s=seq.time_s[a:b],
                   image_xyz=seq.image_xyz[a:b], visibility=seq.visibility[a:b],
                   presence=seq.presence[a:b], world_xyz=seq.world_xyz[a:b], masks={})


def _filter_per_shot(seq: LandmarkSequence, shots: list[Shot], **kw: Any) -> tuple[LandmarkSequence, dict[str, Any]]:
    """Gap filling and smoothing within each shot (no filter window spans a cut)."""
    if len(shots) <= 1:
        return filter_landmarks(seq, **kw)
    parts, recs = [], []
    for sh in shots:
        f, rec = filter_landmarks(_slice(seq, sh.start, sh.end + 1), **kw)
        parts.append(f)
        recs.append(rec)
    rec = dict(recs[0])
    rec["per_shot"] = True
    if "gap_filling" in rec and all(isinstance(r.get("gap_filling"), dict) for r in recs):
        gaps: dict[str, Any] = {}
        for r in recs:
            for k, v in r["gap_filling"].items():
                if isinstance(v, int | float) and not isinstance(v, bool):
                    gaps[k] = gaps.get(k, 0) + v
                else:
                    gaps.setdefault(k, v)
        rec["gap_filling"] = gaps
    out = replace(seq, image_xyz=np.concatenate([p.image_xyz for p in parts]),
                  world_xyz=np.concatenate([p.world_xyz for p in parts]),
                  visibility=np.concatenate([p.visibility for p in parts]),
                  presence=np.concatenate([p.presence for p in parts]))
    return out, rec


def _reps_per_shot(depth: FloatArray, fps: float, shots: list[Shot]) -> tuple[list[RepSegment], dict[str, Any]]:
    """Reps found in each shot on its own (its own standing level), rows offset to the clip."""
    if len(shots) <= 1:
        segs, info = detect_reps(depth, fps)
        return segs, dict(info)
    segs = []
    infos = []
    for sh in shots:
        s, info = detect_reps(depth[sh.start: sh.end + 1], fps)
        o = sh.start
        segs += [replace(r, start=r.start + o, turn_start=r.turn_start + o, turn=r.turn + o,
                         turn_end=r.turn_end + o, end=r.end + o, deepest=r.deepest + o) for r in s]
        infos.append((len(s), sh.end - sh.start, dict(info)))
    # the clip-level levels and order: from the shot with the most reps (then the longest)
    best = max(infos, key=lambda x: (x[0], x[1]))[2]
    best["per_shot"] = [{k: (float(v) if isinstance(v, float | np.floating) else v)
                         for k, v in i[2].items()} for i in infos]
    return segs, best


def analyze_kinematics(
    seq: LandmarkSequence,
    *,
    movement: Movement = "auto",
    filter: FilterName = "butterworth",
    cutoff_hz: float = 6.0,
    max_gap_s: float = 0.25,
    min_visibility: float = 0.5,
    extra_columns: dict[str, np.ndarray] | None = None,
    frame_change: npt.ArrayLike | None = None,
) -> Kinematics:
    """Angles, view, reps and per-rep metrics for one landmark sequence.

    Parameters
    ----------
    seq : LandmarkSequence
        Not modified.
    movement : {'auto', 'squat', 'hinge', 'other'}
        'auto' decides from the evidence at each rep's bottom and how it starts
        (:mod:`movescreen.kinematics.movement`); anything else overrides it.
    filter : {'butterworth', 'one_euro', 'none'}
        Butterworth is zero-phase (recorded video); One-Euro is causal (live).
    cutoff_hz : float
        Butterworth cut-off, clamped to 0.8 Nyquist.
    max_gap_s, min_visibility : float
        Gap filling (see :func:`movescreen.kinematics.filters.fill_gaps`).
    extra_columns : dict[str, ndarray of shape (T,)], optional
        Added to the angle table as they are; ``lumbar_flexion_est_deg`` also gets a per-rep
        peak.
    frame_change : array_like of shape (T,), optional
        The picture change of each frame since the one before
        (:attr:`movescreen.step.FrameResult.frame_change`). With it, or from jumps of the
        person's box, the clip is split into shots (:mod:`movescreen.kinematics.shots`): each
        shot is filtered on its own and reps are found per shot, so none spans a cut.

    Returns
    -------
    Kinematics

    Notes
    -----
    The depth signal for reps is hip flexion + knee flexion (mean of the sides), from the image
    in a side view and from the world landmarks otherwise. The clip's standing level is its 5th
    percentile, so a deadlift starting on the floor gets its baseline from the lockout.
    """
    if not isinstance(movement, str) or not movement.isidentifier():
        # other names (e.g. from an extra recogniser) pass through; no squat/hinge rule runs
        raise ValueError(f"expected movement 'auto', 'squat', 'hinge', 'other' or another "
                         f"movement name, got {movement!r}")
    t_n = len(seq)
    if extra_columns:
        for k, v in extra_columns.items():
            if np.shape(v) != (t_n,):
                raise ValueError(f"expected extra column {k!r} of shape ({t_n},), got {np.shape(v)}")
    if frame_change is not None and np.shape(frame_change) != (t_n,):
        raise ValueError(f"expected frame_change of shape ({t_n},), got {np.shape(frame_change)}")
    shots = detect_shots(seq.time_s, seq.frame_index, change=frame_change, image_xyz=seq.image_xyz)
    filtered, filt_rec = _filter_per_shot(seq, shots, method=filter, cutoff_hz=cutoff_hz,
                                          max_gap_s=max_gap_s, min_visibility=min_visibility)
    img = filtered.image_xyz.astype(np.float64)
    wld = filtered.world_xyz.astype(np.float64)
    view = estimate_view(img, wld)
    facing_sign = 0 if view.view == "front" else view.facing_sign
    vis = np.asarray(filtered.visibility, np.float64)
    if len(shots) <= 1:
        angles = compute_angle_table(img, wld, facing_sign=facing_sign, visibility=vis)
    else:  # each shot has its own camera: its own facing for the image angles
        per: list[dict[str, FloatArray]] = []
        for sh in shots:
            sl = slice(sh.start, sh.end + 1)
            v = estimate_view(img[sl], wld[sl])
            per.append(compute_angle_table(img[sl], wld[sl],
                                           facing_sign=0 if v.view == "front" else v.facing_sign,
                                           visibility=vis[sl]))
        angles = {k: np.concatenate([p[k] for p in per]) for k in per[0]}
    space = "image" if view.view == "side" else "world"
    summ = _summary_columns(angles, space)
    depth = summ["hip_flexion"] + summ["knee_flexion"]
    segs, rep_info = _reps_per_shot(depth, filtered.fps, shots)

    warn: list[str] = []
    side_depth = tuple(
        np.asarray(angles[f"{sd}_hip_flexion_{space}_deg"], np.float64)
        + np.asarray(angles[f"{sd}_knee_flexion_{space}_deg"], np.float64) for sd in ("left", "right"))
    m_in = MovementInputs(
        table={"time_s": np.asarray(filtered.time_s, np.float64), **angles}, summary=summ,
        side_depth=side_depth, depth=depth, segments=segs,  # type: ignore[arg-type]
        rep_info=dict(rep_info), fps=filtered.fps, view=view.view, angle_space=space)
    decision = recognise_movement(m_in)
    if movement == "auto":
        mv, reason = decision.name, decision.reason
    else:
        mv, reason = movement, f"Set by the caller to {movement}."
        decision = replace(decision, decided_by="user", name=movement, ambiguous=False,
                           reason=f"Set by the caller to {movement}; the automatic reading was "
                                  f"{decision.name}{' (ambiguous)' if decision.ambiguous else ''}: "
                                  f"{decision.reason}")
    if mv not in JUDGED_MOVEMENTS:
        warn.append(f"This clip was read as '{mv}', not a squat or a hip hinge, so no squat or "
                    f"hinge rule was run. movescreen judges "
                    f"{' and '.join(JUDGED_MOVEMENTS)}s; pass --movement squat or --movement "
                    "hinge if the reading is wrong.")
    elif decision.ambiguous and movement == "auto":
        warn.append(f"The movement is uncertain (read as a {mv}, but the evidence is split); "
                    f"pass --movement squat or --movement hinge if it is wrong.")
    if mv in JUDGED_MOVEMENTS:
        warn += check_view(view.view, mv)
    if not segs:
        warn.append("No repetition was found: the hips and knees did not bend and straighten "
                    "clearly enough (at least 20 degrees) in this clip.")
    n_partial = sum(s.partial for s in segs)
    if n_partial:
        warn.append(f"{n_partial} of {len(segs)} repetitions are partial (shallow or cut off); "
                    "their metrics are reported but flagged.")
    has_pose = np.isfinite(img[:, :, 0]).any(axis=1)
    if t_n and has_pose.mean() < 0.8:
        warn.append(f"The person is missing from {100 * (1 - has_pose.mean()):.0f}% of the "
                    "frames (out of the picture or not trusted); reps there cannot be measured.")

    if len(shots) > 1:
        cuts = ", ".join(f"{sh.start_s:.1f} s" for sh in shots[1:])
        warn.append(f"The video has {len(shots)} shots (cuts or camera jumps at {cuts}); each "
                    "is analysed on its own, and no repetition or measure spans a cut.")
    shot_col = np.zeros(t_n, np.int64)
    for sh in shots:
        shot_col[sh.start: sh.end + 1] = sh.index
    table: dict[str, np.ndarray] = {
        "frame": np.asarray(filtered.frame_index, np.int64),
        "time_s": np.asarray(filtered.time_s, np.float64),
        "view": view.per_frame,
        "yaw_deg": view.yaw_deg,
        "shot": shot_col,
        "depth_signal_deg": depth,
    }
    table.update(angles)
    if extra_columns:
        table.update({k: np.asarray(v, np.float64) for k, v in extra_columns.items()})

    reps: list[Rep] = []
    fi = filtered.frame_index
    for i, s in enumerate(segs):
        tempo = s.tempo_s(np.asarray(filtered.time_s, np.float64))
        rv = summarise_view(view.per_frame[s.start: s.end + 1])
        reps.append(Rep(
            index=i + 1, start_frame=int(fi[s.start]), bottom_frame=int(fi[s.deepest]),
            end_frame=int(fi[s.end]), order=s.order, turn_frame=int(fi[s.turn]),
            descent_s=tempo["descent_s"], pause_s=tempo["pause_s"], ascent_s=tempo["ascent_s"],
            total_s=tempo["total_s"], partial=s.partial, partial_reason=s.partial_reason,
            view=rv, metrics=_rep_metrics(s, table, summ, depth),
        ))
    prov = {
        "filter": filt_rec,
        "angle_space": space,
        "angle_definitions": [d.as_dict() for d in ANGLE_DEFINITIONS],
        "reps": {"signal": f"hip_flexion + knee_flexion ({space}, mean of sides)",
                 **{k: (float(v) if isinstance(v, float | np.floating) else v)
                    for k, v in rep_info.items()}},
        "movement": {"requested": movement, "cue_weights": dict(CUE_WEIGHTS),
                     "ambiguous_score": AMBIGUOUS_SCORE},
        "fppa_shallow_bend_fraction": list(SHALLOW_BEND),
    }
    prov["shots"] = {"cut_change": CUT_CHANGE, "cut_contrast": CUT_CONTRAST,
                     "scale_jump": SCALE_JUMP, "move_jump": MOVE_JUMP,
                     "picture_cue": frame_change is not None}
    return Kinematics(filtered, table, view, space, mv, reason, reps, warn, prov, decision,
                      [sh.as_dict() for sh in shots])
