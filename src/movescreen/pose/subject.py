"""Choosing the subject when several people are seen.

Rule (documented in the README): the subject is the person the tracker follows. In the first
frame with anyone in it, that is the **largest** person (area of the box around their visible
landmarks). After that, in each frame, it is the candidate whose box **overlaps most** with the
subject's box in the previous frame with a pose (intersection over union); when nobody overlaps
(the subject left, or the tracker lost them), it is again the largest person. So the subject is
the largest person, kept consistently over time rather than re-chosen every frame.
"""

from __future__ import annotations

from collections.abc import Sequence

from movescreen.pose.backend import PoseCandidate

BBox = tuple[float, float, float, float]


def iou(a: BBox, b: BBox) -> float:
    """Intersection over union of two boxes (x0, y0, x1, y1).

    >>> iou((0, 0, 2, 2), (1, 0, 3, 2))
    0.3333333333333333
    >>> iou((0, 0, 1, 1), (5, 5, 6, 6))
    0.0
    """
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def choose_subject(
    candidates: Sequence[PoseCandidate], previous: BBox | None, *, min_iou: float = 0.2
) -> int | None:
    """Index of the subject among ``candidates``, or None when there is nobody.

    Parameters
    ----------
    candidates : sequence of PoseCandidate
        Everyone found in this frame.
    previous : (x0, y0, x1, y1) or None
        The subject's box in the last frame where they were found.
    min_iou : float
        Overlap below which a candidate is not taken to be the same person.
    """
    if not candidates:
        return None
    if previous is not None:
        overlaps = [iou(c.bbox(), previous) for c in candidates]
        best = max(range(len(candidates)), key=overlaps.__getitem__)
        if overlaps[best] >= min_iou:
            return best
    return max(range(len(candidates)), key=lambda i: candidates[i].area)


def count_others(candidates: Sequence[PoseCandidate], subject: BBox | None) -> int:
    """How many candidates are clearly not the subject (box overlap below 0.3)."""
    if subject is None:
        return max(0, len(candidates) - 1)
    return sum(1 for c in candidates if iou(c.bbox(), subject) < 0.3)
