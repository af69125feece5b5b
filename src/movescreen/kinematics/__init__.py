"""Kinematics: angle table, camera view, filters, reps and phases (pure functions).

The entry point is :func:`movescreen.kinematics.core.analyze_kinematics`.
"""

from movescreen.kinematics.angles import ANGLE_DEFINITIONS, AngleDef, compute_angle_table
from movescreen.kinematics.core import Kinematics, analyze_kinematics
from movescreen.kinematics.filters import OneEuroFilter, filter_landmarks
from movescreen.kinematics.reps import detect_reps
from movescreen.kinematics.view import ViewEstimate, estimate_view

__all__ = [
    "ANGLE_DEFINITIONS",
    "AngleDef",
    "Kinematics",
    "OneEuroFilter",
    "ViewEstimate",
    "analyze_kinematics",
    "compute_angle_table",
    "detect_reps",
    "estimate_view",
    "filter_landmarks",
]
