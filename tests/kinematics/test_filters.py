"""Filters: responses, gap rules, Nyquist clamp, causality, inputs untouched."""

from __future__ import annotations

import numpy as np
import pytest

from movescreen.kinematics.filters import (
    OneEuroFilter,
    clamp_cutoff_hz,
    fill_gaps,
    filter_landmarks,
    filter_one_euro,
    interpolate_gaps,
    lowpass_butterworth,
)
from movescreen.synthetic import make_motion


def test_butterworth_passes_slow_and_removes_fast_sine():
    fps = 30.0
    t = np.arange(300) / fps
    slow = np.sin(2 * np.pi * 0.5 * t)
    fast = 0.5 * np.sin(2 * np.pi * 12 * t)
    y = lowpass_butterworth(slow + fast, fps, cutoff_hz=6.0)
    core = slice(30, -30)
    assert np.max(np.abs(y[core] - slow[core])) < 0.03
    assert np.allclose(slow + fast, slow + fast)  # input is a fresh array, still itself


def test_butterworth_is_zero_phase_on_a_step():
    x = np.r_[np.zeros(60), np.ones(60)]
    y = lowpass_butterworth(x, 30.0, cutoff_hz=3.0)
    # zero phase: the step is crossed half-way at the step itself, symmetric around it
    assert y[59] == pytest.approx(1 - y[60], abs=0.02)
    assert y[0] == pytest.approx(0, abs=1e-3) and y[-1] == pytest.approx(1, abs=1e-3)


def test_nyquist_clamp_at_5_fps():
    assert clamp_cutoff_hz(6.0, 5.0) == pytest.approx(2.0)
    x = np.sin(np.arange(40) * 0.3)
    y = lowpass_butterworth(x, 5.0, cutoff_hz=6.0)  # would raise in scipy without the clamp
    assert np.isfinite(y).all()
    seq = make_motion(n_reps=1, fps=5.0).sequence
    _, rec = filter_landmarks(seq, cutoff_hz=6.0)
    assert rec["cutoff_hz"] == pytest.approx(2.0) and rec["clamped"]


def test_nan_runs_are_filtered_separately_and_short_runs_kept():
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    x[20:25] = np.nan
    x[30:35] = np.nan  # leaves a 5-sample run 25..29, shorter than the pad length
    y = lowpass_butterworth(x, 30.0, cutoff_hz=3.0)
    assert np.isnan(y[20:25]).all() and np.isnan(y[30:35]).all()
    np.testing.assert_array_equal(y[25:30], x[25:30])
    assert not np.allclose(y[:20], x[:20])


def test_interpolate_gaps_rules():
    x = np.array([0.0, np.nan, 2.0, np.nan, np.nan, np.nan, 6.0, np.nan])
    y = interpolate_gaps(x, 2)
    assert y[1] == pytest.approx(1.0)
    assert np.isnan(y[3:6]).all()  # gap of 3 > 2 stays NaN
    assert np.isnan(y[7])  # trailing gap never filled
    assert np.isnan(x[1])  # input untouched


def test_fill_gaps_uses_visibility_and_max_gap_s():
    m = make_motion(n_reps=1, fps=20.0)
    seq = m.sequence
    vis = seq.visibility.copy()
    vis[10:14, 25] = 0.2  # 4 frames = 0.2 s: filled at the default 0.25 s
    vis[30:40, 26] = 0.2  # 10 frames = 0.5 s: left NaN
    from dataclasses import replace

    s2 = replace(seq, visibility=vis)
    out, rec = fill_gaps(s2)
    assert np.isfinite(out.image_xyz[10:14, 25]).all()
    np.testing.assert_allclose(out.image_xyz[10:14, 25, :2], seq.image_xyz[10:14, 25, :2], atol=6.0)
    assert np.isnan(out.image_xyz[30:40, 26]).all() and np.isnan(out.world_xyz[30:40, 26]).all()
    assert rec["blanked_points"] == 14 and rec["filled_points"] == 4
    assert np.isfinite(s2.image_xyz).all()  # input untouched


def test_one_euro_is_causal():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 3))
    t = np.arange(100) / 30.0
    y1 = filter_one_euro(x, t)
    x2 = x.copy()
    x2[60:] += 10.0
    y2 = filter_one_euro(x2, t)
    np.testing.assert_array_equal(y1[:60], y2[:60])
    assert not np.allclose(y1[60:], y2[60:])


def test_one_euro_stateful_equals_sequence_function_and_smooths():
    rng = np.random.default_rng(2)
    t = np.arange(200) / 30.0
    clean = np.sin(2 * np.pi * 0.3 * t)
    x = clean + rng.normal(scale=0.05, size=t.size)
    f = OneEuroFilter(min_cutoff_hz=1.0, beta=0.5)
    y_live = np.array([f(np.array([v]), ti)[0] for v, ti in zip(x, t)])
    y_seq = filter_one_euro(x[:, None], t, min_cutoff_hz=1.0, beta=0.5)[:, 0]
    np.testing.assert_allclose(y_live, y_seq)
    assert np.std(np.diff(y_seq)) < np.std(np.diff(x))


def test_one_euro_nan_restarts():
    f = OneEuroFilter()
    assert f(np.array([1.0]), 0.0)[0] == 1.0
    assert np.isnan(f(np.array([np.nan]), 0.1)[0])
    assert f(np.array([5.0]), 0.2)[0] == 5.0


def test_filter_landmarks_returns_new_sequence_and_provenance():
    m = make_motion(n_reps=1, fps=30.0)
    from movescreen.synthetic import add_silhouette_masks

    seq = add_silhouette_masks(m)
    before = seq.image_xyz.copy()
    for method in ("butterworth", "one_euro", "none"):
        out, rec = filter_landmarks(seq, method=method)
        assert out is not seq and rec["method"] == method
        assert out.masks is seq.masks
        assert out.image_xyz.shape == seq.image_xyz.shape
    np.testing.assert_array_equal(seq.image_xyz, before)
    with pytest.raises(ValueError):
        filter_landmarks(seq, method="kalman")  # type: ignore[arg-type]
