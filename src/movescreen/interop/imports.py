"""Which inputs are another tool's landmarks, and reading them (the pipeline's input branch)."""

from __future__ import annotations

import os
from pathlib import Path

from movescreen.interop.trc import ImportedLandmarks


def is_foreign_landmarks(path: str | os.PathLike[str]) -> bool:
    """A ``.trc`` file, or a folder of OpenPose-format JSON files."""
    from movescreen.interop.openpose import is_openpose_folder

    p = Path(path)
    return (p.suffix.lower() == ".trc" and p.is_file()) or is_openpose_folder(p)


def read_foreign_landmarks(path: str | os.PathLike[str], *, fps: float | None = None) -> ImportedLandmarks:
    """Read a TRC file or an OpenPose JSON folder (see :func:`is_foreign_landmarks`)."""
    p = Path(path)
    if p.suffix.lower() == ".trc":
        from movescreen.interop.trc import read_trc

        return read_trc(p)
    from movescreen.interop.openpose import read_openpose_folder

    return read_openpose_folder(p, fps=fps)
