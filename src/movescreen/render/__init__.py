"""Clinician review outputs, rendered from an analysis folder (plus the input video).

- ``annotated.mp4``: every input frame with skeleton, angles, rep/phase and findings (H.264).
- ``frames/*.png``: the worst frame of every finding and the bottom of every rep.
- ``report.html``: one self-contained page (inline CSS and SVG, no script, works offline).

``movescreen analyze`` and ``movescreen report DIR`` both call :func:`render_all`, so the
outputs are the same whichever made them.
"""

from __future__ import annotations

import os
from pathlib import Path

from movescreen.render.folder import AnalysisFolder, load_analysis_folder, read_angles_csv
from movescreen.render.keyframes import KeyFrameCollector, write_key_frames
from movescreen.render.privacy import blur_faces, compute_face_region, compute_face_regions
from movescreen.render.report import FRAMES_DIR, VIDEO_NAME, render_html, write_html_report
from movescreen.render.video import write_annotated_video

__all__ = [
    "AnalysisFolder",
    "blur_faces",
    "compute_face_region",
    "compute_face_regions",
    "find_input_video",
    "load_analysis_folder",
    "read_angles_csv",
    "render_all",
    "render_folder",
    "render_html",
    "write_annotated_video",
    "write_html_report",
    "write_key_frames",
]


def find_input_video(folder: AnalysisFolder) -> Path | None:
    """The input video named in ``report.json``, when it is a video file that still exists."""
    info = folder.input_info
    path = info.get("path")
    if info.get("kind", "video") != "video" or not isinstance(path, str) or not path:
        return None
    p = Path(path)
    if not p.is_absolute() and not p.is_file():
        p = folder.path / p
    return p if p.is_file() else None


def render_all(
    directory: str | os.PathLike[str],
    video_path: str | os.PathLike[str] | None = None,
    *,
    blur_faces: bool = False,
    video: bool = True,
    key_frames: bool = True,
) -> dict[str, Path]:
    """Render the annotated video, the key frames and report.html into an analysis folder.

    Parameters
    ----------
    directory : path-like
        Analysis folder (``report.json``, ``angles.csv``, ``landmarks.csv``).
    video_path : path-like, optional
        The input video; by default the one named in ``report.json`` when it still exists.
        Without a video only ``report.html`` is written (its video and key-frame sections then
        say so, or show files left by an earlier render).
    blur_faces : bool
        Blur faces on every picture and video frame written.
    video, key_frames : bool
        Set False to skip the annotated video or the key frames.

    Returns
    -------
    dict[str, Path]
        ``{"video": ..., "frames": <folder>, "html": ...}`` for what was written.
    """
    folder = load_analysis_folder(directory)
    source = Path(video_path) if video_path is not None else find_input_video(folder)
    return render_folder(folder, source, blur_faces=blur_faces, video=video, key_frames=key_frames)


def render_folder(
    folder: AnalysisFolder,
    source: Path | None,
    *,
    blur_faces: bool = False,
    video: bool = True,
    key_frames: bool = True,
    html: bool = True,
) -> dict[str, Path]:
    """Render an analysis held in memory (loaded from disk, or straight from ``analyze``)."""
    out: dict[str, Path] = {}
    if source is not None and video:
        # one decode pass for both: the key frames are taken as the video's frames go by
        keys = KeyFrameCollector(folder, folder.path / FRAMES_DIR, blur_faces=blur_faces) if key_frames else None
        out["video"] = write_annotated_video(folder, source, folder.path / VIDEO_NAME, blur_faces=blur_faces,
                                             on_frame=keys.offer if keys is not None else None)
        if keys is not None and keys.written():
            out["frames"] = folder.path / FRAMES_DIR
    elif (source is not None and key_frames
            and write_key_frames(folder, source, folder.path / FRAMES_DIR, blur_faces=blur_faces)):
        out["frames"] = folder.path / FRAMES_DIR
    if html:
        out["html"] = write_html_report(folder, folder.path / "report.html")
    return out
