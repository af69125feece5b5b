"""--blur-faces: every face in the picture is blurred, and no unblurred output is left behind."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from movescreen.render.privacy import (
    WRITTEN_MEDIA,
    EveryFaceBlur,
    describe_removed,
    remove_unblurred_outputs,
)
from tests.conftest import shared_file


def _texture(h: int = 120, w: int = 160) -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 255, (h, w, 3), dtype=np.uint8)


def _sharpness(image: np.ndarray, cx: float, cy: float, r: int = 10) -> float:
    g = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    y0, x0 = max(0, int(cy) - r), max(0, int(cx) - r)
    return float(cv2.Laplacian(g[y0:int(cy) + r, x0:int(cx) + r], cv2.CV_64F).var())


class _Finder:
    def __init__(self, by_call):
        self.by_call, self.calls = list(by_call), 0

    def find(self, image):
        self.calls += 1
        return self.by_call.pop(0) if self.by_call else []


def test_every_found_face_and_the_subject_are_blurred_and_nothing_else():
    img = _texture()
    a, b, subject = (30.0, 30.0, 12.0, 12.0), (120.0, 40.0, 12.0, 12.0), (80.0, 90.0, 12.0, 12.0)
    out = EveryFaceBlur(_Finder([[np.array(a), np.array(b)]])).apply(img, 0.0, subject_region=np.array(subject))
    for cx, cy, *_ in (a, b, subject):
        assert _sharpness(out, cx, cy, 6) < 0.2 * _sharpness(img, cx, cy, 6)
    assert (out[100:, :40] == img[100:, :40]).all()  # far from every face: untouched


def test_a_face_missed_for_a_moment_stays_blurred_but_not_for_long():
    img = _texture()
    face = np.array([40.0, 40.0, 12.0, 12.0])
    blur = EveryFaceBlur(_Finder([[face], [], [], []]), hold_s=0.5, scan_every_s=0.0)
    blur.apply(img, 0.0)
    held = blur.apply(img, 0.3)  # found at 0.0, missed at 0.3: still blurred
    assert _sharpness(held, 40, 40, 6) < 0.2 * _sharpness(img, 40, 40, 6)
    late = blur.apply(img, 1.2)  # 1.2 s after the last sighting: no longer
    assert (late == img).all()


def test_scans_are_spaced_by_scan_every_s():
    finder = _Finder([[np.array([40.0, 40.0, 10.0, 10.0])]] * 10)
    blur = EveryFaceBlur(finder, scan_every_s=0.1)
    for i in range(10):  # 10 frames at 30 fps = 0.3 s
        blur.apply(_texture(), i / 30)
    assert 3 <= finder.calls <= 4


def _make_folder(tmp_path):
    (tmp_path / "annotated.mp4").write_bytes(b"old unblurred video")
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "rep01_bottom.png").write_bytes(b"png")
    (tmp_path / "frames" / "finding01_heel_lift.png").write_bytes(b"png")
    (tmp_path / "session.mp4").write_bytes(b"live recording")
    (tmp_path / "client_clip.mp4").write_bytes(b"the user's own source video")
    (tmp_path / "report.json").write_text("{}")
    (tmp_path / "landmarks.csv").write_text("frame\n")
    return tmp_path


def test_remove_unblurred_outputs_removes_only_what_movescreen_wrote(tmp_path):
    folder = _make_folder(tmp_path)
    removed = remove_unblurred_outputs(folder)
    assert removed == ["annotated.mp4", "frames/finding01_heel_lift.png", "frames/rep01_bottom.png", "session.mp4"]
    assert not (folder / "annotated.mp4").exists() and not (folder / "frames").exists()
    for kept in ("client_clip.mp4", "report.json", "landmarks.csv"):  # never the user's files or data
        assert (folder / kept).exists()
    sentence = describe_removed(removed)
    assert sentence and "4 earlier output(s)" in sentence and "annotated.mp4" in sentence
    assert describe_removed([]) is None
    assert remove_unblurred_outputs(folder) == []


def test_outputs_the_run_regenerates_are_left_for_it(tmp_path):
    folder = _make_folder(tmp_path)
    removed = remove_unblurred_outputs(folder, keep=["frames"])
    assert removed == ["annotated.mp4", "session.mp4"]
    assert (folder / "frames" / "rep01_bottom.png").exists()
    assert remove_unblurred_outputs(tmp_path / "absent") == []
    assert "annotated.mp4" in WRITTEN_MEDIA


@pytest.mark.model
def test_a_second_person_is_blurred_not_only_the_subject():
    """rdl_side_dumbbell_split_correct_vs_incorrect_01.mp4 shows two people side by side."""
    from movescreen.pose.faces import FaceFinder
    from movescreen.pose.mediapipe_backend import MediaPipePoseBackend
    from movescreen.pose.model import resolve_model
    from movescreen.render.privacy import compute_face_region
    from movescreen.sources import open_source

    clip = shared_file("videos", "rdl_side_dumbbell_split_correct_vs_incorrect_01.mp4")
    src = open_source(clip)
    frame = next(f for f in src if f.index == 30).image
    src.close()
    # where the faces are, from an independent two-person pose run on the unblurred frame
    with MediaPipePoseBackend(resolve_model(), num_poses=2, video_mode=False) as backend:
        people = backend.process(frame, 0)
    assert len(people) == 2
    faces = [compute_face_region(p.image_xyz) for p in people]
    assert abs(faces[0][0] - faces[1][0]) > 100  # two different people
    subject_only = EveryFaceBlur(_Finder([])).apply(frame, 0.0, subject_region=faces[0])
    with FaceFinder() as finder:
        everyone = EveryFaceBlur(finder).apply(frame, 0.0, subject_region=faces[0])
    before = [_sharpness(frame, f[0], f[1]) for f in faces]
    assert _sharpness(subject_only, faces[1][0], faces[1][1]) == pytest.approx(before[1])  # the old blur
    for f, b in zip(faces, before):
        assert _sharpness(everyone, f[0], f[1]) < 0.25 * b


@pytest.mark.model
def test_the_person_filming_in_the_mirror_is_found():
    """squat_side_barbell_back_02.mp4: the person filming is seen small in the mirror behind."""
    from movescreen.pose.faces import FaceFinder
    from movescreen.sources import open_source

    clip = shared_file("videos", "squat_side_barbell_back_02.mp4")
    src = open_source(clip)
    frame = next(f for f in src if f.index == 320).image
    src.close()
    with FaceFinder(haar=False, tiles=False) as whole_only:
        n_whole = len(whole_only.find(frame))
    with FaceFinder() as finder:
        regions = finder.find(frame)
    centres = {(round(r[0] / 40), round(r[1] / 40)) for r in regions}
    assert n_whole == 1  # the whole-frame scan alone sees only the subject
    assert len(centres) >= 2  # the tiles find a second face
