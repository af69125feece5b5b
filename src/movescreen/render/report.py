"""report.html: one self-contained page a clinician can open offline, on a laptop or a phone.

No CDN, no script, inline CSS and inline SVG plots; key frames and the annotated video are
relative files beside it (``frames/*.png``, ``annotated.mp4``) and their sections are replaced
by a note when the files are absent. Every string from outside (file names, notes, messages,
pain text, warnings, config values) goes through :func:`html.escape`.
"""

from __future__ import annotations

import json
import math
import os
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from movescreen.render.folder import AnalysisFolder
from movescreen.render.joints import (
    RULE_COMPENSATION,
    SEVERITIES,
    columns_for_finding,
    select_plot_columns,
    split_side,
)
from movescreen.render.keyframes import plan_key_frames
from movescreen.render.plots import (
    SIDE_CSS,
    PlotSpec,
    RepSpan,
    Series,
    Threshold,
    group_columns,
    render_svg,
)
from movescreen.sinks import write_text_atomic

VIDEO_NAME = "annotated.mp4"
FRAMES_DIR = "frames"

CSS = """
:root{--fg:#111827;--muted:#4b5563;--line:#e5e7eb;--bg:#f9fafb;--note:#2874c8;--caution:#d97706;--flag:#c81e1e}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1000px;margin:0 auto;padding:12px 16px 48px}
h1{font-size:1.5rem;margin:.6em 0 .2em;overflow-wrap:anywhere}
h2{font-size:1.2rem;margin:1.6em 0 .5em;border-bottom:2px solid var(--line);padding-bottom:.2em}
h3{font-size:1rem;margin:1em 0 .3em}
.muted{color:var(--muted)}
.safety{border:2px solid var(--flag);background:#fef2f2;border-radius:8px;padding:10px 14px;margin:12px 0}
.safety strong{color:var(--flag)}
.pain{border-color:#7f1d1d;background:#fee2e2}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px 12px}
.card .k{font-size:.8rem;color:var(--muted)}
.card .v{font-size:1.25rem;font-weight:600;overflow-wrap:anywhere}
.badge{display:inline-block;border-radius:999px;padding:0 .6em;color:#fff;font-size:.85rem;font-weight:600}
.sev-note{background:var(--note)}.sev-caution{background:var(--caution)}.sev-flag{background:var(--flag)}
.scroll{overflow-x:auto;background:#fff;border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
td.wrap{white-space:normal;min-width:16em}
th{background:#f3f4f6}
.finding{background:#fff;border:1px solid var(--line);border-left:6px solid var(--note);border-radius:8px;padding:8px 12px;margin:8px 0}
.finding.flag{border-left-color:var(--flag)}.finding.caution{border-left-color:var(--caution)}
.finding p{margin:.3em 0}
.plot{width:100%;height:auto;background:#fff;border:1px solid var(--line);border-radius:8px;font:11px sans-serif}
.plot text{fill:#374151}.plot text.rep{fill:#4338ca}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:10px}
figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:8px;padding:6px}
figure img{width:100%;height:auto;display:block;border-radius:4px}
figcaption{font-size:.85rem;color:var(--muted);overflow-wrap:anywhere}
video{display:block;max-width:100%;max-height:80vh;margin:0 auto;background:#000;border-radius:8px}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px;font-size:.8rem}
ul{padding-left:1.2em}
.na{color:var(--muted);font-style:italic}
.badge.borderline{background:#6b7280}
.unc{color:var(--muted)}
@media (max-width:600px){body{font-size:15px}main{padding:8px}}
"""


def esc(value: Any) -> str:
    """Escape any value for HTML text or attribute (``None`` becomes an empty string)."""
    return "" if value is None else escape(str(value), quote=True)


def _num(v: Any, digits: int = 1, unit: str = "") -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return "&ndash;" if v is None or isinstance(v, (int, float)) else esc(v)
    return f"{v:.{digits}f}{esc(unit)}"


def _badge(severity: Any) -> str:
    s = str(severity)
    cls = s if s in SEVERITIES else "note"
    return f'<span class="badge sev-{cls}">{esc(s)}</span>'


def _table(headers: list[str], rows: list[list[str]], *, wrap: set[int] | None = None) -> str:
    """A scrollable table; cells are already-escaped HTML."""
    wrap = wrap or set()
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="wrap">{c}</td>' if i in wrap else f"<td>{c}</td>"
                         for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


