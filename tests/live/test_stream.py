"""The online per-frame step on synthetic movements with answers known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from movescreen import synthetic
from movescreen.pipeline import AnalyzeOptions, compute_kinematics
from movescreen.stream import LiveStep
from tests.live.helpers import feed

SMALL = {"width": 400, "height": 600, "px_per_m": 250.0}


def _hinge(curvature_deg: float, *, fps: float = 15.0, n_reps: int = 2, view: str = "side"):
    motion = synthetic.make_motion("hinge", view=view, facing="right", fps=fps, n_reps=n_reps,
                                   arms="down", **SMALL)
    depth = np.clip(motion.truth["depth"], 0, 1) if "depth" in motion.truth else None
    curv = curvature_deg * (depth if depth is not None else 1.0)
    return synthetic.add_silhouette_masks(motion, spine_curvature_deg=curv), motion


def _by(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["event"] == kind]


def test_squat_reps_match_the_offline_analysis() -> None:
    motion = synthetic.make_motion("squat", view="side", fps=15.0, n_reps=3, **SMALL)
    seq = motion.sequence
    step, outs, events = feed(seq, movement="squat")
    reps = _by(events, "rep")
    offline = compute_kinematics(seq, AnalyzeOptions(movement="squat", filter="one_euro")).reps
    assert len(reps) == len(offline) == 3
    for live, off in zip(reps, offline):
        assert abs(live["bottom_frame"] - off.bottom_frame) <= 1
        assert abs(live["start_frame"] - off.start_frame) <= 1
        assert abs(live["end_frame"] - off.end_frame) <= 1
        assert live["partial"] is False
    assert step.rep_count == 3
    # each rep is judged as soon as it ends: its event comes within 0.3 s of its end frame
    frame_of_event = {id(e): o.frame for o in outs for e in o.events}
    for e in reps:
        assert frame_of_event[id(e)] - e["end_frame"] <= round(0.3 * seq.fps)


def test_phases_follow_the_rep() -> None:
    motion = synthetic.make_motion("squat", view="side", fps=15.0, n_reps=1, **SMALL)
    _, outs, _ = feed(motion.sequence, movement="squat")
    phases = [o.phase for o in outs if o.phase not in ("calibrating",)]
    # collapse repeats: the order of the phases through one rep
    seen = [p for i, p in enumerate(phases) if i == 0 or p != phases[i - 1]]
    i_desc, i_bot, i_asc = seen.index("descent"), seen.index("bottom"), seen.index("ascent")
    assert i_desc < i_bot < i_asc
    assert seen[-1] == "standing"


def test_rounded_hinge_cues_before_the_rep_ends() -> None:
    seq, motion = _hinge(60.0)
    _, outs, events = feed(seq, movement="hinge")
    cues = _by(events, "cue")
    reps = _by(events, "rep")
    assert len(reps) == 2
    mid = [c for c in cues if c["source"] == "mid_rep" and c["rule"] == "lumbar_rounding"]
    assert {c["rep"] for c in mid} == {1, 2}
    for c in mid:  # the cue comes while the rep is still going on
        rep = next(r for r in reps if r["rep"] == c["rep"])
        assert rep["start_frame"] <= c["frame"] < rep["end_frame"]
        assert c["value"] >= 10.0
        assert c["text"] == "Hinge at the hips: your low back is rounding."
    findings = [f for f in _by(events, "finding") if f["rule"] == "lumbar_rounding"]
    assert {f["rep"] for f in findings} == {1, 2}
    # one cue per rep and rule: the rep's finding does not repeat the mid-rep cue
    assert len([c for c in cues if c["rule"] == "lumbar_rounding"]) == 2


def test_neutral_hinge_gives_no_lumbar_cue() -> None:
    seq, _ = _hinge(0.0)
    _, _, events = feed(seq, movement="hinge")
    assert len(_by(events, "rep")) == 2
    assert not [e for e in events if e.get("rule") == "lumbar_rounding"]


def test_calibration_says_when_the_view_is_wrong() -> None:
    seq, _ = _hinge(0.0, view="front", n_reps=1)
    _, _, events = feed(seq, movement="hinge")
    cal = _by(events, "calibration")
    assert cal and cal[0]["ok"] is False and cal[0]["view"] == "front"
    assert "side" in cal[0]["message"]
    seq, _ = _hinge(0.0, view="side", n_reps=1)
    _, _, events = feed(seq, movement="hinge")
    cal = _by(events, "calibration")
    assert cal[0]["ok"] is True and cal[0]["view"] == "side" and cal[0]["still"] is True
    # the baseline is the standing depth: hip + knee flexion near 0 standing
    assert cal[0]["baseline_depth_deg"] == pytest.approx(0.0, abs=10.0)


def test_async_judging_gives_the_same_reps() -> None:
    motion = synthetic.make_motion("squat", view="front", fps=15.0, n_reps=2, **SMALL)
    _, _, sync_events = feed(motion.sequence, movement="squat")
    _, _, async_events = feed(motion.sequence, movement="squat", judge_async=True)
    key = lambda e: (e["rep"], e["start_frame"], e["bottom_frame"], e["end_frame"])  # noqa: E731
    assert [key(e) for e in _by(async_events, "rep")] == [key(e) for e in _by(sync_events, "rep")]
    assert len(_by(sync_events, "rep")) == 2


def test_dropped_frames_keep_the_reps() -> None:
    motion = synthetic.make_motion("squat", view="side", fps=30.0, n_reps=2, **SMALL)
    rng = np.random.default_rng(3)
    skip = set(rng.choice(len(motion.sequence), len(motion.sequence) // 4, replace=False).tolist())
    _, _, events = feed(motion.sequence, movement="squat", skip=skip)
    reps = _by(events, "rep")
    assert len(reps) == 2
    for r, b in zip(reps, motion.bottoms):
        assert abs(r["bottom_frame"] - b) <= 3


def _slow_machine(seq, keep_every: int, lost_after_jump: int, seed: int):
    """Rows a slow machine would process (bursts of drops), and rows where the tracker lost the
    person right after a jump (processed, but no pose), as MediaPipe does after skipped frames."""
    rng = np.random.default_rng(seed)
    kept, lost, r = [0], set(), 0
    while r < len(seq) - 1:
        r = min(len(seq) - 1, r + int(rng.integers(1, 2 * keep_every)))
        kept.append(r)
        if len(kept) % lost_after_jump == 0:
            lost.add(r)
    return set(range(len(seq))) - set(kept), lost


@pytest.mark.parametrize("seed", range(5))
def test_a_machine_a_quarter_as_fast_neither_splits_nor_invents_reps(seed) -> None:
    """A quarter of the frames processed, in uneven bursts, and every fifth processed frame
    without a pose: two rounded hinges stay two reps, each judged with its lumbar finding."""
    seq, motion = _hinge(30.0, fps=30.0, n_reps=2)
    skip, lost = _slow_machine(seq, keep_every=4, lost_after_jump=5, seed=seed)
    dropped = seq
    img = seq.image_xyz.copy()
    img[sorted(lost)] = np.nan
    from dataclasses import replace

    dropped = replace(seq, image_xyz=img, world_xyz=np.where(np.isnan(img), np.nan, seq.world_xyz))
    _, _, events = feed(dropped, movement="hinge", skip=skip)
    reps = [r for r in _by(events, "rep") if not r["partial"]]
    assert len(_by(events, "rep")) == 2 and len(reps) == 2
    for r, b in zip(reps, motion.bottoms):
        assert abs(r["bottom_frame"] - b) <= 6  # within a fifth of a second
    lumbar = [f for f in _by(events, "finding") if f["rule"] == "lumbar_rounding"]
    assert sorted(f["rep"] for f in lumbar) == [1, 2]


def test_reset_starts_a_new_set() -> None:
    motion = synthetic.make_motion("squat", view="side", fps=15.0, n_reps=2, **SMALL)
    seq = motion.sequence
    step = LiveStep(width=seq.width, height=seq.height, fps=seq.fps, movement="squat",
                    judge_async=False)
    half = (motion.bottoms[0] + motion.bottoms[1]) // 2
    events = []
    from tests.live.helpers import candidates

    for r, c in enumerate(candidates(seq)):
        if r == half:
            events.append(step.reset_count())
            assert step.rep_count == 0
        events += step.push(int(seq.frame_index[r]), float(seq.time_s[r]), c).events
    events += step.finish()
    reps = _by(events, "rep")
    assert [(e["set"], e["rep"]) for e in reps] == [(1, 1), (2, 1)]
    assert step.rep_count == 1


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="movement"):
        LiveStep(width=10, height=10, fps=30, movement="lunge")
    with pytest.raises(ValueError, match="fps"):
        LiveStep(width=10, height=10, fps=0)


def test_long_sessions_release_old_rows_and_keep_counting() -> None:
    motion = synthetic.make_motion("squat", view="side", fps=10.0, n_reps=12, **SMALL)
    seq = synthetic.add_silhouette_masks(motion)
    assert seq.time_s[-1] > 30.0 and len(seq.masks) == len(seq)
    step, _, events = feed(seq, movement="squat", history_s=5.0, mask_keep_s=5.0)
    assert len(_by(events, "rep")) == 12
    # the smoothed rows older than 10 s share one all-NaN row; recent ones are real
    assert np.isnan(step.filter.img[0]).all() and step.filter.img[0] is step.filter.img[1]
    assert np.isfinite(step.filter.img[-1]).any()
    # masks only for the last 5 s; the raw landmarks of the whole session (for its report)
    t = step.log.times()
    assert step.masks and min(t[r] for r in step.masks) >= t[-1] - 5.0 - 3.0  # pruned every 30 rows
    whole = step.session_sequence()
    assert len(whole) == len(seq)
    np.testing.assert_array_equal(whole.image_xyz, seq.image_xyz)


def test_a_rep_read_as_other_does_not_decide_the_session_nor_end_it() -> None:
    """A forward fold held 8 s (a stretch) in auto: the rep is reported as 'other', the session
    stays undecided (the next squat or hinge decides it), and the calibration's later view
    checks keep working (a live session once ended with KeyError: 'other' here)."""
    d, _ = synthetic.make_depth_profile(1, 15.0, pause_bottom_s=8.0, rep_s=3.0, lead_s=1.0)
    seq = synthetic.make_motion("hinge", view="front", fps=15.0, depth=d, **SMALL).sequence
    step, _, events = feed(seq, movement="auto")
    reps = _by(events, "rep")
    assert reps and all(r["movement"] == "other" for r in reps)
    assert step.movement == "auto"
    assert not _by(events, "finding")
    assert _by(events, "calibration")


def test_masks_the_helper_cannot_take_are_counted_and_left_unmeasured():
    from movescreen.helper_process import HelperProcess
    from movescreen.stream import MaskMeasures
    from movescreen.types import MaskCrop

    helper = HelperProcess(asynchronous=True, max_pending=0)  # a helper that is always behind
    measures = MaskMeasures(helper)
    try:
        measures.update(0, MaskCrop(0, 0, np.zeros((10, 10), np.uint8)), np.zeros((33, 3), np.float32))
    finally:
        helper.close()
    assert measures.skipped == 1
    assert 0 not in measures.columns and 0 not in measures.back  # missing, not guessed


def test_async_mask_measures_equal_the_inline_ones():
    from movescreen.helper_process import HelperProcess
    from movescreen.stream import MaskMeasures

    motion = synthetic.make_motion("hinge", facing="right", depth=[0.0, 0.5, 1.0], arms="down")
    seq = synthetic.add_silhouette_masks(motion, spine_curvature_deg=30.0)
    rows = sorted(seq.masks)
    out = []
    for asynchronous in (True, False):
        helper = HelperProcess(asynchronous=asynchronous)
        measures = MaskMeasures(helper)
        try:
            for r in rows:
                measures.update(r, seq.masks[r], seq.image_xyz[r])
        finally:
            helper.close()
        out.append((measures.columns, measures.back))
    assert out[0][0].keys() == set(rows)
    assert any(b is not None for traces in out[0][1].values() for b in traces.values())  # traced
    assert repr(out[0]) == repr(out[1])  # the same numbers (NaN included) from the helper
