"""The one per-frame step shared by ``analyze``, ``batch`` and ``live``.

frame -> (letterbox rule) -> pose -> subject choice -> landmarks row, plus the work that needs
the subject's segmentation mask while it is fresh: the back-outline trace (both facings, because
the facing is only known from the whole clip; the caller picks one later) and the feet-on-mask
check. Masks are handed to the caller in :class:`FrameResult` and never accumulated here.
Every frame also gets a small picture signature, compared with the previous frame's
(``FrameResult.frame_change``): a spike is a cut between shots.

The letterbox rule: the content box (the picture inside black bars) is found from the first
:data:`LETTERBOX_FRAMES` frames, once, and the model then runs inside it for the rest of the
clip. So ``update`` holds the first frames back (returns ``[]``) until it has seen that many,
then returns their results at once; ``flush`` returns what is held when the clip is shorter.
A caller that must answer at once (live) may pass ``letterbox_frames=1``.

Work that does not depend on earlier frames (the picture signature, the model's RGB input) can
be done ahead, on another thread, by :meth:`FrameStep.prepare`; the step gives the same results
for a :class:`PreparedFrame` as for the plain frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from movescreen.kinematics.shots import frame_signature, is_new_shot, signature_change
from movescreen.landmarks import NUM_LANDMARKS
from movescreen.pose.backend import PoseBackend, PoseCandidate
from movescreen.pose.subject import BBox, choose_subject, count_others
from movescreen.sources import bar_profile, content_box_from_profiles, detect_content_box
from movescreen.types import Box, Frame, MaskCrop

LETTERBOX_FRAMES = 12  # frames the content box is found from (analyze, batch and live alike)
FACINGS = ("left", "right")

_NAN3 = np.full((NUM_LANDMARKS, 3), np.nan, np.float32)
_NAN1 = np.full(NUM_LANDMARKS, np.nan, np.float32)


@dataclass(frozen=True)
class FrameResult:
    """What one frame gave.

    Attributes
    ----------
    index, time_s : int, float
        The frame's number and time (from :class:`movescreen.types.Frame`).
    image_xyz, world_xyz : ndarray (33, 3) float32
        The subject's landmarks (NaN when nobody was found).
    visibility, presence : ndarray (33,) float32
    has_pose : bool
    bbox : (x0, y0, x1, y1) or None
        The subject's box (None without a pose).
    people : int
        Candidates the tracker returned in this frame (0, 1, ...).
    others : int
        Of those, how many are clearly not the subject.
    mask : MaskCrop or None
        The subject's mask in this frame (only when the backend gives masks). The step does not
        keep it; drop it once used.
    mask_columns : dict[str, float]
        Per-frame numbers measured on the mask: ``left_foot_in_mask``, ``right_foot_in_mask``
        (1.0 / 0.0). Empty without a mask.
    back : dict or None
        ``{"left": trace or None, "right": trace or None}`` with
        :func:`movescreen.kinematics.back_contour.trace_back_frame` results for either facing;
        None without a mask.
    frame_change : float
        How much the picture changed since the previous frame (0 same .. 1 nothing in common;
        :func:`movescreen.kinematics.shots.signature_change`); NaN for the first frame. A cut
        between shots shows as a spike.
    """

    index: int
    time_s: float
    image_xyz: npt.NDArray[np.float32]
    world_xyz: npt.NDArray[np.float32]
    visibility: npt.NDArray[np.float32]
    presence: npt.NDArray[np.float32]
    has_pose: bool
    bbox: BBox | None
    people: int
    others: int
    mask: MaskCrop | None = None
    mask_columns: dict[str, float] = field(default_factory=dict)
    back: dict[str, dict[str, Any] | None] | None = None
    frame_change: float = float("nan")


@dataclass(frozen=True)
class PreparedFrame(Frame):
    """A :class:`Frame` with the per-frame work that does not depend on earlier frames done.

    Made by :func:`prepare_frame` / :meth:`FrameStep.prepare`, typically on the thread that
    decodes, so the thread that infers only infers. :class:`FrameStep` takes it wherever it
    takes a ``Frame`` and gives the same results as for the plain frame.

    Attributes
    ----------
    signature : ndarray (80,) float32
        :func:`movescreen.kinematics.shots.frame_signature` of ``image``.
    model_input : object or None
        The backend's ``prepare(image)`` (see :class:`movescreen.pose.backend.PreparingBackend`),
        or None (the backend makes its own).
    bars : (ndarray, ndarray) or None
        :func:`movescreen.sources.bar_profile` of ``image`` (for the letterbox rule), or None.
    """

    signature: npt.NDArray[np.float32] | None = None
    model_input: Any = None
    bars: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None

    def plain(self) -> Frame:
        """The frame without the prepared parts (to keep a frame without its model input)."""
        return Frame(self.index, self.time_s, self.image)


def prepare_frame(
    frame: Frame, backend: PoseBackend | None = None, *, bars: bool = False
) -> PreparedFrame:
    """Do ``frame``'s preparatory work: its picture signature, the backend's model input when
    ``backend`` offers ``prepare``, and its :func:`~movescreen.sources.bar_profile` when
    ``bars``. Pure apart from reading ``backend.crop``; safe from any thread.
    """
    prepare = getattr(backend, "prepare", None)
    return PreparedFrame(frame.index, frame.time_s, frame.image, frame_signature(frame.image),
                         prepare(frame.image) if prepare is not None else None,
                         bar_profile(frame.image) if bars else None)


class FrameStep:
    """Pose -> subject -> row (+ mask work) for one frame at a time.

    Parameters
    ----------
    backend : PoseBackend
        The tracking backend (VIDEO mode); its ``crop`` is set from the letterbox rule.
    detect_bars : bool
        Apply the letterbox rule (False: the model sees the whole frame).
    letterbox_frames : int
        Frames the content box is found from (default :data:`LETTERBOX_FRAMES`).
    mask_work : bool
        Trace the back outline and check the feet on each mask (True when the backend gives
        masks; False skips it, e.g. when a caller does its own).
    facings : tuple of str
        Which facings to trace (default both; a caller that knows the facing passes one).
    on_content_box : callable(Box or None), optional
        Called once when the content box is decided.
    reset_on_cut : bool
        At a cut between shots (:func:`movescreen.kinematics.shots.is_new_shot`), show the
        tracker an empty picture first so it detects the person afresh instead of following
        the previous shot's position (default True).

    Examples
    --------
    >>> step = FrameStep(backend)                            # doctest: +SKIP
    >>> for frame in source:                                 # doctest: +SKIP
    ...     for result in step.update(frame): use(result)
    >>> for result in step.flush(): use(result)              # doctest: +SKIP
    """

    def __init__(
        self,
        backend: PoseBackend,
        *,
        detect_bars: bool = True,
        letterbox_frames: int = LETTERBOX_FRAMES,
        mask_work: bool = True,
        facings: tuple[str, ...] = FACINGS,
        on_content_box: Callable[[Box | None], None] | None = None,
        reset_on_cut: bool = True,
    ) -> None:
        self.backend = backend
        self.detect_bars = detect_bars
        self.letterbox_frames = max(1, int(letterbox_frames))
        self.mask_work = mask_work
        self.facings = facings
        self.on_content_box = on_content_box
        self.content_box: Box | None = None
        self.decided = not detect_bars
        self.prev_box: BBox | None = None
        self._held: list[Frame] = []
        self.frames = 0
        self._prev_signature: npt.NDArray[np.float32] | None = None
        self._prev_change = float("nan")
        self.reset_on_cut = reset_on_cut
        self.cuts = 0
        self._early_box: tuple[Box | None] | None = None  # the crop update_early used
        self._reset_next = False

    # ------------------------------------------------------------------ public API

    def update(self, frame: Frame) -> list[FrameResult]:
        """Feed one frame; return the results that are ready (in frame order).

        Before the content box is decided the frame is held and ``[]`` returned; the frame that
        decides it returns every held frame's result.
        """
        if not self.decided:
            self._held.append(frame)
            if len(self._held) < self.letterbox_frames:
                return []
            return self._release()
        return [self._process(frame)]

    def flush(self) -> list[FrameResult]:
        """Results of frames still held (a clip shorter than the letterbox window)."""
        if self.decided or (self._early_box is not None and not self._held):
            return []  # nothing held (update_early inferred the frames as they came)
        return self._release()

    def prepare(self, frame: Frame) -> PreparedFrame:
        """``frame`` with its preparatory work done (:class:`PreparedFrame`); safe to call from
        another thread (e.g. the one that decodes) while this step runs.

        The model input is made only once the content box is decided (it depends on it); until
        then, and for backends without ``prepare``, ``update`` makes it as usual. Until then the
        frame's part of the letterbox rule (:func:`~movescreen.sources.bar_profile`) is made
        instead.
        """
        decided = self.decided
        return prepare_frame(frame, self.backend if decided else None,
                             bars=self.detect_bars and not decided)

    def update_early(self, frame: Frame) -> FrameResult:
        """Infer ``frame`` at once while the content box is not decided yet.

        For a caller that cannot hold frames back (live, paced or from a camera): it keeps the
        first frames for :meth:`decide_content_box` itself and has each of them inferred here,
        inside the box the letterbox rule gives on the first frame alone. The rule on all the
        frames (what :meth:`update` and ``analyze`` use) normally gives the same box; where it
        does not, the tracker is reset before the next frame, as at a cut, so that it does not
        follow the person with coordinates of the other crop.
        """
        if self.decided:  # also from the start without the letterbox rule (detect_bars=False)
            raise RuntimeError("the content box is decided: use update()")
        if self._early_box is None:
            box = detect_content_box([frame.image]) if self.detect_bars else None
            self._early_box = (box,)
            self.backend.crop = box
        return self._process(frame)

    def decide_content_box(self, images: list[npt.NDArray[np.uint8]]) -> Box | None:
        """Apply the letterbox rule to these frames (normally called by ``update``)."""
        box = detect_content_box(images) if (self.detect_bars and images) else None
        self._set_content_box(box)
        return box

    def _set_content_box(self, box: Box | None) -> None:
        if self._early_box is not None and self._early_box[0] != box:
            self._reset_next = True  # the tracker followed the person in the other crop
        self.content_box = box
        self.backend.crop = box  # before ``decided``: prepare() reads them in this order
        self.decided = True
        if self.on_content_box is not None:
            self.on_content_box(box)

    # ------------------------------------------------------------------ internals

    def _release(self) -> list[FrameResult]:
        held, self._held = self._held, []
        profiles = [f.bars for f in held if isinstance(f, PreparedFrame) and f.bars is not None]
        if held and len(profiles) == len(held):  # the letterbox rule's per-frame work is done
            h, w = held[0].image.shape[:2]
            same = [b for f, b in zip(held, profiles) if f.image.shape[:2] == (h, w)]
            self._set_content_box(content_box_from_profiles(same, (h, w)) if self.detect_bars else None)
        else:
            self.decide_content_box([f.image for f in held])
        return [self._process(f) for f in held]

    def _process(self, frame: Frame) -> FrameResult:
        prepared = frame if isinstance(frame, PreparedFrame) else None
        sig = prepared.signature if prepared is not None else None
        if sig is None:
            sig = frame_signature(frame.image)  # cheap (a ~64 px copy): cuts between shots
        change = signature_change(self._prev_signature, sig)
        self._prev_signature = sig
        ts = int(round(frame.time_s * 1000))
        cut = self.reset_on_cut and self.frames and is_new_shot(self._prev_change, change)
        if cut or self._reset_next:
            # a new shot: make the tracker let go of the old shot's person (it would follow a
            # ghost for many frames); an empty picture drops the track, the next frame detects
            self.backend.process(np.zeros_like(frame.image), ts)
            self.prev_box = None
            self.cuts += bool(cut)
            self._reset_next = False
        self._prev_change = change
        if prepared is not None and prepared.model_input is not None:
            cands = self.backend.process(frame.image, ts, prepared=prepared.model_input)  # type: ignore[call-arg]
        else:
            cands = self.backend.process(frame.image, ts)
        self.frames += 1
        k = choose_subject(cands, self.prev_box)
        if k is None:
            return FrameResult(frame.index, frame.time_s, _NAN3, _NAN3, _NAN1, _NAN1, False, None,
                               0, count_others(cands, None), frame_change=change)
        c: PoseCandidate = cands[k]
        box = c.bbox()
        self.prev_box = box
        columns: dict[str, float] = {}
        back: dict[str, dict[str, Any] | None] | None = None
        if c.mask is not None and self.mask_work:
            mask = c.mask.resolve() if hasattr(c.mask, "resolve") else c.mask  # a PendingMask
            columns, back = mask_measures(mask, c.image_xyz, self.facings)
        return FrameResult(frame.index, frame.time_s, c.image_xyz, c.world_xyz, c.visibility,
                           c.presence, True, box, len(cands), count_others(cands, box), c.mask,
                           columns, back, change)


def mask_measures(
    mask: MaskCrop, image_xyz: npt.NDArray[np.floating[Any]], facings: tuple[str, ...] = FACINGS
) -> tuple[dict[str, float], dict[str, dict[str, Any] | None]]:
    """Everything measured on one frame's mask: the feet-on-mask columns and the back traces."""
    from movescreen.kinematics.back_contour import trace_back_frame
    from movescreen.kinematics.lumbar import foot_in_mask_frame

    columns = foot_in_mask_frame(mask, image_xyz)
    back = {f: trace_back_frame(mask, image_xyz, f) for f in facings}  # type: ignore[arg-type]
    return columns, back
