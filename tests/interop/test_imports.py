"""Landmarks from other tools analysed again: a movescreen TRC pair, a TRC pair in Sports2D's
layout and an OpenPose-style JSON folder, all made from the example's landmarks, give the reps,
rule outcomes and measured values of the original analysis.

Sports2D's own metre file is not 3-D: it is the picture scaled to metres, Z = 0 (or a fixed
depth per marker). Read as world landmarks it made the front-view example flag knee valgus,
depth and asymmetry on every rep; it is now recognised and not used as 3-D, so from the front
nothing is judged (and the warnings say why), and from the side (a shared clip) the reps and
findings are those of the original, with knee_twist (3-D only) "not assessed".

What is lost on the way: the segmentation masks (lumbar_rounding says "not assessed"; heel_lift
is judged without its foot-on-mask check; the example, a front-view squat, assesses neither) and,
for TRC, the visibility (TRC has none: 1 where a point is written; points below 0.5 are not
written, as the kinematics stage ignores them anyway).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from movescreen.interop.names import LAYOUTS
from movescreen.interop.openpose import read_openpose_folder, write_openpose_folder
from movescreen.interop.trc import read_trc, write_trc_m, write_trc_px
from movescreen.landmarks import INDEX
from movescreen.pipeline import AnalyzeOptions, analyze_input, compute_kinematics
from movescreen.rules.engine import evaluate_rules

HALPE_TRC_NAMES = {  # Sports2D's default model (HALPE_26) names, BlazePose landmark -> marker
    "nose": "Nose", "right_hip": "RHip", "right_knee": "RKnee", "right_ankle": "RAnkle",
    "right_foot_index": "RBigToe", "right_heel": "RHeel", "left_hip": "LHip", "left_knee": "LKnee",
    "left_ankle": "LAnkle", "left_foot_index": "LBigToe", "left_heel": "LHeel",
    "right_shoulder": "RShoulder", "right_elbow": "RElbow", "right_wrist": "RWrist",
    "left_shoulder": "LShoulder", "left_elbow": "LElbow", "left_wrist": "LWrist",
}


def _outcome(analysis):
    kin, rules = analysis.kinematics, analysis.rules
    return {
        "reps": [(r.start_frame, r.bottom_frame, r.end_frame, r.partial) for r in kin.reps],
        "view": kin.view.view, "movement": kin.movement,
        "findings": sorted((f.rule, f.rep, f.side, f.severity) for f in rules.findings),
        "statuses": {s.rule: s.status for s in rules.statuses},
        "values": {s.rule: s.values for s in rules.statuses},
    }


@pytest.fixture(scope="module")
def original(example_analysis):
    """The example analysed without masks: what any landmark file can carry."""
    seq = replace(example_analysis.sequence, masks={})
    kin = compute_kinematics(seq, example_analysis.options)
    a = replace(example_analysis, sequence=seq, kinematics=kin, mask_columns=None, back_traces=None)
    a.rules = evaluate_rules(kin, example_analysis.config)
    return a


def _assert_same(got, want, *, tol):
    g, w = _outcome(got), _outcome(want)
    assert g["reps"] and g["reps"] == w["reps"]
    assert (g["view"], g["movement"]) == (w["view"], w["movement"])
    assert g["findings"] == w["findings"]
    assert g["statuses"] == w["statuses"]
    for rule, vals in w["values"].items():
        np.testing.assert_allclose(g["values"][rule], vals, atol=tol, err_msg=rule)


def _sports2d_pair(folder, seq, *, metres_3d: bool, z_per_marker: dict[str, float] | None = None):
    """A ``*_px.trc`` / ``*_m.trc`` pair in Sports2D's layout and naming (HALPE_26) from a
    sequence. ``metres_3d``: the metre file holds the 3-D world landmarks (as Pose2Sim
    triangulates them); otherwise it is what Sports2D writes: the picture scaled to metres with
    Z = 0, or the fixed depth per marker of ``visible_side`` (``z_per_marker``)."""
    ok = seq.visibility >= 0.5
    names = list(HALPE_TRC_NAMES.values()) + ["Hip", "Neck", "Head", "LSmallToe", "RSmallToe"]
    idx = [INDEX[n] for n in HALPE_TRC_NAMES]
    img = np.where(ok[..., None], seq.image_xyz, np.nan)[:, idx]
    wld = np.where(ok[..., None], seq.world_xyz, np.nan)[:, idx]
    extra = np.full((len(seq), 5, 3), np.nan)
    px = np.concatenate([np.stack([img[..., 0], -img[..., 1], np.zeros_like(img[..., 0])], -1), extra], 1)
    if metres_3d:
        m = wld * np.array([1, -1, -1]) + np.array([0.0, 0.9, 0.0])  # floor origin
    else:
        scale = 1.75 / seq.height  # Sports2D scales by the person's height in pixels
        z = np.array([(z_per_marker or {}).get(n, 0.0) for n in HALPE_TRC_NAMES.values()])
        m = np.stack([scale * (img[..., 0] - seq.width / 2), -scale * (img[..., 1] - seq.height),
                      np.broadcast_to(z, img[..., 0].shape)], -1)
    m = np.concatenate([m, extra], 1)
    px_path = folder / "clip_Sports2D_px_person00.trc"
    _sports2d_trc(px_path, px.reshape(len(seq), -1), names, "m", seq.time_s, seq.fps)
    _sports2d_trc(folder / "clip_Sports2D_m_person00.trc", m.reshape(len(seq), -1), names, "m", seq.time_s, seq.fps)
    return px_path


def _sports2d_trc(path, rows, names, units, time_s, fps):
    """A TRC as Sports2D writes it: 'm' in the header even for pixels, no blank line."""
    lines = ["PathFileType\t4\t(X/Y/Z)\t" + str(path),
             "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
             "\t".join(map(str, [fps, fps, len(rows), len(names), units, fps, 0, len(rows)])),
             "Frame#\tTime\t" + "\t\t\t".join(names) + "\t\t\t",
             "\t\t" + "\t".join(f"X{i + 1}\tY{i + 1}\tZ{i + 1}" for i in range(len(names)))]
    for r, row in enumerate(rows):
        lines.append(f"{r}\t{time_s[r]}\t" + "\t".join("nan" if not np.isfinite(v) else f"{v:.6f}" for v in row))
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.model
def test_movescreen_trc_pair_analysed_again_gives_the_same_outcome(original, tmp_path):
    seq = original.sequence
    write_trc_px(tmp_path / "landmarks_px.trc", seq)
    write_trc_m(tmp_path / "landmarks_m.trc", seq)
    again = analyze_input(tmp_path / "landmarks_px.trc", AnalyzeOptions())
    src = again.extra["landmarks_source"]
    assert src["format"] == "trc" and src["files"] == {"pixels": "landmarks_px.trc", "world": "landmarks_m.trc"}
    assert src["landmarks_missing"] == []
    _assert_same(again, original, tol=0.05)


@pytest.mark.model
def test_sports2d_layout_trc_pair_with_3d_metres_gives_the_same_outcome(original, tmp_path):
    """Sports2D's layout and HALPE_26 names, with 3-D metres as Pose2Sim triangulates them."""
    seq = original.sequence
    ok = seq.visibility >= 0.5
    _sports2d_pair(tmp_path, seq, metres_3d=True)
    imp = read_trc(tmp_path / "clip_Sports2D_px_person00.trc", width=seq.width, height=seq.height)
    assert set(imp.source["markers_not_used"]) == {"Hip", "Neck", "Head", "LSmallToe", "RSmallToe"}
    assert "left_eye" in imp.source["landmarks_missing"] and "left_knee" in imp.source["landmarks_found"]
    np.testing.assert_allclose(imp.sequence.image_xyz[:, INDEX["left_knee"], :2],
                               np.where(ok[:, 25:26], seq.image_xyz[:, 25, :2], np.nan), atol=1e-5)
    again = analyze_input(tmp_path / "clip_Sports2D_px_person00.trc", AnalyzeOptions())
    _assert_same(again, original, tol=0.05)


