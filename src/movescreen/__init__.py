"""movescreen: camera-based movement screening.

Pipeline stages, one module each: ``sources`` (frames) -> ``pose`` (landmarks) ->
``kinematics`` (angles, reps) -> ``rules`` (findings) -> ``render`` / ``sinks`` (outputs).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("movescreen")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
