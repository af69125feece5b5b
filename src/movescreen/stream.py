"""The online step of ``movescreen live``: one frame's subject pose in, phase, reps and cues out.

:class:`LiveStep` is a small driver; each part of the work is one object with one ``update``:

- :class:`RowLog` keeps the raw landmarks (what ``analyze`` would have) on the grid of source
  frames: a frame the loop had to drop (a slow machine) leaves a row without a pose, so row
  distances are source-frame distances and times stay the source's own.
- :class:`CausalFilter` smooths each frame with the causal One-Euro filter (the live filter of
  :mod:`movescreen.kinematics.filters`, the settings ``analyze`` uses for ``one_euro``);
  :class:`AngleSignals` computes that frame's row of the angle table and the depth signal
  (hip + knee flexion, mean of the sides; image angles in a side view, world angles otherwise).
- :class:`ViewTracker` re-estimates the view every second; :class:`Calibrator` records the
  baseline at the start and says when the view does not suit the movement.
- :class:`RunningRepDetector` runs :func:`movescreen.kinematics.detect_reps` on the recent depth
  signal. It works in source time: rows left by dropped frames are bridged by interpolation
  (up to ``bridge_s``) before the search, the frame rate is measured from the timestamps, and a
  rep counts as finished once the signal has been back past its end level for ``guard_s``
  seconds. Dropped frames therefore neither split a rep nor invent one.
- :class:`PhaseTracker` names the phase shown on screen.
- :class:`MidRepCues` runs the live rules of :mod:`movescreen.rules.live_cues` (the back
  outline rounding during a hinge) on the last fraction of a second.
- :class:`RepJudge` judges each finished rep with exactly the code ``analyze`` uses
  (:func:`movescreen.pipeline.compute_kinematics` with the one_euro filter on a window around
  the rep, then :func:`movescreen.rules.engine.evaluate_rules`), in the helper process by
  default (:mod:`movescreen.helper_process`: off the interpreter that runs the model).
- :class:`MaskMeasures` measures each fresh mask (feet, back outline) in that helper too.
- :class:`CueGate` lets one cue per rep and rule through.

The whole session (:meth:`LiveStep.session_sequence`) is what ``movescreen live`` analyses at the
end, with the zero-phase offline kinematics and the rules, into the session's report: no second
pass of the pose model.

Events are plain dicts with an ``event`` key (see ``docs/live.md``): ``calibration``, ``rep``,
``finding``, ``cue``, ``warning``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from movescreen.config import RulesConfig, load_config
from movescreen.helper_process import HelperProcess
from movescreen.kinematics.angles import compute_angle_table
from movescreen.kinematics.core import mean_of_sides
from movescreen.kinematics.filters import OneEuroFilter
from movescreen.kinematics.reps import RepSegment, detect_reps
from movescreen.kinematics.view import check_view, estimate_view
from movescreen.landmarks import NUM_LANDMARKS
from movescreen.pose.backend import PoseCandidate
from movescreen.rules.engine import evaluate_rules
from movescreen.rules.live_cues import LIVE_RULES, LiveRule, RecentFrames
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
                   "auto": ("side", "front", "oblique"), "hip_rotation_seated": ("front",),
                   "figure4": ("front",), "hip_9090": ("front", "side", "oblique")}
_VIEW_ADVICE = {
    "hinge": "Turn side-on to the camera: a hip hinge is judged from the side.",
    "squat": "Face the camera or turn side-on: the squat cannot be judged from this angle.",
    "auto": "Face the camera or turn side-on so the hips and knees can be seen.",
    "hip_rotation_seated": "Sit facing the camera, with the camera at knee height: the hip "
                           "rotation is measured from the front.",
    "figure4": "Sit facing the camera, with the camera at knee height: the crossed shin is "
               "measured from the front.",
    "hip_9090": "Make sure the camera sees both legs, hips and knees.",
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


HIP_TESTS = ("hip_rotation_seated", "figure4", "hip_9090")
"""The seated hip rotation tests: no reps to count; judged over the whole session at its end."""
LIVE_MOVEMENTS = ("auto", "squat", "hinge", *HIP_TESTS)


def nan_safe(v: Any) -> Any:
    """JSON-ready values: NaN/inf become None, numpy scalars become Python numbers."""
    if isinstance(v, dict):
        return {str(k): nan_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [nan_safe(x) for x in v]
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return round(f, 4) if math.isfinite(f) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


# ---------------------------------------------------------------------------- the raw rows


class RowLog:
    """The raw landmarks of every source frame since the start, one row per frame.

    A frame the loop did not process (dropped, or skipped while paused) gets a row without a
    pose, with its time interpolated, so that ``analyze``'s gap filling and every duration work
    as on the full clip. Landmarks are kept for the whole session (about 1 KB per frame, 110 MB
    per hour at 30 fps); segmentation masks only for the last ``mask_keep_s`` seconds.

    Parameters
    ----------
    width, height, fps : frame size and nominal rate
    mask_keep_s : float
        Masks older than this are released.
    max_fill_s : float
        A hole in the frame numbers longer than this gets only this many seconds of rows (a
        camera whose counter jumped).
    """

    def __init__(self, width: int, height: int, fps: float, *, mask_keep_s: float,
                 max_fill_s: float = 60.0) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.mask_keep_s = mask_keep_s
        self.max_fill_s = max_fill_s
        self.n = 0
        self.frames: list[int] = []
        self.masks: dict[int, MaskCrop] = {}
        cap = 1024
        self._t = np.empty(cap)
        self._img = np.empty((cap, NUM_LANDMARKS, 3), np.float32)
        self._wld = np.empty((cap, NUM_LANDMARKS, 3), np.float32)
        self._vis = np.empty((cap, NUM_LANDMARKS), np.float32)
        self._pres = np.empty((cap, NUM_LANDMARKS), np.float32)
        self._done = np.empty(cap, bool)
        self._mask_from = 0

    def _grow(self) -> None:
        for name in ("_t", "_img", "_wld", "_vis", "_pres", "_done"):
            a = getattr(self, name)
            b = np.empty((2 * len(a), *a.shape[1:]), a.dtype)
            b[: len(a)] = a
            setattr(self, name, b)

    def _append(self, frame: int, t: float, cand: PoseCandidate | None, done: bool) -> int:
        if self.n >= len(self._t):
            self._grow()
        r = self.n
        self.frames.append(int(frame))
        self._t[r] = t
        self._done[r] = done
        if cand is None:
            self._img[r] = self._wld[r] = _NAN3
            self._vis[r] = self._pres[r] = _NAN1
        else:
            self._img[r], self._wld[r] = cand.image_xyz, cand.world_xyz
            self._vis[r], self._pres[r] = cand.visibility, cand.presence
            if cand.mask is not None:
                self.masks[r] = cand.mask
        self.n += 1
        return r

    def update(self, frame: int, time_s: float, cand: PoseCandidate | None) -> range:
        """Add one processed frame; returns the rows added (rows for frames skipped, then its own)."""
        first = self.n
        if self.n:
            last_f, last_t = self.frames[-1], float(self._t[self.n - 1])
            if time_s <= last_t:
                time_s = last_t + 1e-3  # keep time strictly increasing (a repeated timestamp)
            hole = int(frame) - last_f - 1
            k = min(hole, int(self.max_fill_s * self.fps))
            for j in range(1, k + 1):
                self._append(last_f + j, last_t + (time_s - last_t) * j / (hole + 1), None, False)
        self._append(frame, time_s, cand, True)
        self._prune()
        return range(first, self.n)

    def times(self) -> FloatArray:
        """Source times of every row so far, shape (T,) (a view, not a copy)."""
        return self._t[: self.n]

    def processed(self) -> npt.NDArray[np.bool_]:
        """True for the rows of frames that went through the pose model."""
        return self._done[: self.n]

    def recent(self, seconds: float) -> slice:
        """Rows of the last ``seconds`` of source time."""
        if not self.n:
            return slice(0, 0)
        t = self.times()
        return slice(int(np.searchsorted(t, t[-1] - seconds)), self.n)

    def visibility(self, row: int) -> npt.NDArray[np.float32]:
        return self._vis[row]

    def sequence(self, start: int = 0, stop: int | None = None, *,
                 bridge_s: float = 0.0) -> LandmarkSequence:
        """Rows ``[start, stop)`` as a :class:`LandmarkSequence` (masks where still kept).

        The frame rate is measured from the rows' timestamps (one row per source frame). With
        ``bridge_s`` > 0, the landmarks of runs of dropped frames up to that long (see
        :func:`_dropped_gaps`) are interpolated linearly in time between the poses on either
        side, with the lower of their visibilities, so that the kinematics of a slow machine's
        session see the movement the frames it could not process would have shown, and
        ``analyze``'s short-gap rule (0.25 s) does not cut a rep at every drop.
        """
        stop = self.n if stop is None else min(stop, self.n)
        t = np.array(self._t[start:stop], np.float64)
        fps = float((len(t) - 1) / (t[-1] - t[0])) if len(t) > 1 and t[-1] > t[0] else self.fps
        masks = {r - start: m for r, m in self.masks.items() if start <= r < stop}
        img, wld = self._img[start:stop].copy(), self._wld[start:stop].copy()
        vis, pres = self._vis[start:stop].copy(), self._pres[start:stop].copy()
        if bridge_s > 0:
            has = np.isfinite(img[:, :, 0]).any(axis=1)
            for s, e in _dropped_gaps(has, self._done[start:stop], t, bridge_s):
                w = ((t[s:e] - t[s - 1]) / (t[e] - t[s - 1]))[:, None, None].astype(np.float32)
                for a in (img, wld):
                    a[s:e] = a[s - 1] + w * (a[e] - a[s - 1])
                for a in (vis, pres):
                    a[s:e] = np.minimum(a[s - 1], a[e])
        return LandmarkSequence(
            frame_index=np.asarray(self.frames[start:stop], np.int64),
            time_s=t,
            image_xyz=img,
            visibility=vis,
            presence=pres,
            world_xyz=wld,
            width=self.width,
            height=self.height,
            fps=min(fps, 1000.0),
            masks=masks,
        )

    def _prune(self) -> None:
        if self.n % 30 or not self.masks:
            return
        t = self.times()
        cut = int(np.searchsorted(t, t[-1] - self.mask_keep_s))
        for r in range(self._mask_from, cut):
            self.masks.pop(r, None)
        self._mask_from = max(self._mask_from, cut)


# ---------------------------------------------------------------------------- per-frame signals


class CausalFilter:
    """The causal One-Euro filter on image (in frame heights) and world landmarks.

    Untrusted points (visibility under 0.5) are NaN, as ``fill_gaps`` makes them offline. Only
    the last ``keep_s`` seconds of smoothed rows are kept (the view and calibration read 2 s).
    """

    def __init__(self, height: int, *, keep_s: float = 10.0) -> None:
        self.height = height
        self.keep_s = keep_s
        self.img: list[FloatArray] = []
        self.wld: list[FloatArray] = []
        self._f_img = OneEuroFilter(**ONE_EURO)
        self._f_wld = OneEuroFilter(**ONE_EURO)
        self._pruned = 0

    def skip(self) -> None:
        """A row without a processed frame."""
        self.img.append(_NAN3_64)
        self.wld.append(_NAN3_64)

    def update(self, time_s: float, img: npt.NDArray[np.float32], wld: npt.NDArray[np.float32],
               vis: npt.NDArray[np.float32]) -> tuple[FloatArray, FloatArray, bool]:
        """Smooth one frame; returns the smoothed image (pixels) and world rows and has-pose."""
        bad = ~(vis >= MIN_VISIBILITY)
        img_in = img.astype(np.float64) / self.height
        wld_in = wld.astype(np.float64)
        img_in[bad] = np.nan
        wld_in[bad] = np.nan
        fimg = self._f_img(img_in, time_s) * self.height
        fwld = self._f_wld(wld_in, time_s)
        self.img.append(fimg)
        self.wld.append(fwld)
        return fimg, fwld, bool(np.isfinite(fimg[:, 0]).sum() >= 8)

    def window(self, rows: slice) -> tuple[FloatArray, FloatArray]:
        return np.stack(self.img[rows]), np.stack(self.wld[rows])

    def prune(self, keep_from: int) -> None:
        for r in range(self._pruned, keep_from):
            self.img[r] = self.wld[r] = _NAN3_64
        self._pruned = max(self._pruned, keep_from)


class AngleSignals:
    """One row of the angle table per frame; the depth and trunk signals in both spaces."""

    def __init__(self) -> None:
        self.depth: dict[str, list[float]] = {"image": [], "world": []}
        self.trunk: dict[str, list[float]] = {"image": [], "world": []}

    def skip(self) -> None:
        for space in ("image", "world"):
            self.depth[space].append(math.nan)
            self.trunk[space].append(math.nan)

    def update(self, fimg: FloatArray, fwld: FloatArray, vis: npt.NDArray[np.float32],
               facing_sign: int) -> dict[str, FloatArray]:
        table = compute_angle_table(fimg[None], fwld[None], facing_sign=facing_sign,
                                    visibility=vis[None].astype(np.float64))
        for space in ("image", "world"):
            hip = mean_of_sides(table[f"left_hip_flexion_{space}_deg"], table[f"right_hip_flexion_{space}_deg"])
            knee = mean_of_sides(table[f"left_knee_flexion_{space}_deg"], table[f"right_knee_flexion_{space}_deg"])
            self.depth[space].append(float((hip + knee)[0]))
            self.trunk[space].append(float(table[f"trunk_inclination_{space}_deg"][0]))
        return table


class ViewTracker:
    """The camera view, re-estimated every ``every_s`` seconds over the last ``over_s``."""

    def __init__(self, *, every_s: float = 1.0, over_s: float = 2.0) -> None:
        self.every_s, self.over_s = every_s, over_s
        self.view = "unknown"
        self.facing_sign = 0
        self.near_side: str | None = None
        self.facing: str | None = None  # 'left'/'right' for the back outline
        self._next_t = -math.inf

    @property
    def space(self) -> str:
        """'image' in a side view, 'world' otherwise (as ``analyze`` chooses)."""
        return "image" if self.view == "side" else "world"

    def update(self, time_s: float, log: RowLog, filt: CausalFilter) -> None:
        if time_s < self._next_t:
            return
        img, wld = filt.window(log.recent(self.over_s))
        if not np.isfinite(img[:, :, 0]).any(axis=1).sum() >= 3:
            return
        self._next_t = time_s + self.every_s
        est = estimate_view(img, wld)
        if est.view != "unknown":
            self.view = est.view
            self.facing_sign = 0 if est.view == "front" else est.facing_sign
            self.near_side = est.near_side
            self.facing = est.facing if est.facing in ("left", "right") else None


@dataclass
class Calibrator:
    """The baseline at the start: ``calibration_s`` of frames with a person, standing still.

    Waits up to ``timeout_s`` for the person to stand still; when the view does not suit the
    movement, says so and checks again every 2 s.
    """

    calibration_s: float = 0.5
    timeout_s: float = 3.0
    done: bool = False
    ok: bool = False
    view: str = "unknown"
    baseline_depth_deg: float = math.nan
    facing: str | None = None
    last_check_t: float = -math.inf
    attempts: int = 0
    first_pose_t: float | None = None

    def update(self, time_s: float, has_pose: bool, movement: str, log: RowLog,
               filt: CausalFilter, signals: AngleSignals, space: str) -> list[Event]:
        if has_pose and self.first_pose_t is None:
            self.first_pose_t = time_s
        if self.first_pose_t is None or (self.done and self.ok):
            return []
        elapsed = time_s - self.first_pose_t
        if not self.done and elapsed < self.calibration_s:
            return []
        if self.done and time_s - self.last_check_t < 2.0:
            return []
        sl = log.recent(self.calibration_s)
        img, wld = filt.window(sl)
        seen = np.isfinite(img[:, :, 0]).sum(axis=1) >= 8
        depth = np.asarray(signals.depth[space][sl])[seen]
        depth = depth[np.isfinite(depth)]
        still = bool(depth.size >= 3 and np.ptp(depth) < 15.0)
        if not self.done and not still and elapsed < self.timeout_s:
            return []  # wait for the person to stand still (up to the timeout)
        est = estimate_view(img[seen], wld[seen]) if seen.sum() >= 3 else None
        view = est.view if est is not None else "unknown"
        ok = view in _MOVEMENT_VIEWS.get(movement, _MOVEMENT_VIEWS["auto"])
        was_done, was_ok = self.done, self.ok
        self.done, self.ok, self.view, self.last_check_t = True, ok, view, time_s
        self.attempts += 1
        if not was_done:
            self.baseline_depth_deg = float(np.median(depth)) if depth.size else math.nan
            self.facing = est.facing if est is not None else None
        if was_done and ok == was_ok:
            return []  # still wrong: said already
        if ok:
            notes = check_view(view, movement) if movement != "auto" else []
            msg = (f"Ready: {view} view." + (" " + notes[0] if notes else "")
                   + ("" if still or was_done else " (You were moving; the baseline may be off.)"))
        else:
            msg = f"The camera sees you from the {view}. {_VIEW_ADVICE.get(movement, _VIEW_ADVICE['auto'])}"
        return [{
            "event": "calibration", "ok": ok, "view": view, "still": still,
            "movement": movement, "facing": self.facing, "frames": int(seen.sum()),
            "baseline_depth_deg": self.baseline_depth_deg, "message": msg,
        }]


# ---------------------------------------------------------------------------- reps


FILL_GAP_S = 0.25
"""Pose-less gaps ``analyze`` fills by interpolation (``fill_gaps``' default ``max_gap_s``)."""


def _dropped_gaps(has_value: npt.NDArray[np.bool_], processed: npt.NDArray[np.bool_],
                  time_s: FloatArray, max_s: float) -> list[tuple[int, int]]:
    """Interior runs ``[s, e)`` of rows without a value that a slow machine made.

    A run qualifies when it has a value on both sides, spans at most ``max_s`` seconds (from the
    measured row before it to the one after it) and holds at least one dropped frame. A frame
    that was processed but gave no pose counts as part of such a run: right after a jump of
    several frames MediaPipe's tracker often loses the person for one frame, which says nothing
    about the movement. A run of pose-less frames with nothing dropped qualifies only when
    ``analyze`` would fill it too (:data:`FILL_GAP_S`, ``kinematics.filters.fill_gaps``).
    """
    n = len(has_value)
    fps = float((n - 1) / (time_s[-1] - time_s[0])) if n > 1 and time_s[-1] > time_s[0] else 30.0
    fill_rows = int(np.floor(FILL_GAP_S * fps + 1e-9))
    m = np.concatenate([[False], ~has_value, [False]]).astype(np.int8)
    d = np.diff(m)
    out: list[tuple[int, int]] = []
    for s, e in zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()):
        if s == 0 or e >= n:
            continue
        if processed[s:e].all():
            if e - s <= fill_rows:
                out.append((s, e))
            continue
        if time_s[e] - time_s[s - 1] <= max_s:
            out.append((s, e))
    return out