@pytest.mark.model
def test_openpose_json_folder_gives_the_same_outcome(original, tmp_path):
    seq = original.sequence
    folder = write_openpose_folder(tmp_path / "json", seq, layout="BODY_25")
    imp = read_openpose_folder(folder, fps=seq.fps, width=seq.width, height=seq.height)
    assert imp.source["layout"] == "BODY_25" and imp.source["world_landmarks"] is True
    np.testing.assert_allclose(imp.sequence.visibility[:, INDEX["left_knee"]], seq.visibility[:, INDEX["left_knee"]])
    kin = compute_kinematics(imp.sequence, AnalyzeOptions())
    again = replace(original, sequence=imp.sequence, kinematics=kin)
    again.rules = evaluate_rules(kin, original.config)
    _assert_same(again, original, tol=1e-3)
    # through the pipeline JSON has no frame rate: 30 fps is assumed (the clip is 5 fps), which
    # changes the filter's cut-off, so the bottoms may move by a frame
    via = analyze_input(folder, AnalyzeOptions())
    assert via.extra["landmarks_source"]["format"] == "openpose_json"
    assert any("30 fps was assumed" in w for w in via.warnings)
    got = [r.bottom_frame for r in via.kinematics.reps]
    want = [r[1] for r in _outcome(original)["reps"]]
    assert len(got) == len(want) and max(abs(a - b) for a, b in zip(got, want)) <= 1


