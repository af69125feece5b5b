"""Rule configuration: defaults in one commented TOML, overrides, and clear errors."""

from __future__ import annotations

import tomllib

import pytest

from movescreen.config import DEFAULTS_PATH, load_config
from movescreen.errors import ConfigError
from movescreen.rules.engine import RULES
from movescreen.rules.live_cues import LIVE_RULES

REQUIRED_IDS = {
    "lumbar_rounding", "squatting_the_hinge", "lockout_hyperextension", "knee_valgus", "knee_twist",
    "insufficient_depth", "heel_lift", "excessive_forward_lean", "asymmetry",
}


def test_every_rule_has_a_commented_section_with_unit_and_thresholds():
    text = DEFAULTS_PATH.read_text()
    data = tomllib.loads(text)
    # every table is a rule of the engine or a live (mid-rep) cue rule, and every rule has a table
    assert {r.id for r in RULES} | {r.id for r in LIVE_RULES} == {
        k for k, v in data.items() if isinstance(v, dict)}
    assert REQUIRED_IDS <= {r.finding_id for r in RULES}
    for rule_id, section in data.items():
        if not isinstance(section, dict):
            continue
        assert section["unit"] and section["views"] and section["movements"]
        assert any(k in section for k in ("note", "caution", "flag"))
        # the lines just above the section header explain it
        before = text.split(f"[{rule_id}]")[1].split("\n")[1:3]
        assert all(line.startswith("#") for line in before), rule_id


def test_override_only_changes_given_keys(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text("[heel_lift]\ncaution = 0.3\nflag = 0.4\n")
    base, over = load_config(), load_config(p)
    assert over["heel_lift"].thresholds == (("caution", 0.3), ("flag", 0.4))
    assert over["heel_lift"].views == base["heel_lift"].views
    assert over["lumbar_rounding"] == base["lumbar_rounding"]
    assert over.sources[-1] == str(p)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[no_such_rule]\nflag = 1\n", "unknown rule"),
        ("[heel_lift]\nflagg = 1\n", "unknown setting"),
        ("[heel_lift]\ncaution = 0.5\nflag = 0.1\n", "grow in severity"),
        ("[heel_lift]\nviews = ['top']\n", "unknown views"),
        ("[heel_lift\n", "not valid TOML"),
    ],
)
def test_bad_config_gives_a_clear_error(tmp_path, text, message):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(p)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="No configuration file"):
        load_config(tmp_path / "nope.toml")
