"""Typed configuration: each wrong type, unknown key, out-of-range value or schema is one sentence."""

from __future__ import annotations

import tomllib

import pytest

from movescreen.config import DEFAULTS_PATH, RuleConfig, load_config
from movescreen.config_schema import rule_keys, validate_config
from movescreen.errors import ConfigError


def _load(tmp_path, text: str):
    p = tmp_path / "clinic.toml"
    p.write_text(text)
    return p, lambda: load_config(p)


@pytest.mark.parametrize(
    "text, key, expected, got",
    [
        ('[heel_lift]\nenabled = "false"\n', "enabled", "true or false", 'a string ("false")'),
        ("[heel_lift]\ncaution = true\n", "caution", "a finite number", "a boolean (true)"),
        ('[knee_valgus]\nviews = "front"\n', "views", "a list of strings from", 'a string ("front")'),
        ("[knee_twist]\nmin_confidence = 7\n", "min_confidence", "a number from 0 to 1", "a number (7)"),
        ("[knee_twist]\nmin_confidence = -0.1\n", "min_confidence", "a number from 0 to 1", "a number (-0.1)"),
        ("[heel_lift]\nflag = nan\n", "flag", "a finite number", "a number (nan)"),
        ("[heel_lift]\nmin_duration_s = -1.0\n", "min_duration_s", "at least 0", "a number (-1.0)"),
        ('[heel_lift]\ndirection = "up"\n', "direction", '"above", "below"', 'a string ("up")'),
        ("[heel_lift]\nunit = 3\n", "unit", "a string in quotes", "a number (3)"),
        ('[heel_lift]\nmovements = ["squat", 1]\n', "movements", '"squat", "hinge"', "a list"),
        ('[heel_lift]\ntoe_on_floor_max = "0.1"\n', "toe_on_floor_max", "a finite number", 'a string ("0.1")'),
    ],
)
def test_a_wrong_type_or_range_names_file_key_expected_and_found(tmp_path, text, key, expected, got):
    p, load = _load(tmp_path, text)
    with pytest.raises(ConfigError) as ei:
        load()
    msg = str(ei.value)
    assert msg.startswith(f"{p}: [") and f"] {key} must be " in msg
    assert expected in msg and got in msg
    assert msg.count(". ") == 0 and msg.endswith(".")  # one sentence
    assert "\n" not in msg


def test_unknown_keys_and_rules_and_non_tables(tmp_path):
    p, load = _load(tmp_path, "[heel_lift]\ncautoin = 0.2\n")
    with pytest.raises(ConfigError, match=r"\[heel_lift\] has an unknown setting 'cautoin'.*expected one of .*caution"):
        load()
    p, load = _load(tmp_path, "[heal_lift]\ncaution = 0.2\n")
    with pytest.raises(ConfigError, match="unknown rule 'heal_lift'; known rules: .*heel_lift"):
        load()
    p, load = _load(tmp_path, "heel_lift = 0.2\n")
    with pytest.raises(ConfigError, match=r"heel_lift must be a table \(\[heel_lift\]\), got a number \(0.2\)"):
        load()


@pytest.mark.parametrize("value, got", [("2", "a number (2)"), ('"1"', 'a string ("1")'), ("true", "a boolean (true)")])
def test_a_wrong_schema_version_is_refused(tmp_path, value, got):
    p, load = _load(tmp_path, f"schema = {value}\n[heel_lift]\ncaution = 0.2\n")
    with pytest.raises(ConfigError, match=f"schema must be 1 .*got {got.replace('(', '.').replace(')', '.')}"):
        load()


def test_valid_overrides_still_apply_and_integers_are_numbers(tmp_path):
    _, load = _load(tmp_path, "schema = 1\n[heel_lift]\nenabled = false\ncaution = 0\nflag = 1\n")
    cfg = load()
    assert cfg["heel_lift"].enabled is False
    assert cfg["heel_lift"].thresholds == (("caution", 0.0), ("flag", 1.0))


def test_the_schema_follows_the_dataclass_and_the_defaults():
    """Every RuleConfig field (but id/thresholds/params) and every defaults key is a schema key."""
    import dataclasses

    data = tomllib.loads(DEFAULTS_PATH.read_text())
    fields = {f.name for f in dataclasses.fields(RuleConfig)} - {"id", "thresholds", "params"}
    for rule_id, table in data.items():
        if not isinstance(table, dict):
            continue
        keys = rule_keys(table)
        assert fields <= set(keys) and set(table) <= set(keys), rule_id
        assert {"note", "caution", "flag"} <= set(keys)


def test_a_new_setting_in_the_defaults_is_validated_without_code(tmp_path):
    defaults = tmp_path / "defaults.toml"
    defaults.write_text(
        'schema = 1\n[new_rule]\nenabled = true\nviews = ["side"]\nmovements = ["squat"]\nunit = "deg"\n'
        "caution = 1.0\nnew_window_s = 0.5\n"
    )
    validate_config(tomllib.loads(defaults.read_text()), defaults, defaults_path=defaults)
    ok = {"new_rule": {"new_window_s": 2}}
    assert validate_config(ok, tmp_path / "u.toml", defaults_path=defaults) is ok
    with pytest.raises(ConfigError, match=r"u.toml: \[new_rule\] new_window_s must be a number of at least 0"):
        validate_config({"new_rule": {"new_window_s": -2}}, tmp_path / "u.toml", defaults_path=defaults)
    # the defaults file itself must say everything RuleConfig requires, and its schema
    with pytest.raises(ConfigError, match=r"\[new_rule\] is missing unit; expected a string in quotes"):
        validate_config({"schema": 1, "new_rule": {"enabled": True, "views": [], "movements": []}},
                        defaults, defaults_path=defaults)
    with pytest.raises(ConfigError, match="the key schema is missing"):
        validate_config({}, defaults, defaults_path=defaults)


def test_unreadable_config_files_are_one_sentence(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read as UTF-8 TOML"):
        load_config(tmp_path)  # a folder
    p = tmp_path / "bin.toml"
    p.write_bytes(b"\xff\xfe[heel_lift]\n")
    with pytest.raises(ConfigError, match="cannot be read as UTF-8 TOML|not valid TOML"):
        load_config(p)