def test_layouts_map_only_known_points():
    from movescreen.interop.names import EXPORT_NAMES, blazepose_name
    from movescreen.landmarks import LANDMARK_NAMES

    assert tuple(EXPORT_NAMES) == LANDMARK_NAMES  # one export name per landmark, in order
    assert all(blazepose_name(EXPORT_NAMES[n]) == n for n in LANDMARK_NAMES)
    assert all(n is None or n in INDEX for layout in LAYOUTS.values() for n in layout)
    assert len(LAYOUTS["BODY_25"]) == 25 and LAYOUTS["BODY_25"][10] == "right_knee"
    assert LAYOUTS["HALPE_26"][20] == "left_foot_index" and LAYOUTS["COCO_17"][16] == "right_ankle"


def test_two_d_only_json_has_no_world_and_says_so(tmp_path, synthetic_sequence):
    folder = write_openpose_folder(tmp_path / "j", synthetic_sequence, layout="COCO_17", with_3d=False)
    imp = read_openpose_folder(folder)
    assert np.isnan(imp.sequence.world_xyz).all()
    assert any("2-D keypoints only" in w for w in imp.warnings)
    assert any("30 fps was assumed" in w for w in imp.warnings)
    assert "left_heel" in imp.source["landmarks_missing"]


@pytest.mark.model
@pytest.mark.parametrize("z", [None, {"LHip": -0.1, "RHip": 0.1, "LKnee": -0.09, "RKnee": 0.09}])
def test_sports2d_planar_metres_are_not_taken_for_3d(original, tmp_path, z):
    """From the front, Sports2D's real pair (picture in px, the same picture in metres with
    Z = 0 or a fixed depth per marker) has no 3-D: nothing is judged, nothing is flagged."""
    seq = original.sequence
    path = _sports2d_pair(tmp_path, seq, metres_3d=False, z_per_marker=z)
    imp = read_trc(path)
    assert np.isnan(imp.sequence.world_xyz).all()
    assert imp.source["units"]["world"] is None
    assert any("is a scaled picture, not 3-D" in w for w in imp.warnings)
    again = analyze_input(path, AnalyzeOptions())
    assert again.rules.findings == []
    assert any("scaled picture, not 3-D" in w for w in again.warnings)
    judged = {r for r, st in _outcome(original)["statuses"].items() if st in ("passed", "flagged")}
    # not judged: "not assessed" (no rep) or "not applicable" (no squat or hinge recognised)
    assert judged and all(_outcome(again)["statuses"][r] in ("not_assessed", "not_applicable")
                          for r in judged)


