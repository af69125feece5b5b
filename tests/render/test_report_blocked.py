"""The report's quality section says what kept rules from judging (issue 11, item 8)."""

from __future__ import annotations

from movescreen.render.report import blocked_rules


def test_blocked_rules_are_grouped_by_cause():
    report = {"not_assessed": [
        {"rule": "lumbar_rounding", "rep": 2,
         "reason": "lumbar_rounding: the body turned towards the camera (31 deg from facing it) at the measured "
                   "frames; needs a side view: not judged."},
        {"rule": "heel_lift", "rep": 1, "reason": "Needs a side view; this rep was filmed from the front."},
        {"rule": "knee_twist", "rep": 1,
         "reason": "knee_twist (left): measured 121.00 deg, outside what a body can do (-45 to 45 deg): taken as a "
                   "tracking error (or a cut in the video), not judged."},
        {"rule": "knee_valgus", "rep": 3, "reason": "partial rep (cut off by the end of the clip or by missing "
                                                    "frames): not judged."},
        {"rule": "squatting_the_hinge", "rep": 1,
         "reason": "squatting_the_hinge: a landmark it needs was outside the picture (guessed by the pose model) in "
                   "more than half of the measured frames: not judged."},
        {"rule": "asymmetry", "rep": None, "reason": "Switched off."},
    ]}
    got = dict(blocked_rules(report))
    assert got["a turned body"] == ["lumbar rounding (rep 2)"]
    assert got["the camera view (the rule needs another view)"] == ["heel lift (rep 1)"]
    assert got["an impossible value (tracking error)"] == ["knee twist (rep 1)"]
    assert got["a partial rep"] == ["knee valgus (rep 3)"]  # "cut off by the clip's end" is not a video cut
    assert got["a body part outside the picture"] == ["squatting the hinge (rep 1)"]
    assert "a cut in the video" not in got
    assert not any("asymmetry" in i for items in got.values() for i in items)
