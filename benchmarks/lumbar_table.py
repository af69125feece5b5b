"""Per-clip table of the back-outline bend (lumbar-flexion estimate) on the labelled hinges.

Runs the pose stage with masks on every labelled side-view hinge clip in the shared data folder,
measures :func:`movescreen.kinematics.back_contour.compute_back_bend` at the bottom of the hinge
(the frame of largest trunk inclination, +-3 frames) and against the clip's own upright frames,
and prints a Markdown table (the one published in ``docs/lumbar.md``).

Usage::

    python benchmarks/lumbar_table.py [--data /work/shared/data] [--cache DIR] [--json OUT]

``--cache`` keeps the analysed sequences (pickles) so the table can be re-made quickly after a
change to the measure. ``--mask-margin`` sets how much room the pose stage keeps around the
person when it crops the segmentation mask (see docs/lumbar.md: the default crop cuts the back
off when a person bends over with the back above the shoulder landmarks).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from movescreen.kinematics.back_contour import (
    BackBend,
    compute_back_bend,
    find_upright_rows,
    summarize_bend,
)
from movescreen.types import LandmarkSequence

# clip -> (label as published in SOURCES.md, expected lumbar rounding: True / False / None)
CLIPS: dict[str, tuple[str, bool | None]] = {
    "deadlift_side_rounded_back_01.mp4": ("rounded (caption; trio)", True),
    "deadlift_side_neutral_01.mp4": ("neutral (caption; trio)", False),
    "deadlift_side_overextended_01.mp4": ("over-extended (caption; trio)", False),
    "deadlift_side_rounded_back_02.mp4": ("rounded (caption)", True),
    "deadlift_side_rounded_back_03.mp4": ("rounded (repo bad; pair)", True),
    "deadlift_side_correct_02.mp4": ("correct (repo good; pair)", False),
    "deadlift_side_correct_01.mp4": ("correct (caption)", False),
    "deadlift_side_hips_too_low_01.mp4": ("hips too low (caption)", None),
    "deadlift_side_good_yfgd_01.mp4": ("correct (YFGD good)", False),
    "deadlift_side_good_yfgd_05.mp4": ("correct (YFGD good)", False),
    "deadlift_side_bad_yfgd_02.mp4": ("incorrect, fault unstated (YFGD bad)", None),
    "deadlift_side_bad_yfgd_09.mp4": ("incorrect, fault unstated (YFGD bad)", None),
    "deadlift_side_conventional_01.mp4": ("unlabelled, reads neutral", None),
    "deadlift_side_heel_lift_01.mp4": ("heel lift (repo name)", None),
    "deadlift_side_heels_down_pair_01.mp4": ("good (repo name)", None),
    "hinge_side_kettlebell_deadlift_01.mp4": ("demo, reads neutral", None),
    "rdl_side_single_leg_dumbbell_01.mp4": ("demo, reads neutral", None),
    "rdl_side_dumbbell_pregnant_01.gif": ("demo, reads neutral", None),
    "rdl_side_dumbbell_split_correct_vs_incorrect_01.mp4#L": (
        "correct (caption, left half)",
        False,
    ),
    "rdl_side_dumbbell_split_correct_vs_incorrect_01.mp4#R": (
        "rounded shoulders, knee-dominant (caption, right half)",
        True,
    ),
}
SPLIT_X = 240  # the split-screen clip: left half x < 240, right half x >= 240
SPLIT_END_FRAME = 516  # frames from here on are a black end card


@dataclass(frozen=True)
class Row:
    clip: str
    label: str
    expected_rounding: bool | None
    facing: str | None
    bottom_frame: int
    trunk_inclination_deg: float
    bend_bottom_deg: float
    confidence: float
    noise_deg: float
    standing_deg: float
    n_standing: int
    relative_deg: float
    chord_ratio: float
    chord_3d_ratio: float
    ear_shoulder_hip_deg: float


def write_half(src: Path, half: str, out_dir: Path) -> Path:
    """Write the left or right half of the split-screen clip (before the end card) to a file."""
    import cv2  # only the benchmark touches video files here

    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS)
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    x0, x1 = (0, SPLIT_X) if half == "L" else (SPLIT_X, w)
    out = out_dir / f"{src.stem}_{half}.mp4"
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (x1 - x0, h))
    i = 0
    while i < SPLIT_END_FRAME:
        ok, frame = cap.read()
        if not ok:
            break
        writer.write(np.ascontiguousarray(frame[:, x0:x1]))
        i += 1
    writer.release()
    cap.release()
    return out


def analyse(path: Path, mask_margin: float | None = None) -> tuple[LandmarkSequence, dict]:
    """Landmarks and masks of a clip (``mask_margin`` is ignored: the pose stage now keeps the
    mask's own extent, which fixed the rounded backs the old landmark-box crop cut off)."""
    from movescreen.pipeline import AnalyzeOptions, analyze_input

    # masks are traced while fresh and not kept: the per-frame traces travel beside the sequence
    a = analyze_input(path, AnalyzeOptions(masks=True))
    return a.sequence, a.back_traces or {}


def bottom_row(bend: BackBend) -> int:
    """The frame of largest trunk inclination (the bottom of a hinge; the setup of a pull)."""
    inc = np.where(np.isfinite(bend.trunk_inclination_deg), bend.trunk_inclination_deg, -np.inf)
    return int(np.argmax(inc))


def measure(clip: str, seq_and_traces: tuple[LandmarkSequence, dict], half_window: int = 3) -> Row:
    label, expected = CLIPS[clip]
    seq, traces = seq_and_traces
    bend = compute_back_bend(seq, traces=traces)
    bot = bottom_row(bend)
    rows = np.arange(max(0, bot - half_window), min(len(seq), bot + half_window + 1))
    at_bottom = summarize_bend(bend, rows)
    standing = summarize_bend(bend, find_upright_rows(bend))

    def med(a: np.ndarray) -> float:
        v = a[rows][np.isfinite(a[rows])]
        return float(np.median(v)) if len(v) else float("nan")

    return Row(
        clip=clip,
        label=label,
        expected_rounding=expected,
        facing=bend.facing,
        bottom_frame=int(seq.frame_index[bot]),
        trunk_inclination_deg=float(bend.trunk_inclination_deg[bot]),
        bend_bottom_deg=at_bottom.value_deg,
        confidence=at_bottom.confidence,
        noise_deg=at_bottom.noise_deg,
        standing_deg=standing.value_deg,
        n_standing=standing.n_frames,
        relative_deg=at_bottom.value_deg - standing.value_deg,
        chord_ratio=med(bend.chord_ratio),
        chord_3d_ratio=med(bend.chord_3d_ratio),
        ear_shoulder_hip_deg=med(bend.ear_shoulder_hip_deg),
    )


def load(clip: str, data: Path, cache: Path | None, mask_margin: float | None,
         tmp: Path) -> LandmarkSequence:
    name, _, half = clip.partition("#")
    key = f"{Path(name).stem}{'_' + half if half else ''}_m{mask_margin}.pkl"
    if cache is not None and (cache / key).exists():
        with open(cache / key, "rb") as f:
            return pickle.load(f)
    path = data / "videos" / name
    if half:
        path = write_half(path, half, tmp)
    seq = analyse(path, mask_margin)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        with open(cache / key, "wb") as f:
            pickle.dump(seq, f)
    return seq


def fmt(v: float, spec: str = "+.0f") -> str:
    return "n/a" if not np.isfinite(v) else format(v, spec)


def to_markdown(rows: list[Row]) -> str:
    head = (
        "| clip | label | expected rounding | bend at bottom (deg) | confidence | noise (deg) "
        "| standing (deg, frames) | relative (deg) | chord ratio 2D / 3D "
        "| ear-shoulder-hip (deg) |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        exp = {True: "yes", False: "no", None: "?"}[r.expected_rounding]
        lines.append(
            f"| {r.clip.replace('.mp4', '').replace('.gif', '')} | {r.label} | {exp} "
            f"| **{fmt(r.bend_bottom_deg)}** | {fmt(r.confidence, '.2f')} "
            f"| {fmt(r.noise_deg, '.1f')} | {fmt(r.standing_deg)} ({r.n_standing}) "
            f"| {fmt(r.relative_deg)} | {fmt(r.chord_ratio, '.2f')} / "
            f"{fmt(r.chord_3d_ratio, '.2f')} | {fmt(r.ear_shoulder_hip_deg)} |"
        )
    return head + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--mask-margin", type=float, default=0.6,
                    help="room kept around the person in the mask crop (pose stage default 0.15)")
    ap.add_argument("--only", nargs="*", default=None, help="substrings of clip names to run")
    args = ap.parse_args(argv)
    if not (args.data / "videos").is_dir():
        print(f"no data folder at {args.data}/videos", file=sys.stderr)
        return 2
    clips = [c for c in CLIPS if not args.only or any(s in c for s in args.only)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for clip in clips:
            t0 = time.time()
            seq = load(clip, args.data, args.cache, args.mask_margin, Path(tmp))
            rows.append(measure(clip, seq))
            print(f"{clip}: {time.time() - t0:.1f}s", file=sys.stderr)
    print(to_markdown(rows))
    if args.json is not None:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