@pytest.mark.model
@pytest.mark.slow
def test_sports2d_side_view_pair_gives_the_same_reps_and_findings(tmp_path):
    """Sports2D is made for side views: there the picture carries the reps and the side-view
    rules, and only the 3-D measure (knee_twist) is lost."""
    from tests.conftest import analyze_shared_clip

    clip = analyze_shared_clip("squat_side_barbell_back_01.mp4")
    seq = replace(clip.sequence, masks={})
    kin = compute_kinematics(seq, clip.options)
    want = replace(clip, sequence=seq, kinematics=kin, mask_columns=None, back_traces=None)
    want.rules = evaluate_rules(kin, clip.config)
    again = analyze_input(_sports2d_pair(tmp_path, seq, metres_3d=False), AnalyzeOptions())
    g, w = _outcome(again), _outcome(want)
    assert w["view"] == "side" and len(w["reps"]) >= 3
    assert (g["reps"], g["view"], g["movement"], g["findings"]) == (w["reps"], w["view"], w["movement"], w["findings"])
    lost = {r for r in w["statuses"] if g["statuses"][r] != w["statuses"][r]}
    assert lost == {"knee_twist"} and g["statuses"]["knee_twist"] == "not_assessed"
    for rule, st in w["statuses"].items():
        if st in ("passed", "flagged") and rule not in lost:
            np.testing.assert_allclose(g["values"][rule], w["values"][rule], atol=0.05, err_msg=rule)


def test_is_planar_tells_a_scaled_picture_from_3d():
    from movescreen.interop.trc import is_planar

    rng = np.random.default_rng(1)
    xyz = rng.uniform(-1, 1, (50, 33, 3))
    assert not is_planar(xyz)
    flat = xyz.copy()
    flat[..., 2] = 0.0
    assert is_planar(flat)
    flat[..., 2] = rng.uniform(-0.2, 0.2, 33)  # a fixed depth per marker
    assert is_planar(flat)
    still = np.repeat(xyz[:1], 50, 0) + rng.normal(0, 1e-4, (50, 33, 3))  # standing still, 0.1 mm noise
    assert not is_planar(still)
    nan = np.full((50, 33, 3), np.nan)
    assert not is_planar(nan)


@pytest.mark.model
def test_a_layout_without_feet_says_not_assessed_for_the_rule_that_needs_them(original, tmp_path):
    """COCO-17 has no heel or toe: knee_twist (knee against foot direction) is "not assessed"
    with its reason; every other rule comes out as in the original."""
    folder = write_openpose_folder(tmp_path / "coco", original.sequence, layout="COCO_17")
    imp = read_openpose_folder(folder, fps=original.sequence.fps, width=original.sequence.width,
                               height=original.sequence.height)
    assert {"left_heel", "right_foot_index"} <= set(imp.source["landmarks_missing"])
    kin = compute_kinematics(imp.sequence, AnalyzeOptions())
    again = replace(original, sequence=imp.sequence, kinematics=kin)
    again.rules = evaluate_rules(kin, original.config)
    g, w = _outcome(again), _outcome(original)
    assert w["statuses"]["knee_twist"] == "passed" and g["statuses"]["knee_twist"] == "not_assessed"
    [st] = [x for x in again.rules.statuses if x.rule == "knee_twist"]
    assert "could not be measured" in st.reason
    assert {r: v for r, v in g["statuses"].items() if r != "knee_twist"} == \
        {r: v for r, v in w["statuses"].items() if r != "knee_twist"}
    assert g["reps"] == w["reps"] and g["findings"] == w["findings"]
