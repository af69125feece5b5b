"""Importing analysis folders into the workspace, and the metrics the progress page plots.

report.json is read defensively: the whole report is stored as JSON, and only the columns the
workspace queries are pulled out (missing keys give None, never an error).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from movescreen.workspace.db import Client, Finding, Session

SEVERITY_WEIGHT = {"flag": 3, "caution": 2, "note": 1}
METRICS = {
    "peak_hip_flexion_deg": ("Peak hip flexion", "deg"),
    "hip_height_bottom_ratio": ("Hip height above knee at the bottom", "ratio"),
    "lumbar_bend_deg": ("Lumbar bend (estimate)", "deg"),
    "knee_valgus_deg": ("Knee valgus (worst)", "deg"),
}


class ImportError_(Exception):
    """A folder that cannot be imported; the message is a sentence."""


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _median(xs: list[float]) -> float | None:
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def metrics_of(report: dict[str, Any]) -> dict[str, float | None]:
    reps = [r for r in (report.get("reps") or []) if isinstance(r, dict)]
    full = [r for r in reps if not r.get("partial")] or reps

    def per_rep(*keys: str) -> list[float]:
        out = []
        for r in full:
            m = r.get("metrics") or {}
            for k in keys:
                v = _num(m.get(k))
                if v is not None:
                    out.append(v)
                    break
        return out

    valgus: list[float] = []
    for rule in report.get("rules") or []:
        if isinstance(rule, dict) and rule.get("rule") == "knee_valgus":
            valgus += [v for v in map(_num, rule.get("values") or []) if v is not None]
    for f in report.get("findings") or []:
        if isinstance(f, dict) and f.get("rule") == "knee_valgus":
            v = _num(f.get("value"))
            if v is not None:
                valgus.append(v)
    return {
        "peak_hip_flexion_deg": _median(per_rep("peak_hip_flexion_deg")),
        "hip_height_bottom_ratio": _median(per_rep("depth_hip_above_knee_bottom_ratio")),
        "lumbar_bend_deg": _median(per_rep("peak_lumbar_flexion_est_deg", "peak_lumbar_flexion_deg")),
        "knee_valgus_deg": max(valgus) if valgus else None,
    }


def video_date(path: Path) -> dt.date | None:
    """The video's creation_time tag, when present and readable."""
    try:
        import av
        with av.open(str(path)) as c:
            tags = dict(c.metadata or {})
            for s in c.streams:
                tags.update({k: v for k, v in (s.metadata or {}).items() if k not in tags})
    except Exception:
        return None
    raw = tags.get("creation_time")
    if not raw:
        return None
    try:
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def analysis_folders(folder: Path) -> list[Path]:
    """One analysis folder, or every analysis folder inside a batch output (at any depth, as
    ``movescreen batch --recursive`` nests them; hidden folders, such as unfinished ones, are
    skipped)."""
    if (folder / "report.json").is_file():
        return [folder]
    found = sorted(p.parent for p in folder.rglob("report.json")
                   if not any(part.startswith(".") for part in p.relative_to(folder).parts))
    if not found:
        raise ImportError_(f"{folder} is neither an analysis folder nor a batch output "
                           "(no report.json in it or in its sub-folders).")
    return found


def _hash_folder(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode())
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()


def stage_folder(data_dir: Path, folder: Path) -> tuple[str, dict[str, Any]]:
    """Read one analysis folder's report and copy the folder into the data folder under its
    content hash; return (path relative to the data folder, report). Done before the database
    transaction, so hashing and copying a large folder never holds the database's write lock."""
    try:
        report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ImportError_(f"{folder}/report.json could not be read ({e}).") from None
    if not isinstance(report, dict):
        raise ImportError_(f"{folder}/report.json is not a JSON object.")
    digest = _hash_folder(folder)
    rel = f"outputs/{digest}"
    dst = data_dir / rel
    if not dst.exists():
        tmp = data_dir / "outputs" / f".{digest}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(folder, tmp)
        tmp.rename(dst)
    return rel, report


