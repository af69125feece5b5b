"""Interoperability: exports (TRC, MOT, Parquet, C3D) and imports (TRC, OpenPose/RTMPose JSON).

Every writer takes the in-memory data (a :class:`~movescreen.types.LandmarkSequence` or the
angle table of :class:`~movescreen.kinematics.Kinematics`) and writes atomically. Readers return
a :class:`~movescreen.interop.trc.ImportedLandmarks`: the sequence plus where it came from.
Optional formats import their library only when called (``movescreen[parquet]``,
``movescreen[c3d]``).
"""

from movescreen.interop.trc import ImportedLandmarks, read_trc, write_trc_m, write_trc_px

__all__ = ["ImportedLandmarks", "read_trc", "write_trc_m", "write_trc_px"]