def bridge_dropped(depth: FloatArray, processed: npt.NDArray[np.bool_], time_s: FloatArray,
                   max_s: float) -> FloatArray:
    """Interpolate the rows of dropped frames, in gaps up to ``max_s`` seconds.

    A run of rows without a value that holds dropped frames (the machine was too slow; see
    :func:`_dropped_gaps`) with a measured value on both sides is filled with a straight line in
    time; other rows without a person stay NaN (``detect_reps`` treats those as ``analyze``
    does).
    """
    out = depth.copy()
    if processed.all():
        return out
    for s, e in _dropped_gaps(np.isfinite(out), processed, time_s, max_s):
        w = (time_s[s:e] - time_s[s - 1]) / (time_s[e] - time_s[s - 1])
        out[s:e] = out[s - 1] + w * (out[e] - out[s - 1])
    return out


@dataclass
class RunningRepDetector:
    """Finished reps in the recent depth signal, found in source time.

    Parameters
    ----------
    history_s : float
        Longest stretch of signal searched.
    bridge_s : float
        Gaps of dropped frames up to this long are interpolated before the search.
    guard_s : float
        A rep counts as finished once this much signal has been seen after its end...
    min_after : int
        ...and at least this many rows with a value (measured, or bridged across dropped
        frames) follow it. Where the signal stops right after a rep's end (the person was not
        found in the next frames), the end is not known yet: the rep waits for the signal to
        come back, or for the session's end.
    """

    history_s: float = 20.0
    bridge_s: float = 1.0
    guard_s: float = 0.15
    min_after: int = 3
    order: str | None = None  # fixed at the first rep found
    detect_order: str = "top_first"
    levels: tuple[float, float] = (math.nan, math.nan)
    last_end_row: int = -1

    def update(self, log: RowLog, depth: list[float], *, final: bool) -> list[tuple[RepSegment, int]]:
        """New finished reps as (segment in global rows, offset) - call after each frame."""
        n = log.n
        if n < 3:
            return []
        t = log.times()
        lo = int(np.searchsorted(t, t[-1] - self.history_s))
        if self.last_end_row >= 0:
            lo = max(lo, int(np.searchsorted(t, t[self.last_end_row] - 0.5)))
        tw = t[lo:]
        d = bridge_dropped(np.asarray(depth[lo:], np.float64), log.processed()[lo:], tw, self.bridge_s)
        fps = float((len(tw) - 1) / (tw[-1] - tw[0])) if len(tw) > 1 and tw[-1] > tw[0] else log.fps
        segs, info = detect_reps(d, fps, order=self.order or "auto")  # type: ignore[arg-type]
        self.levels = (float(info["standing_level"]), float(info["bottom_level"]))  # type: ignore[arg-type]
        self.detect_order = str(info["order"])
        if self.order is None and segs:
            self.order = self.detect_order
        out: list[tuple[RepSegment, int]] = []
        for s in segs:
            if s.turn + lo <= self.last_end_row:
                continue  # judged already
            if not final and t[-1] - t[s.end + lo] < self.guard_s:
                continue  # not back yet
            if not final and np.isfinite(d[s.end + 1:]).sum() < self.min_after:
                continue  # too few measured rows after its end to know it ended there
            if not final and s.end + lo >= n - 1:
                continue
            out.append((s, lo))
            self.last_end_row = s.end + lo
        return out


