"""report.html: self-contained, escaped, with every section, and sane without reps."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from movescreen.render import load_analysis_folder, render_all, render_html, write_html_report
from tests.render.conftest import HOSTILE_NAME

pytestmark = pytest.mark.model


def _external_refs(html: str) -> list[str]:
    refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html)
    refs += re.findall(r"url\(([^)]*)\)", html)
    return [r for r in refs if re.match(r"^[a-z]+:|^//", r.strip(), re.IGNORECASE) and not r.startswith("data:")]


def test_hostile_file_name_is_text_not_markup(rendered_rich):
    html = rendered_rich["html"].read_text()
    assert "<img src=x" not in html
    assert "onerror=alert(1)&gt;" in html and "x&lt;img src=x" in html
    assert "<script" not in html.lower()  # pain text with a script tag is escaped too
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;(fixture)&lt;/b&gt;" in html  # a finding message


def test_report_is_self_contained(rendered_rich):
    html = rendered_rich["html"].read_text()
    assert _external_refs(html) == []
    assert '<link rel="stylesheet' not in html and "@import" not in html and "<script" not in html
    assert '<meta name="viewport"' in html


def test_report_has_every_section_and_links_the_rendered_files(rendered_rich, rich_folder):
    html = rendered_rich["html"].read_text()
    for sid in ("safety", "summary", "reps", "findings", "plots", "frames", "video", "quality", "provenance"):
        assert f'id="{sid}"' in html
    assert '<video controls' in html and 'src="annotated.mp4"' in html
    srcs = re.findall(r'<img src="([^"]+)"', html)
    assert srcs and all((rich_folder / s).is_file() for s in srcs)
    report = json.loads((rich_folder / "report.json").read_text())
    assert html.count('class="finding ') == len(report["findings"])
    assert html.count("<svg") >= 3
    assert "knee valgus threshold 8.0" in html  # threshold line on the finding's column
    assert report["safety"]["disclaimer"].split(".")[0] in html
    assert report["provenance"]["model"]["sha256"] in html
    assert "fixture &lt;warning&gt;" in html  # quality warnings, escaped


def test_no_reps_folder_renders_with_notes(no_reps_folder, tmp_path):
    folder = load_analysis_folder(no_reps_folder)
    out = write_html_report(folder, tmp_path / "report.html")
    html = out.read_text()
    assert "no reps detected" in html
    assert "No annotated video in this folder" in html
    assert "<video" not in html and "<img" not in html
    assert "nothing to plot" in html


def test_real_folder_renders_whatever_the_analysis_wrote(real_folder, tmp_path):
    d = tmp_path / "copy"
    shutil.copytree(real_folder, d)
    out = render_all(d, video=False, key_frames=False)
    assert set(out) == {"html"}
    html = out["html"].read_text()
    assert "Movement screen: squat_front_banded_bodyweight_01.mp4" in html
    assert _external_refs(html) == []


def test_report_html_is_deterministic_from_the_folder(rich_folder, rendered_rich):
    folder = load_analysis_folder(rich_folder)
    assert render_html(folder) == rendered_rich["html"].read_text()
    assert HOSTILE_NAME not in render_html(folder)


def test_real_folder_reps_and_angles_show_when_the_analysis_has_them(real_folder):
    folder = load_analysis_folder(real_folder)
    html = render_html(folder)
    if folder.reps:
        assert html.count("<tr><td>") >= len(folder.reps)
        for rep in folder.reps:
            assert f"(bottom {rep['bottom_frame']})" in html
    else:
        assert "no reps detected" in html
    if folder.angle_columns():
        assert "<svg" in html