class _Times:
    """Source frame number -> time in seconds, from angles.csv or landmarks, else frame / fps."""

    def __init__(self, folder: AnalysisFolder) -> None:
        self.map: dict[int, float] = {}
        if "frame" in folder.angles and "time_s" in folder.angles:
            self.map = {int(f): float(t) for f, t in zip(folder.angles["frame"], folder.angles["time_s"])}
        elif folder.landmarks is not None:
            self.map = {int(f): float(t) for f, t in zip(folder.landmarks.frame_index, folder.landmarks.time_s)}
        self.fps = folder.fps

    def __call__(self, frame: Any) -> float:
        try:
            f = int(frame)
        except (TypeError, ValueError):
            return float("nan")
        return self.map.get(f, f / self.fps)


def _summary(folder: AnalysisFolder) -> str:
    r = folder.report
    movement = (r.get("movement") or {}).get("name") or "not determined"
    view = r.get("view") or {}
    view_txt = view.get("name") or "not determined"
    if view.get("facing"):
        view_txt = f"{view_txt} (facing {view['facing']})"
    reps = folder.reps
    counts = {s: sum(1 for f in folder.findings if f.get("severity") == s) for s in SEVERITIES}
    cards = [
        ("Movement", esc(movement)),
        ("Camera view", esc(view_txt)),
        ("Reps", esc(len(reps)) if reps else "no reps detected"),
        ("Findings", " ".join(f"{_badge(s)} {counts[s]}" for s in reversed(SEVERITIES))
         if folder.findings else "none"),
    ]
    q = r.get("quality") or {}
    if isinstance(q.get("pose_fraction"), (int, float)):
        cards.append(("Person found in", f"{100 * q['pose_fraction']:.0f}% of frames"))
    html = ['<div class="cards">']
    html += [f'<div class="card"><div class="k">{esc(k)}</div><div class="v">{v}</div></div>' for k, v in cards]
    html.append("</div>")
    if r.get("status") not in (None, "ok"):
        html.append(f'<p class="safety"><strong>Analysis status: {esc(r.get("status"))}.</strong> '
                    f'{esc(r.get("error") or "")}</p>')
    joints = r.get("joints") or []
    if joints:
        rows = []
        for j in joints:
            name = str(j.get("joint", ""))
            rules = sorted({str(f.get("rule")) for f in folder.findings
                            if name in _compensating(f)})
            seen = j.get("seen")
            rows.append([esc(name.replace("_", " ")), esc(j.get("role")),
                         "yes" if seen is True else "no" if seen is False else esc(seen),
                         _joint_status(j), esc(", ".join(r.replace("_", " ") for r in rules)) or "&ndash;"])
        html.append("<h3>Joint by joint</h3>")
        html.append(_table(["joint", "role", "seen", "status", "findings"], rows, wrap={2, 3}))
    return "\n".join(html)


def _joint_status(j: dict[str, Any]) -> str:
    """A joint's status cell: never a bare "ok" without a judgement, "not assessed" with its why."""
    status = str(j.get("status") or "").replace("_", " ")
    if status in ("not assessed", "not assessed."):
        reason = j.get("reason")
        return f'<span class="na">not assessed</span>{": " + esc(reason) if reason else ""}'
    if status == "ok":
        checked = j.get("rules_checked")
        if isinstance(checked, list) and checked:
            return "ok (checked: " + esc(", ".join(str(c).replace("_", " ") for c in checked)) + ")"
        if checked is not None:  # the summary says no rule judged it: not an "ok"
            return '<span class="na">not assessed</span>: no rule could judge it'
    return esc(status)


RULE_STATUS_TEXT = {
    "passed": "checked and passed",
    "flagged": "checked: finding(s) above",
    "not_assessed": "not checked",
    "not_applicable": "does not apply",
    "disabled": "switched off",
}


def _rules_checked(folder: AnalysisFolder) -> str:
    """What was checked and passed, what found something, and what could not be checked and why."""
    statuses = [s for s in (folder.report.get("rules") or []) if isinstance(s, dict)]
    if not statuses:
        return '<p class="muted">This report lists no rule statuses.</p>'
    groups: dict[str, list[dict[str, Any]]] = {}
    for s in statuses:
        groups.setdefault(str(s.get("status")), []).append(s)
    out = []
    for key, title in (("passed", "Checked and passed"), ("flagged", "Checked, with findings"),
                       ("not_assessed", "Could not be checked"), ("not_applicable", "Does not apply to this movement"),
                       ("disabled", "Switched off")):
        items = groups.get(key) or []
        if not items:
            continue
        out.append(f'<h3>{esc(title)} ({len(items)})</h3><ul class="rules-{esc(key)}">')
        for s in items:
            name = esc(str(s.get("rule", "")).replace("_", " "))
            vals = [v for v in (s.get("values") or []) if isinstance(v, (int, float)) and math.isfinite(v)]
            detail = esc(s.get("reason") or "")
            if key == "passed" and vals:
                detail += f" Values: {esc(', '.join(f'{v:.3g}' for v in vals[:12]))}{' ...' if len(vals) > 12 else ''}."
            out.append(f'<li data-rule="{esc(s.get("rule"))}" data-status="{esc(key)}"><strong>{name}</strong>: {detail}</li>')
        out.append("</ul>")
    return "\n".join(out)


BLOCKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("a turned body", ("turned",)),
    ("the camera view (the rule needs another view)", ("this rep was filmed from the",)),
    ("an impossible value (tracking error)", ("outside what a body can do",)),
    ("a cut in the video", ("cut in the video", "shot change", "camera jump", "at a cut", "by a cut")),
    ("a body part outside the picture", ("outside the picture",)),
    ("landmarks barely visible", ("barely visible", "low confidence", "not visible", "hidden")),
    ("a partial rep", ("partial rep",)),
)


def blocked_rules(report: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """What kept rules from judging, grouped by cause: [(cause, ["rule (rep n)", ...])]."""
    out: dict[str, list[str]] = {}
    for n in report.get("not_assessed") or []:
        if not isinstance(n, dict):
            continue
        reason = str(n.get("reason") or "").lower()
        for cause, words in BLOCKERS:
            if any(w in reason for w in words):
                rep = f" (rep {n.get('rep')})" if n.get("rep") is not None else ""
                item = f"{str(n.get('rule', '')).replace('_', ' ')}{rep}"
                if item not in out.setdefault(cause, []):
                    out[cause].append(item)
                break
    return [(c, out[c]) for c, _ in BLOCKERS if c in out]


def _compensating(finding: dict[str, Any]) -> tuple[str, ...]:
    comp = RULE_COMPENSATION.get(str(finding.get("rule")))
    return comp.compensating if comp is not None else ()


def _safety(folder: AnalysisFolder) -> str:
    safety = folder.report.get("safety") or {}
    parts = ['<section class="safety" id="safety"><strong>Safety.</strong> ']
    parts.append(esc(safety.get("disclaimer") or "movescreen is a movement screen, not a diagnosis."))
    if safety.get("pain_guidance"):
        parts.append(f"<br>{esc(safety['pain_guidance'])}")
    parts.append("</section>")
    pain = folder.report.get("pain")
    reported = isinstance(pain, dict) and (pain.get("reported") not in (None, False, "")
                                           or pain.get("referral") is True)
    if reported and isinstance(pain, dict):
        parts.append('<section class="safety pain" id="pain"><strong>Pain reported.</strong> ')
        if pain.get("reported") not in (None, True, False):
            parts.append(f"&ldquo;{esc(pain.get('reported'))}&rdquo; ")
        parts.append(esc(pain.get("recommendation") or ""))
        parts.append("</section>")
    return "".join(parts)


def _reps_table(folder: AnalysisFolder, times: _Times) -> str:
    reps = folder.reps
    if not reps:
        return '<p class="muted">No reps detected.</p>'
    metric_keys: list[str] = []
    for rep in reps:
        for k in (rep.get("metrics") or {}):
            if k not in metric_keys:
                metric_keys.append(k)
    tempo_keys: list[str] = []
    for rep in reps:
        tempo_keys += [k for k in (rep.get("tempo") or {}) if k not in tempo_keys]
    headers = ["rep", "frames", "start (s)", "partial", "view"] + [f"tempo {k}" for k in tempo_keys]
    headers += [k.replace("_", " ") for k in metric_keys] + ["findings"]
    rows = []
    for rep in reps:
        tempo = rep.get("tempo") or {}
        metrics = rep.get("metrics") or {}
        fs = [f for f in folder.findings if f.get("rep") == rep.get("index")]
        row = [
            esc(rep.get("index")),
            f"{esc(rep.get('start_frame'))}&ndash;{esc(rep.get('end_frame'))} (bottom {esc(rep.get('bottom_frame'))})",
            _num(times(rep.get("start_frame")), 2),
            "yes" if rep.get("partial") else "no",
            esc(rep.get("view") or ""),
        ]
        row += [_num(tempo.get(k), 2) for k in tempo_keys]
        row += [_num(metrics.get(k), 1) for k in metric_keys]
        row.append(" ".join(_badge(f.get("severity")) + " " + esc(str(f.get("rule", "")).replace("_", " "))
                            for f in fs) or "&ndash;")
        rows.append(row)
    return _table(headers, rows)


def _findings(folder: AnalysisFolder, times: _Times) -> str:
    out = []
    if not folder.findings:
        out.append('<p class="muted">No findings.</p>' if folder.reps else
                   '<p class="muted">No findings (no reps detected, so no rule could be applied).</p>')
    for i, f in enumerate(folder.findings, start=1):
        sev = str(f.get("severity"))
        unit = "" if f.get("unit") in (None, "deg") else f" {f.get('unit')}"
        deg = "&deg;" if f.get("unit") in (None, "deg") else ""
        conf = f.get("confidence")
        conf_txt = f"{100 * conf:.0f}%" if isinstance(conf, (int, float)) and math.isfinite(conf) else "&ndash;"
        u = f.get("uncertainty")
        pm = (f' <span class="unc">&plusmn; {_num(u, 2 if abs(u) < 1 else 1)}{deg}</span>'
              if isinstance(u, (int, float)) and not isinstance(u, bool) and math.isfinite(u) else "")
        border = (' <span class="badge borderline" title="value &plusmn; uncertainty straddles a threshold">'
                  "borderline</span>" if f.get("borderline") is True else "")
        digits = 2 if isinstance(f.get("value"), (int, float)) and abs(f["value"]) < 2 else 1
        out.append(
            f'<article class="finding {esc(sev if sev in SEVERITIES else "note")}" id="finding-{i}">'
            f'<h3>{_badge(sev)}{border} {esc(str(f.get("rule", "")).replace("_", " "))}'
            f' <span class="muted">rep {esc(f.get("rep"))}, side {esc(f.get("side"))}</span></h3>'
            f'<p><strong>Measured</strong> <span class="value">{_num(f.get("value"), digits)}{deg}{pm}{esc(unit)}</span> '
            f'(threshold {_num(f.get("threshold"), digits)}{deg}{esc(unit)}); confidence {conf_txt}; '
            f'view {esc(f.get("view"))}; frames {esc(f.get("frame_start"))}&ndash;{esc(f.get("frame_end"))}, '
            f'worst {esc(f.get("worst_frame"))} (t = {_num(times(f.get("worst_frame")), 2)} s)</p>'
            f'<p><strong>For the client:</strong> {esc(f.get("message_client"))}</p>'
            f'<p><strong>For the clinician:</strong> {esc(f.get("message_clinician"))}</p>'
            "</article>"
        )
    na = folder.report.get("not_assessed") or []
    if na:
        out.append("<h3>Not assessed</h3><ul>")
        for n in na:
            rep = f" (rep {esc(n.get('rep'))})" if n.get("rep") is not None else ""
            out.append(f"<li>{esc(str(n.get('rule', '')).replace('_', ' '))}{rep}: {esc(n.get('reason'))}</li>")
        out.append("</ul>")
    return "\n".join(out)


def build_plot_specs(folder: AnalysisFolder) -> list[PlotSpec]:
    """The angle-over-time plots of a folder: chosen columns, left/right together, with the rep
    spans and the thresholds of the findings drawn on the column each finding names."""
    cols = folder.angle_columns()
    if not cols or "time_s" not in folder.angles:
        return []
    times = _Times(folder)
    chosen = select_plot_columns(cols, space=folder.angle_space)
    finding_cols: list[tuple[dict[str, Any], str]] = []
    for f in folder.findings:
        fc = columns_for_finding(f, cols, space=folder.angle_space)
        if fc:
            finding_cols.append((f, fc[0]))
            if fc[0] not in chosen:
                chosen.append(fc[0])
    spans = []
    for rep in folder.reps:
        try:
            spans.append(RepSpan(int(rep["index"]), times(rep["start_frame"]), times(rep["bottom_frame"]),
                                 times(rep["end_frame"])))
        except (KeyError, TypeError, ValueError):
            continue
    t = np.asarray(folder.angles["time_s"], np.float64)
    specs = []
    for base, members in group_columns(chosen).items():
        series = [Series(split_side(c)[0] if split_side(c)[0] != "none" else base, t,
                         np.asarray(folder.angles[c], np.float64), SIDE_CSS[split_side(c)[0]])
                  for c in sorted(members)]
        ths = []
        seen: set[tuple[float, str]] = set()
        for f, c in finding_cols:
            thr = f.get("threshold")
            if c not in members or not isinstance(thr, (int, float)) or not math.isfinite(thr):
                continue
            key = (float(thr), str(f.get("rule")))
            wt = times(f.get("worst_frame"))
            wv = folder.angle_at(c, int(f["worst_frame"])) if "worst_frame" in f else float("nan")
            ths.append(Threshold(float(thr), f"{str(f.get('rule')).replace('_', ' ')} threshold {thr:.1f}"
                                 if key not in seen else "", str(f.get("severity")), wt, wv))
            seen.add(key)
        unit = "ratio" if "_ratio" in base else "degrees"
        specs.append(PlotSpec(base.replace("_", " "), unit, series, spans, ths))
    return specs


def _plots(folder: AnalysisFolder) -> str:
    if not folder.angles:
        return '<p class="muted">No angles.csv in this folder, so there is nothing to plot.</p>'
    specs = build_plot_specs(folder)
    if not specs:
        return '<p class="muted">angles.csv has no columns to plot.</p>'
    out = [('<p class="muted">Shaded bands are reps (dotted line: bottom); dashed coloured lines '
            "are finding thresholds, circles the worst frame.</p>")]
    for spec in specs:
        out.append(f"<h3>{esc(spec.title)}</h3>")
        out.append(render_svg(spec))
    return "\n".join(out)


def _gallery(folder: AnalysisFolder, base: Path) -> str:
    plan = plan_key_frames(folder)
    present = [k for k in plan if (base / FRAMES_DIR / k.name).is_file()]
    if not plan:
        return '<p class="muted">No key frames: no reps or findings.</p>'
    if not present:
        return ('<p class="muted">The key-frame pictures are not in this folder (they need the input '
                "video; re-render with it).</p>")
    out = ['<div class="gallery">']
    for k in present:
        src = esc(f"{FRAMES_DIR}/{k.name}")
        if k.kind == "rep":
            cap = f"Rep {esc(k.item.get('index'))}: bottom (frame {esc(k.frame)})"
        else:
            f = k.item
            cap = (f"{_badge(f.get('severity'))} {esc(str(f.get('rule', '')).replace('_', ' '))}, "
                   f"rep {esc(f.get('rep'))}: worst frame {esc(k.frame)}")
        out.append(f'<figure><a href="{src}"><img src="{src}" alt="{esc(k.name)}"></a>'
                   f"<figcaption>{cap}</figcaption></figure>")
    out.append("</div>")
    if len(present) < len(plan):
        out.append(f'<p class="muted">{len(plan) - len(present)} key frame(s) missing.</p>')
    return "\n".join(out)


def _video(base: Path) -> str:
    if not (base / VIDEO_NAME).is_file():
        return ('<p class="muted">No annotated video in this folder (it needs the input video; '
                "re-render with it).</p>")
    return (f'<video controls preload="metadata" playsinline src="{VIDEO_NAME}">'
            f'<a href="{VIDEO_NAME}">Download the annotated video</a></video>')


def _quality(folder: AnalysisFolder) -> str:
    r = folder.report
    q = r.get("quality") or {}
    warnings = list(q.get("warnings") or []) + list((r.get("view") or {}).get("warnings") or [])
    rows = [
        ["frames", esc(q.get("frames"))],
        ["frames with a person", esc(q.get("frames_with_pose"))],
        ["most people seen at once", esc(q.get("max_people_seen"))],
    ]
    out = [_table(["quality", "value"], rows)]
    shots = r.get("shots")
    if isinstance(shots, list) and len(shots) > 1:
        out.append(f"<p>The video has {len(shots)} shots (cuts or camera jumps); each was analysed on its own "
                   "and no rep spans a cut:</p><ul>")
        for k, sh in enumerate(shots, start=1):
            if isinstance(sh, dict):
                a = sh.get("start_frame", sh.get("start"))
                b = sh.get("end_frame", sh.get("end"))
                out.append(f"<li>shot {k}: frames {esc(a)}&ndash;{esc(b)}</li>")
        out.append("</ul>")
    blocked = blocked_rules(r)
    if blocked:
        out.append('<p>Rules that could not judge, and what blocked them:</p><ul class="blocked">')
        for cause, items in blocked:
            out.append(f"<li><strong>{esc(cause)}</strong>: {esc(', '.join(items))}</li>")
        out.append("</ul>")
    if warnings:
        out.append("<ul>" + "".join(f"<li>{esc(w)}</li>" for w in warnings) + "</ul>")
    else:
        out.append('<p class="muted">No quality warnings.</p>')
    return "\n".join(out)


def _provenance(folder: AnalysisFolder) -> str:
    r = folder.report
    p = r.get("provenance") or {}
    inp = r.get("input") or {}
    model = p.get("model") or {}
    rows = [
        ["input file", esc(Path(str(inp.get("path", ""))).name)],
        ["input sha256", esc(inp.get("sha256"))],
        ["input", esc(f"{inp.get('width')}x{inp.get('height')}, {inp.get('fps')} fps, "
                      f"{inp.get('frame_count')} frames, {inp.get('duration_s')} s, "
                      f"rotation {inp.get('rotation_deg')}")],
        ["movescreen", esc(p.get("movescreen_version"))],
        ["MediaPipe", esc(p.get("mediapipe_version"))],
        ["model", esc(model.get("name"))],
        ["model sha256", esc(model.get("sha256"))],
        ["created (UTC)", esc(p.get("created_utc"))],
        ["report schema", esc(r.get("schema_version"))],
    ]
    for k, v in (p.get("versions") or {}).items():
        rows.append([esc(f"version: {k}"), esc(v)])
    src = r.get("landmarks_source")
    if isinstance(src, dict):  # landmarks imported from another tool (interop), not estimated here
        files = src.get("files")
        where = (", ".join(f"{k}: {v}" for k, v in files.items()) if isinstance(files, dict)
                 else f"folder {src.get('folder')}, {files} files")
        layout = f", layout {src['layout']}" if src.get("layout") else ""
        rows.insert(3, ["landmarks from", esc(
            f"{src.get('format')} ({where}{layout}): imported from another tool, not estimated "
            "by the pose model named below")])
        missing = src.get("landmarks_missing") or []
        rows.insert(4, ["landmarks missing", esc(f"{len(missing)} of 33: {', '.join(map(str, missing))}"
                                                 if missing else "none")])
    details = {k: p.get(k) for k in ("settings", "filter", "config") if p.get(k) is not None}
    out = [_table(["item", "value"], rows)]
    if details:
        out.append("<details><summary>Settings, filter and configuration</summary><pre>"
                   + esc(json.dumps(details, indent=2, sort_keys=True, default=str)) + "</pre></details>")
    return "\n".join(out)


def render_html(folder: AnalysisFolder, base: Path | None = None) -> str:
    """The whole report page as a string.

    Parameters
    ----------
    folder : AnalysisFolder
    base : Path, optional
        Folder the page will live in (where ``annotated.mp4`` and ``frames/`` are looked for);
        the analysis folder by default.
    """
    base = base or folder.path
    times = _Times(folder)
    name = Path(str((folder.report.get("input") or {}).get("path") or folder.path.name)).name
    sections = [
        ("summary", "Summary", _summary(folder)),
        ("reps", "Reps", _reps_table(folder, times)),
        ("findings", "Findings", _findings(folder, times)),
        ("rules", "Rules checked", _rules_checked(folder)),
        ("plots", "Angles over time", _plots(folder)),
        ("frames", "Key frames", _gallery(folder, base)),
        ("video", "Annotated video", _video(base)),
        ("quality", "Quality", _quality(folder)),
        ("provenance", "Provenance", _provenance(folder)),
    ]
    from movescreen.render.hip_rotation import hip_rotation_section  # issue 13

    if (hip := hip_rotation_section(folder.report)) is not None:
        sections.insert(1, ("hip_rotation", "Hip rotation", hip))
    nav = " &middot; ".join(f'<a href="#{sid}">{esc(title)}</a>' for sid, title, _ in sections)
    body = "\n".join(f'<section id="{sid}"><h2>{esc(title)}</h2>\n{html}\n</section>'
                     for sid, title, html in sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'">
<meta name="generator" content="movescreen">
<link rel="icon" href="data:,">
<title>Movement screen: {esc(name)}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<h1>Movement screen: {esc(name)}</h1>
<p class="muted">A screen, not a diagnosis. {nav}</p>
{_safety(folder)}
{body}
</main>
</body>
</html>
"""


def write_html_report(folder: AnalysisFolder, out_path: str | os.PathLike[str]) -> Path:
    """Write ``report.html`` (atomic); it links ``annotated.mp4`` and ``frames/`` beside it.

    Returns
    -------
    Path
        ``out_path``.
    """
    target = Path(out_path)
    return write_text_atomic(target, render_html(folder, target.parent))