@dataclass
class PhaseTracker:
    """The phase from the depth, its speed and the levels seen so far.

    Standing is within 15 % of a typical rep's depth (60 deg before the first rep) of the
    standing level; otherwise the speed over the last 0.15 s says going down or up, and a deep,
    slow frame is the bottom.
    """

    rep_depths: list[float] = field(default_factory=list)

    def update(self, row: int, has_pose: bool, calibrated: bool, baseline: float,
               log: RowLog, depth: list[float], reps: RunningRepDetector) -> str:
        if not has_pose:
            return "no person"
        if not calibrated:
            return "calibrating"
        cur = depth[row]
        if not math.isfinite(cur):
            return "legs not seen"
        top, bot = reps.levels
        amp = float(np.median(self.rep_depths[-3:])) if self.rep_depths else 60.0
        t = log.times()
        back = int(np.searchsorted(t, t[row] - 0.15))
        back = min(back, row - 1) if row > 0 else row
        while back > 0 and not math.isfinite(depth[back]) and back < row:
            back -= 1  # a dropped frame: the last measured one before it
        dt = t[row] - t[back]
        vel = (cur - depth[back]) / dt if dt > 0 and math.isfinite(depth[back]) else 0.0
        slow = abs(vel) < 40.0  # deg/s
        moved = math.isfinite(top) and math.isfinite(bot) and bot - top >= 20.0
        if not self.rep_depths and not moved:
            return "ready"  # no movement yet: standing, or set up at the bar
        if (reps.order or reps.detect_order) == "bottom_first":
            floor = bot if math.isfinite(bot) else baseline
            if not math.isfinite(floor):
                return "moving"
            if cur > floor - max(10.0, 0.15 * amp):
                return "floor"
            if slow:
                return "lockout" if floor - cur > 0.5 * amp else "hold"
            return "lift" if vel < 0 else "lowering"
        if not math.isfinite(top):
            top = baseline
        if not math.isfinite(top):
            return "moving"
        if cur < top + max(10.0, 0.15 * amp):
            return "standing"
        if slow and cur - top > 0.5 * amp:
            return "bottom"
        if slow:
            return "hold"
        return "descent" if vel > 0 else "ascent"


