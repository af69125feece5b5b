"""The annotated video: H.264 that browsers play, one frame per input frame, faces blurred."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from movescreen.render import load_analysis_folder, write_annotated_video
from movescreen.render.folder import AnalysisFolder
from tests.videos import write_video

pytestmark = pytest.mark.model


def _decode(path) -> tuple[str, str, list[np.ndarray], list[float]]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frames, times = [], []
        for f in c.decode(s):
            frames.append(f.to_ndarray(format="bgr24"))
            times.append(float(f.pts * f.time_base))
        return s.codec_context.name, s.codec_context.pix_fmt, frames, times


def test_annotated_video_is_h264_with_the_inputs_frames_and_times(rendered_rich, example_video):
    codec, pix_fmt, frames, times = _decode(rendered_rich["video"])
    _, _, src_frames, src_times = _decode(example_video)
    assert codec == "h264"
    assert pix_fmt == "yuv420p"
    assert len(frames) == len(src_frames)
    assert frames[0].shape == src_frames[0].shape
    np.testing.assert_allclose(np.array(times) - times[0], np.array(src_times) - src_times[0], atol=1e-3)
    # it is annotated: frames differ from the input
    assert np.mean(np.abs(frames[10].astype(int) - src_frames[10].astype(int))) > 1.0


def test_moov_atom_comes_first_so_browsers_can_start_playing(rendered_rich):
    data = rendered_rich["video"].read_bytes()[:4096]
    assert data.find(b"moov") != -1 and (data.find(b"mdat") == -1 or data.find(b"moov") < data.find(b"mdat"))


def _face_box(folder, frame: int) -> tuple[slice, slice]:
    from movescreen.render.privacy import compute_face_region

    cx, cy, ax, ay = compute_face_region(folder.landmarks.image_xyz[folder.landmark_row(frame)])
    # the inner half of the ellipse: certainly inside the blurred area
    return slice(int(cy - ay / 2), int(cy + ay / 2)), slice(int(cx - ax / 2), int(cx + ax / 2))


def _lap_var(img: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def test_blur_faces_blurs_the_face_in_the_video(real_folder, example_video, tmp_path):
    folder = load_analysis_folder(real_folder)
    plain = write_annotated_video(folder, example_video, tmp_path / "plain.mp4")
    blurred = write_annotated_video(folder, example_video, tmp_path / "blur.mp4", blur_faces=True)
    _, _, a, _ = _decode(plain)
    _, _, b, _ = _decode(blurred)
    assert len(a) == len(b)
    for i in (0, len(a) // 2, len(a) - 1):
        ys, xs = _face_box(folder, int(folder.landmarks.frame_index[i]))
        fa, fb = a[i][ys, xs], b[i][ys, xs]
        assert fa.size > 0
        assert np.mean(np.abs(fa.astype(int) - fb.astype(int))) > 2.0
        assert _lap_var(fb) < 0.5 * _lap_var(fa)
        # away from the face (the floor at the bottom) the two videos agree
        assert np.mean(np.abs(a[i][-60:].astype(int) - b[i][-60:].astype(int))) < 2.0


def test_odd_sized_video_is_padded_to_even_and_keeps_its_frame_count(tmp_path):
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 255, size=(61, 83, 3), dtype=np.uint8) for _ in range(7)]
    src = write_video(tmp_path / "odd.mkv", frames, fps=12.0, codec="ffv1")
    folder = AnalysisFolder(path=tmp_path, report={})  # no landmarks, no reps: still a video
    out = write_annotated_video(folder, src, tmp_path / "out.mp4")
    codec, _pix_fmt, decoded, _ = _decode(out)
    assert codec == "h264" and len(decoded) == 7
    assert decoded[0].shape[:2] == (62, 84)
    assert not list(tmp_path.glob(".out.mp4.*"))  # no temporary file left behind


# --------------------------------------------------------------------------- the draw thread


def test_map_in_thread_keeps_order_and_runs_off_the_calling_thread():
    import threading

    from movescreen.render.video import map_in_thread

    caller = threading.get_ident()
    seen: list[int] = []

    def fn(x: int) -> int:
        seen.append(threading.get_ident())
        return x * x

    assert list(map_in_thread(fn, range(50), maxsize=2)) == [x * x for x in range(50)]
    assert seen and caller not in seen


def test_map_in_thread_reraises_the_workers_error_in_the_consumer():
    from movescreen.render.video import map_in_thread

    def fn(x: int) -> int:
        if x == 3:
            raise ValueError("frame 3 could not be drawn")
        return x

    out: list[int] = []
    with pytest.raises(ValueError, match="frame 3"):
        for v in map_in_thread(fn, range(10)):
            out.append(v)
    assert out == [0, 1, 2]


def test_map_in_thread_stops_its_thread_when_the_consumer_stops_early():
    import threading
    import time

    from movescreen.render.video import map_in_thread

    produced: list[int] = []

    def slow_items():
        for i in range(10_000):
            produced.append(i)
            yield i

    it = map_in_thread(lambda x: x, slow_items(), maxsize=2)
    assert next(it) == 0
    it.close()  # the consumer stops (an encoder error, Ctrl-C): the thread must end
    deadline = time.monotonic() + 10
    while any(t.name == "movescreen-draw" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "movescreen-draw" for t in threading.enumerate())
    assert len(produced) < 100  # bounded: it did not run ahead through the whole input
