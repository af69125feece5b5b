"""Verdicts as data: export one row per finding with the clinician's verdict, and the per-rule
agreement, sensitivity and specificity of the tool against those verdicts.

Conventions (documented in docs/workspace.md):
- a tool finding with verdict *agree* is a true positive, *disagree* a false positive;
- a finding the clinician added (missed by the tool) is a false negative;
- a rule the tool judged and passed in a session, with no missed finding added for it and the
  session signed off, is a true negative;
- *unsure* and findings without a verdict are left out of the counts (reported as ``unsure``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

FIELDS = ["session_id", "client", "date", "movement", "finding_id", "finding_key", "origin",
          "rule", "rep", "side", "frame_start", "frame_end", "severity", "value", "threshold",
          "unit", "verdict", "note", "by", "at", "signed_off", "rules_passed"]


def export_rows(maker: Any) -> list[dict[str, Any]]:
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from movescreen.workspace.db import Finding, Session

    rows = []
    with maker() as db:
        sessions = db.scalars(select(Session).options(
            selectinload(Session.client),
            selectinload(Session.findings).selectinload(Finding.verdicts)).order_by(Session.id)).all()
        for s in sessions:
            try:
                report = json.loads(s.report_json)
            except ValueError:
                report = {}
            passed = sorted({r.get("rule") for r in report.get("rules") or []
                             if isinstance(r, dict) and r.get("status") == "passed"})
            for f in s.findings:
                v = f.current
                rows.append({
                    "session_id": s.id, "client": s.client.name, "date": s.date.isoformat(),
                    "movement": s.movement, "finding_id": f.id, "finding_key": f.key,
                    "origin": f.origin, "rule": f.rule, "rep": f.rep, "side": f.side,
                    "frame_start": f.frame_start, "frame_end": f.frame_end,
                    "severity": f.severity, "value": f.value, "threshold": f.threshold,
                    "unit": f.unit, "verdict": v.verdict if v else ("missed" if f.origin != "tool" else ""),
                    "note": (v.note if v else f.note), "by": (v.by if v else f.added_by or ""),
                    "at": (v.at.isoformat() if v else f.created_at.isoformat()),
                    "signed_off": bool(s.signed_off_at), "rules_passed": ";".join(passed),
                })
            if not s.findings:
                rows.append({k: "" for k in FIELDS} | {
                    "session_id": s.id, "client": s.client.name, "date": s.date.isoformat(),
                    "movement": s.movement, "origin": "none", "signed_off": bool(s.signed_off_at),
                    "rules_passed": ";".join(passed)})
    return rows


def write_export(rows: list[dict[str, Any]], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".json":
        out.write_text(json.dumps(rows, indent=2, default=str), encoding="utf-8")
    elif out.suffix.lower() == ".csv":
        with open(out, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=FIELDS)
            w.writeheader()
            for r in rows:
                w.writerow({k: r.get(k, "") for k in FIELDS})
    else:
        raise ValueError(f"expected an output ending in .csv or .json, got {out.name}")


def read_export(path: Path) -> list[dict[str, Any]]:
    if path.suffix.lower() == ".json":
        rows = json.loads(path.read_text(encoding="utf-8"))
    else:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    for r in rows:
        so = r.get("signed_off")
        r["signed_off"] = so is True or str(so).lower() == "true"
    return rows


def agreement(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per rule: tp, fp, fn, tn, unsure, agreement, sensitivity, specificity (None when 0/0)."""
    stats: dict[str, dict[str, Any]] = {}

    def st(rule: str) -> dict[str, Any]:
        return stats.setdefault(rule, {"tp": 0, "fp": 0, "fn": 0, "tn": 0, "unsure": 0})

    missed_in: dict[Any, set[str]] = {}
    sessions: dict[Any, dict[str, Any]] = {}
    for r in rows:
        sessions.setdefault(r.get("session_id"), r)
        origin, rule, verdict = r.get("origin"), r.get("rule"), r.get("verdict")
        if origin == "tool":
            if verdict == "agree":
                st(rule)["tp"] += 1
            elif verdict == "disagree":
                st(rule)["fp"] += 1
            else:
                st(rule)["unsure"] += 1
        elif origin == "clinician":
            st(rule)["fn"] += 1
            missed_in.setdefault(r.get("session_id"), set()).add(rule)
    for sid, r in sessions.items():
        if not r.get("signed_off"):
            continue
        for rule in filter(None, str(r.get("rules_passed") or "").split(";")):
            if rule not in missed_in.get(sid, set()):
                st(rule)["tn"] += 1
    for s in stats.values():
        tp, fp, fn, tn = s["tp"], s["fp"], s["fn"], s["tn"]
        n = tp + fp + fn + tn
        s["agreement"] = (tp + tn) / n if n else None
        s["sensitivity"] = tp / (tp + fn) if tp + fn else None
        s["specificity"] = tn / (tn + fp) if tn + fp else None
    return dict(sorted(stats.items()))


def format_table(stats: dict[str, dict[str, Any]]) -> str:
    def pct(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:.0f}%"
    lines = [f"{'rule':28} {'tp':>4} {'fp':>4} {'fn':>4} {'tn':>4} {'unsure':>6} "
             f"{'agree':>6} {'sens':>6} {'spec':>6}"]
    for rule, s in stats.items():
        lines.append(f"{rule:28} {s['tp']:>4} {s['fp']:>4} {s['fn']:>4} {s['tn']:>4} "
                     f"{s['unsure']:>6} {pct(s['agreement']):>6} {pct(s['sensitivity']):>6} "
                     f"{pct(s['specificity']):>6}")
    return "\n".join(lines)
