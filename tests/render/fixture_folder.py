"""TEST FIXTURE, not product code: turns a real analysis folder (report.json + landmarks.csv, as
the foundation writes it today) into one that also has what kinematics and rules will add
(angles.csv, reps, findings, joints), so the renderers can be tested before those stages land.

The angles are simple image-plane joint angles computed from the landmarks here (180 minus the
angle between the two segments); the reps come from the knee-flexion peaks; the findings are
made up around those reps, with plausible numbers.
"""

from __future__ import annotations

import csv
import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import find_peaks

from movescreen.landmarks import INDEX
from movescreen.sinks import read_landmarks_csv


def _flexion_deg(xyz: np.ndarray, a: str, b: str, c: str) -> np.ndarray:
    """180 - angle at b between b->a and b->c, per frame (NaN where a point is missing)."""
    pa, pb, pc = xyz[:, INDEX[a], :2], xyz[:, INDEX[b], :2], xyz[:, INDEX[c], :2]
    u, v = pa - pb, pc - pb
    cos = (u * v).sum(1) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1))
    return 180.0 - np.degrees(np.arccos(np.clip(cos, -1, 1)))


def fixture_angles(landmarks_csv: Path) -> dict[str, np.ndarray]:
    seq = read_landmarks_csv(landmarks_csv)
    xyz = seq.image_xyz.astype(np.float64)
    cols: dict[str, np.ndarray] = {"frame": seq.frame_index, "time_s": seq.time_s}
    for s in ("left", "right"):
        cols[f"{s}_hip_flexion_image_deg"] = _flexion_deg(xyz, f"{s}_shoulder", f"{s}_hip", f"{s}_knee")
        cols[f"{s}_knee_flexion_image_deg"] = _flexion_deg(xyz, f"{s}_hip", f"{s}_knee", f"{s}_ankle")
        # in a front view the same 2-D angle is the frontal-plane projection angle (unsigned)
        cols[f"{s}_knee_fppa_image_deg"] = cols[f"{s}_knee_flexion_image_deg"].copy()
    mid_hip = (xyz[:, INDEX["left_hip"], :2] + xyz[:, INDEX["right_hip"], :2]) / 2
    mid_sh = (xyz[:, INDEX["left_shoulder"], :2] + xyz[:, INDEX["right_shoulder"], :2]) / 2
    d = mid_sh - mid_hip
    cols["trunk_inclination_image_deg"] = np.degrees(np.arctan2(np.abs(d[:, 0]), -d[:, 1]))
    return cols


def write_angles_csv(path: Path, cols: dict[str, np.ndarray], view: str) -> None:
    names = list(cols) + ["view"]
    n = len(cols["frame"])
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(names)
        for i in range(n):
            row: list[Any] = [int(cols["frame"][i])]
            for c in names[1:-1]:
                v = float(cols[c][i])
                row.append("" if not np.isfinite(v) else f"{v:.3f}")
            row.append(view)
            w.writerow(row)


