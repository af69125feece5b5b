"""Which movement a clip shows: ``squat``, ``hinge`` or ``other``, per rep and for the clip.

The decision is made from evidence a coach would look at, each turned into a *cue* between -1
(squat) and +1 (hinge), or left out when it cannot be measured or is not plausible:

========================  ============================================================  ========
cue                       what it measures (at the rep's deepest frame unless stated)  weight
========================  ============================================================  ========
``trunk_minus_shin``      trunk inclination minus shin (shank) inclination, degrees.    1.0
                          A squat keeps the trunk roughly parallel with the shins
                          (difference 0-15 deg); a hinge inclines the trunk far past
                          near-vertical shins (30-100 deg). -1 at 10, +1 at 40.
``trunk_inclination``     the trunk's forward lean, degrees. -1 at 40, +1 at 60. The    1.5
                          surest single cue (a large angle between two well-seen
                          points): squats stay near 25-50 deg, hinges 60-90 deg.
``knee_hip_ratio``        knee flexion / hip flexion. A squat bends both about as       1.0
                          much (0.85-1.05), a hinge mostly the hips (0.2-0.7).
                          -1 at 0.95, +1 at 0.55.
``hip_height``            hip above knee in thigh lengths. Hips at or below the knees   0.5
                          (<= 0.1) is squat depth: -1; hips well above (>= 0.7) as in
                          an RDL or good morning: +1; 0.25-0.5 says nothing (a
                          deadlift from the floor and a half squat both sit there).
``descent_start``         how the rep starts (top-first reps): knee flexion gained /    1.0
                          hip flexion gained over the first 30 % of the descent.
                          Hips back first (hinge) < 0.4: +1; hips and knees
                          together (squat) > 0.8: -1.
``starts_from_floor``     the clip starts at the bottom and the reps go up to a         1.5
                          lockout and back (a deadlift from the floor): +1.
========================  ============================================================  ========

A rep's score is the weighted mean of its cues; > 0 is a hinge, < 0 a squat (a rep with the trunk
60 deg or more forward and the hips half a thigh length or more above the knees is at least an
ambiguous hinge, :data:`HINGE_POSTURE`). It is
**ambiguous** when the score is within :data:`AMBIGUOUS_SCORE` of 0, or when confident cues
point both ways. A knee-dominant hinge ("squatting the hinge") still inclines the trunk
strongly and starts with the hips moving back, so it stays a hinge (perhaps marked ambiguous),
and ``squatting_the_hinge`` gets to judge it.

A rep (or clip) is ``other`` when it is not a repetition of either: the person does not stand
at the rep's top (hips less than half a thigh length above the knees: seated, kneeling or on
the floor), the legs work in turn (both legs bend, left against right: walking, stepping,
lunging), or the "rep" is a hold (more than :data:`HOLD_S` s at the bottom: a static hold or a
stretch). A clip with no repetition at all is ``other``; one with only partial repetitions is
read from those and marked ambiguous. A clip is ``other`` when most of its full reps are.

Recognisers for more movements can be added with :func:`register_recogniser`; each gets the
same :class:`MovementInputs` and returns a :class:`MovementDecision` (any name) or None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from movescreen.kinematics.reps import RepSegment

FloatArray = npt.NDArray[np.float64]

JUDGED_MOVEMENTS = ("squat", "hinge")
"""The movements movescreen judges (its rules are written for these)."""
KNOWN_MOVEMENTS = ("squat", "hinge", "other")

AMBIGUOUS_SCORE = 0.25
"""|score| below this is ambiguous: the cues are split or weak."""
CONFIDENT_CUE = 0.5
"""A cue at or beyond +-this counts as confident when looking for cues that disagree."""
STANDING_HIP_ABOVE_KNEE = 0.5
"""Standing: the hips at least half a thigh length above the knees (thigh within 60 deg of
vertical). Standing gives about 0.9-1.0, sitting about 0."""
HOLD_S = 5.0
"""Longer than this at the bottom is a hold, not a rep (paused squats pause 1-3 s)."""
ALTERNATING_R = -0.3
"""Left and right leg depth correlated below this over a rep: the legs work in turn."""
PLAUSIBLE = {
    # outside these, a landmark was guessed (e.g. the plate hides the shin): the cue is left out
    "knee_flexion": (-15.0, 155.0),
    "hip_flexion": (-15.0, 165.0),
    "ankle_dorsiflexion": (-25.0, 60.0),
    "trunk_inclination": (-25.0, 120.0),
}
CUE_WEIGHTS = {
    "trunk_minus_shin": 1.0,
    "trunk_inclination": 1.5,
    "knee_hip_ratio": 1.0,
    "hip_height": 0.5,
    "descent_start": 1.0,
    "starts_from_floor": 1.5,
}
DESCENT_FRACTION = 0.3
HINGE_POSTURE = (60.0, 0.5)
"""Trunk at least 60 deg forward with the hips at least half a thigh length above the knees at
the bottom: a hinge posture (a squat that stops this high keeps the trunk near upright). Such a
rep is read as an ambiguous hinge even when the knee cues say squat (they are the least reliable:
plates and dumbbells hide the shins)."""
HINGE_POSTURE_SCORE = 0.05
SINGLE_LEG_DEG = 40.0
"""Left and right hip + knee flexion differing by more than this at the bottom: one leg does the
work (single-leg RDL); the evidence is read from that leg."""


@dataclass(frozen=True)
class MovementInputs:
    """What a movement recogniser can look at (rows of the clip's angle table).

    Attributes
    ----------
    table : dict[str, ndarray]
        The angle table (see :class:`movescreen.kinematics.core.Kinematics`).
    summary : dict[str, ndarray]
        ``hip_flexion``, ``knee_flexion``, ``ankle_dorsiflexion`` (mean of the sides),
        ``trunk_inclination`` and ``hip_above_knee`` in the clip's angle space.
    side_depth : (ndarray, ndarray)
        Left and right hip + knee flexion.
    depth : ndarray
        The depth signal reps were found on.
    segments : list of RepSegment
    rep_info : dict
        What :func:`movescreen.kinematics.reps.detect_reps` said (order, levels).
    fps : float
    view : str
    angle_space : str
    """

    table: dict[str, np.ndarray]
    summary: dict[str, FloatArray]
    side_depth: tuple[FloatArray, FloatArray]
    depth: FloatArray
    segments: list[RepSegment]
    rep_info: dict[str, Any]
    fps: float
    view: str
    angle_space: str


@dataclass(frozen=True)
class RepMovement:
    """The movement decision for one rep, with its evidence."""

    rep: int
    label: str
    score: float
    ambiguous: bool
    partial: bool
    evidence: dict[str, float | str | None]
    cues: dict[str, float]
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"rep": self.rep, "label": self.label, "score": _r(self.score),
                "ambiguous": self.ambiguous, "partial": self.partial,
                "evidence": {k: _r(v) for k, v in self.evidence.items()},
                "cues": {k: _r(v) for k, v in self.cues.items()}, "reason": self.reason}


@dataclass(frozen=True)
class MovementDecision:
    """The clip's movement.

    Attributes
    ----------
    name : str
        'squat', 'hinge', 'other' or a name a registered recogniser gave.
    ambiguous : bool
        The evidence is split; ``name`` is the better-supported reading.
    reason : str
        One or two plain sentences.
    score : float
        Mean rep score (-1 squat .. +1 hinge); NaN for 'other'.
    evidence : dict
        Clip-level numbers (medians over the full reps, fractions of frames).
    reps : list of RepMovement
    decided_by : str
        'auto' or 'user'.
    """

    name: str
    ambiguous: bool
    reason: str
    score: float = float("nan")
    evidence: dict[str, Any] = field(default_factory=dict)
    reps: list[RepMovement] = field(default_factory=list)
    decided_by: str = "auto"

    @property
    def judged(self) -> bool:
        return self.name in JUDGED_MOVEMENTS

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "decided_by": self.decided_by,
            "ambiguous": self.ambiguous,
            "reason": self.reason,
            "score": _r(self.score),
            "evidence": {k: _r(v) for k, v in self.evidence.items()},
            "reps": [r.as_dict() for r in self.reps],
            "judged_movements": list(JUDGED_MOVEMENTS),
        }


Recogniser = Callable[[MovementInputs], MovementDecision | None]
RECOGNISERS: list[Recogniser] = []
"""Extra recognisers, tried in order before the squat / hinge / other decision; the first one
that returns a decision wins."""


def register_recogniser(fn: Recogniser) -> Recogniser:
    """Add a recogniser (usable as a decorator); registering the same function twice is a no-op."""
    if fn not in RECOGNISERS:
        RECOGNISERS.append(fn)
    return fn


def _r(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return round(float(v), 3) if np.isfinite(v) else None
    return v


def ramp(x: float, at_minus: float, at_plus: float) -> float:
    """Linear map of ``x`` to [-1, 1]: -1 at ``at_minus``, +1 at ``at_plus`` (either order).

    >>> ramp(25.0, 10.0, 40.0), ramp(0.55, 0.95, 0.55), ramp(100.0, 10.0, 40.0)
    (0.0, 1.0, 1.0)
    """
    if not np.isfinite(x):
        return float("nan")
    t = (x - at_minus) / (at_plus - at_minus)
    return float(np.clip(2.0 * t - 1.0, -1.0, 1.0))


def _at(x: np.ndarray, i: int, half: int = 1) -> float:
    w = np.asarray(x[max(0, i - half): i + half + 1], np.float64)
    w = w[np.isfinite(w)]
    return float(np.median(w)) if w.size else float("nan")


def _plausible(name: str, v: float) -> float:
    lo, hi = PLAUSIBLE[name]
    return v if np.isfinite(v) and lo <= v <= hi else float("nan")


def hinge_cues(evidence: dict[str, Any]) -> dict[str, float]:
    """The squat (-1) .. hinge (+1) cues from one rep's evidence (see the module table).

    >>> c = hinge_cues({"knee_flexion_deg": 60.0, "hip_flexion_deg": 120.0,
    ...                 "trunk_inclination_deg": 70.0, "shin_inclination_deg": 10.0})
    >>> sorted(k for k, v in c.items() if v > 0.9)
    ['knee_hip_ratio', 'trunk_inclination', 'trunk_minus_shin']
    """
    k = evidence.get("knee_flexion_deg", np.nan)
    h = evidence.get("hip_flexion_deg", np.nan)
    tr = evidence.get("trunk_inclination_deg", np.nan)
    sh = evidence.get("shin_inclination_deg", np.nan)
    hak = evidence.get("hip_above_knee", np.nan)
    cues: dict[str, float] = {}
    if np.isfinite(tr) and np.isfinite(sh):
        cues["trunk_minus_shin"] = ramp(tr - sh, 10.0, 40.0)
    if np.isfinite(tr):
        cues["trunk_inclination"] = ramp(tr, 40.0, 60.0)
    if np.isfinite(k) and np.isfinite(h) and h > 20.0:
        cues["knee_hip_ratio"] = ramp(k / h, 0.95, 0.55)
    if np.isfinite(hak):
        if hak <= 0.25:
            cues["hip_height"] = -ramp(hak, 0.25, 0.1) * 0.5 - 0.5  # -1 at 0.1, 0 at 0.25
        elif hak >= 0.5:
            cues["hip_height"] = ramp(hak, 0.5, 0.7) * 0.5 + 0.5  # 0 at 0.5, +1 at 0.7
        else:
            cues["hip_height"] = 0.0
    ratio = evidence.get("descent_knee_hip_ratio", np.nan)
    if isinstance(ratio, float) and np.isfinite(ratio):
        cues["descent_start"] = ramp(ratio, 0.8, 0.4)
    if evidence.get("order") == "bottom_first":
        cues["starts_from_floor"] = 1.0
    return {k: v for k, v in cues.items() if np.isfinite(v)}


def score_cues(cues: dict[str, float]) -> tuple[float, bool]:
    """Weighted mean of the cues and whether it is ambiguous.

    >>> score_cues({"knee_hip_ratio": 1.0, "descent_start": -1.0})
    (0.0, True)
    """
    if not cues:
        return float("nan"), True
    w = np.array([CUE_WEIGHTS[k] for k in cues])
    v = np.array(list(cues.values()))
    s = float(np.sum(w * v) / np.sum(w))
    split = bool((v >= CONFIDENT_CUE).any() and (v <= -CONFIDENT_CUE).any())
    return s, bool(abs(s) < AMBIGUOUS_SCORE or (split and abs(s) < 2 * AMBIGUOUS_SCORE))


def _descent_ratio(seg: RepSegment, summ: dict[str, FloatArray], depth: FloatArray) -> float:
    """Knee flexion gained / hip flexion gained over the first 30 % of a top-first descent."""
    if seg.order != "top_first":
        return float("nan")
    d = depth[seg.start: seg.deepest + 1]
    if not np.isfinite(d).any() or seg.depth <= 0:
        return float("nan")
    lo = float(np.nanmin(d[: max(1, len(d) // 3)]))
    rows = np.flatnonzero(d >= lo + DESCENT_FRACTION * seg.depth)
    if not rows.size or rows[0] < 1:
        return float("nan")
    a, b = seg.start, seg.start + int(rows[0])
    dk = _at(summ["knee_flexion"], b) - _at(summ["knee_flexion"], a)
    dh = _at(summ["hip_flexion"], b) - _at(summ["hip_flexion"], a)
    if not (np.isfinite(dk) and np.isfinite(dh)) or dh + max(dk, 0.0) < 10.0:
        return float("nan")
    return float(np.clip(dk / max(dh, 1.0), 0.0, 3.0))


def rep_evidence(seg: RepSegment, inp: MovementInputs) -> dict[str, Any]:
    """The numbers one rep's movement is decided from (plausibility-gated; NaN = not seen)."""
    s, b = inp.summary, seg.deepest
    left, right = inp.side_depth
    dl, dr = _at(left, b), _at(right, b)
    stance = None
    if np.isfinite(dl) and np.isfinite(dr) and abs(dl - dr) > SINGLE_LEG_DEG:
        # one leg bends far more (a single-leg RDL): read the standing leg, not the mean
        stance = "left" if dl > dr else "right"
        s = dict(s)
        for name in ("hip_flexion", "knee_flexion", "ankle_dorsiflexion"):
            col = f"{stance}_{name}_{inp.angle_space}_deg"
            if col in inp.table:
                s[name] = np.asarray(inp.table[col], np.float64)
    top = seg.start if seg.order == "top_first" else seg.turn
    tops = [top] if seg.order != "top_first" else [seg.start, seg.end]
    tv = [_at(s["hip_above_knee"], t, 2) for t in tops]
    tv = [v for v in tv if np.isfinite(v)]
    hak_top = max(tv) if tv else float("nan")  # standing at the start or the end of the rep
    sl = slice(seg.start, seg.end + 1)
    lr = np.stack([left[sl], right[sl]])
    ok = np.isfinite(lr).all(axis=0)
    corr = float("nan")
    # both legs must bend (each by 20 deg over its own level at the rep's start) for "in turn":
    # in a single-leg RDL only the standing leg bends while the free leg extends
    rise = [float(np.max(x[ok]) - np.median(x[ok][:3])) if ok.sum() >= 5 else 0.0 for x in lr]
    if ok.sum() >= 5 and min(rise) > 20.0:
        corr = float(np.corrcoef(lr[0, ok], lr[1, ok])[0, 1])
    t = np.asarray(inp.table["time_s"], np.float64)
    hold = float(t[seg.turn_end] - t[seg.turn_start]) if seg.order == "top_first" else 0.0
    return {
        "order": seg.order,
        "knee_flexion_deg": _plausible("knee_flexion", _at(s["knee_flexion"], b)),
        "hip_flexion_deg": _plausible("hip_flexion", _at(s["hip_flexion"], b)),
        "trunk_inclination_deg": _plausible("trunk_inclination", _at(s["trunk_inclination"], b)),
        "shin_inclination_deg": _plausible("ankle_dorsiflexion", _at(s["ankle_dorsiflexion"], b)),
        "hip_above_knee": _at(s["hip_above_knee"], b),
        "hip_above_knee_top": hak_top,
        # how the rep starts only counts when its start was seen (not cut by the clip's start)
        "descent_knee_hip_ratio": (float("nan") if seg.partial_reason.startswith("begins")
                                   else _descent_ratio(seg, s, inp.depth)),
        "single_leg": stance,
        "left_right_correlation": corr,
        "bottom_hold_s": hold,
    }


def classify_rep(index: int, seg: RepSegment, inp: MovementInputs) -> RepMovement:
    """Squat, hinge or other for one rep (see the module docstring)."""
    ev = rep_evidence(seg, inp)
    hak_top = ev["hip_above_knee_top"]
    if np.isfinite(hak_top) and hak_top < STANDING_HIP_ABOVE_KNEE:
        return RepMovement(index, "other", float("nan"), False, seg.partial, ev, {},
                           f"The person is not standing at the top of this rep (hips "
                           f"{hak_top:.2f} thigh lengths above the knees; standing is about 1): "
                           "seated, kneeling or on the floor.")
    corr = ev["left_right_correlation"]
    if np.isfinite(corr) and corr < ALTERNATING_R:
        return RepMovement(index, "other", float("nan"), False, seg.partial, ev, {},
                           f"The legs bend in turn (left against right, r = {corr:.2f}): "
                           "walking, stepping or lunging, not a squat or a hinge.")
    if ev["bottom_hold_s"] > HOLD_S:
        return RepMovement(index, "other", float("nan"), False, seg.partial, ev, {},
                           f"Held at the bottom for {ev['bottom_hold_s']:.0f} s: a static hold "
                           "or a stretch, not a repetition.")
    cues = hinge_cues(ev)
    score, amb = score_cues(cues)
    tr, hak = ev["trunk_inclination_deg"], ev["hip_above_knee"]
    if np.isfinite(score) and score <= 0 and tr >= HINGE_POSTURE[0] and hak >= HINGE_POSTURE[1]:
        # the trunk far over with the hips high is a hinge whatever the knees read: a squat
        # that stops this high (a quarter squat) keeps the trunk near upright
        score, amb = HINGE_POSTURE_SCORE, True
    if not np.isfinite(score):
        return RepMovement(index, "squat", score, True, seg.partial, ev, cues,
                           "No angle at the bottom could be measured; read as a squat.")
    label = "hinge" if score > 0 else "squat"
    return RepMovement(index, label, score, amb, seg.partial, ev, cues, _cue_sentence(label, score, cues))


_CUE_WORDS = {
    "trunk_minus_shin": "trunk against shin angle",
    "trunk_inclination": "trunk lean",
    "knee_hip_ratio": "knee against hip bend",
    "hip_height": "hip height",
    "descent_start": "how the descent starts",
    "starts_from_floor": "starting from the floor",
}


def _cue_sentence(label: str, score: float, cues: dict[str, float]) -> str:
    pro = [_CUE_WORDS[k] for k, v in cues.items() if (v > 0.2 if label == "hinge" else v < -0.2)]
    con = [_CUE_WORDS[k] for k, v in cues.items() if (v < -0.2 if label == "hinge" else v > 0.2)]
    s = f"Read as a {label} (score {score:+.2f}; -1 squat, +1 hinge)"
    if pro:
        s += " from the " + ", ".join(pro)
    if con:
        s += "; against it: " + ", ".join(con)
    return s + "."


def recognise_movement(inp: MovementInputs) -> MovementDecision:
    """The clip's movement from its reps (extra recognisers first)."""
    for fn in RECOGNISERS:
        got = fn(inp)
        if got is not None:
            return got
    reps = [classify_rep(i + 1, s, inp) for i, s in enumerate(inp.segments)]
    full = [r for r in reps if not r.partial]
    alt = legs_in_turn(*inp.side_depth)
    if alt is not None:
        judged_ = ", ".join(f"{m}s" for m in JUDGED_MOVEMENTS)
        return MovementDecision("other", False, f"Not a squat or a hinge: {alt} movescreen judges "
                                f"{judged_}.", float("nan"), {"legs_in_turn": alt}, reps)
    hak = inp.summary["hip_above_knee"]
    fin = np.isfinite(hak)
    standing_frac = float(np.mean(hak[fin] >= STANDING_HIP_ABOVE_KNEE)) if fin.any() else float("nan")
    ev: dict[str, Any] = {"full_reps": len(full), "partial_reps": len(reps) - len(full),
                          "standing_fraction": standing_frac,
                          "depth_range_deg": _range(inp.depth)}
    judged = ", ".join(f"{m}s" for m in JUDGED_MOVEMENTS)
    if not reps:
        why = ("no repetition was found (the hips and knees did not bend and straighten by at "
               "least 20 degrees)")
        if np.isfinite(standing_frac) and standing_frac < 0.2:
            why += f"; the person stands in only {100 * standing_frac:.0f}% of the frames"
        return MovementDecision("other", False, f"Not a squat or a hinge: {why}. movescreen "
                                f"judges {judged}.", float("nan"), ev, reps)
    only_partial = not full
    if only_partial:
        # e.g. one rep cut by the clip's edge: read it, but say it is uncertain (never judged)
        full = reps
    labels = [r.label for r in full]
    n_other = labels.count("other")
    for k in ("knee_flexion_deg", "hip_flexion_deg", "trunk_inclination_deg",
              "shin_inclination_deg", "hip_above_knee", "descent_knee_hip_ratio"):
        vals = [r.evidence[k] for r in full if isinstance(r.evidence[k], float)
                and np.isfinite(r.evidence[k])]
        ev[f"median_{k}"] = float(np.median(vals)) if vals else float("nan")
    kind = "partial" if only_partial else "full"
    if n_other * 2 >= len(full):
        reasons = sorted({r.reason for r in full if r.label == "other"})
        return MovementDecision("other", n_other < len(full),
                                f"Not a squat or a hinge ({n_other} of {len(full)} {kind} "
                                f"repetitions): {' '.join(reasons)} movescreen judges {judged}.",
                                float("nan"), ev, reps)
    scored = [r for r in full if r.label != "other" and np.isfinite(r.score)]
    if not scored:
        return MovementDecision("squat", True, "No angle at the bottom of any repetition could "
                                "be measured; read as a squat.", float("nan"), ev, reps)
    score = float(np.mean([r.score for r in scored]))
    name = "hinge" if score > 0 else "squat"
    n_h = sum(r.label == "hinge" for r in scored)
    n_s = len(scored) - n_h
    split_reps = min(n_h, n_s) > 0 and min(n_h, n_s) >= 0.25 * len(scored)
    amb = bool(abs(score) < AMBIGUOUS_SCORE or split_reps or only_partial
               or sum(r.ambiguous for r in scored) * 2 > len(scored))
    cues_mean: dict[str, float] = {}
    for k in CUE_WEIGHTS:
        vals = [r.cues[k] for r in scored if k in r.cues]
        if vals:
            cues_mean[k] = float(np.mean(vals))
    ev["cues"] = {k: round(v, 3) for k, v in cues_mean.items()}
    reason = _cue_sentence(name, score, cues_mean)
    reason = reason.replace("Read as a", f"{len(scored)} repetition(s) read as a", 1)
    if only_partial:
        reason += " Only partial repetitions were seen (none is judged)."
    if split_reps:
        reason += f" The repetitions disagree: {n_h} look like hinges, {n_s} like squats."
    if amb:
        reason += (" The evidence is split, so the movement is uncertain; pass --movement "
                   "squat or --movement hinge if it is wrong.")
    return MovementDecision(name, amb, reason, score, ev, reps)


def legs_in_turn(left: npt.ArrayLike, right: npt.ArrayLike) -> str | None:
    """A sentence when the legs take turns over the clip (walking, stepping, lunging), else None.

    Each leg's hip + knee flexion must range over more than 20 deg, the two move against each
    other (correlation below :data:`ALTERNATING_R`), and their mean ranges over less than 40 %
    of the legs' own ranges (the bends cancel out). In a single-leg RDL the free leg moves
    against the standing one too, but the mean still follows the standing leg (0.7 of the
    ranges on the shared clip). Needs both legs seen (often not in a side view).
    """
    a, b = np.asarray(left, np.float64), np.asarray(right, np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 10:
        return None
    a, b = a[ok], b[ok]
    ra, rb, rm = _range(a), _range(b), _range(0.5 * (a + b))
    if min(ra, rb) <= 20.0 or np.std(a) == 0 or np.std(b) == 0:
        return None
    r = float(np.corrcoef(a, b)[0, 1])
    if r >= ALTERNATING_R or rm >= 0.4 * 0.5 * (ra + rb):
        return None
    return (f"the legs bend in turn (left {ra:.0f} deg and right {rb:.0f} deg, against each other, "
            f"r = {r:.2f}; together only {rm:.0f} deg): walking, stepping or lunging.")


def _range(x: np.ndarray) -> float:
    x = np.asarray(x, np.float64)
    x = x[np.isfinite(x)]
    if x.size < 3:
        return float("nan")
    lo, hi = np.percentile(x, [5, 95])
    return float(hi - lo)


def not_applicable_reason(rule_movements: tuple[str, ...] | list[str], movement: str) -> str:
    """Why a rule does not run on a clip of ``movement`` (for the rule's status).

    >>> not_applicable_reason(("squat",), "hinge")
    'Applies to a squat, not to a hinge.'
    >>> not_applicable_reason(("hinge", "squat"), "other")[:52]
    'Not applicable: the clip is not a squat or a hip hin'
    """
    names = {"squat": "squat", "hinge": "hip hinge"}
    if movement in ("hip_rotation_seated", "figure4", "hip_9090"):  # issue 13: its own rules
        return (f"Not applicable: a {movement} clip is judged by the hip rotation rules "
                "(docs/hip_rotation.md), not by the squat and hinge rules.")
    if movement not in JUDGED_MOVEMENTS:
        what = "read as 'other'" if movement == "other" else f"read as {movement!r}"
        return (f"Not applicable: the clip is not a squat or a hip hinge ({what}); movescreen "
                f"judges {' and '.join(names[m] + 's' for m in JUDGED_MOVEMENTS)} only.")
    return f"Applies to a {' or a '.join(rule_movements)}, not to a {movement}."
