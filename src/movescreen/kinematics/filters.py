"""Gap filling and smoothing of landmark sequences.

- :func:`fill_gaps`: landmarks below a visibility threshold become NaN; gaps up to
  ``max_gap_s`` with finite values on both sides are linearly interpolated, longer ones stay NaN.
- :func:`lowpass_butterworth`: zero-phase Butterworth (``scipy.signal.filtfilt``) for recorded
  video; each finite run is filtered on its own, runs shorter than filtfilt's pad length are left
  as they are, and the cut-off is clamped to ``0.8 * Nyquist``.
- :class:`OneEuroFilter` / :func:`filter_one_euro`: the causal One-Euro filter (Casiez et al.
  2012) for live use, frame by frame or over a whole sequence.
- :func:`filter_landmarks`: all of the above on a :class:`LandmarkSequence`, returning a new
  sequence and a provenance record.

Nothing here modifies its inputs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, filtfilt

from movescreen.types import LandmarkSequence

FilterName = Literal["butterworth", "one_euro", "none"]
NYQUIST_FRACTION = 0.8
FloatArray = npt.NDArray[np.float64]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open [start, stop) runs of True in a 1-D boolean array."""
    m = np.concatenate([[False], mask.astype(bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def interpolate_gaps(x: npt.ArrayLike, max_gap: int) -> FloatArray:
    """Linearly fill interior NaN gaps of at most ``max_gap`` samples, along axis 0.

    Parameters
    ----------
    x : array_like, shape (T, ...)
    max_gap : int
        Longest gap (in samples) that is filled. Gaps at the start or the end are never filled.

    Returns
    -------
    ndarray, shape (T, ...), float64

    >>> interpolate_gaps([0.0, np.nan, 2.0, np.nan, np.nan, np.nan, 6.0], 2).tolist()[:3]
    [0.0, 1.0, 2.0]
    """
    a = np.array(x, dtype=np.float64)
    flat = a.reshape(len(a), -1)
    idx = np.arange(len(a))
    for c in range(flat.shape[1]):
        col = flat[:, c]
        for s, e in _runs(~np.isfinite(col)):
            if s == 0 or e == len(col) or e - s > max_gap:
                continue
            col[s:e] = np.interp(idx[s:e], [s - 1, e], [col[s - 1], col[e]])
    return a


def clamp_cutoff_hz(cutoff_hz: float, fps: float) -> float:
    """Clamp a low-pass cut-off to ``0.8 * Nyquist``.

    >>> clamp_cutoff_hz(6.0, 5.0)
    2.0
    >>> clamp_cutoff_hz(6.0, 30.0)
    6.0
    """
    if not (cutoff_hz > 0):
        raise ValueError(f"expected a positive cut-off, got {cutoff_hz} Hz")
    return float(min(cutoff_hz, NYQUIST_FRACTION * fps / 2.0))


def lowpass_butterworth(
    x: npt.ArrayLike, fps: float, *, cutoff_hz: float = 6.0, order: int = 2
) -> FloatArray:
    """Zero-phase Butterworth low-pass along axis 0, run by run over finite values.

    Parameters
    ----------
    x : array_like, shape (T, ...)
    fps : float
        Sampling rate (frames per second).
    cutoff_hz : float
        -3 dB cut-off of the single pass; clamped to ``0.8 * fps / 2``.
    order : int

    Returns
    -------
    ndarray, shape (T, ...), float64
        NaN stays NaN. Finite runs shorter than or equal to filtfilt's pad length
        (``3 * (2 * order + 1)``) are returned unfiltered.
    """
    a_in = np.array(x, dtype=np.float64)
    wn = clamp_cutoff_hz(cutoff_hz, fps) / (fps / 2.0)
    b, a = butter(order, wn, btype="low")
    padlen = 3 * max(len(a), len(b))
    flat = a_in.reshape(len(a_in), -1)
    for c in range(flat.shape[1]):
        col = flat[:, c]
        for s, e in _runs(np.isfinite(col)):
            if e - s > padlen:
                col[s:e] = filtfilt(b, a, col[s:e], padlen=padlen)
    return a_in


class OneEuroFilter:
    """Causal One-Euro filter over arrays of any fixed shape, one sample at a time.

    Parameters
    ----------
    min_cutoff_hz : float
        Cut-off when still; lower = smoother.
    beta : float
        Speed coefficient (per unit of the signal per second); higher = less lag in motion.
    d_cutoff_hz : float
        Cut-off of the speed estimate.

    Notes
    -----
    NaN in an element gives NaN out and resets that element, so it restarts after a gap.
    The output at time t depends only on inputs up to t.

    Examples
    --------
    >>> f = OneEuroFilter(min_cutoff_hz=1.0, beta=0.0)
    >>> float(f(np.array([1.0]), 0.0)[0])
    1.0
    """

    def __init__(self, min_cutoff_hz: float = 1.0, beta: float = 5.0, d_cutoff_hz: float = 1.0):
        if min_cutoff_hz <= 0 or d_cutoff_hz <= 0 or beta < 0:
            raise ValueError(
                f"expected positive cut-offs and beta >= 0, got {min_cutoff_hz}, {d_cutoff_hz}, {beta}"
            )
        self.min_cutoff_hz = float(min_cutoff_hz)
        self.beta = float(beta)
        self.d_cutoff_hz = float(d_cutoff_hz)
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    @staticmethod
    def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray:
        tau = 1.0 / (2 * np.pi * np.asarray(cutoff, np.float64))
        return 1.0 / (1.0 + tau / dt)

    def reset(self) -> None:
        self._x = self._dx = None
        self._t = None

    def __call__(self, x: npt.ArrayLike, t_s: float) -> FloatArray:
        """Filter one sample ``x`` (any shape) taken at time ``t_s`` (seconds)."""
        xa = np.array(x, dtype=np.float64)
        if self._x is None or self._t is None or t_s <= self._t:
            self._x = xa.copy()
            self._dx = np.zeros_like(xa)
            self._t = float(t_s)
            return xa.copy()
        dt = float(t_s) - self._t
        self._t = float(t_s)
        prev = self._x
        dprev = self._dx if self._dx is not None else np.zeros_like(xa)
        fresh = ~np.isfinite(prev) & np.isfinite(xa)
        dx = (xa - prev) / dt
        a_d = self._alpha(self.d_cutoff_hz, dt)
        dx_hat = a_d * dx + (1 - a_d) * dprev
        cutoff = self.min_cutoff_hz + self.beta * np.abs(dx_hat)
        a = self._alpha(cutoff, dt)
        out = a * xa + (1 - a) * prev
        out = np.where(fresh, xa, out)
        dx_hat = np.where(fresh, 0.0, dx_hat)
        self._x = out
        self._dx = np.where(np.isfinite(dx_hat), dx_hat, 0.0)
        return out.copy()


def filter_one_euro(
    x: npt.ArrayLike,
    time_s: npt.ArrayLike,
    *,
    min_cutoff_hz: float = 1.0,
    beta: float = 5.0,
    d_cutoff_hz: float = 1.0,
) -> FloatArray:
    """Run a fresh :class:`OneEuroFilter` over a whole sequence (axis 0).

    Parameters
    ----------
    x : array_like, shape (T, ...)
    time_s : array_like, shape (T,)
    min_cutoff_hz, beta, d_cutoff_hz : float
        See :class:`OneEuroFilter`.

    Returns
    -------
    ndarray, shape (T, ...)
    """
    xa = np.asarray(x, np.float64)
    t = np.asarray(time_s, np.float64)
    f = OneEuroFilter(min_cutoff_hz, beta, d_cutoff_hz)
    out = np.empty_like(xa)
    for i in range(len(xa)):
        out[i] = f(xa[i], float(t[i]))
    return out


def fill_gaps(
    seq: LandmarkSequence, *, max_gap_s: float = 0.25, min_visibility: float = 0.5
) -> tuple[LandmarkSequence, dict[str, Any]]:
    """Blank untrusted landmarks and fill the short gaps by interpolation.

    Parameters
    ----------
    seq : LandmarkSequence
    max_gap_s : float
        Longest gap that is filled, in seconds (rounded down to whole frames at ``seq.fps``).
    min_visibility : float
        Landmarks with a visibility below this (or NaN) are treated as missing.

    Returns
    -------
    LandmarkSequence
        New image and world arrays (float32); visibility, presence and masks unchanged.
    dict
        What was done: counts of blanked and filled landmark values.
    """
    vis = np.asarray(seq.visibility, np.float64)
    bad = ~(vis >= min_visibility)
    img = np.array(seq.image_xyz, np.float64)
    wld = np.array(seq.world_xyz, np.float64)
    missing_before = ~np.isfinite(img[..., 0])
    img[bad] = np.nan
    wld[bad] = np.nan
    max_gap = int(np.floor(max_gap_s * seq.fps + 1e-9))
    img_f = interpolate_gaps(img, max_gap)
    wld_f = interpolate_gaps(wld, max_gap)
    blanked = int(np.sum(bad & ~missing_before))
    missing_after = ~np.isfinite(img_f[..., 0])
    filled = int(np.sum((bad | missing_before) & ~missing_after))
    out = replace(seq, image_xyz=img_f.astype(np.float32), world_xyz=wld_f.astype(np.float32))
    rec = {"max_gap_s": max_gap_s, "max_gap_frames": max_gap, "min_visibility": min_visibility,
           "blanked_points": blanked, "filled_points": filled,
           "missing_points": int(np.sum(missing_after))}
    return out, rec


def filter_landmarks(
    seq: LandmarkSequence,
    *,
    method: FilterName = "butterworth",
    cutoff_hz: float = 6.0,
    order: int = 2,
    max_gap_s: float = 0.25,
    min_visibility: float = 0.5,
    min_cutoff_hz: float = 1.0,
    beta: float = 5.0,
    d_cutoff_hz: float = 1.0,
) -> tuple[LandmarkSequence, dict[str, Any]]:
    """Fill gaps, then smooth the image and world landmarks.

    Parameters
    ----------
    seq : LandmarkSequence
    method : {'butterworth', 'one_euro', 'none'}
    cutoff_hz, order : Butterworth settings (cut-off clamped to 0.8 Nyquist).
    max_gap_s, min_visibility : see :func:`fill_gaps`.
    min_cutoff_hz, beta, d_cutoff_hz : One-Euro settings. The image coordinates are filtered in
        units of the frame height and the world ones in metres, so one ``beta`` fits both.

    Returns
    -------
    LandmarkSequence
        A new sequence (inputs untouched; masks kept as they are).
    dict
        Provenance: the filter and all its parameters, and the gap-filling counts.
    """
    if method not in ("butterworth", "one_euro", "none"):
        raise ValueError(f"expected filter 'butterworth', 'one_euro' or 'none', got {method!r}")
    filled, gaps = fill_gaps(seq, max_gap_s=max_gap_s, min_visibility=min_visibility)
    rec: dict[str, Any] = {"method": method, "gap_filling": gaps, "fps": float(seq.fps)}
    img = filled.image_xyz.astype(np.float64)
    wld = filled.world_xyz.astype(np.float64)
    if method == "butterworth":
        used = clamp_cutoff_hz(cutoff_hz, seq.fps)
        img = lowpass_butterworth(img, seq.fps, cutoff_hz=cutoff_hz, order=order)
        wld = lowpass_butterworth(wld, seq.fps, cutoff_hz=cutoff_hz, order=order)
        rec.update({"cutoff_hz_requested": cutoff_hz, "cutoff_hz": used, "order": order,
                    "zero_phase": True, "clamped": used < cutoff_hz,
                    "min_run_frames": 3 * (order + 1) + 1})
    elif method == "one_euro":
        scale = float(seq.height)
        img = filter_one_euro(img / scale, seq.time_s, min_cutoff_hz=min_cutoff_hz, beta=beta,
                              d_cutoff_hz=d_cutoff_hz) * scale
        wld = filter_one_euro(wld, seq.time_s, min_cutoff_hz=min_cutoff_hz, beta=beta,
                              d_cutoff_hz=d_cutoff_hz)
        rec.update({"min_cutoff_hz": min_cutoff_hz, "beta": beta, "d_cutoff_hz": d_cutoff_hz,
                    "causal": True, "image_units": "frame heights"})
    out = replace(filled, image_xyz=img.astype(np.float32), world_xyz=wld.astype(np.float32))
    return out, rec
