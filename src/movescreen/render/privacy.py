"""Face blurring for every image and video movescreen writes (client videos are health data).

The face region is an ellipse around BlazePose's face landmarks 0-10 (nose, eyes, ears, mouth),
made generous so hair, chin and forehead are covered too. Where the face is not found in a
frame, the region last (or next) seen is blurred for a short while, so a missed detection does
not reveal the face for a frame.

:class:`EveryFaceBlur` blurs everyone's face, not only the analysed person's (bystanders, the
person filming, mirror reflections), with :class:`movescreen.pose.faces.FaceFinder`.
:func:`remove_unblurred_outputs` removes earlier unblurred images and videos that a
``--blur-faces`` run does not regenerate.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from movescreen.landmarks import FACE, INDEX

Image = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float64]

# Ellipse size relative to the spread of the face landmarks (ear to ear is about half a head's
# width with hair). Generous on purpose: a blurred shoulder costs nothing, a visible eye does.
WIDTH_FACTOR = 1.9
HEIGHT_FACTOR = 2.6
# Head height relative to shoulder width, used when the face landmarks are too close together
# (a face seen in profile has ear and nose nearly on top of each other).
MIN_FACE_FRACTION_OF_SHOULDERS = 0.55
MIN_RADIUS_PX = 12.0


def compute_face_region(row_xyz: npt.NDArray[np.floating]) -> FloatArray:
    """Ellipse around the face of one frame.

    Parameters
    ----------
    row_xyz : ndarray, shape (33, 3)
        Image landmarks in pixels (NaN when missing).

    Returns
    -------
    ndarray, shape (4,)
        ``(cx, cy, half_width, half_height)`` in pixels; all NaN when no face landmark is
        present.

    Examples
    --------
    >>> row = np.full((33, 3), np.nan); row[0, :2] = (100, 100)
    >>> bool(np.isfinite(compute_face_region(row)).all())
    True
    >>> bool(np.isnan(compute_face_region(np.full((33, 3), np.nan))).all())
    True
    """
    pts = np.asarray(row_xyz, np.float64)[list(FACE), :2]
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) == 0:
        return np.full(4, np.nan)
    cx, cy = pts.mean(axis=0)
    spread = float(np.max(np.ptp(pts, axis=0))) if len(pts) > 1 else 0.0
    ls, rs = row_xyz[INDEX["left_shoulder"], :2], row_xyz[INDEX["right_shoulder"], :2]
    shoulders = float(np.hypot(*(ls - rs))) if np.isfinite(ls).all() and np.isfinite(rs).all() else 0.0
    half_w = max(spread * WIDTH_FACTOR / 2 * 1.3, shoulders * MIN_FACE_FRACTION_OF_SHOULDERS / 2, MIN_RADIUS_PX)
    half_h = max(half_w * HEIGHT_FACTOR / WIDTH_FACTOR, spread * HEIGHT_FACTOR / 2)
    # the landmarks sit on the lower two thirds of the head: move the centre up a little
    return np.array([cx, cy - 0.15 * half_h, half_w, half_h])


def compute_face_regions(
    image_xyz: npt.NDArray[np.floating], time_s: npt.NDArray[np.floating], *, hold_s: float = 1.0
) -> FloatArray:
    """Face ellipses for a sequence, with gaps filled from the nearest frame seen within ``hold_s``.

    Parameters
    ----------
    image_xyz : ndarray, shape (T, 33, 3)
    time_s : ndarray, shape (T,), seconds
    hold_s : float
        How long a region last (or next) seen keeps being blurred where the face is missing.

    Returns
    -------
    ndarray, shape (T, 4)
        ``(cx, cy, half_width, half_height)``; NaN rows where no face was seen within
        ``hold_s``.
    """
    n = len(image_xyz)
    regions = np.array([compute_face_region(image_xyz[i]) for i in range(n)]).reshape(n, 4)
    seen = np.flatnonzero(np.isfinite(regions).all(axis=1))
    if seen.size == 0 or seen.size == n:
        return regions
    out = regions.copy()
    for i in np.flatnonzero(~np.isfinite(regions).all(axis=1)):
        k = int(np.argmin(np.abs(time_s[seen] - time_s[i])))
        j = seen[k]
        if abs(time_s[j] - time_s[i]) <= hold_s:
            out[i] = regions[j]
    return out


def blur_region(image: Image, region: npt.NDArray[np.floating]) -> Image:
    """Return a copy of ``image`` with the ellipse ``region`` (cx, cy, half_w, half_h) blurred.

    A NaN region returns an unchanged copy. The blur pixelates then smooths, so no feature
    survives at any zoom.
    """
    out = image.copy()
    if not np.isfinite(region).all():
        return out
    h, w = out.shape[:2]
    cx, cy, ax, ay = (float(v) for v in region)
    x0, x1 = max(0, int(cx - ax) - 2), min(w, int(cx + ax) + 3)
    y0, y1 = max(0, int(cy - ay) - 2), min(h, int(cy + ay) + 3)
    if x1 <= x0 or y1 <= y0:
        return out
    roi = out[y0:y1, x0:x1]
    rh, rw = roi.shape[:2]
    small = cv2.resize(roi, (max(1, rw // 16), max(1, rh // 16)), interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(small, (rw, rh), interpolation=cv2.INTER_LINEAR)
    k = max(3, (min(rw, rh) // 4) | 1)
    blurred = cv2.GaussianBlur(coarse, (k, k), 0)
    mask = np.zeros((rh, rw), np.uint8)
    cv2.ellipse(mask, (round(cx - x0), round(cy - y0)), (int(ax), int(ay)), 0, 0, 360, 255, -1)
    sel = mask > 0
    roi[sel] = blurred[sel]
    return out


def blur_faces(image: Image, image_xyz_row: npt.NDArray[np.floating]) -> Image:
    """Return a copy of ``image`` with the face found in ``image_xyz_row`` blurred.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), uint8
    image_xyz_row : ndarray, shape (33, 3)
        Image landmarks of this frame in pixels. When every face landmark is NaN the image is
        returned unchanged (use :func:`compute_face_regions` to carry a region over gaps).
    """
    return blur_region(image, compute_face_region(image_xyz_row))


# --- every face in the picture -------------------------------------------------------------


def blur_regions(image: Image, regions: Sequence[npt.NDArray[np.floating]]) -> Image:
    """Return a copy of ``image`` with every ellipse in ``regions`` blurred (NaN ones skipped)."""
    out = image.copy()
    for region in regions:
        out = blur_region(out, region)
    return out


class EveryFaceBlur:
    """Blurs every face in each frame: the subject's region plus everyone the face finder sees.

    Parameters
    ----------
    finder : object with ``find(image) -> list[region]``, optional
        Default: :class:`movescreen.pose.faces.FaceFinder` (the people scan with the bundled,
        checksum-verified pose model, plus OpenCV's face cascade), created on first use.
    hold_s : float
        A face found at time t stays blurred in frames within ``hold_s`` of t (before or after),
        so one missed detection does not show a face for a frame.
    scan_every_s : float
        Frames closer than this to the last scan reuse its faces (0 scans every frame).

    Examples
    --------
    >>> class Fake:
    ...     def find(self, image): return [np.array([10.0, 10.0, 5.0, 5.0])]
    >>> img = np.tile(np.arange(40, dtype=np.uint8) * 6, (40, 1))[..., None].repeat(3, 2)
    >>> out = EveryFaceBlur(Fake()).apply(img, 0.0)
    >>> bool((out[10, 5:15] != img[10, 5:15]).any()), bool((out[30, 30:35] == img[30, 30:35]).all())
    (True, True)
    """

    def __init__(self, finder: Any = None, *, hold_s: float = 0.5, scan_every_s: float = 0.1) -> None:
        self._finder = finder
        self.hold_s = hold_s
        self.scan_every_s = scan_every_s
        self._seen: list[tuple[float, list[FloatArray]]] = []

    @property
    def finder(self) -> Any:
        if self._finder is None:
            from movescreen.pose.faces import FaceFinder  # loads the model: only when used

            self._finder = FaceFinder()
        return self._finder

    def regions(self, image: Image, time_s: float) -> list[FloatArray]:
        """Faces found in this frame plus those found within ``hold_s`` of ``time_s``.

        The scan runs at most once per ``scan_every_s`` of video (it costs about 0.2 s a frame
        on 2 CPU cores); between scans the regions found within ``hold_s`` are blurred.
        """
        if not any(abs(t - time_s) < self.scan_every_s for t, _ in self._seen):
            found = [np.asarray(r, np.float64) for r in self.finder.find(image)]
            self._seen = [(t, rs) for t, rs in self._seen if abs(t - time_s) <= 10 * self.hold_s][-64:]
            self._seen.append((time_s, found))
        near = [r for t, rs in self._seen if abs(t - time_s) <= self.hold_s for r in rs]
        return near

    def apply(self, image: Image, time_s: float, subject_region: npt.NDArray[np.floating] | None = None) -> Image:
        """Return a copy of ``image`` with every face blurred (and ``subject_region``, if given)."""
        regions = self.regions(image, time_s)
        if subject_region is not None:
            regions.append(np.asarray(subject_region, np.float64))
        return blur_regions(image, regions)

    def close(self) -> None:
        close = getattr(self._finder, "close", None)
        if close is not None:
            close()


# --- nothing unblurred left behind -----------------------------------------------------------

#: Images and videos that movescreen writes into an analysis folder (and only those: a file the
#: user put there, such as the source clip, is never removed).
WRITTEN_MEDIA: tuple[str, ...] = ("annotated.mp4", "session.mp4", "frames/*.png", "frames/*.jpg")


def remove_unblurred_outputs(folder: str | os.PathLike[str], *, keep: Iterable[str] = ()) -> list[str]:
    """Remove the images and videos movescreen wrote earlier into ``folder`` that this run does
    not regenerate blurred.

    Call it at the start of a ``--blur-faces`` run (analyze, report, batch), with ``keep`` the
    outputs that run will write again with faces blurred; an earlier unblurred
    ``annotated.mp4`` or key frame would otherwise stay on disk and be shown by ``report.html``.

    Parameters
    ----------
    folder : path
        One analysis folder (``--out``).
    keep : iterable of str
        Paths relative to ``folder`` (``"annotated.mp4"``, ``"frames"`` for the whole key-frame
        folder) that the run regenerates; they are left for the run to overwrite.

    Returns
    -------
    list of str
        The removed paths, relative to ``folder``, sorted; the report should list them
        (:func:`describe_removed`).

    Raises
    ------
    OSError
        When a file cannot be removed (the caller must then refuse to go on: an unblurred
        image would be left behind).
    """
    base = Path(folder)
    kept = {str(k).strip("/") for k in keep}
    removed: list[str] = []
    if not base.is_dir():
        return removed
    for pattern in WRITTEN_MEDIA:
        for p in sorted(base.glob(pattern)):
            rel = p.relative_to(base).as_posix()
            if rel in kept or rel.split("/", 1)[0] in kept or not p.is_file():
                continue
            p.unlink()
            removed.append(rel)
    frames = base / "frames"
    if "frames" not in kept and frames.is_dir() and not any(frames.iterdir()):
        frames.rmdir()
    return sorted(removed)


def describe_removed(removed: list[str]) -> str | None:
    """One sentence for the report about what :func:`remove_unblurred_outputs` removed."""
    if not removed:
        return None
    shown = ", ".join(removed[:5]) + (f" and {len(removed) - 5} more" if len(removed) > 5 else "")
    return (
        f"Faces are blurred: {len(removed)} earlier output(s) with unblurred faces were removed "
        f"({shown}) because this run did not regenerate them."
    )
