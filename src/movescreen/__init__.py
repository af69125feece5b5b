"""movescreen: camera-based movement screening.

Pipeline stages, one module each: ``sources`` (frames) -> ``pose`` (landmarks) ->
``kinematics`` (angles, reps) -> ``rules`` (findings) -> ``render`` / ``sinks`` (outputs).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("movescreen")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["Analysis", "__version__", "analyze", "load"]


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """``movescreen.analyze``, ``movescreen.load``, ``movescreen.Analysis`` (movescreen.api),
    imported on first use so that ``import movescreen`` stays light."""
    if name in ("Analysis", "analyze", "load"):
        from movescreen import api

        return getattr(api, name)
    raise AttributeError(f"module 'movescreen' has no attribute {name!r}")