# ---------------------------------------------------------------------------- cues


class CueGate:
    """One cue per set, rep and rule.

    A judged rep's cue is also left out when the same rule was already cued mid-rep within the
    rep's time span (from 1 s before it starts): the person heard it then.
    """

    def __init__(self) -> None:
        self.cues: list[Event] = []
        self.last_text = ""
        self._given: set[tuple[int, int, str]] = set()
        self._mid_t: dict[str, list[float]] = {}
        self.lock = threading.Lock()  # the judge thread gives cues too

    def update(self, rule: str, severity: str, set_index: int, rep: int, side: str, value: float,
               threshold: float | None, source: str, *, frame: int, time_s: float,
               fallback: str = "", span_s: tuple[float, float] | None = None) -> list[Event]:
        with self.lock:
            key = (set_index, rep, rule)
            if key in self._given:
                return []
            if span_s is not None and any(span_s[0] <= t <= span_s[1] for t in self._mid_t.get(rule, [])):
                return []
            self._given.add(key)
            if source == "mid_rep":
                self._mid_t.setdefault(rule, []).append(time_s)
            text = cue_text(rule, side, fallback)
            self.last_text = text
            ev = {"event": "cue", "rule": rule, "severity": severity, "set": set_index, "rep": rep,
                  "side": side, "value": value, "threshold": threshold, "text": text,
                  "source": source, "frame": frame, "time_s": time_s}
            self.cues.append(ev)
            return [ev]


