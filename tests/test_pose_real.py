"""The real model on the example clip against a peer's expected landmarks (TF.js BlazePose full)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from movescreen.pose.mediapipe_backend import MediaPipePoseBackend
from movescreen.pose.model import resolve_model
from movescreen.sources import open_source
from tests.conftest import shared_file

pytestmark = pytest.mark.model


def _reference() -> np.ndarray:
    ref = json.loads(shared_file("reference", "pose_squats_blazepose_full_image_xyz.json").read_text())
    return np.asarray(ref, dtype=np.float64)[:, :, :2]


def _errors(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
    assert ours.shape == ref.shape
    return np.linalg.norm(ours - ref, axis=2)


def test_backend_matches_peer_reference_with_their_33ms_steps(example_video):
    ref = _reference()
    src = open_source(example_video)
    backend = MediaPipePoseBackend(resolve_model(), with_masks=True)
    rows = []
    try:
        for f in src:  # the TF.js test feeds frames 33.333 ms apart
            [c] = backend.process(f.image, int(round(f.index * 33.333)))
            rows.append(c.image_xyz[:, :2])
    finally:
        backend.close()
        src.close()
    err = _errors(np.stack(rows), ref)
    print(f"33.333 ms steps: mean {err.mean():.2f} px, max {err.max():.2f} px")
    assert err.mean() < 15.0
    assert np.median(err) < 10.0


def test_pipeline_with_real_timestamps_matches_reference(example_analysis):
    ref = _reference()
    err = _errors(example_analysis.sequence.image_xyz[:, :, :2].astype(np.float64), ref)
    print(f"real 200 ms steps: mean {err.mean():.2f} px, max {err.max():.2f} px")
    assert err.mean() < 15.0
