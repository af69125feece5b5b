"""Key frames: one PNG per finding (worst frame) and per rep (bottom), drawn on the right frame."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from movescreen.render import load_analysis_folder, write_key_frames
from movescreen.render.keyframes import plan_key_frames
from movescreen.sources import open_source

pytestmark = pytest.mark.model


def test_one_png_per_rep_bottom_and_per_finding(rendered_rich, rich_folder):
    folder = load_analysis_folder(rich_folder)
    plan = plan_key_frames(folder)
    assert len(plan) == len(folder.reps) + len(folder.findings) > 0
    files = sorted(p.name for p in (rich_folder / "frames").glob("*.png"))
    assert files == sorted(k.name for k in plan)
    img = cv2.imread(str(rich_folder / "frames" / plan[0].name))
    assert img.shape[:2] == (folder.input_info["height"], folder.input_info["width"])


def test_key_frame_is_the_named_frame_annotated(rendered_rich, rich_folder, example_video):
    folder = load_analysis_folder(rich_folder)
    key = next(k for k in plan_key_frames(folder) if k.kind == "finding")
    src = open_source(example_video)
    try:
        frames = {f.index: f.image for f in src}
    finally:
        src.close()
    png = cv2.imread(str(rich_folder / "frames" / key.name))
    diff = [float(np.mean(np.abs(png.astype(int) - frames[i].astype(int)))) for i in sorted(frames)]
    # the annotated PNG looks most like its own source frame (drawings aside)
    assert int(np.argmin(diff)) == key.frame


def test_blurred_key_frames_differ_at_the_face(rich_folder, example_video, tmp_path):
    folder = load_analysis_folder(rich_folder)
    a = write_key_frames(folder, example_video, tmp_path / "plain")
    b = write_key_frames(folder, example_video, tmp_path / "blur", blur_faces=True)
    assert [p.name for p in a] == [p.name for p in b]
    from movescreen.render.privacy import compute_face_region

    key = plan_key_frames(folder)[0]
    cx, cy, ax, ay = compute_face_region(folder.landmarks.image_xyz[folder.landmark_row(key.frame)])
    ys, xs = slice(int(cy - ay / 2), int(cy + ay / 2)), slice(int(cx - ax / 2), int(cx + ax / 2))
    ia, ib = cv2.imread(str(a[0])), cv2.imread(str(b[0]))
    assert np.mean(np.abs(ia[ys, xs].astype(int) - ib[ys, xs].astype(int))) > 2.0


def test_no_reps_no_key_frames(no_reps_folder, example_video, tmp_path):
    folder = load_analysis_folder(no_reps_folder)
    assert write_key_frames(folder, example_video, tmp_path / "frames") == []