class MidRepCues:
    """The live rules (:data:`movescreen.rules.live_cues.LIVE_RULES`) on the recent frames."""

    def __init__(self, config: RulesConfig, rules: tuple[LiveRule, ...] = LIVE_RULES) -> None:
        self.config = config
        self.rules = tuple(r for r in rules if r.id in config.rules)
        self.bend: list[float] = []
        self.bend_conf: list[float] = []

    def skip(self) -> None:
        self.bend.append(math.nan)
        self.bend_conf.append(0.0)

    def update(self, row: int, *, movement: str, view: str, facing: str | None,
               trunk: list[float], log: RowLog) -> list[tuple[LiveRule, str, float, float, int]]:
        """Hits at this frame: (rule, severity, value, threshold, worst row)."""
        self.skip()
        hits = []
        for rule in self.rules:
            cfg = self.config[rule.id]
            if not rule.applies(cfg, movement=movement, view=view):
                continue
            if rule.needs_bend:
                if row not in log.masks or facing is None or not rule.wants_frame(cfg, trunk_deg=trunk[row]):
                    continue
                self._trace(row, facing, log)
            sl = log.recent(float(cfg.params.get("hold_s", 0.3)))
            rows = np.arange(sl.start, sl.stop)[log.processed()[sl]]
            recent = RecentFrames(rows=rows, time_s=log.times()[rows],
                                  bend_deg=np.asarray(self.bend, np.float64)[rows],
                                  bend_confidence=np.asarray(self.bend_conf, np.float64)[rows],
                                  trunk_deg=np.asarray(trunk, np.float64)[rows])
            m = rule.judge(recent, cfg)
            if m is None:
                continue
            severity, threshold = cfg.grade(m.value)
            if severity in CUE_SEVERITIES and threshold is not None:
                hits.append((rule, severity, m.value, threshold, m.worst_row))
        return hits

    def _trace(self, row: int, facing: str, log: RowLog) -> None:
        if math.isfinite(self.bend[row]):
            return
        from movescreen.kinematics.back_contour import compute_back_bend

        bend = compute_back_bend(log.sequence(row, row + 1), facing=facing)  # type: ignore[arg-type]
        self.bend[row] = float(bend.bend_deg[0])
        self.bend_conf[row] = float(bend.confidence[0])


