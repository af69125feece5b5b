"""Folders of OpenPose / RTMPose JSON files (one file per frame) as BlazePose landmarks.

Each file is OpenPose's output format: ``{"people": [{"pose_keypoints_2d": [x0, y0, c0, x1, ...],
...}]}``, the frame number being the last number in the file name (``clip_000000000012_keypoints
.json``). The keypoint layout is told by the count: 25 = BODY_25, 26 = HALPE_26, 17 = COCO-17,
133 = COCO-WholeBody (:data:`movescreen.interop.names.LAYOUTS`). Points with confidence 0 are
missing (OpenPose writes them as 0, 0, 0).

When a person also has ``pose_keypoints_3d`` (``x, y, z, c`` per keypoint, as OpenPose's 3-D
reconstruction writes), those become the world landmarks (y down, as OpenPose's camera frame and
MediaPipe's), converted to metres (millimetres are recognised from the size of the body) and
centred between the hips in every frame. Without it there are no world landmarks: the measures
that need them are "not assessed", and from the front no repetition can be found.

With several people in a frame, the one followed is the largest in the first frame with anyone,
then in each frame the one nearest to where it was.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from movescreen.errors import InputError
from movescreen.interop.names import LAYOUT_BY_COUNT, LAYOUTS
from movescreen.interop.trc import ImportedLandmarks
from movescreen.landmarks import INDEX, LANDMARK_NAMES, NUM_LANDMARKS
from movescreen.types import LandmarkSequence


def json_files(folder: Path) -> list[Path]:
    """The ``*.json`` files of a folder in frame order (the last number in the name)."""
    def key(p: Path) -> tuple[int, str]:
        nums = re.findall(r"\d+", p.stem)
        return (int(nums[-1]) if nums else -1, p.name)

    return sorted(folder.glob("*.json"), key=key)


def is_openpose_folder(path: str | os.PathLike[str]) -> bool:
    """A folder whose first JSON file has a ``people`` list."""
    p = Path(path)
    if not p.is_dir():
        return False
    files = json_files(p)
    if not files:
        return False
    try:
        return isinstance(json.loads(files[0].read_text(encoding="utf-8")).get("people"), list)
    except (OSError, ValueError, AttributeError):
        return False


def _centre(kp: np.ndarray) -> np.ndarray:
    ok = kp[:, 2] > 0
    return kp[ok, :2].mean(axis=0) if ok.any() else np.array([np.nan, np.nan])


def _size(kp: np.ndarray) -> float:
    ok = kp[:, 2] > 0
    if ok.sum() < 2:
        return 0.0
    span = kp[ok, :2].max(axis=0) - kp[ok, :2].min(axis=0)
    return float(span[0] * span[1])


def read_openpose_folder(path: str | os.PathLike[str], *, fps: float | None = None,
                         width: int | None = None, height: int | None = None) -> ImportedLandmarks:
    """Read a folder of OpenPose-format JSON files (OpenPose, RTMPose via Pose2Sim, AlphaPose).

    Parameters
    ----------
    path : path-like
        The folder.
    fps : float, optional
        Frame rate; JSON files do not carry one (30 is assumed and said in the warnings).
    width, height : int, optional
        Frame size in pixels; estimated from the coordinates when not given.
    """
    folder = Path(path)
    files = json_files(folder) if folder.is_dir() else []
    if not files:
        raise InputError(f"No JSON files in {folder}; expected one OpenPose-format file per frame.")
    warnings: list[str] = []
    if fps is None:
        fps = 30.0
        warnings.append("JSON keypoint files do not say their frame rate; 30 fps was assumed.")
    t_n = len(files)
    image = np.full((t_n, NUM_LANDMARKS, 3), np.nan)
    world = np.full((t_n, NUM_LANDMARKS, 3), np.nan)
    conf = np.zeros((t_n, NUM_LANDMARKS))
    layout_name: str | None = None
    frames = np.zeros(t_n, np.int64)
    prev: np.ndarray | None = None
    has_3d = False
    for r, f in enumerate(files):
        nums = re.findall(r"\d+", f.stem)
        frames[r] = int(nums[-1]) if nums else r
        try:
            people = json.loads(f.read_text(encoding="utf-8")).get("people") or []
        except (OSError, ValueError) as e:
            raise InputError(f"{f.name} is not valid JSON ({e}).") from e
        cands = []
        for person in people:
            flat = np.asarray(person.get("pose_keypoints_2d") or [], np.float64)
            if flat.size == 0 or flat.size % 3:
                continue
            n_kp = flat.size // 3
            if n_kp not in LAYOUT_BY_COUNT:
                raise InputError(f"{f.name}: {n_kp} keypoints per person; expected "
                                 f"{', '.join(f'{len(v)} ({k})' for k, v in LAYOUTS.items())}.")
            cands.append((flat.reshape(n_kp, 3), person))
        if not cands:
            continue
        if prev is None or not np.isfinite(prev).all():
            kp, person = max(cands, key=lambda c: _size(c[0]))
        else:
            kp, person = min(cands, key=lambda c: float(np.nan_to_num(np.linalg.norm(_centre(c[0]) - prev), nan=1e12)))
        prev = _centre(kp)
        layout_name = LAYOUT_BY_COUNT[len(kp)]
        layout = LAYOUTS[layout_name]
        flat3 = np.asarray(person.get("pose_keypoints_3d") or [], np.float64)
        kp3 = flat3.reshape(-1, 4) if flat3.size == 4 * len(kp) else None
        for k, name in enumerate(layout):
            if name is None or kp[k, 2] <= 0:
                continue
            i = INDEX[name]
            image[r, i, :2], image[r, i, 2], conf[r, i] = kp[k, :2], 0.0, min(kp[k, 2], 1.0)
            if kp3 is not None and kp3[k, 3] > 0:
                world[r, i] = kp3[k, :3]
                has_3d = True
    if layout_name is None:
        raise InputError(f"No person with keypoints in the {t_n} JSON files of {folder.name}.")
    conversion = ["picture = pose_keypoints_2d (pixels, y down)", "visibility = keypoint confidence"]
    if has_3d:
        lh, rh = world[:, INDEX["left_hip"]], world[:, INDEX["right_hip"]]
        torso = np.linalg.norm((world[:, INDEX["left_shoulder"]] + world[:, INDEX["right_shoulder"]]) / 2 - (lh + rh) / 2, axis=1)
        torso = torso[np.isfinite(torso)]
        if torso.size and np.median(torso) > 5:  # a torso longer than 5 units is not in metres
            world = world / 1000.0
            conversion.append("world = pose_keypoints_3d / 1000 (millimetres)")
        else:
            conversion.append("world = pose_keypoints_3d (metres)")
        mid = (lh + rh) / 2
        with np.errstate(invalid="ignore"):
            off = np.nanmedian(np.linalg.norm(mid, axis=1)) if np.isfinite(mid).any() else 0.0
        if np.isfinite(off) and off > 0.02:
            world = world - mid[:, None, :]
            conversion.append("world centred between the hips in every frame")
    else:
        warnings.append(f"{folder.name} has 2-D keypoints only (no pose_keypoints_3d): the measures "
                        "that need 3-D landmarks are not assessed, and from the front no repetition can be found.")
    missing = [n for n in LANDMARK_NAMES if n not in LAYOUTS[layout_name]]
    warnings.append(f"The {layout_name} layout has no point for {len(missing)} of BlazePose's 33 "
                    "landmarks; the rules that need them are not assessed.")
    xs, ys = image[..., 0][np.isfinite(image[..., 0])], image[..., 1][np.isfinite(image[..., 1])]
    if width is None or height is None:
        width = width or int(np.ceil(xs.max())) + 1
        height = height or int(np.ceil(ys.max())) + 1
        warnings.append(f"The frame size is not in JSON keypoint files; {width} x {height} px was estimated from the coordinates.")
    vis = conf.astype(np.float32)
    seq = LandmarkSequence(
        frame_index=frames, time_s=(frames - frames[0]) / float(fps),
        image_xyz=image.astype(np.float32), visibility=vis, presence=(conf > 0).astype(np.float32),
        world_xyz=world.astype(np.float32), width=int(width), height=int(height), fps=float(fps),
    )
    source: dict[str, object] = {
        "format": "openpose_json", "layout": layout_name, "files": len(files), "folder": folder.name,
        "landmarks_found": [n for n in LANDMARK_NAMES if n in LAYOUTS[layout_name]],
        "landmarks_missing": missing, "conversion": conversion, "world_landmarks": has_3d,
        "masks": "none: the back-outline and foot-on-mask measures are not made",
    }
    return ImportedLandmarks(seq, source, warnings)


def write_openpose_folder(folder: str | os.PathLike[str], seq: LandmarkSequence, *,
                          layout: str = "BODY_25", with_3d: bool = True) -> Path:
    """Write ``seq`` as OpenPose-format JSON files (for tests and for tools that read them).

    Points without a BlazePose equivalent (BODY_25's Neck, MidHip, small toes) are the midpoint
    of their neighbours where OpenPose defines them so (Neck, MidHip), else 0, 0, 0.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    names = LAYOUTS[layout]
    mids = {"BODY_25": {1: ("left_shoulder", "right_shoulder"), 8: ("left_hip", "right_hip")}}.get(layout, {})
    for r in range(len(seq)):
        kp2, kp3 = [], []
        for k, name in enumerate(names):
            pair = mids.get(k)
            if name is not None:
                xy, w, c = seq.image_xyz[r, INDEX[name], :2], seq.world_xyz[r, INDEX[name]], seq.visibility[r, INDEX[name]]
            elif pair is not None:
                a, b = INDEX[pair[0]], INDEX[pair[1]]
                xy, w = (seq.image_xyz[r, a, :2] + seq.image_xyz[r, b, :2]) / 2, (seq.world_xyz[r, a] + seq.world_xyz[r, b]) / 2
                c = min(seq.visibility[r, a], seq.visibility[r, b])
            else:
                xy, w, c = np.array([np.nan, np.nan]), np.full(3, np.nan), np.nan
            ok = bool(np.isfinite(xy).all() and np.isfinite(c))
            kp2 += [float(xy[0]), float(xy[1]), float(c)] if ok else [0.0, 0.0, 0.0]
            okw = ok and bool(np.isfinite(w).all())
            kp3 += [float(w[0]), float(w[1]), float(w[2]), float(c)] if okw else [0.0, 0.0, 0.0, 0.0]
        person: dict[str, object] = {"person_id": [-1], "pose_keypoints_2d": kp2}
        if with_3d:
            person["pose_keypoints_3d"] = kp3
        doc = {"version": 1.3, "people": [person] if np.isfinite(seq.image_xyz[r, :, 0]).any() else []}
        (out / f"clip_{int(seq.frame_index[r]):012d}_keypoints.json").write_text(json.dumps(doc))
    return out
