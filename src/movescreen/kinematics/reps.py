"""Repetitions and their phases from a depth signal.

The depth signal is large at the bottom of a rep (e.g. hip flexion + knee flexion, degrees).
Bottoms are found with :func:`scipy.signal.find_peaks` (prominence), each finite run of the
signal on its own (so a person walking out of frame splits the signal and no rep spans the gap).
Boundaries use hysteresis against the clip's standing level (the 5th percentile of the signal,
i.e. the lockout, never simply the first frames):

- top-first reps (squat, RDL): the rep starts at the last frame before the bottom that is within
  15 % of the rep's depth of standing, and ends at the first such frame after it. Pauses at the
  top therefore fall between reps.
- bottom-first reps (a deadlift from the floor, detected when the clip starts near the bottom):
  the lockouts are the turning points; the rep starts where the signal leaves the bottom (85 % of
  the way from lockout to floor) and ends where it gets back there.

Two bottoms with no return at least half-way to standing between them are one rep (a bounce).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.ndimage import median_filter
from scipy.signal import find_peaks

Order = Literal["top_first", "bottom_first"]
MIN_SEEN = 0.3
"""A rep cut by the clip's edge or by missing frames is partial when less than this fraction of
its first (or last) phase was seen."""


@dataclass(frozen=True)
class RepSegment:
    """Rows (not frame numbers) of one rep and its phase boundaries.

    For 'top_first': start -> turn_start (bottom reached) -> turn (deepest) -> turn_end -> end.
    For 'bottom_first': start (leaves the floor) -> turn_start (lockout reached) -> turn
    (lockout) -> turn_end -> end (back on the floor); ``deepest`` is the deepest row.
    """

    start: int
    turn_start: int
    turn: int
    turn_end: int
    end: int
    deepest: int
    order: Order
    depth: float
    partial: bool
    partial_reason: str

    def tempo_s(self, time_s: npt.NDArray[np.float64]) -> dict[str, float]:
        """Seconds per phase: descent, pause (at the turn), ascent, total."""
        t = time_s
        first = float(t[self.turn_start] - t[self.start])
        pause = float(t[self.turn_end] - t[self.turn_start])
        second = float(t[self.end] - t[self.turn_end])
        if self.order == "top_first":
            return {"descent_s": first, "pause_s": pause, "ascent_s": second,
                    "total_s": float(t[self.end] - t[self.start])}
        return {"descent_s": second, "pause_s": pause, "ascent_s": first,
                "total_s": float(t[self.end] - t[self.start])}


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    m = np.concatenate([[False], mask.astype(bool), [False]]).astype(np.int8)
    d = np.diff(m)
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def detect_reps(
    depth: npt.ArrayLike,
    fps: float,
    *,
    min_amplitude: float = 20.0,
    min_prominence_fraction: float = 0.3,
    min_rep_s: float = 0.6,
    partial_fraction: float = 0.6,
    order: Literal["auto", "top_first", "bottom_first"] = "auto",
    median_s: float = 0.2,
    bridge_s: float = 2.0,
) -> tuple[list[RepSegment], dict[str, object]]:
    """Find the reps in a depth signal.

    Parameters
    ----------
    depth : array_like, shape (T,)
        Larger = deeper. NaN for missing frames.
    fps : float
    min_amplitude : float
        A clip whose robust range (95th - 5th percentile) is below this has no reps.
    min_prominence_fraction : float
        A bottom must stand out by this fraction of the clip's range.
    min_rep_s : float
        Minimum time between two bottoms.
    partial_fraction : float
        Reps shallower than this fraction of the median full rep's depth are flagged partial
        (reason "shallow"). 0.6: a set-up or set-down of the weight typically goes half-way
        (0.4-0.55 of a working rep's hip + knee flexion), while working reps of one set vary by
        well under 20 % of their depth; 0.6 leaves room on both sides. Partial reps are reported
        with their reason and never judged by the rules (rules/engine.py).
    order : {'auto', 'top_first', 'bottom_first'}
        'auto' picks 'bottom_first' when the signal gets deep (60 % of the range) before it
        first gets back near standing (20 %).
    median_s : float
        A running median of this length (odd number of frames, at least 3 when > 0) removes
        single-frame spikes before the search; each finite run is filtered on its own.
    bridge_s : float
        A gap of missing frames up to this long, with the signal near standing on both sides
        (within 30 % of the range), is bridged by a straight line for the search: the person was
        lost at the top (e.g. the head left the picture at a deadlift lockout), which is a pause
        between phases, not the end of a rep. Longer gaps, or gaps that start or end deep in a
        rep, split the signal.

    Returns
    -------
    reps : list of RepSegment
    info : dict
        ``standing_level``, ``bottom_level``, ``order`` and ``starts_at_bottom``.
    """
    d = np.array(depth, dtype=np.float64)
    fin = np.isfinite(d)
    k = int(round(median_s * fps)) | 1
    if median_s > 0 and k >= 3:
        for s, e in _runs(fin):
            d[s:e] = median_filter(d[s:e], size=min(k, (e - s) | 1 if (e - s) % 2 else e - s - 1 or 1),
                                   mode="nearest")
    info: dict[str, object] = {"order": "top_first", "starts_at_bottom": False,
                               "standing_level": np.nan, "bottom_level": np.nan}
    if fin.sum() < 3:
        return [], info
    top, bot = np.percentile(d[fin], [5, 95])
    amp = float(bot - top)
    info.update(standing_level=float(top), bottom_level=float(bot))
    if amp < min_amplitude:
        return [], info
    d, bridged = _bridge_top_gaps(d, fps, top + 0.3 * amp, bridge_s)
    fin = np.isfinite(d)
    info["bridged_gaps"] = bridged
    # starts at the bottom when it gets deep before it first gets back to standing
    vals = d[fin]
    deep = np.flatnonzero(vals >= top + 0.6 * amp)
    up = np.flatnonzero(vals <= top + 0.2 * amp)
    starts_low = bool(deep.size and (not up.size or deep[0] < up[0]))
    info["starts_at_bottom"] = starts_low
    use: Order
    if order == "auto":
        use = "bottom_first" if starts_low else "top_first"
    else:
        use = order
    info["order"] = use
    dist = max(1, int(round(min_rep_s * fps)))
    prom = max(min_amplitude * 0.75, min_prominence_fraction * amp)
    reps: list[RepSegment] = []
    for s, e in _runs(fin):
        x = d[s:e]
        if len(x) < 3:
            continue
        sig = x if use == "top_first" else -x
        rest = top if use == "top_first" else -bot
        # pad with the resting level so a turn at the run's edge is still a peak
        padded = np.concatenate([[rest], sig, [rest]])
        peaks, _ = find_peaks(padded, prominence=prom, distance=dist)
        peaks = _merge_bounces(padded, peaks, rest) - 1
        for p in peaks:
            reps.append(_segment(x, int(p), s, use, top, bot))
    # remove overlaps (keep order) and tag shallow reps
    reps.sort(key=lambda r: r.turn)
    uniq: list[RepSegment] = []
    for r in reps:
        # two turns inside one rep's boundaries (a wobble at lockout) are one rep
        if uniq and r.start <= uniq[-1].turn <= r.end and uniq[-1].start <= r.turn <= uniq[-1].end:
            if r.depth > uniq[-1].depth:
                uniq[-1] = r
            continue
        uniq.append(r)
    reps = uniq
    if reps:
        med = float(np.median([r.depth for r in reps if not r.partial] or [r.depth for r in reps]))
        out = []
        for r in reps:
            if not r.partial and r.depth < partial_fraction * med:
                r = RepSegment(r.start, r.turn_start, r.turn, r.turn_end, r.end, r.deepest,
                               r.order, r.depth, True,
                               f"shallow: {r.depth:.0f} against a typical {med:.0f}")
            out.append(r)
        reps = out
    return reps, info


def _bridge_top_gaps(d: np.ndarray, fps: float, near_top: float, max_s: float) -> tuple[np.ndarray, int]:
    """Fill interior NaN gaps no longer than ``max_s`` whose both edges are at or above standing
    (signal <= ``near_top``) with a straight line; return the new signal and how many."""
    out = d.copy()
    n, count = len(d), 0
    for s, e in _runs(~np.isfinite(d)):
        if s == 0 or e >= n or (e - s) / fps > max_s:
            continue
        a, b = d[s - 1], d[e]
        if a <= near_top and b <= near_top:
            out[s:e] = np.linspace(a, b, e - s + 2)[1:-1]
            count += 1
    return out, count


def _merge_bounces(sig: np.ndarray, peaks: np.ndarray, rest: float) -> np.ndarray:
    """Keep one peak per excursion: peaks with no return half-way to ``rest`` merge."""
    if len(peaks) < 2:
        return peaks
    keep = [int(peaks[0])]
    for p in peaks[1:]:
        q = keep[-1]
        half = rest + 0.5 * (min(sig[q], sig[p]) - rest)
        if np.min(sig[q:p + 1]) > half:
            if sig[p] > sig[q]:
                keep[-1] = int(p)
        else:
            keep.append(int(p))
    return np.array(keep, dtype=int)


def _segment(x: np.ndarray, p: int, off: int, order: Order, top: float, bot: float) -> RepSegment:
    n = len(x)
    partial_reason = ""
    if order == "top_first":
        hp = x[p]
        rep_depth = float(hp - top)
        lvl = top + 0.15 * rep_depth
        before = np.flatnonzero(x[:p] <= lvl)
        after = np.flatnonzero(x[p:] <= lvl)
        start = int(before[-1]) if before.size else 0
        end = int(p + after[0]) if after.size else n - 1
        if not before.size and (hp - x[0]) < MIN_SEEN * rep_depth:
            partial_reason = "begins before the clip or after missing frames"
        if not after.size and (hp - x[-1]) < MIN_SEEN * rep_depth:
            partial_reason = "cut off by the end of the clip or by missing frames"
        thr = top + 0.9 * rep_depth
        ts = start + int(np.flatnonzero(x[start:p + 1] >= thr)[0])
        te = p + int(np.flatnonzero(x[p:end + 1] >= thr)[-1])
        deepest = p
    else:
        hv = x[p]  # the lockout value (smallest depth)
        rep_depth = float(bot - hv)
        lvl = hv + 0.85 * rep_depth
        before = np.flatnonzero(x[:p] >= lvl)
        after = np.flatnonzero(x[p:] >= lvl)
        start = int(before[-1]) if before.size else 0
        end = int(p + after[0]) if after.size else n - 1
        if not before.size and (bot - x[0]) < MIN_SEEN * rep_depth:
            partial_reason = "begins before the clip or after missing frames"
        # ending standing after the lockout is how many deadlift clips end: not partial
        thr = hv + 0.1 * rep_depth
        ts = start + int(np.flatnonzero(x[start:p + 1] <= thr)[0])
        te = p + int(np.flatnonzero(x[p:end + 1] <= thr)[-1])
        deepest = start + int(np.argmax(x[start:end + 1]))
    return RepSegment(start + off, ts + off, p + off, te + off, end + off, deepest + off, order,
                      rep_depth, bool(partial_reason), partial_reason)
