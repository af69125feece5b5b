"""Find every face in a frame (not only the analysed person's), for ``--blur-faces``.

No dedicated face-detection model is bundled: BlazeFace (``blaze_face_short_range.tflite``) is
not shipped by any installed package here and movescreen downloads nothing at run time. So two
detectors that are already on disk are combined:

1. **The people scan**: the bundled, checksum-verified pose model (``resolve_model``) in IMAGE
   mode with ``num_poses`` people per frame and low detection thresholds; each pose's face
   landmarks (nose, eyes, ears, mouth) give an ellipse (:func:`compute_face_region`). This finds
   bystanders, the person filming and mirror reflections whenever their body is in the picture.
2. **OpenCV's frontal-face Haar cascade** (``haarcascade_frontalface_default.xml``, shipped in
   the opencv-contrib-python wheel, BSD licence; its sha256 is checked against the value below
   and the cascade is skipped when it differs): finds faces whose body is cut off (a head at the
   frame edge, a face in a small mirror).

Both err on the side of blurring: a false detection blurs a patch of wall, a missed one leaves
a face. Neither is perfect; see docs/reliability.md for the measured limits.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from movescreen.render.privacy import compute_face_region

Image = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float64]

HAAR_NAME = "haarcascade_frontalface_default.xml"
# the file as shipped by opencv-contrib-python 4.8 - 5.1 (unchanged upstream since 2013)
HAAR_SHA256 = "0f7d4527844eb514d4a4948e822da90fbb16a34a0bbbbc6adc6498747a5aafb0"
# Haar runs on a copy scaled so its longer side is this many pixels (speed; faces < 20 px there
# are not found)
HAAR_MAX_SIDE_PX = 640
# the people scan's face ellipses are made this much larger than the subject's
GROW = 1.35


def _haar_path() -> Path | None:
    try:
        import cv2

        p = Path(cv2.data.haarcascades) / HAAR_NAME  # type: ignore[attr-defined]
    except (ImportError, AttributeError):
        return None
    if not p.is_file() or hashlib.sha256(p.read_bytes()).hexdigest() != HAAR_SHA256:
        return None
    return p


class FaceFinder:
    """Face ellipses of everyone visible in a frame.

    Parameters
    ----------
    model : ModelFile, optional
        The pose model (default: the bundled one, checksum-verified).
    max_people : int
        People the scan looks for per frame.
    haar : bool
        Also run the Haar face cascade (when its checksum matches).
    tiles : bool
        Also scan three overlapping halves of the frame (small people; 4x the scan's cost).

    Notes
    -----
    Each call to :meth:`find` is independent (IMAGE mode), so frames may come in any order
    (key frames are written out of order).
    """

    def __init__(self, model: Any = None, *, max_people: int = 4, haar: bool = True, tiles: bool = True) -> None:
        import cv2

        from movescreen.pose.mediapipe_backend import MediaPipePoseBackend
        from movescreen.pose.model import resolve_model

        self._cv2 = cv2
        self.tiles = tiles
        self._backend = MediaPipePoseBackend(
            model if model is not None else resolve_model(),
            num_poses=max_people,
            video_mode=False,
            min_detection_confidence=0.3,
            min_presence_confidence=0.3,
        )
        path = _haar_path() if haar else None
        self.haar_used = path is not None
        self._cascade = cv2.CascadeClassifier(str(path)) if path is not None else None

    def find(self, image: Image) -> list[FloatArray]:
        """Ellipses ``(cx, cy, half_width, half_height)`` in pixels, one per face found.

        The people scan runs on the whole frame and, when ``tiles``, on three overlapping
        halves along the frame's long side: the pose detector misses small people (the
        person filming, seen in a mirror) in the whole frame but finds them in a half.
        """
        regions = []
        h, w = image.shape[:2]
        views = [(0, 0, image)]
        if self.tiles:
            long_side = max(h, w)
            half = long_side // 2
            for off in (0, long_side // 4, long_side - half):
                if h >= w:
                    views.append((0, off, np.ascontiguousarray(image[off : off + half])))
                else:
                    views.append((off, 0, np.ascontiguousarray(image[:, off : off + half])))
        for x0, y0, view in views:
            for cand in self._backend.process(view, 0):
                region = compute_face_region(cand.image_xyz)
                if np.isfinite(region).all():
                    region[0] += x0
                    region[1] += y0
                    region[2:] *= GROW  # low-confidence poses of small people: be generous
                    regions.append(region)
        if self._cascade is not None:
            regions += self._haar(image)
        return regions

    def _haar(self, image: Image) -> list[FloatArray]:
        cv2 = self._cv2
        h, w = image.shape[:2]
        scale = min(1.0, HAAR_MAX_SIDE_PX / max(h, w))
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if scale < 1.0:
            gray = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        boxes = self._cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=4, minSize=(16, 16))  # type: ignore[union-attr]
        out = []
        for x, y, bw, bh in np.asarray(boxes).reshape(-1, 4):
            cx, cy = (x + bw / 2) / scale, (y + bh / 2) / scale
            # the cascade's box covers brows to mouth: grow it to the whole head
            out.append(np.array([cx, cy - 0.1 * bh / scale, 0.75 * bw / scale, 1.0 * bh / scale]))
        return out

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> FaceFinder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
