"""Marker names: BlazePose's 33 landmarks against the names other tools use, as data.

Exports (TRC, C3D) name each landmark as Pose2Sim and Sports2D do (``LKnee``, ``RBigToe``...);
landmarks those tools do not have get a name in the same style (``LEyeInner``, ``MouthL``).
Imports accept those names, BlazePose's own (``left_knee``), OpenCap's video keypoints (the
same names as OpenPose's) and a few spellings of each, compared without case or punctuation.

Keypoint layouts of 2-D detectors (OpenPose BODY_25, HALPE_26, COCO-17, COCO-WholeBody-133) are
listed in order, so that a JSON keypoint array can be mapped to BlazePose rows.
"""

from __future__ import annotations

import re

#: BlazePose landmark -> exported marker name (Pose2Sim / Sports2D style).
EXPORT_NAMES: dict[str, str] = {
    "nose": "Nose",
    "left_eye_inner": "LEyeInner",
    "left_eye": "LEye",
    "left_eye_outer": "LEyeOuter",
    "right_eye_inner": "REyeInner",
    "right_eye": "REye",
    "right_eye_outer": "REyeOuter",
    "left_ear": "LEar",
    "right_ear": "REar",
    "mouth_left": "MouthL",
    "mouth_right": "MouthR",
    "left_shoulder": "LShoulder",
    "right_shoulder": "RShoulder",
    "left_elbow": "LElbow",
    "right_elbow": "RElbow",
    "left_wrist": "LWrist",
    "right_wrist": "RWrist",
    "left_pinky": "LPinky",
    "right_pinky": "RPinky",
    "left_index": "LIndex",
    "right_index": "RIndex",
    "left_thumb": "LThumb",
    "right_thumb": "RThumb",
    "left_hip": "LHip",
    "right_hip": "RHip",
    "left_knee": "LKnee",
    "right_knee": "RKnee",
    "left_ankle": "LAnkle",
    "right_ankle": "RAnkle",
    "left_heel": "LHeel",
    "right_heel": "RHeel",
    # BlazePose's "foot index" is the tip of the foot; Pose2Sim/Sports2D call that point BigToe
    "left_foot_index": "LBigToe",
    "right_foot_index": "RBigToe",
}

#: Markers that exports add, computed from two landmarks (midpoint), because Pose2Sim's and
#: Sports2D's models use them. Imports ignore them.
DERIVED_MARKERS: dict[str, tuple[str, str]] = {
    "Hip": ("left_hip", "right_hip"),
    "Neck": ("left_shoulder", "right_shoulder"),
}

# Other spellings accepted on import, per BlazePose landmark.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "left_foot_index": ("LFootIndex", "LToe", "LBigToe"),
    "right_foot_index": ("RFootIndex", "RToe", "RBigToe"),
    "mouth_left": ("LMouth",),
    "mouth_right": ("RMouth",),
}

#: Names other tools use for points BlazePose does not have (ignored on import, listed in the
#: import's provenance as "not used").
NO_BLAZEPOSE_EQUIVALENT = frozenset({"neck", "head", "hip", "midhip", "lsmalltoe", "rsmalltoe"})


def normalise(name: str) -> str:
    """Lower case without spaces, dots, dashes or underscores: ``'L_Knee'`` -> ``'lknee'``.

    >>> normalise("L.Knee_study")
    'lkneestudy'
    """
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _import_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for bp, export in EXPORT_NAMES.items():
        spellings = (bp, export, *_SYNONYMS.get(bp, ()))
        if bp.startswith(("left_", "right_")):
            side, rest = bp.split("_", 1)
            spellings += (side[0] + "_" + rest, rest + "_" + side, side + rest)
        for s in spellings:
            table.setdefault(normalise(s), bp)
    return table


IMPORT_NAMES: dict[str, str] = _import_table()


def blazepose_name(marker: str) -> str | None:
    """The BlazePose landmark a marker name stands for, or None.

    >>> blazepose_name("LKnee"), blazepose_name("left_knee"), blazepose_name("RBigToe")
    ('left_knee', 'left_knee', 'right_foot_index')
    >>> blazepose_name("Neck") is None
    True
    """
    return IMPORT_NAMES.get(normalise(marker))


# Keypoint layouts of 2-D detectors, in array order (None: no BlazePose equivalent).
_COCO17 = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)
LAYOUTS: dict[str, tuple[str | None, ...]] = {
    # OpenPose BODY_25: Nose, Neck, RShoulder ... MidHip ... LBigToe, LSmallToe, LHeel, RBigToe ...
    "BODY_25": (
        "nose", None, "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
        "left_elbow", "left_wrist", None, "right_hip", "right_knee", "right_ankle", "left_hip",
        "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear",
        "left_foot_index", None, "left_heel", "right_foot_index", None, "right_heel",
    ),
    # HALPE_26 (RTMPose/AlphaPose body with feet): COCO-17, Head, Neck, Hip, then the feet
    "HALPE_26": _COCO17 + (
        None, None, None, "left_foot_index", "right_foot_index", None, None, "left_heel",
        "right_heel",
    ),
    "COCO_17": _COCO17,
    # COCO-WholeBody (RTMPose wholebody): COCO-17, six foot points, then face and hands
    "COCO_133": _COCO17 + (
        "left_foot_index", None, "left_heel", "right_foot_index", None, "right_heel",
    ) + (None,) * 110,
}
LAYOUT_BY_COUNT: dict[int, str] = {len(v): k for k, v in LAYOUTS.items()}
