"""report.html's "Hip rotation" section, from report.json's ``hip_rotation`` block (issue 13).

Pure: a report dict in, an HTML fragment out (every value escaped). Each range is shown with its
uncertainty, the normal range from the literature (sources in rules/defaults.toml and
docs/hip_rotation.md) and the person's other side.
"""

from __future__ import annotations

from html import escape
from typing import Any

from movescreen.kinematics.hip_rotation import SAFETY_TEXT

TEST_NAMES = {
    "hip_rotation_seated": "Seated hip rotation test",
    "figure4": "Figure-4 (ankle on the opposite knee)",
    "hip_9090": "90/90 sitting position",
}


def _v(m: Any, unit: str = "deg", digits: int = 0) -> str:
    if not isinstance(m, dict) or not isinstance(m.get("value"), int | float):
        return '<span class="muted">not measured</span>'
    u = m.get("uncertainty")
    pm = f" &plusmn; {u:.{max(digits, 1) if u < 1 else digits}f}" if isinstance(u, int | float) else ""
    unit_s = "&deg;" if unit == "deg" else f" {escape(unit)}"
    return f"{m['value']:.{digits}f}{pm}{unit_s}"


def _normal(block: dict[str, Any], direction: str) -> str:
    rng = (block.get("normal_range") or {}).get(f"{direction}_deg") or []
    if len(rng) == 2 and all(isinstance(x, int | float) for x in rng):
        return f"{rng[0]:.0f}&ndash;{rng[1]:.0f}&deg;"
    return '<span class="muted">n/a</span>'


def _below(m: Any, block: dict[str, Any], direction: str) -> str:
    rng = (block.get("normal_range") or {}).get(f"{direction}_deg") or []
    if (isinstance(m, dict) and isinstance(m.get("value"), int | float) and len(rng) == 2
            and isinstance(rng[0], int | float) and m["value"] + (m.get("uncertainty") or 0) < rng[0]):
        return " <em>(below the normal range)</em>"
    return ""


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def hip_rotation_section(report: dict[str, Any]) -> str | None:
    """The section's HTML, or None when the report has no hip rotation test."""
    block = report.get("hip_rotation") if isinstance(report, dict) else None
    if not isinstance(block, dict):
        return None
    test = str(block.get("test") or "")
    parts = [f"<p><strong>{escape(TEST_NAMES.get(test, test))}</strong>, filmed from the "
             f"{escape(str(block.get('view') or 'unknown'))}. {escape(SAFETY_TEXT)}</p>"]
    if not block.get("assessed"):
        parts.append(f"<p>{escape(str(block.get('reason') or 'Not assessed.'))}</p>")
    sides = block.get("sides") or {}
    if sides:
        rows = []
        for side in ("left", "right"):
            other = "right" if side == "left" else "left"
            for d in ("internal", "external"):
                m = (sides.get(side) or {}).get(d)
                rows.append([escape(side), escape(d), _v(m) + _below(m, block, d), _normal(block, d),
                             _v((sides.get(other) or {}).get(d))])
        parts.append(_table(["Side", "Rotation", "Range", "Normal range", "Other side"], rows))
        asym = block.get("asymmetry_deg") or {}
        if asym:
            parts.append("<p>Left-right difference: " + ", ".join(
                f"{escape(k)} {v:.0f}&deg;" for k, v in asym.items() if isinstance(v, int | float)) + ".</p>")
    f4 = block.get("figure4") or {}
    if f4:
        rows = []
        for side, v in f4.items():
            opp = f4.get("right" if side == "left" else "left") or {}
            rows.append([escape(side), _v(v.get("crossed_shin_from_horizontal_deg")),
                         _v(v.get("knee_height_thigh_lengths"), "thigh lengths", 2),
                         _v(opp.get("crossed_shin_from_horizontal_deg")) if opp else
                         '<span class="muted">not crossed</span>'])
        parts.append(_table(["Crossed leg", "Shin from horizontal (0 = level)", "Knee above the other knee",
                             "Other side"], rows))
    n90 = block.get("hip_9090") or {}
    if n90:
        rows = [[escape(role), escape(str(n90.get("front_side") if role == "front" else
                                          ("right" if n90.get("front_side") == "left" else "left"))),
                 _v(n90.get(f"{role}_shin_from_hip_line_deg"))] for role in ("front", "back")]
        parts.append(_table(["Leg", "Side", "Shin from the hip line"], rows))
    if sides or f4:
        parts.append('<p class="muted">Normal range: ' + escape(
            "hip internal and external rotation about 30-45 deg each (AAOS average 45 deg, Greene & "
            "Heckman 1994 via Norkin & White; adult means about 32-36 deg, Roach & Miles 1991). A "
            "screen, not a goniometer measurement: see docs/hip_rotation.md.") + "</p>")
    return "\n".join(parts)


def hip_rotation_text(report: dict[str, Any]) -> str:
    """One plain line for the terminal: the ranges per side, or why they were not assessed."""
    block = report.get("hip_rotation") if isinstance(report, dict) else None
    if not isinstance(block, dict):
        return ""
    if not block.get("assessed"):
        return f"Hip rotation: {block.get('reason') or 'not assessed.'}"

    def v(m: Any) -> str:
        if not isinstance(m, dict) or not isinstance(m.get("value"), int | float):
            return "-"
        u = m.get("uncertainty")
        if not isinstance(u, int | float):
            return f"{m['value']:.0f}"
        return f"{m['value']:.0f}±{u:.1f}" if u < 2 else f"{m['value']:.0f}±{u:.0f}"

    parts = []
    for side, dirs in (block.get("sides") or {}).items():
        parts.append(f"{side} internal {v((dirs or {}).get('internal'))}, external {v((dirs or {}).get('external'))}")
    for side, f in (block.get("figure4") or {}).items():
        parts.append(f"{side} figure-4 shin {v((f or {}).get('crossed_shin_from_horizontal_deg'))} from horizontal")
    n90 = block.get("hip_9090") or {}
    for role in ("front", "back"):
        if n90.get(f"{role}_shin_from_hip_line_deg"):
            parts.append(f"90/90 {role} shin {v(n90[f'{role}_shin_from_hip_line_deg'])} from the hip line")
    rng = (block.get("normal_range") or {}).get("internal_deg") or []
    normal = f" (normal about {rng[0]:.0f}-{rng[1]:.0f})" if len(rng) == 2 and None not in rng else ""
    return "Hip rotation, deg: " + "; ".join(parts) + normal + "."
