"""The online per-frame step of ``movescreen live``: landmarks in, phase, reps and cues out.

:class:`LiveStep` takes one frame's subject pose at a time and keeps the growing landmark
sequence (with masks). It never touches cameras, windows or clocks; ``movescreen.live`` does.

Per frame (cheap, a few milliseconds):

- the landmarks are smoothed with the causal One-Euro filter (the live filter of
  :mod:`movescreen.kinematics.filters`, same settings) and one row of the angle table is
  computed (:func:`movescreen.kinematics.compute_angle_table`);
- the depth signal (hip flexion + knee flexion, mean of the sides; image angles in a side view,
  world angles otherwise, as in ``analyze``) drives the phase shown on screen;
- :func:`movescreen.kinematics.detect_reps` runs on the recent depth signal: a rep counts as
  finished once the signal has come back past its end level (hysteresis at 15 % of the rep's
  depth from standing, or 85 % back to the floor for a deadlift from the floor);
- mid-rep cue: in a side view, with the trunk bent forward, the back-outline bend of the current
  frame (:func:`movescreen.kinematics.back_contour.compute_back_bend`) is kept; when its median
  over the last 0.3 s reaches the ``lumbar_rounding`` caution threshold the cue is given at
  once, before the rep ends.

When a rep finishes it is judged with exactly the code ``analyze`` uses:
:func:`movescreen.pipeline.compute_kinematics` (filter ``one_euro``) on a window of the sequence
covering the rep (from 1 s before it to now), then :func:`movescreen.rules.engine.evaluate_rules`.
That takes a few hundred milliseconds (the back outline is traced on every frame of the window),
so by default it runs on a worker thread and its events come out with a later frame.

A short calibration at the start (``calibration_s`` of frames with a person) records the
person's baseline (depth signal, view, facing) and says when the view does not suit the movement.

Events are plain dicts with an ``event`` key (see ``docs/live.md``): ``calibration``, ``rep``,
``finding``, ``cue``, ``warning``.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from movescreen.config import RulesConfig, load_config
from movescreen.kinematics.angles import compute_angle_table
from movescreen.kinematics.core import mean_of_sides
from movescreen.kinematics.filters import OneEuroFilter
from movescreen.kinematics.reps import RepSegment, detect_reps
from movescreen.kinematics.view import check_view, estimate_view
from movescreen.landmarks import NUM_LANDMARKS
from movescreen.pose.backend import PoseCandidate
from movescreen.rules.engine import evaluate_rules
from movescreen.speech import cue_text
from movescreen.types import LandmarkSequence, MaskCrop

Event = dict[str, Any]
FloatArray = npt.NDArray[np.float64]

# the One-Euro settings filter_landmarks uses for 'one_euro' (image filtered in frame heights)
ONE_EURO = {"min_cutoff_hz": 1.0, "beta": 5.0, "d_cutoff_hz": 1.0}
MIN_VISIBILITY = 0.5
_NAN3 = np.full((NUM_LANDMARKS, 3), np.nan, np.float32)
_NAN1 = np.full(NUM_LANDMARKS, np.nan, np.float32)
_NAN3_64 = np.full((NUM_LANDMARKS, 3), np.nan)
CUE_SEVERITIES = ("caution", "flag")
"""Findings of these severities become cues (shown and spoken); notes are only reported."""
_MOVEMENT_VIEWS = {"hinge": ("side", "oblique"), "squat": ("side", "front", "oblique"),
                   "auto": ("side", "front", "oblique")}
_VIEW_ADVICE = {
    "hinge": "Turn side-on to the camera: a hip hinge is judged from the side.",
    "squat": "Face the camera or turn side-on: the squat cannot be judged from this angle.",
    "auto": "Face the camera or turn side-on so the hips and knees can be seen.",
}


@dataclass(frozen=True)
class StepOutput:
    """What one frame produced, for the overlay and the event stream.

    Attributes
    ----------
    frame : int
        Source frame number.
    time_s : float
        Source time in seconds.
    row_xyz : ndarray, shape (33, 3) or None
        Smoothed image landmarks (pixels) to draw; None without a person.
    angles : dict[str, float]
        Angle columns worth showing in this view -> degrees (NaN when unknown).
    depth_deg : float
        Hip + knee flexion (mean of the sides), degrees; NaN without a person.
    phase : str
        'calibrating', 'ready' (before the first movement), 'standing', 'descent', 'bottom',
        'ascent', 'hold' (top-first reps) or
        'floor', 'lift', 'lockout', 'lowering' (a deadlift from the floor), 'moving',
        'legs not seen', 'no person'.
    rep_count : int
        Full reps counted in the current set.
    view : str
        Current camera view ('side', 'front', 'oblique', 'unknown').
    events : list of dict
        Events produced at this frame.
    cue : str
        The latest cue text ('' when none yet).
    """

    frame: int
    time_s: float
    row_xyz: FloatArray | None
    angles: dict[str, float]
    depth_deg: float
    phase: str
    rep_count: int
    view: str
    events: list[Event]
    cue: str = ""


@dataclass
class _Job:
    seg_rows: tuple[int, int, int]  # global rows: start, turn, end (of the causal detection)
    window: tuple[int, int]  # global rows [a, b]
    seq: LandmarkSequence
    movement: str
    live_index: int
    set_index: int
    partial: bool
    partial_reason: str


@dataclass
class _Calibration:
    done: bool = False
    ok: bool = False
    view: str = "unknown"
    baseline_depth_deg: float = math.nan
    facing: str | None = None
    last_check_t: float = -math.inf
    attempts: int = 0


def _nan_safe(v: Any) -> Any:
    """JSON-ready values: NaN/inf become None, numpy scalars become Python numbers."""
    if isinstance(v, dict):
        return {str(k): _nan_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_nan_safe(x) for x in v]
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return round(f, 4) if math.isfinite(f) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


class LiveStep:
    """The online per-frame step: feed it frames in time order with :meth:`push`.

    Parameters
    ----------
    width, height : int
        Frame size in pixels.
    fps : float
        Nominal frame rate of the source (the judged windows use the rate actually processed).
    movement : {'auto', 'squat', 'hinge'}
        'auto' decides at the first judged rep and keeps that for the session.
    config : RulesConfig, optional
        Rule thresholds (default: ``rules/defaults.toml``).
    calibration_s : float
        Seconds of frames with a person used for the baseline.
    judge_async : bool
        Judge finished reps on a worker thread (live) or inside :meth:`push` (deterministic, for
        files played as fast as possible and for tests).
    history_s : float
        Longest stretch of depth signal searched for reps, seconds.
    mask_keep_s : float
        Masks older than this are dropped to bound memory (reps are judged long before); see
        :meth:`_prune` for the landmark rows.
    judge_margin_s : float
        The judged window starts this long before the rep.
    on_error : callable, optional
        Receives exceptions raised while judging on the worker thread (they also become
        ``warning`` events).

    Notes
    -----
    The sequence kept for judging holds the raw landmarks (as ``analyze`` gets them);
    :func:`movescreen.pipeline.compute_kinematics` fills gaps and filters them itself.
    """

    def __init__(
        self,
        *,
        width: int,
        height: int,
        fps: float,
        movement: str = "auto",
        config: RulesConfig | None = None,
        calibration_s: float = 0.5,
        calibration_timeout_s: float = 3.0,
        judge_async: bool = True,
        history_s: float = 20.0,
        mask_keep_s: float = 30.0,
        judge_margin_s: float = 1.0,
        mid_rep_hold_s: float = 0.3,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        if movement not in ("auto", "squat", "hinge"):
            raise ValueError(f"expected movement 'auto', 'squat' or 'hinge', got {movement!r}")
        if width <= 0 or height <= 0 or not fps > 0:
            raise ValueError(f"expected a positive frame size and fps, got {width}x{height} at {fps}")
        self.width, self.height, self.fps = int(width), int(height), float(fps)
        self.requested_movement = movement
        self.movement = movement  # becomes 'squat' or 'hinge' after the first judged rep in auto
        self.config = config if config is not None else load_config(None)
        self.calibration_s = calibration_s
        self.calibration_timeout_s = calibration_timeout_s
        self.judge_async = judge_async
        self.history_s = history_s
        self.mask_keep_s = mask_keep_s
        self.judge_margin_s = judge_margin_s
        self.mid_rep_hold_s = mid_rep_hold_s
        self.on_error = on_error
        # raw per-row data (what analyze would have)
        self._frame: list[int] = []
        self._t: list[float] = []
        self._t_buf = np.empty(1024)
        self._pruned_raw = 0
        self._pruned_f = 0
        self._img: list[np.ndarray] = []
        self._wld: list[np.ndarray] = []
        self._vis: list[np.ndarray] = []
        self._pres: list[np.ndarray] = []
        self.masks: dict[int, MaskCrop] = {}
        # causal per-row signals
        self._fimg: list[np.ndarray] = []
        self._fwld: list[np.ndarray] = []
        self._depth = {"image": [], "world": []}  # type: dict[str, list[float]]
        self._trunk = {"image": [], "world": []}  # type: dict[str, list[float]]
        self._bend: list[float] = []
        self._bend_conf: list[float] = []
        self._f_img = OneEuroFilter(**ONE_EURO)
        self._f_wld = OneEuroFilter(**ONE_EURO)
        # view, calibration, reps
        self.view = "unknown"
        self.facing_sign = 0
        self.near_side: str | None = None
        self.facing: str | None = None  # 'left'/'right' for the back outline
        self._next_view_t = -math.inf
        self.calibration = _Calibration()
        self._first_pose_t: float | None = None
        self.order: str | None = None  # fixed at the first rep found
        self._last_end_row = -1  # global row of the last rep's end handed to the judge
        self._levels: tuple[float, float] = (math.nan, math.nan)
        self._rep_depths: list[float] = []
        self._detect_order = "top_first"
        self.rep_count = 0  # full reps in the current set
        self.set_index = 1
        self._live_index = 0  # reps handed to the judge in this set
        self.reps: list[Event] = []
        self.findings: list[Event] = []
        self.cues: list[Event] = []
        self._cued: set[tuple[int, int, str]] = set()  # (set, rep, rule)
        self._mid_cue_t: dict[str, list[float]] = {}  # rule -> times of its mid-rep cues
        self._last_cue = ""
        self._pending: list[Event] = []
        self._lock = threading.Lock()
        self._jobs: queue.Queue[_Job | None] | None = None
        self._worker: threading.Thread | None = None
        if judge_async:
            self._jobs = queue.Queue()
            self._worker = threading.Thread(target=self._work, name="movescreen-judge", daemon=True)
            self._worker.start()

    # ------------------------------------------------------------------ public

    def __len__(self) -> int:
        return len(self._frame)

    def push(self, frame: int, time_s: float, cand: PoseCandidate | None) -> StepOutput:
        """Add one frame (the subject's pose, or None) and return what it produced.

        Frames must come in increasing time; dropped frames are simply not pushed.
        """
        if self._t and time_s <= self._t[-1]:
            time_s = self._t[-1] + 1e-3  # keep time strictly increasing (a repeated timestamp)
        row = len(self._frame)
        events: list[Event] = []
        if cand is None:
            img, wld, vis, pres, mask = _NAN3, _NAN3, _NAN1, _NAN1, None
        else:
            img, wld = cand.image_xyz.astype(np.float32), cand.world_xyz.astype(np.float32)
            vis, pres, mask = cand.visibility.astype(np.float32), cand.presence.astype(np.float32), cand.mask
        self._frame.append(int(frame))
        self._t.append(float(time_s))
        if row >= len(self._t_buf):  # amortised growth: no list -> array copy per frame
            self._t_buf = np.concatenate([self._t_buf, np.empty(len(self._t_buf))])
        self._t_buf[row] = time_s
        self._img.append(img)
        self._wld.append(wld)
        self._vis.append(vis)
        self._pres.append(pres)
        if mask is not None:
            self.masks[row] = mask
        self._prune()

        # causal smoothing (untrusted points are NaN, as fill_gaps does)
        bad = ~(vis >= MIN_VISIBILITY)
        img_in = img.astype(np.float64) / self.height
        wld_in = wld.astype(np.float64)
        img_in[bad] = np.nan
        wld_in[bad] = np.nan
        fimg = self._f_img(img_in, time_s) * self.height
        fwld = self._f_wld(wld_in, time_s)
        self._fimg.append(fimg)
        self._fwld.append(fwld)
        has_pose = bool(np.isfinite(fimg[:, 0]).sum() >= 8)
        if has_pose and self._first_pose_t is None:
            self._first_pose_t = time_s

        self._update_view(time_s)
        table = compute_angle_table(fimg[None], fwld[None], facing_sign=self.facing_sign,
                                    visibility=vis[None].astype(np.float64))
        for space in ("image", "world"):
            hip = mean_of_sides(table[f"left_hip_flexion_{space}_deg"], table[f"right_hip_flexion_{space}_deg"])
            knee = mean_of_sides(table[f"left_knee_flexion_{space}_deg"], table[f"right_knee_flexion_{space}_deg"])
            self._depth[space].append(float((hip + knee)[0]))
            self._trunk[space].append(float(table[f"trunk_inclination_{space}_deg"][0]))
        space = self.space
        depth = self._depth[space][-1]

        events += self._calibrate(time_s)
        events += self._mid_rep_check(row, time_s, has_pose)
        events += self._detect(final=False)
        events += self._drain()
        phase = self._phase(row, has_pose)
        angles = {c: float(table[c][0]) for c in self._label_columns() if c in table}
        return StepOutput(
            frame=int(frame), time_s=float(time_s), row_xyz=fimg if has_pose else None,
            angles=angles, depth_deg=depth, phase=phase, rep_count=self.rep_count,
            view=self.view, events=events, cue=self._last_cue,
        )

    def finish(self, timeout_s: float = 60.0) -> list[Event]:
        """End the session: judge the reps not yet judged (also one cut off by the end).

        Waits for the worker thread (up to ``timeout_s``) and returns the remaining events.
        """
        events = self._detect(final=True)
        if self._jobs is not None and self._worker is not None:
            self._jobs.put(None)
            self._worker.join(timeout=timeout_s)
            self._jobs = None
        return events + self._drain()

    def reset_count(self) -> Event:
        """Start a new set: the rep count goes back to 0 (what was judged is kept)."""
        self.set_index += 1
        self.rep_count = 0
        self._live_index = 0
        return {"event": "reset", "set": self.set_index}

    @property
    def reps_submitted(self) -> int:
        """Reps of the current set handed to the judge so far (full and partial)."""
        return self._live_index

    @property
    def space(self) -> str:
        """'image' in a side view, 'world' otherwise (as ``analyze`` chooses)."""
        return "image" if self.view == "side" else "world"

    def sequence(self, start: int = 0, stop: int | None = None) -> LandmarkSequence:
        """The raw landmarks of rows ``[start, stop)`` as a :class:`LandmarkSequence`.

        The frame rate is the rate actually processed (frames dropped in between lower it).
        """
        stop = len(self._frame) if stop is None else stop
        sl = slice(start, stop)
        t = np.asarray(self._t[sl], np.float64)
        dt = np.diff(t)
        fps = float(1.0 / np.median(dt)) if dt.size and np.median(dt) > 0 else self.fps
        masks = {r - start: self.masks[r] for r in range(start, stop) if r in self.masks}
        return LandmarkSequence(
            frame_index=np.asarray(self._frame[sl], np.int64),
            time_s=t,
            image_xyz=np.stack(self._img[sl]).astype(np.float32),
            visibility=np.stack(self._vis[sl]).astype(np.float32),
            presence=np.stack(self._pres[sl]).astype(np.float32),
            world_xyz=np.stack(self._wld[sl]).astype(np.float32),
            width=self.width,
            height=self.height,
            fps=min(fps, 1000.0),
            masks=masks,
        )

    # ------------------------------------------------------------------ view and calibration

    def _times(self) -> FloatArray:
        """Source times of every row so far, shape (T,) (a view, not a copy)."""
        return self._t_buf[: len(self._t)]

    def _recent_rows(self, seconds: float) -> slice:
        t = self._t
        lo = int(np.searchsorted(self._times(), t[-1] - seconds)) if t else 0
        return slice(lo, len(t))

    def _update_view(self, time_s: float) -> None:
        if time_s < self._next_view_t:
            return
        sl = self._recent_rows(2.0)
        img = np.stack(self._fimg[sl])
        wld = np.stack(self._fwld[sl])
        if not np.isfinite(img[:, :, 0]).any(axis=1).sum() >= 3:
            return
        self._next_view_t = time_s + 1.0
        est = estimate_view(img, wld)
        if est.view != "unknown":
            self.view = est.view
            self.facing_sign = 0 if est.view == "front" else est.facing_sign
            self.near_side = est.near_side
            self.facing = est.facing if est.facing in ("left", "right") else None

    def _calibrate(self, time_s: float) -> list[Event]:
        cal = self.calibration
        if self._first_pose_t is None:
            return []
        if cal.done and cal.ok:
            return []
        elapsed = time_s - self._first_pose_t
        if not cal.done and elapsed < self.calibration_s:
            return []
        if cal.done and time_s - cal.last_check_t < 2.0:
            return []
        sl = self._recent_rows(self.calibration_s)
        img = np.stack(self._fimg[sl])
        wld = np.stack(self._fwld[sl])
        seen = np.isfinite(img[:, :, 0]).sum(axis=1) >= 8
        depth = np.asarray(self._depth[self.space][sl])[seen]
        depth = depth[np.isfinite(depth)]
        still = bool(depth.size >= 3 and np.ptp(depth) < 15.0)
        if not cal.done and not still and elapsed < self.calibration_timeout_s:
            return []  # wait for the person to stand still (up to the timeout)
        est = estimate_view(img[seen], wld[seen]) if seen.sum() >= 3 else None
        view = est.view if est is not None else "unknown"
        mv = self.movement
        ok = view in _MOVEMENT_VIEWS[mv]
        was_done, was_ok = cal.done, cal.ok
        cal.done, cal.ok, cal.view, cal.last_check_t = True, ok, view, time_s
        cal.attempts += 1
        if not was_done:
            cal.baseline_depth_deg = float(np.median(depth)) if depth.size else math.nan
            cal.facing = est.facing if est is not None else None
        if was_done and ok == was_ok:
            return []  # still wrong: said already
        if ok:
            notes = check_view(view, mv) if mv != "auto" else []
            msg = (f"Ready: {view} view." + (" " + notes[0] if notes else "")
                   + ("" if still or was_done else " (You were moving; the baseline may be off.)"))
        else:
            msg = f"The camera sees you from the {view}. {_VIEW_ADVICE[mv]}"
        return [{
            "event": "calibration", "ok": ok, "view": view, "still": still,
            "movement": mv, "facing": cal.facing, "frames": int(seen.sum()),
            "baseline_depth_deg": cal.baseline_depth_deg, "message": msg,
        }]

    # ------------------------------------------------------------------ phase and labels

    def _label_columns(self) -> list[str]:
        sp = self.space
        if self.view == "front":
            return [f"left_knee_fppa_{sp}_deg", f"right_knee_fppa_{sp}_deg"]
        sides = (self.near_side,) if self.near_side in ("left", "right") else ("left", "right")
        cols = [f"{s}_{j}_{sp}_deg" for s in sides for j in ("hip_flexion", "knee_flexion")]
        return cols + [f"trunk_inclination_{sp}_deg"]

    def _phase(self, row: int, has_pose: bool) -> str:
        """The phase from the depth, its speed and the levels seen so far.

        Standing is within 15 % of a typical rep's depth (60 deg before the first rep) of the
        standing level; otherwise the speed over the last 0.15 s says going down or up, and a
        deep, slow frame is the bottom.
        """
        if not has_pose:
            return "no person"
        if not self.calibration.done:
            return "calibrating"
        d = self._depth[self.space]
        cur = d[row]
        if not math.isfinite(cur):
            return "legs not seen"
        top, bot = self._levels
        base = self.calibration.baseline_depth_deg
        amp = float(np.median(self._rep_depths[-3:])) if self._rep_depths else 60.0
        back = int(np.searchsorted(self._times(), self._t[row] - 0.15))
        back = min(back, row - 1) if row > 0 else row
        dt = self._t[row] - self._t[back]
        vel = (cur - d[back]) / dt if dt > 0 and math.isfinite(d[back]) else 0.0
        slow = abs(vel) < 40.0  # deg/s
        moved = math.isfinite(top) and math.isfinite(bot) and bot - top >= 20.0
        if not self._rep_depths and not moved:
            return "ready"  # no movement yet: standing, or set up at the bar
        if (self.order or self._detect_order) == "bottom_first":
            floor = bot if math.isfinite(bot) else base
            if not math.isfinite(floor):
                return "moving"
            if cur > floor - max(10.0, 0.15 * amp):
                return "floor"
            if slow:
                return "lockout" if floor - cur > 0.5 * amp else "hold"
            return "lift" if vel < 0 else "lowering"
        if not math.isfinite(top):
            top = base
        if not math.isfinite(top):
            return "moving"
        if cur < top + max(10.0, 0.15 * amp):
            return "standing"
        if slow and cur - top > 0.5 * amp:
            return "bottom"
        if slow:
            return "hold"
        return "descent" if vel > 0 else "ascent"

    # ------------------------------------------------------------------ mid-rep cue

    def _mid_rep_check(self, row: int, time_s: float, has_pose: bool) -> list[Event]:
        self._bend.append(math.nan)
        self._bend_conf.append(0.0)
        cfg = self.config["lumbar_rounding"]
        mv = self.movement if self.movement != "auto" else "hinge"
        if (not cfg.enabled or mv not in cfg.movements or self.view not in cfg.views
                or not has_pose or row not in self.masks or self.facing is None):
            return []
        trunk = self._trunk["image"][row]
        if not (math.isfinite(trunk) and trunk >= 30.0):
            return []
        from movescreen.kinematics.back_contour import compute_back_bend

        one = self.sequence(row, row + 1)
        bend = compute_back_bend(one, facing=self.facing)  # type: ignore[arg-type]
        self._bend[row] = float(bend.bend_deg[0])
        self._bend_conf[row] = float(bend.confidence[0])
        sl = self._recent_rows(self.mid_rep_hold_s)
        vals = np.asarray(self._bend[sl])
        conf = np.asarray(self._bend_conf[sl])
        use = np.isfinite(vals) & (conf >= cfg.min_confidence)
        if use.sum() < max(2, 0.6 * len(vals)):
            return []
        value = float(np.median(vals[use]))
        severity, threshold = cfg.grade(value)
        if severity not in CUE_SEVERITIES:
            return []
        rep = self._live_index + 1  # the rep in progress
        with self._lock:  # the judge thread gives cues too
            return self._cue("lumbar_rounding", severity, rep, "none", value, threshold,
                             "mid_rep", frame=self._frame[row], time_s=time_s)

    def _cue(self, rule: str, severity: str, rep: int, side: str, value: float,
             threshold: float | None, source: str, *, frame: int, time_s: float,
             fallback: str = "", set_index: int | None = None,
             span_s: tuple[float, float] | None = None) -> list[Event]:
        """A cue, once per rep and rule.

        A judged rep's cue is also left out when the same rule was already cued mid-rep within
        ``span_s`` (the rep's time span, from 1 s before it starts): the person heard it then.
        """
        s = self.set_index if set_index is None else set_index
        key = (s, rep, rule)
        if key in self._cued:
            return []
        if span_s is not None and any(span_s[0] <= t <= span_s[1]
                                      for t in self._mid_cue_t.get(rule, [])):
            return []
        self._cued.add(key)
        if source == "mid_rep":
            self._mid_cue_t.setdefault(rule, []).append(time_s)
        text = cue_text(rule, side, fallback)
        self._last_cue = text
        ev = {"event": "cue", "rule": rule, "severity": severity, "set": s, "rep": rep,
              "side": side, "value": value, "threshold": threshold, "text": text,
              "source": source, "frame": frame, "time_s": time_s}
        self.cues.append(ev)
        return [ev]

    # ------------------------------------------------------------------ reps

    def _detect(self, *, final: bool) -> list[Event]:
        """Find finished reps in the recent depth signal and hand them to the judge."""
        n = len(self._frame)
        if n < 3:
            return []
        t = self._times()
        lo = int(np.searchsorted(t, t[-1] - self.history_s))
        if self._last_end_row >= 0:
            lo = max(lo, int(np.searchsorted(t, t[self._last_end_row] - 0.5)))
        d = np.asarray(self._depth[self.space][lo:], np.float64)
        fps = self._recent_fps()
        order = self.order or "auto"
        segs, info = detect_reps(d, fps, order=order)  # type: ignore[arg-type]
        self._levels = (float(info["standing_level"]), float(info["bottom_level"]))  # type: ignore[arg-type]
        self._detect_order = str(info["order"])
        if self.order is None and segs:
            self.order = self._detect_order
        guard = max(2, round(0.15 * fps))
        events: list[Event] = []
        for s in segs:
            start, turn, end = s.start + lo, s.turn + lo, s.end + lo
            if turn <= self._last_end_row:
                continue  # judged already
            if not final and end > n - 1 - guard:
                continue  # not back yet
            events += self._submit(s, start, turn, end, final=final)
        return events

    def _recent_fps(self) -> float:
        sl = self._recent_rows(3.0)
        dt = np.diff(np.asarray(self._t[sl]))
        return float(1.0 / np.median(dt)) if dt.size and np.median(dt) > 0 else self.fps

    def _submit(self, s: RepSegment, start: int, turn: int, end: int, *, final: bool) -> list[Event]:
        n = len(self._frame)
        t = self._times()
        a = int(np.searchsorted(t, t[start] - self.judge_margin_s))
        if self._last_end_row >= 0:
            a = max(a, int(np.searchsorted(t, t[self._last_end_row] - 0.5)))
        b = n - 1
        self._last_end_row = end
        self._rep_depths.append(float(s.depth))
        self._live_index += 1
        if not s.partial:
            self.rep_count += 1
        job = _Job((start, turn, end), (a, b), self.sequence(a, b + 1), self.movement,
                   self._live_index, self.set_index, s.partial, s.partial_reason)
        if self._jobs is not None and not final:
            self._jobs.put(job)
            return []
        if self._jobs is not None:  # final: keep the order of jobs already queued
            self._jobs.put(job)
            return []
        return self._judge(job)

    def _work(self) -> None:
        jobs = self._jobs
        if jobs is None:
            return
        while True:
            job = jobs.get()
            if job is None:
                return
            try:
                events = self._judge(job)
            except Exception as e:  # noqa: BLE001 - one bad window must not end the session
                if self.on_error is not None:
                    self.on_error(e)
                events = [{"event": "warning", "message": f"Rep {job.live_index} could not be judged ({e})."}]
            with self._lock:
                self._pending += events

    def _drain(self) -> list[Event]:
        with self._lock:
            out, self._pending = self._pending, []
        return out

    def _judge(self, job: _Job) -> list[Event]:
        """Kinematics and rules on the rep's window: the same code as ``analyze``."""
        from movescreen.pipeline import AnalyzeOptions, compute_kinematics

        kin = compute_kinematics(job.seq, AnalyzeOptions(movement=job.movement, filter="one_euro"))
        with self._lock:
            if self.movement == "auto":
                self.movement = kin.movement  # the session keeps the first decision
        rules = evaluate_rules(kin, self.config)
        f0, f1 = self._frame[job.seg_rows[0]], self._frame[job.seg_rows[2]]
        fturn = self._frame[job.seg_rows[1]]
        overlapping = [r for r in kin.reps if r.start_frame <= f1 and r.end_frame >= f0]
        events: list[Event] = []
        if overlapping:
            rep = min(overlapping, key=lambda r: abs(r.turn_frame - fturn))
            rec = rep.as_dict()
            rec.pop("index")
            partial = rep.partial or job.partial
            reason = rep.partial_reason or job.partial_reason
        else:
            rep = None
            rec = {"start_frame": f0, "turn_frame": fturn, "end_frame": f1,
                   "bottom_frame": fturn, "metrics": {}}
            partial, reason = job.partial, job.partial_reason or "not measurable in its window"
        rec.update(partial=partial, partial_reason=reason)
        ev: Event = {"event": "rep", "set": job.set_index, "rep": job.live_index,
                     "movement": kin.movement, **rec}
        events.append(_nan_safe(ev))
        with self._lock:
            self.reps.append(events[-1])
        if rep is None:
            return events
        for f in rules.findings:
            if f.rep != rep.index:
                continue
            fd = f.as_dict()
            fe: Event = {"event": "finding", "set": job.set_index, "rep": job.live_index,
                         "rule": f.rule, "severity": f.severity, "side": f.side,
                         "value": f.value, "threshold": f.threshold, "unit": f.unit,
                         "view": f.view, "confidence": f.confidence,
                         "frame_start": f.frame_start, "frame_end": f.frame_end,
                         "worst_frame": f.worst_frame, "message": f.message_client,
                         "message_clinician": f.message_clinician,
                         "evidence": fd.get("evidence", {})}
            fe = _nan_safe(fe)
            events.append(fe)
            with self._lock:
                self.findings.append(fe)
                if f.severity in CUE_SEVERITIES:
                    t_start, t_end = self._t[job.seg_rows[0]], self._t[job.seg_rows[2]]
                    events += self._cue(f.rule, f.severity, job.live_index, f.side, f.value,
                                        f.threshold, "rep", frame=f.worst_frame,
                                        time_s=float(t_end), fallback=f.message_client,
                                        set_index=job.set_index,
                                        span_s=(t_start - 1.0, t_end))
        return events

    def _prune(self) -> None:
        """Bound memory in long sessions: old masks and landmark rows are released.

        Masks older than ``mask_keep_s`` are dropped; landmark rows older than
        ``max(history_s, mask_keep_s) + 10`` s are replaced by one shared all-NaN row (no rep can
        reach back that far), and the smoothed rows after 10 s (only the recent ones are read).
        Row numbers stay the same.
        """
        n = len(self._t)
        if n % 30:
            return
        now = self._t[-1]
        if self.masks:
            cut = now - self.mask_keep_s
            for r in [r for r in self.masks if self._t[r] < cut]:
                del self.masks[r]
        t = self._times()
        keep_raw = int(np.searchsorted(t, now - max(self.history_s, self.mask_keep_s) - 10.0))
        keep_f = int(np.searchsorted(t, now - 10.0))
        for r in range(self._pruned_raw, keep_raw):
            self._img[r] = self._wld[r] = _NAN3
            self._vis[r] = self._pres[r] = _NAN1
        for r in range(self._pruned_f, keep_f):
            self._fimg[r] = self._fwld[r] = _NAN3_64
        self._pruned_raw = max(self._pruned_raw, keep_raw)
        self._pruned_f = max(self._pruned_f, keep_f)


def summarize_session(step: LiveStep) -> dict[str, Any]:
    """Reps, partial reps and findings by rule over the whole session (pure)."""
    by_rule: dict[str, dict[str, int]] = {}
    for f in step.findings:
        d = by_rule.setdefault(str(f["rule"]), {})
        d[str(f["severity"])] = d.get(str(f["severity"]), 0) + 1
    return {
        "reps": sum(1 for r in step.reps if not r.get("partial")),
        "partial_reps": sum(1 for r in step.reps if r.get("partial")),
        "sets": step.set_index,
        "movement": step.movement,
        "view": step.view,
        "findings_by_rule": by_rule,
        "cues": len(step.cues),
    }


__all__ = ["CUE_SEVERITIES", "Event", "LiveStep", "StepOutput", "summarize_session"]
