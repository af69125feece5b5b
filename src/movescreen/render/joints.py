"""Drawing data: which joint each rule points at, where a joint is on the skeleton, how an angle
column is drawn as an arc, and which columns are worth plotting. Data only, no drawing.

Point names are BlazePose landmark names, optionally with a ``{side}`` placeholder, or one of
the pseudo-points ``mid_hip`` / ``mid_shoulder`` (mean of left and right).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from movescreen.landmarks import INDEX

# Severity -> BGR colour (cv2) and CSS colour, lowest to highest.
SEVERITIES: tuple[str, ...] = ("note", "caution", "flag")
SEVERITY_BGR: dict[str, tuple[int, int, int]] = {
    "note": (235, 170, 40),  # blue
    "caution": (0, 165, 255),  # orange
    "flag": (40, 40, 230),  # red
}
SEVERITY_CSS: dict[str, str] = {"note": "#2874c8", "caution": "#d97706", "flag": "#c81e1e"}


@dataclass(frozen=True)
class Compensation:
    """Which joint a rule says compensated, and for which joint.

    Attributes
    ----------
    compensating : tuple of str
        Joints (keys of :data:`JOINT_POINTS`) that did the work; highlighted on the frames.
    instead_of : tuple of str
        Joints that should have moved (shown in text only).
    """

    compensating: tuple[str, ...]
    instead_of: tuple[str, ...]


# rule id -> compensation. Unknown rules highlight nothing but still show their text.
RULE_COMPENSATION: dict[str, Compensation] = {
    "lumbar_rounding": Compensation(("lumbar_spine",), ("hip",)),
    "lockout_hyperextension": Compensation(("lumbar_spine",), ("hip",)),
    "squatting_the_hinge": Compensation(("knee",), ("hip",)),
    "hips_rise_first": Compensation(("lumbar_spine",), ("hip",)),
    "knee_valgus": Compensation(("knee",), ("hip", "ankle")),
    "knee_twist": Compensation(("knee",), ("hip", "ankle")),
    "heel_lift": Compensation(("ankle", "foot"), ("ankle",)),
    "excessive_forward_lean": Compensation(("hip", "trunk"), ("ankle",)),
    "insufficient_depth": Compensation(("hip", "knee", "ankle"), ()),
    "asymmetry": Compensation(("pelvis",), ()),
}

# joint -> (points to ring, segments to thicken). "{side}" is filled with left/right.
JOINT_POINTS: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = {
    "ankle": (("{side}_ankle",), (("{side}_knee", "{side}_ankle"),)),
    "foot": (("{side}_heel", "{side}_foot_index"), (("{side}_heel", "{side}_foot_index"),)),
    "knee": (("{side}_knee",), (("{side}_hip", "{side}_knee"), ("{side}_knee", "{side}_ankle"))),
    "hip": (("{side}_hip",), ()),
    "pelvis": (("left_hip", "right_hip"), (("left_hip", "right_hip"),)),
    "lumbar_spine": (("mid_hip",), (("mid_hip", "mid_shoulder"),)),
    "trunk": (("mid_shoulder",), (("mid_hip", "mid_shoulder"),)),
}

# rule id -> angle column patterns to draw when a finding names no evidence column (first hit).
RULE_COLUMNS: dict[str, tuple[str, ...]] = {
    "lumbar_rounding": ("lumbar_flexion", "trunk_inclination"),
    "lockout_hyperextension": ("lumbar_flexion", "trunk_inclination"),
    "squatting_the_hinge": ("{side}_knee_flexion",),
    "hips_rise_first": ("trunk_inclination", "{side}_knee_flexion"),
    "knee_valgus": ("{side}_knee_fppa", "{side}_fppa", "knee_valgus", "knee_ankle_width"),
    "knee_twist": ("{side}_knee_foot", "knee_twist"),
    "heel_lift": ("heel_lift", "{side}_ankle_dorsiflexion"),
    "excessive_forward_lean": ("trunk_inclination",),
    "insufficient_depth": ("{side}_hip_flexion", "{side}_knee_flexion", "depth"),
    "asymmetry": ("pelvic_drop", "asymmetry"),
}


@dataclass(frozen=True)
class ArcGeometry:
    """How a column is drawn as an arc at a vertex.

    The arc runs from the ``reference`` direction to the ``moving`` direction around ``vertex``.
    ``reference`` is either a point name (direction vertex -> point), ``"extend:NAME"`` (the
    direction from NAME through the vertex, continued: straight limb = 0°, matching the
    flexion convention) or ``"up"`` (image vertical).
    """

    vertex: str
    reference: str
    moving: str


# column pattern (regex on the name without the side prefix) -> geometry
ARC_GEOMETRY: tuple[tuple[str, ArcGeometry], ...] = (
    (r"knee_flexion", ArcGeometry("{side}_knee", "extend:{side}_hip", "{side}_ankle")),
    (r"knee_fppa|^fppa", ArcGeometry("{side}_knee", "extend:{side}_hip", "{side}_ankle")),
    (r"hip_flexion", ArcGeometry("{side}_hip", "extend:{side}_knee", "{side}_shoulder")),
    (r"ankle_dorsiflexion", ArcGeometry("{side}_ankle", "up", "{side}_knee")),
    (r"trunk_inclination|lumbar", ArcGeometry("mid_hip", "up", "mid_shoulder")),
)

# joint word in a column name -> anchor point for the value label
LABEL_ANCHORS: tuple[tuple[str, str], ...] = (
    ("knee", "{side}_knee"),
    ("hip", "{side}_hip"),
    ("ankle", "{side}_ankle"),
    ("fppa", "{side}_knee"),
    ("trunk", "mid_shoulder"),
    ("lumbar", "mid_hip"),
    ("pelvic", "mid_hip"),
)

# Plot priority: regexes, first the most telling columns (issue: hip/knee flexion, trunk, lumbar,
# FPPA). Image-space columns first; world columns as a fallback.
PLOT_PRIORITY: tuple[str, ...] = (
    r"hip_flexion_image",
    r"knee_flexion_image",
    r"trunk_inclination_image",
    r"lumbar_flexion",
    r"fppa_image",
    r"knee_ankle_width_ratio",
    r"hip_flexion",
    r"knee_flexion",
    r"trunk_inclination",
    r"fppa",
    r"ankle_dorsiflexion_image",
    r"pelvic_drop_image",
)


def split_side(column: str) -> tuple[str, str]:
    """Split ``left_knee_flexion_image_deg`` into ``("left", "knee_flexion_image_deg")``.

    >>> split_side("right_hip_flexion_image_deg")
    ('right', 'hip_flexion_image_deg')
    >>> split_side("trunk_inclination_image_deg")
    ('none', 'trunk_inclination_image_deg')
    """
    for s in ("left", "right"):
        if column.startswith(s + "_"):
            return s, column[len(s) + 1 :]
    return "none", column


def fill_side(name: str, side: str) -> list[str]:
    """Resolve ``{side}`` in a point name: 'both'/'none' give both sides."""
    if "{side}" not in name:
        return [name]
    sides = [side] if side in ("left", "right") else ["left", "right"]
    return [name.replace("{side}", s) for s in sides]


def point_xy(name: str, row_xyz: npt.NDArray[np.floating]) -> tuple[float, float] | None:
    """Pixel position of a landmark or pseudo-point in one frame; None when missing.

    Parameters
    ----------
    name : str
        A BlazePose name, ``mid_hip`` or ``mid_shoulder`` (no ``{side}`` placeholder).
    row_xyz : ndarray, shape (33, 3)
        Image landmarks of one frame (NaN when missing).
    """
    if name in ("mid_hip", "mid_shoulder"):
        part = name[4:]
        a, b = row_xyz[INDEX[f"left_{part}"], :2], row_xyz[INDEX[f"right_{part}"], :2]
        if not (np.isfinite(a).all() and np.isfinite(b).all()):
            return None
        return float((a[0] + b[0]) / 2), float((a[1] + b[1]) / 2)
    if name not in INDEX:
        return None
    p = row_xyz[INDEX[name], :2]
    if not np.isfinite(p).all():
        return None
    return float(p[0]), float(p[1])


def arc_geometry_for(column: str) -> tuple[str, ArcGeometry] | None:
    """Side and arc geometry for an angle column, or None when it has no simple geometry."""
    side, rest = split_side(column)
    for pattern, geom in ARC_GEOMETRY:
        if re.search(pattern, rest):
            return side, geom
    return None


def label_anchor_for(column: str) -> str | None:
    """Point where the value of ``column`` is written on the frame (resolved side), or None."""
    side, rest = split_side(column)
    for word, anchor in LABEL_ANCHORS:
        if word in rest:
            if "{side}" in anchor and side == "none":
                return None
            return anchor.replace("{side}", side)
    return None


def short_label(column: str) -> str:
    """A few letters for on-frame labels: ``left_knee_flexion_image_deg`` -> ``knee``."""
    _, rest = split_side(column)
    rest = re.sub(r"_(image|world)?_?(deg|ratio)$", "", rest)
    rest = re.sub(r"_(image|world)$", "", rest)
    words = {
        "knee_flexion": "knee",
        "hip_flexion": "hip",
        "trunk_inclination": "trunk",
        "ankle_dorsiflexion": "ankle",
        "knee_fppa": "FPPA",
        "fppa": "FPPA",
        "lumbar_flexion_est": "lumbar",
        "pelvic_drop": "pelvis",
    }
    return words.get(rest, rest.replace("_", " "))


def select_plot_columns(columns: list[str], *, limit: int = 8, space: str = "image") -> list[str]:
    """Pick the columns worth plotting, most telling first (see :data:`PLOT_PRIORITY`).

    ``space`` ('image' or 'world') says which measurements the analysis trusts for this view
    (``report["view"]["angle_space"]``); its columns come first.

    >>> select_plot_columns(["frame", "left_knee_flexion_image_deg", "foo",
    ...                      "left_hip_flexion_image_deg", "left_knee_flexion_world_deg"])
    ['left_hip_flexion_image_deg', 'left_knee_flexion_image_deg', 'left_knee_flexion_world_deg']
    """
    chosen: list[str] = []
    other = "world" if space == "image" else "image"
    patterns = [p.replace("_image", f"_{space}") for p in PLOT_PRIORITY]
    patterns += [p.replace("_image", f"_{other}") for p in PLOT_PRIORITY]
    for pattern in patterns:
        for c in sorted(columns):
            if c not in chosen and re.search(pattern, c):
                chosen.append(c)
    return chosen[:limit]


def columns_for_finding(
    finding: dict[str, object], columns: list[str], *, space: str = "image"
) -> list[str]:
    """Angle columns that show a finding: its ``evidence["column"]`` first, then by rule
    (columns of ``space`` first)."""
    out: list[str] = []
    ev = finding.get("evidence")
    if isinstance(ev, dict):
        col = ev.get("column")
        if isinstance(col, str) and col in columns:
            out.append(col)
    side = str(finding.get("side") or "none")
    for pattern in RULE_COLUMNS.get(str(finding.get("rule")), ()):
        for p in fill_side(pattern, side):
            for c in sorted(columns, key=lambda c: (f"_{space}" not in c, c)):
                if p in c and c not in out:
                    out.append(c)
    return out
