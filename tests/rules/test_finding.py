"""Finding ids: stable, derived from rule, rep, side and frames only."""

from dataclasses import replace

from movescreen.rules.finding import Finding


def _finding(**kw: object) -> Finding:
    base = dict(rule="lumbar_rounding", severity="flag", rep=2, side="none", frame_start=10,
                frame_end=40, worst_frame=25, value=18.0, threshold=15.0, unit="deg", view="side",
                confidence=0.8, message_client="c", message_clinician="k")
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def test_id_depends_on_rule_rep_side_and_frames_only() -> None:
    f = _finding()
    assert f.id == "lumbar_rounding-r2-none-f10-40"
    assert replace(f, value=30.0, message_client="other", severity="caution").id == f.id
    assert replace(f, rep=3).id != f.id
    assert replace(f, side="left").id != f.id
    assert replace(f, frame_end=41).id != f.id
    assert f.as_dict()["id"] == f.id
