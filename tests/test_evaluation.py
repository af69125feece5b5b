"""Confusion-table maths (movescreen.evaluation) and the label table of the rules benchmark."""

from __future__ import annotations

import doctest
import importlib.util
import math
import sys
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from movescreen import evaluation
from movescreen.evaluation import (
    format_rate,
    predict_any,
    predict_rule,
    tally_confusion,
)
from tests.conftest import REPO, SHARED_DATA


def finding(rule: str, severity: str) -> SimpleNamespace:
    return SimpleNamespace(rule=rule, severity=severity)


def test_doctests() -> None:
    result = doctest.testmod(evaluation)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    ("severity", "min_severity", "expected"),
    [
        ("note", "caution", "quiet"),
        ("caution", "caution", "fired"),
        ("flag", "caution", "fired"),
        ("caution", "flag", "quiet"),
        ("flag", "flag", "fired"),
        ("note", "note", "fired"),
    ],
)
def test_predict_rule_counts_only_findings_at_or_above_the_severity(
    severity: str, min_severity: str, expected: str
) -> None:
    assert predict_rule([finding("heel_lift", severity)], True, "heel_lift", min_severity=min_severity) == expected


def test_predict_rule_ignores_other_rules_and_reports_not_assessed() -> None:
    other = [finding("lumbar_rounding", "flag")]
    assert predict_rule(other, True, "heel_lift") == "quiet"
    assert predict_rule(other, False, "heel_lift") == "not_assessed"
    # a finding is a judgement even if the status said otherwise
    assert predict_rule([finding("heel_lift", "flag")], False, "heel_lift") == "fired"


def test_predict_rule_rejects_unknown_severity() -> None:
    with pytest.raises(ValueError, match="min_severity"):
        predict_rule([], True, "heel_lift", min_severity="warning")


def test_tally_confusion_counts_each_cell() -> None:
    pairs = [
        (True, "fired"), (True, "fired"), (True, "quiet"), (True, "not_assessed"),
        (False, "quiet"), (False, "fired"), (False, "not_assessed"), (False, "not_assessed"),
    ]
    c = tally_confusion(pairs)
    assert (c.tp, c.fn, c.tn, c.fp, c.na_pos, c.na_neg) == (2, 1, 1, 1, 1, 2)
    assert c.sensitivity == pytest.approx(2 / 3)
    assert c.specificity == pytest.approx(1 / 2)


def test_not_assessed_is_neither_true_nor_false() -> None:
    c = tally_confusion([(True, "not_assessed"), (False, "not_assessed")])
    assert (c.tp, c.fn, c.tn, c.fp) == (0, 0, 0, 0)
    assert math.isnan(c.sensitivity) and math.isnan(c.specificity)
    assert format_rate(c.tp, c.n_pos) == "n/a (0/0)"


def test_tally_confusion_rejects_unknown_prediction() -> None:
    with pytest.raises(ValueError, match="prediction"):
        tally_confusion([(True, "maybe")])  # type: ignore[list-item]


preds = st.sampled_from(["fired", "quiet", "not_assessed"])


@given(st.lists(st.tuples(st.booleans(), preds)))
def test_every_pair_lands_in_exactly_one_cell(pairs: list[tuple[bool, str]]) -> None:
    c = tally_confusion(pairs)  # type: ignore[arg-type]
    assert c.tp + c.fn + c.tn + c.fp + c.na_pos + c.na_neg == len(pairs)
    assert c.tp + c.fn + c.na_pos == sum(lab for lab, _ in pairs)
    for rate in (c.sensitivity, c.specificity):
        assert math.isnan(rate) or 0.0 <= rate <= 1.0


@given(st.lists(preds, min_size=1))
def test_predict_any_matches_its_definition(ps: list[str]) -> None:
    got = predict_any(ps)  # type: ignore[arg-type]
    want = "fired" if "fired" in ps else "quiet" if "quiet" in ps else "not_assessed"
    assert got == want


# --- the benchmark's label table -----------------------------------------------------------


def load_benchmark():  # type: ignore[no-untyped-def]
    path = REPO / "benchmarks" / "evaluate_rules.py"
    spec = importlib.util.spec_from_file_location("evaluate_rules", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the class is built
    spec.loader.exec_module(mod)
    return mod


def test_label_table_names_known_rules_tiers_and_sources() -> None:
    from movescreen.rules.engine import RULES

    bench = load_benchmark()
    finding_ids = {r.finding_id for r in RULES}
    ids = [c.id for c in bench.CLIPS]
    assert len(ids) == len(set(ids)), "clip ids must be unique"
    for clip in bench.CLIPS:
        assert clip.movement in ("squat", "hinge", "auto")  # auto: the seated clips (issue 11)
        assert clip.true_movement in ("squat", "hinge", "other")
        assert clip.labels, f"{clip.id} has no label: leave it out instead"
        for rule, lab in clip.labels.items():
            assert rule in finding_ids or rule == bench.ANY, (clip.id, rule)
            assert lab.tier in bench.TIERS, (clip.id, rule, lab.tier)
            assert lab.source.strip(), (clip.id, rule)


def test_label_table_has_both_classes_for_the_hinge_rules() -> None:
    bench = load_benchmark()
    for rule in ("lumbar_rounding", "squatting_the_hinge", "lockout_hyperextension", "heel_lift"):
        labels = [c.labels[rule].fault for c in bench.CLIPS if rule in c.labels]
        assert any(labels) and not all(labels), rule


def test_every_labelled_file_is_in_sources_md() -> None:
    sources = SHARED_DATA / "SOURCES.md"
    if not sources.exists():
        pytest.skip(f"third-party test data not available here: {sources} (it lives in ../shared/data)")
    text = sources.read_text()
    bench = load_benchmark()
    for clip in bench.CLIPS:
        assert clip.file in text, clip.file
        assert (SHARED_DATA / "videos" / clip.file).exists(), clip.file
