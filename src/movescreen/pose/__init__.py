"""Pose stage: model lookup and checksum, the MediaPipe backend, and subject selection."""

from movescreen.pose.backend import PoseBackend, PoseCandidate
from movescreen.pose.model import ModelFile, resolve_model

__all__ = ["ModelFile", "PoseBackend", "PoseCandidate", "resolve_model"]
