"""Tests of the back-outline bend (lumbar-flexion estimate).

The synthetic silhouettes are built here with numpy: a trunk whose posterior outline is two
straight lines meeting at a known angle half-way between the shoulder and the hip, drawn at any
trunk inclination, facing left or right, with soft (anti-aliased) edges like a real mask.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from movescreen.kinematics.back_contour import (
    BackBendOptions,
    compute_back_bend,
    find_upright_rows,
    infer_facing,
    relative_to_baseline,
    summarize_bend,
)
from movescreen.landmarks import INDEX, NUM_LANDMARKS
from movescreen.types import LandmarkSequence, MaskCrop

W, H = 640, 640


def _body_frame(incl_deg: float, facing: str) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors (image x, y; y down) along the trunk (shoulder -> hip) and to the back."""
    a = np.radians(incl_deg)
    fwd = 1.0 if facing == "right" else -1.0
    up = np.array([fwd * np.sin(a), -np.cos(a)])  # hip -> shoulder, leaning forward
    along = -up
    anterior = np.array([-up[1], up[0]]) if facing == "right" else np.array([up[1], -up[0]])
    return along, -anterior


def make_trunk(
    bend_deg: float,
    *,
    incl_deg: float = 60.0,
    facing: str = "right",
    length_px: float = 220.0,
    knot: float = BackBendOptions().split,
    hip_xy: tuple[float, float] = (330.0, 380.0),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A soft trunk silhouette with a known back bend.

    Returns ``(mask uint8 (H, W), shoulder_xy, hip_xy)``. In trunk coordinates (u along the
    chord from the shoulder, v towards the back) the back outline is
    ``v = d0 + tan(bend/2) * min(u, 2 knot L - u)``-style: two lines at +bend/2 and -bend/2 to
    the chord meeting at ``u = knot * L`` (by default where the measure splits upper from lower
    back), so the angle between them is exactly ``bend_deg``
    (convex when positive). The front outline is a straight line; the trunk extends a bit past
    the shoulder and the hip.
    """
    along, post = _body_frame(incl_deg, facing)
    hip = np.asarray(hip_xy, float)
    shoulder = hip - along * length_px
    yy, xx = np.mgrid[0:H, 0:W].astype(float)
    rel = np.stack([xx - shoulder[0], yy - shoulder[1]], axis=-1)
    u = rel @ along
    v = rel @ post
    half = np.tan(np.radians(bend_deg) / 2.0)
    ku = knot * length_px
    d0 = 0.22 * length_px
    back = d0 + np.where(u <= ku, half * u, half * ku - half * (u - ku))
    front = -0.25 * length_px
    # soft edges: about one pixel of ramp, like a resampled probability mask
    inside = np.minimum.reduce(
        [back - v, v - front, u + 0.15 * length_px, 1.15 * length_px - u]
    )
    mask = np.clip(0.5 + inside, 0.0, 1.0)
    return (mask * 255 + 0.5).astype(np.uint8), shoulder, hip


def make_sequence(
    masks: list[np.ndarray],
    shoulders: list[np.ndarray],
    hips: list[np.ndarray],
    *,
    facing: str = "right",
    shoulder_sep_px: float = 4.0,
    crop_margin: int = 10,
) -> LandmarkSequence:
    """Landmarks that agree with the silhouettes: trunk, head ahead, feet pointing forward."""
    t = len(masks)
    xyz = np.full((t, NUM_LANDMARKS, 3), np.nan, np.float32)
    fwd = 1.0 if facing == "right" else -1.0
    crops: dict[int, MaskCrop] = {}
    for i, (m, s, h) in enumerate(zip(masks, shoulders, hips)):
        up = (s - h) / np.linalg.norm(s - h)
        length = np.linalg.norm(s - h)
        for name, p in {
            "left_shoulder": s + [shoulder_sep_px / 2, 0],
            "right_shoulder": s - [shoulder_sep_px / 2, 0],
            "left_hip": h + [shoulder_sep_px / 2, 0],
            "right_hip": h - [shoulder_sep_px / 2, 0],
            "left_ear": s + up * 0.3 * length + [fwd * 10, 0],
            "right_ear": s + up * 0.3 * length + [fwd * 10, 0],
            "nose": s + up * 0.3 * length + [fwd * 40, 0],
            "left_heel": h + [0, 1.6 * length],
            "right_heel": h + [0, 1.6 * length],
            "left_foot_index": h + [fwd * 50, 1.6 * length],
            "right_foot_index": h + [fwd * 50, 1.6 * length],
        }.items():
            xyz[i, INDEX[name], :2] = p
            xyz[i, INDEX[name], 2] = 0.0
        ys, xs = np.nonzero(m > 0)
        if len(xs):
            x0, x1 = max(xs.min() - crop_margin, 0), min(xs.max() + crop_margin + 1, W)
            y0, y1 = max(ys.min() - crop_margin, 0), min(ys.max() + crop_margin + 1, H)
            crops[i] = MaskCrop(int(x0), int(y0), np.ascontiguousarray(m[y0:y1, x0:x1]))
    vis = np.where(np.isfinite(xyz[:, :, 0]), 1.0, 0.0).astype(np.float32)
    return LandmarkSequence(
        frame_index=np.arange(t, dtype=np.int64),
        time_s=np.arange(t, dtype=np.float64) / 30.0,
        image_xyz=xyz,
        visibility=vis,
        presence=vis.copy(),
        world_xyz=xyz / 500.0,
        width=W,
        height=H,
        fps=30.0,
        masks=crops,
    )


def one_frame(bend_deg: float, **kw: object) -> LandmarkSequence:
    facing = str(kw.get("facing", "right"))
    m, s, h = make_trunk(bend_deg, **kw)  # type: ignore[arg-type]
    return make_sequence([m], [s], [h], facing=facing)


# ------------------------------------------------------------------------------------------
# known bend, sign, facing


@pytest.mark.parametrize("bend", [-20.0, -10.0, 0.0, 10.0, 20.0, 35.0])
@pytest.mark.parametrize("incl", [0.0, 45.0, 85.0])
@pytest.mark.parametrize("facing", ["left", "right"])
def test_known_bend_is_recovered(bend: float, incl: float, facing: str) -> None:
    b = compute_back_bend(one_frame(bend, incl_deg=incl, facing=facing))
    assert b.facing == facing
    assert b.bend_deg[0] == pytest.approx(bend, abs=2.0)
    assert b.confidence[0] > 0.7


def test_convex_is_positive_and_concave_negative() -> None:
    rounded = compute_back_bend(one_frame(25.0)).bend_deg[0]
    arched = compute_back_bend(one_frame(-15.0)).bend_deg[0]
    assert rounded > 15.0
    assert arched < -8.0


def test_mirrored_clip_gives_the_same_value() -> None:
    seq = one_frame(22.0, facing="right")
    b_right = compute_back_bend(seq)
    xyz = seq.image_xyz.copy()
    xyz[..., 0] = (W - 1) - xyz[..., 0]
    crops = {
        r: MaskCrop(W - (c.x0 + c.mask.shape[1]), c.y0, np.ascontiguousarray(c.mask[:, ::-1]))
        for r, c in seq.masks.items()
    }
    mirrored = dataclasses.replace(seq, image_xyz=xyz, masks=crops)
    b_left = compute_back_bend(mirrored)
    assert infer_facing(mirrored) == "left"
    assert b_left.bend_deg[0] == pytest.approx(b_right.bend_deg[0], abs=0.5)


def test_wrong_facing_does_not_measure_the_back() -> None:
    # Told the wrong way, the trace follows the front outline (straight here): the value must
    # differ from the true bend, which shows the posterior side is actually used.
    seq = one_frame(30.0, facing="right")
    b = compute_back_bend(seq, facing="left")
    assert abs(b.bend_deg[0] - 30.0) > 10.0


def test_bend_off_centre_is_still_found_in_sign_and_size() -> None:
    # The knot of the synthetic back sits 10% of the chord away from the split: the two line
    # fits then straddle part of the bend, so the value is smaller but keeps its sign.
    split = BackBendOptions().split
    for knot in (split - 0.1, split + 0.1):
        v = compute_back_bend(one_frame(30.0, knot=knot)).bend_deg[0]
        assert 15.0 < v <= 32.0


@pytest.mark.parametrize("scale", [0.6, 1.0, 1.5])
def test_value_does_not_depend_on_size_or_position(scale: float) -> None:
    seq = one_frame(18.0, length_px=200.0 * scale, hip_xy=(300.0 + 20 * scale, 400.0))
    assert compute_back_bend(seq).bend_deg[0] == pytest.approx(18.0, abs=2.0)


# ------------------------------------------------------------------------------------------
# disturbances: arms, a bar, plates, captions


def _disk(mask: np.ndarray, centre: np.ndarray, radius: float, value: int) -> np.ndarray:
    yy, xx = np.mgrid[0 : mask.shape[0], 0 : mask.shape[1]]
    out = mask.copy()
    out[(xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= radius**2] = value
    return out


def _back_point(
    shoulder: np.ndarray, hip: np.ndarray, t: float, depth: float, facing: str
) -> np.ndarray:
    """The point ``depth`` pixels behind the chord at fraction ``t`` from the shoulder."""
    up = (shoulder - hip) / np.linalg.norm(shoulder - hip)
    ant = np.array([-up[1], up[0]]) if facing == "right" else np.array([up[1], -up[0]])
    return shoulder + t * (hip - shoulder) - ant * depth


@pytest.mark.parametrize("bend", [0.0, 25.0])
@pytest.mark.parametrize(
    "what",
    ["bar_end_on_upper_back", "arm_behind_back", "plate_touching_low_back", "caption_hole"],
)
def test_blobs_touching_the_back_move_the_value_little(bend: float, what: str) -> None:
    length = 220.0
    m, s, h = make_trunk(bend, incl_deg=70.0, length_px=length)
    clean = compute_back_bend(make_sequence([m], [s], [h])).bend_deg[0]
    d0 = 0.22 * length
    if what == "bar_end_on_upper_back":  # a barbell end-on, sitting on the upper back
        m2 = _disk(m, _back_point(s, h, 0.22, d0 + 0.06 * length, "right"), 0.07 * length, 255)
    elif what == "arm_behind_back":  # a limb-sized blob protruding from the back
        m2 = _disk(m, _back_point(s, h, 0.35, d0 + 0.1 * length, "right"), 0.09 * length, 255)
    elif what == "plate_touching_low_back":  # the rim of a plate overlaps the low back a little
        m2 = _disk(m, _back_point(s, h, 0.72, d0 + 0.09 * length, "right"), 0.1 * length, 255)
    else:  # caption text punches thin holes into the body close to the back edge
        m2 = m.copy()
        for t in (0.3, 0.45, 0.7):
            p = _back_point(s, h, t, d0 - 0.05 * length, "right")
            m2 = _disk(m2, p, 0.025 * length, 0)
    b = compute_back_bend(make_sequence([m2], [s], [h]))
    assert np.isfinite(b.bend_deg[0])
    assert b.bend_deg[0] == pytest.approx(clean, abs=3.0)


# ------------------------------------------------------------------------------------------
# confidence and missing data


def test_confidence_drops_when_most_of_the_mask_is_missing() -> None:
    m, s, h = make_trunk(20.0, incl_deg=60.0)
    good = compute_back_bend(make_sequence([m], [s], [h]))
    # keep only the upper back: the lower two thirds of the silhouette vanish
    along = (h - s) / np.linalg.norm(h - s)
    yy, xx = np.mgrid[0:H, 0:W].astype(float)
    u = (xx - s[0]) * along[0] + (yy - s[1]) * along[1]
    cut = np.where(u > 0.35 * np.linalg.norm(h - s), 0, m).astype(np.uint8)
    bad = compute_back_bend(make_sequence([cut], [s], [h]))
    assert good.confidence[0] > 0.7
    assert bad.confidence[0] < 0.3 * good.confidence[0]


def test_front_view_gets_no_confidence() -> None:
    m, s, h = make_trunk(20.0, incl_deg=0.0)
    # shoulders and hips far apart in the image: the camera faces the person
    seq = make_sequence([m], [s], [h], shoulder_sep_px=0.8 * np.linalg.norm(h - s))
    assert compute_back_bend(seq, facing="right").confidence[0] == 0.0


def test_frames_without_mask_or_pose_are_nan() -> None:
    m, s, h = make_trunk(10.0)
    seq = make_sequence([m, m], [s, s], [h, h])
    xyz = seq.image_xyz.copy()
    xyz[1] = np.nan
    seq = dataclasses.replace(seq, image_xyz=xyz, masks={})
    b = compute_back_bend(seq, facing="right")
    assert np.isnan(b.bend_deg).all()
    assert (b.confidence == 0).all()
    assert np.isnan(b.trunk_inclination_deg[1])


def test_outline_cut_by_the_crop_border_is_not_measured() -> None:
    m, s, h = make_trunk(20.0, incl_deg=80.0)
    seq = make_sequence([m], [s], [h], crop_margin=10)
    c = seq.masks[0]
    # keep only the part of the crop below the trunk's middle: the back runs into the border
    ys = np.nonzero(c.mask.max(axis=1) > 0)[0]
    top = int((ys.min() + ys.max()) / 2)
    cropped = MaskCrop(c.x0, c.y0 + top, np.ascontiguousarray(c.mask[top:]))
    b = compute_back_bend(dataclasses.replace(seq, masks={0: cropped}))
    assert b.clipped_fraction[0] > 0.2
    assert b.confidence[0] < 0.3


def test_input_is_not_modified() -> None:
    seq = one_frame(15.0)
    before = seq.image_xyz.copy(), {r: c.mask.copy() for r, c in seq.masks.items()}
    compute_back_bend(seq)
    np.testing.assert_array_equal(seq.image_xyz, before[0])
    for r, c in seq.masks.items():
        np.testing.assert_array_equal(c.mask, before[1][r])


def test_facing_cannot_be_told_without_feet_or_face() -> None:
    seq = one_frame(15.0)
    xyz = seq.image_xyz.copy()
    for name in ("nose", "left_ear", "right_ear", "left_heel", "right_heel",
                 "left_foot_index", "right_foot_index"):
        xyz[:, INDEX[name]] = np.nan
    blind = dataclasses.replace(seq, image_xyz=xyz)
    assert infer_facing(blind) is None
    assert np.isnan(compute_back_bend(blind).bend_deg).all()
    assert np.isfinite(compute_back_bend(blind, facing="right").bend_deg).all()


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="split"):
        BackBendOptions(span=(0.6, 0.9), split=0.5)
    with pytest.raises(ValueError, match="facing"):
        compute_back_bend(one_frame(0.0), facing="up")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# a rep: standing, hinge down with rounding, back up


def test_rep_relative_to_standing() -> None:
    incl = np.r_[np.zeros(5), np.linspace(0, 80, 10), np.full(5, 80.0), np.linspace(80, 0, 10)]
    true_bend = 8.0 + np.clip(incl - 40.0, 0, None) * (20.0 / 40.0)  # 8 standing, 28 at bottom
    frames = [make_trunk(b, incl_deg=i) for b, i in zip(true_bend, incl)]
    seq = make_sequence(*map(list, zip(*frames)))
    b = compute_back_bend(seq)
    upright = find_upright_rows(b)
    assert set(upright) == set(np.nonzero(incl <= 20.0)[0])
    rel = relative_to_baseline(b, upright)
    bottom = np.arange(15, 20)
    s = summarize_bend(b, bottom)
    assert s.value_deg == pytest.approx(28.0, abs=2.0)
    assert s.n_frames == 5
    assert s.noise_deg < 1.0
    assert np.median(rel[bottom]) == pytest.approx(20.0, abs=2.5)
    # no usable baseline: NaN, not a silent absolute value
    assert np.isnan(relative_to_baseline(b, [])).all()


# ------------------------------------------------------------------------------------------
# whole-body synthetic hinges from movescreen.synthetic (circular spine arc, limbs, head)


_SMALL = {"width": 400, "height": 600, "px_per_m": 250.0}


def _arc_prediction(curvature_deg: float) -> float:
    """Angle between the two fitted lines for a back that is a circular arc.

    On an arc the tangent turns evenly, and each fitted line follows the tangent at the middle
    of its part, so the bend is the curvature times the distance between the two middles,
    ``(span[1] - span[0]) / 2`` of the chord.
    """
    a, b = BackBendOptions().span
    return curvature_deg * (b - a) / 2.0


@pytest.mark.parametrize("facing", ["left", "right"])
def test_synthetic_hinge_follows_the_spine_curvature(facing: str) -> None:
    synthetic = pytest.importorskip("movescreen.synthetic")
    # three frames (standing, half-way, bottom) at a small scale keep the drawing fast
    motion = synthetic.make_motion(
        "hinge", facing=facing, depth=[0.0, 0.5, 1.0], arms="down", **_SMALL
    )
    bottom = 2
    values = []
    for curv in (-40.0, -20.0, 0.0, 20.0, 40.0):
        seq = synthetic.add_silhouette_masks(motion, spine_curvature_deg=curv)
        b = compute_back_bend(seq)
        assert b.facing == facing
        assert b.confidence[bottom] > 0.7
        values.append(b.bend_deg[bottom])
        if abs(curv) <= 20:
            assert b.bend_deg[bottom] == pytest.approx(_arc_prediction(curv), abs=1.5)
    assert np.all(np.diff(values) > 3.0)  # monotonic: more rounding reads higher
    assert values[0] < -5.0 < 5.0 < values[-1]


def test_synthetic_rep_relative_to_standing() -> None:
    synthetic = pytest.importorskip("movescreen.synthetic")
    depth = np.array([0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 0.5, 0.0])
    motion = synthetic.make_motion("hinge", facing="right", depth=depth, arms="down", **_SMALL)
    # the person stands with a slightly arched back (-10) and rounds to +30 at the bottom
    curv = -10.0 + 40.0 * depth
    seq = synthetic.add_silhouette_masks(motion, spine_curvature_deg=curv)
    b = compute_back_bend(seq)
    bottom = 4
    rel = relative_to_baseline(b, find_upright_rows(b))
    assert rel[bottom] == pytest.approx(_arc_prediction(40.0), abs=2.0)


@pytest.mark.parametrize("curv", [-30.0, 0.0, 30.0])
def test_upper_and_lower_back_parts_follow_a_circular_spine(curv: float) -> None:
    # a circular spine arc turns evenly: each part bends by the arc's turn over half its length
    synthetic = pytest.importorskip("movescreen.synthetic")
    from movescreen.kinematics.back_contour import LOWER_PART, UPPER_PART, part_bends

    motion = synthetic.make_motion("hinge", facing="right", depth=[0.0, 1.0], arms="down", **_SMALL)
    seq = synthetic.add_silhouette_masks(motion, spine_curvature_deg=curv)
    upper, lower = part_bends(compute_back_bend(seq), seq)
    for value, (a, _m, b) in ((upper, UPPER_PART), (lower, LOWER_PART)):
        assert value[1] == pytest.approx(curv * (b - a) / 2.0, abs=2.0)


def test_lumbar_columns_carry_the_part_bends() -> None:
    synthetic = pytest.importorskip("movescreen.synthetic")
    from movescreen.kinematics.lumbar import compute_lumbar_columns

    motion = synthetic.make_motion("hinge", facing="left", depth=[0.0, 1.0], arms="down", **_SMALL)
    cols = compute_lumbar_columns(synthetic.add_silhouette_masks(motion, spine_curvature_deg=30.0))
    assert cols["upper_back_bend_deg"][1] > 3.0 and cols["lower_back_bend_deg"][1] > 3.0