def make_reps(cols: dict[str, np.ndarray], fps: float, view: str) -> list[dict[str, Any]]:
    knee = np.nanmean(np.vstack([cols["left_knee_flexion_image_deg"],
                                 cols["right_knee_flexion_image_deg"]]), axis=0)
    knee = np.where(np.isfinite(knee), knee, np.nanmin(knee))
    frames = cols["frame"]
    peaks, _ = find_peaks(knee, prominence=10, distance=max(2, int(fps)))
    if peaks.size == 0:
        peaks = np.array([int(np.argmax(knee))])
    bounds = [0] + [int((a + b) // 2) for a, b in itertools.pairwise(peaks)] + [len(knee) - 1]
    reps = []
    for i, p in enumerate(peaks):
        s, e = bounds[i], bounds[i + 1]
        reps.append({
            "index": i + 1, "start_frame": int(frames[s]), "bottom_frame": int(frames[p]),
            "end_frame": int(frames[e]), "partial": False, "view": view,
            "tempo": {"descent_s": (p - s) / fps, "bottom_s": 1 / fps, "ascent_s": (e - p) / fps,
                      "total_s": (e - s) / fps},
            "metrics": {
                "peak_knee_flexion_deg": float(knee[p]),
                "peak_hip_flexion_deg": float(np.nanmax(cols["left_hip_flexion_image_deg"][s:e + 1])),
                "peak_trunk_inclination_deg": float(np.nanmax(cols["trunk_inclination_image_deg"][s:e + 1])),
                "peak_knee_valgus_left_deg": 4.0, "peak_knee_valgus_right_deg": 11.5,
            },
        })
    return reps


def make_findings(reps: list[dict[str, Any]], cols: dict[str, np.ndarray], view: str) -> list[dict[str, Any]]:
    frames = list(map(int, cols["frame"]))
    findings = []
    for rep in reps:
        s, b, e = rep["start_frame"], rep["bottom_frame"], rep["end_frame"]
        col = "right_knee_flexion_image_deg"
        value = float(cols[col][frames.index(b)])
        findings.append({
            "rule": "knee_valgus", "severity": "caution", "rep": rep["index"], "side": "right",
            "frame_start": max(s, b - 3), "frame_end": min(e, b + 3), "worst_frame": b,
            "value": 11.5, "threshold": 8.0, "unit": "deg", "view": view, "confidence": 0.72,
            "message_client": "Your right knee drifted in as you went down <b>(fixture)</b>.",
            "message_clinician": "Right knee valgus (FPPA 11.5 deg): the knee takes the load "
                                 "the hip should control.",
            "evidence": {"column": "right_knee_fppa_image_deg", "peak_knee_flexion": value},
        })
    if reps:
        rep = reps[0]
        col = "trunk_inclination_image_deg"
        i0, i1 = frames.index(rep["start_frame"]), frames.index(rep["end_frame"])
        seg = cols[col][i0:i1 + 1]
        worst = frames[i0 + int(np.nanargmax(seg))]
        findings.append({
            "rule": "excessive_forward_lean", "severity": "flag", "rep": rep["index"], "side": "none",
            "frame_start": rep["start_frame"], "frame_end": rep["end_frame"], "worst_frame": worst,
            "value": float(np.nanmax(seg)), "threshold": float(np.nanmax(seg)) - 1.0, "unit": "deg",
            "view": view, "confidence": 0.5,
            "message_client": "You leaned forward a lot & fast.",
            "message_clinician": "Trunk inclination above threshold: the hip/trunk compensates "
                                 "for limited ankle dorsiflexion.",
            "evidence": {"column": col},
        })
    return findings


def enrich_folder(src: Path, dst: Path, *, view: str = "front", video_name: str | None = None) -> Path:
    """Copy analysis folder ``src`` to ``dst`` and add fixture angles, reps, findings and joints."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    report = json.loads((dst / "report.json").read_text())
    fps = float(report["input"]["fps"])
    cols = fixture_angles(dst / "landmarks.csv")
    write_angles_csv(dst / "angles.csv", cols, view)
    reps = make_reps(cols, fps, view)
    report["movement"] = {"name": "squat", "decided_by": "fixture"}
    report["view"] = {"name": view, "facing": "camera", "warnings": ["fixture view warning <i>"]}
    report["reps"] = reps
    report["findings"] = make_findings(reps, cols, view)
    report["not_assessed"] = [{"rule": "lumbar_rounding", "reason": "needs a side view", "rep": None}]
    report["joints"] = [
        {"joint": "ankle", "role": "mobile", "seen": True, "status": "ok"},
        {"joint": "knee", "role": "stable", "seen": True, "status": "compensating"},
        {"joint": "hip", "role": "mobile", "seen": True, "status": "ok"},
        {"joint": "lumbar_spine", "role": "stable", "seen": False, "status": "not assessed"},
    ]
    report["pain"] = {"reported": "sharp pain <script>alert(1)</script> in the left knee",
                      "recommendation": "Stop and see a medical professional."}
    report["quality"]["warnings"] = list(report["quality"].get("warnings", [])) + ["fixture <warning>"]
    if video_name is not None:
        report["input"]["path"] = str(Path(report["input"]["path"]).parent / video_name)
    (dst / "report.json").write_text(json.dumps(report, indent=2))
    return dst