# ---------------------------------------------------------------------------- judging reps


@dataclass
class _Job:
    seg_rows: tuple[int, int, int]  # global rows: start, turn, end (of the causal detection)
    seg_times: tuple[float, float]
    frames: tuple[int, int, int]
    seq: LandmarkSequence
    movement: str
    live_index: int
    set_index: int
    partial: bool
    partial_reason: str


@dataclass(frozen=True)
class JudgedFinding:
    """One finding of a judged rep: its event, and the raw numbers the cue gate needs."""

    event: Event
    rule: str
    severity: str
    side: str
    value: float
    threshold: float
    worst_frame: int
    message: str


@dataclass(frozen=True)
class JudgedRep:
    """What :func:`judge_rep` found for one rep (picklable: it comes back from the helper)."""

    movement: str
    event: Event
    measured: bool  # a rep of the window's analysis overlapped the live detection
    findings: tuple[JudgedFinding, ...]


def judge_rep(job: _Job, config: RulesConfig) -> JudgedRep:
    """Kinematics and rules on the rep's window: the same code as ``analyze``. Pure, so it runs
    in the helper process (:mod:`movescreen.helper_process`) or inline alike."""
    from movescreen.pipeline import AnalyzeOptions, compute_kinematics

    kin = compute_kinematics(job.seq, AnalyzeOptions(movement=job.movement, filter="one_euro"))
    rules = evaluate_rules(kin, config)
    f0, fturn, f1 = job.frames
    overlapping = [r for r in kin.reps if r.start_frame <= f1 and r.end_frame >= f0]
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
    ev: Event = nan_safe({"event": "rep", "set": job.set_index, "rep": job.live_index,
                          "movement": kin.movement, **rec})
    found: list[JudgedFinding] = []
    for f in rules.findings if rep is not None else ():
        if f.rep != rep.index:  # type: ignore[union-attr]
            continue
        fd = f.as_dict()
        fe: Event = nan_safe({
            "event": "finding", "set": job.set_index, "rep": job.live_index,
            "rule": f.rule, "severity": f.severity, "side": f.side,
            "value": f.value, "threshold": f.threshold, "unit": f.unit,
            "view": f.view, "confidence": f.confidence,
            "frame_start": f.frame_start, "frame_end": f.frame_end,
            "worst_frame": f.worst_frame, "message": f.message_client,
            "message_clinician": f.message_clinician, "evidence": fd.get("evidence", {})})
        found.append(JudgedFinding(fe, f.rule, f.severity, f.side, f.value, f.threshold,
                                   f.worst_frame, f.message_client))
    return JudgedRep(kin.movement, ev, rep is not None, tuple(found))