def import_folder(db: DBSession, data_dir: Path, folder: Path, client: Client, *,
                  date: dt.date | None = None, video: Path | None = None,
                  source_name: str | None = None,
                  staged: tuple[str, dict[str, Any]] | None = None) -> Session:
    """Add a session for one analysis folder (copied by :func:`stage_folder`, here unless
    ``staged`` gives its result)."""
    rel, report = staged if staged is not None else stage_folder(data_dir, folder)
    inp = report.get("input") if isinstance(report.get("input"), dict) else {}
    mov = report.get("movement")
    view = report.get("view")
    date_source = "entered"
    if date is None:
        src_video = video
        if src_video is None and inp.get("path"):
            src_video = Path(str(inp.get("path")))
        vd = video_date(src_video) if src_video is not None and src_video.is_file() else None
        if vd is not None:
            date, date_source = vd, "creation_time"
        else:
            date, date_source = dt.date.today(), "import date"
    m = metrics_of(report)
    sess = Session(
        client=client, date=date, date_source=date_source,
        movement=str((mov or {}).get("name") if isinstance(mov, dict) else mov or "unknown")[:40],
        view=str((view or {}).get("name") if isinstance(view, dict) else view or "")[:40],
        status=str(report.get("status") or "ok")[:40],
        source_name=(source_name or Path(str(inp.get("path") or folder.name)).name)[:400],
        output_dir=rel, video_sha256=str(inp.get("sha256") or "")[:64],
        fps=_num(inp.get("fps")) or 0.0, report_json=json.dumps(report), **m,
    )
    db.add(sess)
    for i, f in enumerate(report.get("findings") or []):
        if not isinstance(f, dict):
            continue
        key = str(f.get("id") or f"{f.get('rule')}-r{f.get('rep')}-{f.get('side')}-"
                                 f"f{f.get('frame_start')}-{f.get('frame_end')}-{i}")
        sess.findings.append(Finding(
            key=key[:200], origin="tool", rule=str(f.get("rule") or "unknown")[:100],
            severity=str(f.get("severity") or "")[:20], rep=_int(f.get("rep")),
            side=str(f.get("side") or "none")[:20], frame_start=_int(f.get("frame_start")),
            frame_end=_int(f.get("frame_end")), worst_frame=_int(f.get("worst_frame")),
            value=_num(f.get("value")), threshold=_num(f.get("threshold")),
            unit=str(f.get("unit") or "")[:20],
            message=str(f.get("message_clinician") or f.get("message_client") or ""),
        ))
    db.flush()
    return sess


def _int(v: Any) -> int | None:
    n = _num(v)
    return int(n) if n is not None else None


def get_or_create_client(db: DBSession, name: str, by: str | None = None) -> Client:
    c = db.scalars(select(Client).where(Client.name == name)).first()
    if c is None:
        c = Client(name=name, notes="", created_by=by, updated_by=by)
        db.add(c)
        db.flush()
    return c


def worst_rep(report: dict[str, Any], findings: list[Finding]) -> int | None:
    score: dict[int, int] = {}
    for f in findings:
        if f.rep is not None:
            score[f.rep] = score.get(f.rep, 0) + SEVERITY_WEIGHT.get(f.severity, 1)
    if score:
        return max(score, key=lambda r: (score[r], -r))
    reps = [r for r in report.get("reps") or [] if isinstance(r, dict)]
    return _int(reps[0].get("index")) if reps else None


def key_frames(out: Path, rep: int | None = None) -> list[str]:
    frames = out / "frames"
    if not frames.is_dir():
        return []
    names = sorted(p.name for p in frames.glob("*.png"))
    if rep is not None:
        mine = [n for n in names if n.startswith(f"rep{rep:02d}")]
        return mine or names[:2]
    return names


# --- hip rotation screen (issue 13): read from each session's report.json, no extra column ----
HIP_METRICS = {
    "hip_internal_rotation": ("Hip internal rotation, seated (left and right)", "deg"),
    "hip_external_rotation": ("Hip external rotation, seated (left and right)", "deg"),
    "figure4_shin": ("Figure-4 crossed shin from horizontal (left and right; lower = more rotation)", "deg"),
}


def hip_rotation_progress(sessions: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """Per metric of :data:`HIP_METRICS`: one row per session with its ``left`` and ``right``
    value (None where that session did not measure it)."""
    from movescreen.kinematics.hip_rotation import progress_metrics

    out: dict[str, list[dict[str, Any]]] = {k: [] for k in HIP_METRICS}
    for x in sessions:
        try:
            report = json.loads(x.report_json or "{}")
        except ValueError:
            report = {}
        m = progress_metrics(report if isinstance(report, dict) else {})
        for k in HIP_METRICS:
            out[k].append({"session_id": x.id, "date": x.date.isoformat(), "movement": x.movement,
                           "left": m.get(f"{k}_left_deg"), "right": m.get(f"{k}_right_deg")})
    return out
