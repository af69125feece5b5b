"""Versions of everything that shaped a number, for reports and ``movescreen info``."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from movescreen import __version__


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    """Versions of Python, movescreen and the libraries whose behaviour affects results."""
    import cv2
    import numpy
    import scipy

    return {
        "python": platform.python_version(),
        "movescreen": __version__,
        "mediapipe": package_version("mediapipe"),
        "opencv": cv2.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "av": package_version("av"),
    }