class RepJudge:
    """Judges each finished rep with ``analyze``'s code (:func:`judge_rep`), inline or in the
    helper process.

    The judged events are ready from :meth:`drain` (inline: also returned by :meth:`update`).
    """

    def __init__(self, config: RulesConfig, gate: CueGate, helper: HelperProcess,
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self.config = config
        self.gate = gate
        self.helper = helper
        self.on_error = on_error
        self.movement = "auto"  # the session keeps the first decision
        self.reps: list[Event] = []
        self.findings: list[Event] = []
        self._lock = threading.Lock()
        self._pending: list[Event] = []

    def update(self, job: _Job) -> list[Event]:
        """Judge one rep: its events now (inline), or later from :meth:`drain`."""
        self.helper.submit(judge_rep, (job, self.config), lambda res, err: self._judged(job, res, err))
        return [] if self.helper.asynchronous else self.drain()

    def drain(self) -> list[Event]:
        with self._lock:
            out, self._pending = self._pending, []
        return out

    def _judged(self, job: _Job, res: JudgedRep | None, err: BaseException | None) -> None:
        if res is None:  # one bad window must not end the session
            if self.on_error is not None and err is not None:
                self.on_error(err)
            with self._lock:
                self._pending.append({"event": "warning",
                                      "message": f"Rep {job.live_index} could not be judged ({err})."})
            return
        with self._lock:
            # the session keeps the first squat or hinge; a rep read as "other" (a set-up, a
            # stretch between sets) is reported as such but does not decide the session
            if self.movement == "auto" and res.movement in LIVE_MOVEMENTS:
                self.movement = res.movement
            events: list[Event] = [res.event]
            self.reps.append(res.event)
            for f in res.findings:
                events.append(f.event)
                self.findings.append(f.event)
                if f.severity in CUE_SEVERITIES:
                    t_start, t_end = job.seg_times
                    events += self.gate.update(f.rule, f.severity, job.set_index, job.live_index, f.side,
                                               f.value, f.threshold, "rep", frame=f.worst_frame,
                                               time_s=float(t_end), fallback=f.message,
                                               span_s=(t_start - 1.0, t_end))
            self._pending += events


class MaskMeasures:
    """The per-frame numbers measured on each mask while it is fresh, for the session's report.

    The same measures ``analyze``'s per-frame step makes (:func:`movescreen.step.mask_measures`:
    the feet on the mask and the back outline for either facing), kept per row so that the
    report at the end of the session needs neither the masks nor a second pass of the model.
    Asynchronous (live): measured in the helper process beside inference, at most
    ``max_pending`` masks waiting; when it falls behind (a slow machine), the rows it could not
    take are counted in ``skipped`` and their mask measures are missing (NaN) in the report,
    never guessed.
    """

    def __init__(self, helper: HelperProcess) -> None:
        self.helper = helper
        self.columns: dict[int, dict[str, float]] = {}
        self.back: dict[int, dict[str, dict[str, Any] | None]] = {}
        self.skipped = 0
        self._lock = threading.Lock()

    def update(self, row: int, mask: MaskCrop, image_xyz: np.ndarray) -> None:
        from movescreen.step import mask_measures

        def done(res: Any, err: BaseException | None) -> None:
            if res is not None:  # a bad mask leaves its row unmeasured (NaN)
                with self._lock:
                    self.columns[row], self.back[row] = res

        if not self.helper.submit(mask_measures, (mask, np.asarray(image_xyz)), done, droppable=True):
            self.skipped += 1


# ---------------------------------------------------------------------------- the driver


class LiveStep:
    """The online step: feed it frames in time order with :meth:`push`.

    Parameters
    ----------
    width, height : int
        Frame size in pixels.
    fps : float
        Nominal frame rate of the source.
    movement : {'auto', 'squat', 'hinge'}
        'auto' decides at the first judged rep and keeps that for the session.
    config : RulesConfig, optional
        Rule thresholds (default: ``rules/defaults.toml``).
    calibration_s, calibration_timeout_s : float
        Seconds of frames with a person used for the baseline; longest wait for stillness.
    judge_async : bool
        Judge finished reps and measure the masks in the helper process (live), or inside
        :meth:`push` (deterministic, for files played as fast as possible and for tests).
    history_s : float
        Longest stretch of depth signal searched for reps, seconds.
    mask_keep_s : float
        Masks older than this are released (memory); the session's report measures the back
        outline only where masks were kept.
    judge_margin_s : float
        The judged window starts this long before the rep.
    bridge_s : float
        Gaps of dropped frames up to this long are bridged for the rep search.
    on_error : callable, optional
        Receives exceptions raised while judging a rep (they also become
        ``warning`` events).
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
        mask_keep_s: float = 60.0,
        judge_margin_s: float = 1.0,
        bridge_s: float = 1.0,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        if movement not in LIVE_MOVEMENTS:
            raise ValueError(f"expected movement one of {', '.join(LIVE_MOVEMENTS)}, got {movement!r}")
        if width <= 0 or height <= 0 or not fps > 0:
            raise ValueError(f"expected a positive frame size and fps, got {width}x{height} at {fps}")
        self.width, self.height, self.fps = int(width), int(height), float(fps)
        self.requested_movement = movement
        self.config = config if config is not None else load_config(None)
        self.judge_margin_s = judge_margin_s
        self.log = RowLog(self.width, self.height, self.fps, mask_keep_s=mask_keep_s)
        self.filter = CausalFilter(self.height)
        self.signals = AngleSignals()
        self.views = ViewTracker()
        self.calibration = Calibrator(calibration_s, calibration_timeout_s)
        self.rep_finder = RunningRepDetector(history_s=history_s, bridge_s=bridge_s)
        self.phases = PhaseTracker()
        self.gate = CueGate()
        self.mid_rep = MidRepCues(self.config)
        self.helper = HelperProcess(asynchronous=judge_async, max_pending=64)
        self.judge = RepJudge(self.config, self.gate, self.helper, on_error=on_error)
        self.judge.movement = movement
        self.mask_measures = MaskMeasures(self.helper)
        self.rep_count = 0  # full reps in the current set
        self.set_index = 1
        self._live_index = 0  # reps handed to the judge in this set

    # ------------------------------------------------------------------ public

    def __len__(self) -> int:
        return self.log.n

    def push(self, frame: int, time_s: float, cand: PoseCandidate | None) -> StepOutput:
        """Add one frame (the subject's pose, or None) and return what it produced.

        Frames must come in increasing time; frames not processed are simply not pushed (their
        rows are filled in from the frame numbers).
        """
        rows = self.log.update(frame, time_s, cand)
        if cand is not None and cand.mask is not None:
            self.mask_measures.update(rows[-1], cand.mask, cand.image_xyz)
        for _ in range(len(rows) - 1):
            self.filter.skip()
            self.signals.skip()
            self.mid_rep.skip()
        row = rows[-1]
        time_s = float(self.log.times()[row])
        log = self.log
        fimg, fwld, has_pose = self.filter.update(time_s, log._img[row], log._wld[row], log.visibility(row))
        if log.n % 30 == 0:
            self.filter.prune(int(np.searchsorted(log.times(), time_s - self.filter.keep_s)))
        self.views.update(time_s, log, self.filter)
        table = self.signals.update(fimg, fwld, log.visibility(row), self.views.facing_sign)
        space = self.views.space
        depth = self.signals.depth[space]
        events: list[Event] = []
        events += self.calibration.update(time_s, has_pose, self.movement, log, self.filter,
                                          self.signals, space)
        if self.requested_movement not in HIP_TESTS:  # the hip tests have no reps
            events += self._mid_rep(row, time_s, has_pose)
            events += self._reps(final=False)
        events += self.judge.drain()
        phase = self.phases.update(row, has_pose, self.calibration.done,
                                   self.calibration.baseline_depth_deg, log, depth, self.rep_finder)
        angles = {c: float(table[c][0]) for c in self._label_columns() if c in table}
        return StepOutput(
            frame=int(frame), time_s=time_s, row_xyz=fimg if has_pose else None,
            angles=angles, depth_deg=depth[row], phase=phase, rep_count=self.rep_count,
            view=self.view, events=events, cue=self.gate.last_text,
        )

    def finish(self, timeout_s: float = 60.0) -> list[Event]:
        """End the session: judge the reps not yet judged (also one cut off by the end).

        Waits for the helper process (up to ``timeout_s``), stops it and returns the
        remaining events.
        """
        events = self._reps(final=True) if self.requested_movement not in HIP_TESTS else []
        self.helper.close(timeout_s)
        return events + self.judge.drain()

    def reset_count(self) -> Event:
        """Start a new set: the rep count goes back to 0 (what was judged is kept)."""
        self.set_index += 1
        self.rep_count = 0
        self._live_index = 0
        return {"event": "reset", "set": self.set_index}

    @property
    def movement(self) -> str:
        """The movement: the requested one, or what the first judged rep decided in auto."""
        return self.judge.movement

    @property
    def view(self) -> str:
        return self.views.view

    @property
    def space(self) -> str:
        return self.views.space

    @property
    def reps(self) -> list[Event]:
        return self.judge.reps

    @property
    def findings(self) -> list[Event]:
        return self.judge.findings

    @property
    def cues(self) -> list[Event]:
        return self.gate.cues

    @property
    def masks(self) -> dict[int, MaskCrop]:
        return self.log.masks

    @property
    def reps_submitted(self) -> int:
        """Reps of the current set handed to the judge so far (full and partial)."""
        return self._live_index

    def sequence(self, start: int = 0, stop: int | None = None) -> LandmarkSequence:
        """The raw landmarks of rows ``[start, stop)`` (one row per source frame)."""
        return self.log.sequence(start, stop)

    def session_sequence(self) -> LandmarkSequence:
        """Every row of the session: what ``analyze`` would have had from these frames."""
        return self.log.sequence()

    def session_measurements(self) -> tuple[LandmarkSequence, dict[str, FloatArray],
                                            dict[int, dict[str, dict[str, Any] | None]]]:
        """The frames this session processed, as ``analyze`` would measure its recording.

        Returns the landmarks of the processed frames only (numbered 0, 1, ... in the order the
        session recorder wrote them, with their source times), the per-frame mask columns and
        the back-outline traces measured while the masks were fresh: everything
        ``movescreen.pipeline.compute_kinematics`` needs (``Analysis.mask_columns`` /
        ``back_traces``). Call after :meth:`finish`.
        """
        done = np.flatnonzero(self.log.processed())
        full = self.log.sequence()
        seq = LandmarkSequence(
            frame_index=np.arange(len(done), dtype=np.int64),
            time_s=full.time_s[done],
            image_xyz=full.image_xyz[done],
            visibility=full.visibility[done],
            presence=full.presence[done],
            world_xyz=full.world_xyz[done],
            width=full.width,
            height=full.height,
            fps=float((len(done) - 1) / (full.time_s[done[-1]] - full.time_s[done[0]]))
            if len(done) > 1 and full.time_s[done[-1]] > full.time_s[done[0]] else self.fps,
        )
        new_row = {int(r): i for i, r in enumerate(done)}
        mm = self.mask_measures
        columns = {f"{s}_foot_in_mask": np.full(len(done), np.nan) for s in ("left", "right")}
        for r, cols in mm.columns.items():
            for name, v in cols.items():
                columns.setdefault(name, np.full(len(done), np.nan))[new_row[r]] = v
        back = {new_row[r]: b for r, b in mm.back.items()}
        return seq, columns, back

    # ------------------------------------------------------------------ parts

    def _label_columns(self) -> list[str]:
        sp = self.space
        if self.view == "front":
            return [f"left_knee_fppa_{sp}_deg", f"right_knee_fppa_{sp}_deg"]
        near = self.views.near_side
        sides = (near,) if near in ("left", "right") else ("left", "right")
        cols = [f"{s}_{j}_{sp}_deg" for s in sides for j in ("hip_flexion", "knee_flexion")]
        return cols + [f"trunk_inclination_{sp}_deg"]

    def _mid_rep(self, row: int, time_s: float, has_pose: bool) -> list[Event]:
        mv = self.movement if self.movement != "auto" else "hinge"
        hits = self.mid_rep.update(row, movement=mv, view=self.view if has_pose else "none",
                                   facing=self.views.facing, trunk=self.signals.trunk["image"],
                                   log=self.log)
        events: list[Event] = []
        for rule, severity, value, threshold, _worst in hits:
            events += self.gate.update(rule.cues_as, severity, self.set_index, self._live_index + 1,
                                       "none", value, threshold, "mid_rep",
                                       frame=self.log.frames[row], time_s=time_s)
        return events

    def _reps(self, *, final: bool) -> list[Event]:
        events: list[Event] = []
        depth = self.signals.depth[self.space]
        for s, lo in self.rep_finder.update(self.log, depth, final=final):
            events += self._submit(s, lo)
        return events

    def _submit(self, s: RepSegment, lo: int) -> list[Event]:
        log = self.log
        n = log.n
        t = log.times()
        start, turn, end = s.start + lo, s.turn + lo, s.end + lo
        a = max(lo, int(np.searchsorted(t, t[start] - self.judge_margin_s)))
        self.phases.rep_depths.append(float(s.depth))
        self._live_index += 1
        if not s.partial:
            self.rep_count += 1
        f = log.frames
        job = _Job((start, turn, end), (float(t[start]), float(t[end])), (f[start], f[turn], f[end]),
                   log.sequence(a, n, bridge_s=self.rep_finder.bridge_s), self.movement, self._live_index, self.set_index,
                   s.partial, s.partial_reason)
        return self.judge.update(job)


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


__all__ = ["CUE_SEVERITIES", "AngleSignals", "Calibrator", "CausalFilter", "CueGate", "Event",
           "LiveStep", "MidRepCues", "PhaseTracker", "RepJudge", "RowLog", "RunningRepDetector",
           "StepOutput", "HIP_TESTS", "LIVE_MOVEMENTS", "bridge_dropped", "nan_safe", "summarize_session"]
