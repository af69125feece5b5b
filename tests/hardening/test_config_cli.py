"""`movescreen config show` prints what is in force; `config write` gives a file that loads back."""

from __future__ import annotations

import json
import tomllib

from click.testing import CliRunner

from movescreen.cli import main
from movescreen.config import DEFAULTS_PATH, load_config


def test_show_prints_every_rule_with_the_override_applied(tmp_path):
    p = tmp_path / "clinic.toml"
    p.write_text("[heel_lift]\nenabled = false\ncaution = 0.2\n")
    res = CliRunner().invoke(main, ["config", "show", "--config", str(p)])
    assert res.exit_code == 0, res.output
    rules = {k for k, v in tomllib.loads(DEFAULTS_PATH.read_text()).items() if isinstance(v, dict)}
    for rule_id in rules:
        assert f"] {rule_id}: " in res.output
    assert "[off] heel_lift: caution >= 0.2, flag >= 0.25 shank lengths" in res.output
    res = CliRunner().invoke(main, ["config", "show", "--config", str(p), "--json"])
    data = json.loads(res.output)
    assert data["rules"]["heel_lift"]["caution"] == 0.2 and data["sources"][-1] == str(p)


def test_show_with_a_bad_file_is_one_sentence_and_exit_2(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('[heel_lift]\nenabled = "false"\n')
    res = CliRunner().invoke(main, ["config", "show", "--config", str(p)])
    assert res.exit_code == 2
    assert "enabled must be true or false" in res.output and "Traceback" not in res.output


def test_write_gives_the_commented_defaults_which_load_back_identically(tmp_path):
    out = tmp_path / "start.toml"
    res = CliRunner().invoke(main, ["config", "write", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert text.count("\n#") > 50 and "[lumbar_rounding]" in text
    assert load_config(out).as_dict()["rules"] == load_config().as_dict()["rules"]
    res = CliRunner().invoke(main, ["config", "write", str(out)])
    assert res.exit_code == 2 and "already exists" in res.output
    res = CliRunner().invoke(main, ["config", "write", str(tmp_path)])
    assert res.exit_code == 2 and "is a folder" in res.output
    res = CliRunner().invoke(main, ["config", "write", str(tmp_path / "no" / "such" / "x.toml")])
    assert res.exit_code == 2 and "cannot write" in res.output
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*.part"))
