"""``movescreen config show|write``: the resolved rule thresholds, and a file to start from."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click

from movescreen import __version__
from movescreen.config import DEFAULTS_PATH, load_config
from movescreen.errors import MovescreenError


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"movescreen: error: {message}", err=True)
    sys.exit(code)


@click.group("config", short_help="Show the rule thresholds in force, or write a file to edit.",
             epilog="Example: movescreen config write clinic.toml")
def config() -> None:
    """Rule thresholds: show the ones in force, or write the defaults to a file to edit.

    \b
    Examples:
      movescreen config show
      movescreen config show --config clinic.toml --json
      movescreen config write clinic.toml
    """


@config.command("show", short_help="Print every rule's thresholds as movescreen will use them.",
                epilog="Example: movescreen config show --config clinic.toml --json")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="A TOML file overriding the defaults (as given to analyze --config).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
def show(config_path: Path | None, as_json: bool) -> None:
    """Print the resolved thresholds: the defaults with --config FILE applied on top."""
    try:
        cfg = load_config(config_path)
    except MovescreenError as e:
        _fail(str(e))
        return
    if as_json:
        click.echo(json.dumps(cfg.as_dict(), indent=2))
        return
    click.echo("Rule thresholds from " + " + ".join(cfg.sources))
    for rule_id, rc in cfg.rules.items():
        state = "on " if rc.enabled else "off"
        levels = ", ".join(f"{sev} {'<=' if rc.direction == 'below' else '>='} {thr:g}" for sev, thr in rc.thresholds)
        click.echo(f"  [{state}] {rule_id}: {levels} {rc.unit}")
        click.echo(f"        views {', '.join(rc.views)}; movements {', '.join(rc.movements)}; "
                   f"min_confidence {rc.min_confidence:g}")
        if rc.params:
            click.echo("        " + "; ".join(f"{k} {v:g}" for k, v in rc.params.items()))


@config.command("write", short_help="Write the default thresholds, with their reasons, to FILE.",
                epilog="Example: movescreen config write clinic.toml")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
def write(file: Path, force: bool) -> None:
    """Write the defaults (every threshold with its unit and reason) to FILE, to edit and pass
    to --config. Keep only the keys you change: the rest follow future defaults."""
    if file.is_dir():
        _fail(f"{file} is a folder; give a file name such as {file / 'movescreen.toml'}.")
    if file.exists() and not force:
        _fail(f"{file} already exists; choose another name or add --force to replace it.")
    header = (
        f"# movescreen {__version__} rule configuration, written by `movescreen config write`.\n"
        "# Use it with `movescreen analyze VIDEO --config FILE`. Every key is optional there: delete\n"
        "# the ones you do not change so they keep following the defaults. `movescreen config show\n"
        "# --config FILE` prints the result.\n#\n"
    )
    text = header + DEFAULTS_PATH.read_text(encoding="utf-8")
    folder = file.resolve().parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".part", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.chmod(tmp, 0o644)
            os.replace(tmp, file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        _fail(f"cannot write {file} ({e.strerror or e}); check that the folder {folder} exists and is writable.")
    click.echo(f"Wrote {file}")
