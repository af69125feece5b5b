"""The 33 BlazePose landmarks and the skeleton edges, as data."""

from __future__ import annotations

LANDMARK_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)
NUM_LANDMARKS = len(LANDMARK_NAMES)
INDEX: dict[str, int] = {name: i for i, name in enumerate(LANDMARK_NAMES)}

FACE: tuple[int, ...] = tuple(range(0, 11))

SKELETON_EDGES: tuple[tuple[str, str], ...] = (
    ("left_shoulder", "right_shoulder"),
    ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"),
    ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"),
    ("left_hip", "right_hip"),
    ("left_hip", "left_knee"),
    ("left_knee", "left_ankle"),
    ("left_ankle", "left_heel"),
    ("left_heel", "left_foot_index"),
    ("left_ankle", "left_foot_index"),
    ("right_hip", "right_knee"),
    ("right_knee", "right_ankle"),
    ("right_ankle", "right_heel"),
    ("right_heel", "right_foot_index"),
    ("right_ankle", "right_foot_index"),
    ("left_ear", "left_shoulder"),
    ("right_ear", "right_shoulder"),
)
SKELETON_EDGE_INDICES: tuple[tuple[int, int], ...] = tuple(
    (INDEX[a], INDEX[b]) for a, b in SKELETON_EDGES
)


def mirror_index(i: int) -> int:
    """Return the index of the landmark on the other side of the body.

    >>> LANDMARK_NAMES[mirror_index(INDEX["left_knee"])]
    'right_knee'
    >>> mirror_index(0)
    0
    """
    name = LANDMARK_NAMES[i]
    if name.startswith("left_"):
        return INDEX["right_" + name[5:]]
    if name.startswith("right_"):
        return INDEX["left_" + name[6:]]
    if name in ("mouth_left", "mouth_right"):
        return INDEX["mouth_right" if name == "mouth_left" else "mouth_left"]
    return i
