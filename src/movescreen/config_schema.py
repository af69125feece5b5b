"""Typed validation of the rule configuration (``defaults.toml`` and ``--config FILE``).

The schema is not written by hand: it is derived from :class:`movescreen.config.RuleConfig`'s
fields (their type hints), the allowed values in ``config.py`` (``VIEWS``, ``MOVEMENTS``,
``SEVERITIES``) and the rule tables and extra settings that ``defaults.toml`` defines. A field
or rule added there is validated without a change here. The types are checked by msgspec
(strict: ``"false"`` is not a boolean, ``true`` is not a number, ``"front"`` is not a list), and
every error becomes one sentence naming the file, the key, what was expected and what was found.

Mapping from a ``RuleConfig`` field to a TOML key:

- ``id``: the table name, not a key;
- ``thresholds``: one optional number per severity (``note``, ``caution``, ``flag``);
- ``params``: the rule's extra settings, exactly those ``defaults.toml`` gives that rule;
- ``tuple[str, ...]`` named ``views``: a list of strings from the module constant ``VIEWS``
  (the field name in capitals), if ``config.py`` has one;
- ``Literal[...]``, ``bool``, ``str``, ``float``: as written.

Ranges: ``min_confidence`` and settings ending in ``_fraction`` lie in 0..1; settings ending in
``_s`` or ``_hz`` are not negative; every number is finite.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from movescreen import config as _config
from movescreen.errors import ConfigError

#: The configuration layout version this code reads (``schema = 1`` at the top of the file).
SCHEMA_VERSION = 1

_FINITE = 1e300  # msgspec has no "finite" constraint; NaN and inf fail these bounds


@dataclasses.dataclass(frozen=True)
class _Key:
    """One TOML key of a rule table: its msgspec type, and the words for what it expects."""

    type: Any
    expects: str
    required: bool = False


def _number(name: str) -> _Key:
    if name == "min_confidence" or name.endswith("_fraction") or name.endswith("confidence"):
        return _Key(Annotated[float, msgspec.Meta(ge=0.0, le=1.0)], "a number from 0 to 1")
    if name.endswith("_s") or name.endswith("_hz"):
        return _Key(Annotated[float, msgspec.Meta(ge=0.0, le=_FINITE)], "a number of at least 0")
    return _Key(Annotated[float, msgspec.Meta(ge=-_FINITE, le=_FINITE)], "a finite number")


def _words(values: tuple[Any, ...]) -> str:
    return ", ".join(_toml(v) for v in values)


def _key_for(name: str, hint: Any, required: bool) -> _Key:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is bool:
        return _Key(bool, "true or false", required)
    if hint is float or hint is int:
        k = _number(name)
        return _Key(k.type, k.expects, required)
    if hint is str:
        return _Key(str, "a string in quotes", required)
    if origin is Literal:
        return _Key(hint, f"one of {_words(args)}", required)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        allowed = getattr(_config, name.upper(), None)
        if isinstance(allowed, tuple) and allowed and all(isinstance(a, str) for a in allowed):
            return _Key(list[Literal[allowed]], f"a list of strings from {_words(allowed)}", required)  # type: ignore[valid-type]
        return _Key(list[str], "a list of strings", required)
    raise TypeError(f"config_schema cannot map RuleConfig.{name}: {hint!r}")  # a programming error


def _is_threshold_field(hint: Any) -> bool:
    return typing.get_origin(hint) is tuple and typing.get_origin(typing.get_args(hint)[0]) is tuple


def rule_keys(defaults_table: Mapping[str, Any]) -> dict[str, _Key]:
    """The keys one rule table may have, derived from ``RuleConfig`` and its defaults table.

    Parameters
    ----------
    defaults_table : mapping
        The rule's table in ``defaults.toml``; its keys that are not ``RuleConfig`` fields are
        the rule's own settings (``RuleConfig.params``).
    """
    hints = typing.get_type_hints(_config.RuleConfig, include_extras=False)
    keys: dict[str, _Key] = {}
    params_hint: Any = None
    for f in dataclasses.fields(_config.RuleConfig):
        hint = hints[f.name]
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if f.name == "id":
            continue
        if _is_threshold_field(hint):
            for severity in typing.get_args(_config.Severity):
                keys[severity] = _number(severity)
            continue
        if typing.get_origin(hint) in (Mapping, dict, typing.get_origin(Mapping[str, float])):
            params_hint = typing.get_args(hint)[1] if typing.get_args(hint) else float
            continue
        keys[f.name] = _key_for(f.name, hint, required)
    for name in defaults_table:
        if name not in keys:
            keys[name] = _key_for(name, params_hint or float, False)
    return keys


@functools.lru_cache(maxsize=8)
def _defaults_tables(path: str, mtime_ns: int) -> dict[str, dict[str, Any]]:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def _struct(rule_id: str, keys: Mapping[str, _Key], partial: bool) -> type[msgspec.Struct]:
    fields: list[tuple[str, Any, Any] | tuple[str, Any]] = []
    for name, key in keys.items():
        if key.required and not partial:
            fields.append((name, key.type))
        else:
            fields.append((name, key.type | msgspec.UnsetType, msgspec.UNSET))
    fields.sort(key=len)  # msgspec wants required fields first
    return msgspec.defstruct(f"Rule_{rule_id}", fields, forbid_unknown_fields=True)


def _toml(value: Any) -> str:
    """``value`` written as in TOML (what the user typed, roughly)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value[:6]) + (", ..." if len(value) > 6 else "") + "]"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    return str(value)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


def _got(value: Any) -> str:
    return f"{_kind(value)} ({_toml(value)})" if not isinstance(value, dict) else "a table"


def validate_config(data: dict[str, Any], path: str | Path, *, defaults_path: Path | None = None) -> dict[str, Any]:
    """Check one configuration file's parsed TOML; return it unchanged when it is valid.

    Parameters
    ----------
    data : dict
        ``tomllib.load`` of the file.
    path : path
        The file (named in every message). When it is the defaults file itself, the keys that
        ``RuleConfig`` requires must be present and ``schema`` must be given; in a ``--config``
        file every key is optional.
    defaults_path : path, optional
        The defaults file whose rules and settings are allowed (``config.DEFAULTS_PATH``).

    Raises
    ------
    ConfigError
        One sentence naming the file, the key, the expected type or range, and what was found.
    """
    defaults_path = Path(defaults_path or _config.DEFAULTS_PATH)
    is_defaults = Path(path).resolve() == defaults_path.resolve()
    where = str(path)
    if "schema" not in data:
        if is_defaults:
            raise ConfigError(f"{where}: the key schema is missing; expected schema = {SCHEMA_VERSION} at the top.")
    elif isinstance(data["schema"], bool) or data["schema"] != SCHEMA_VERSION:
        raise ConfigError(
            f"{where}: schema must be {SCHEMA_VERSION} (the configuration layout this movescreen reads), "
            f"got {_got(data['schema'])}; start from `movescreen config write FILE`."
        )
    tables = data if is_defaults else _defaults_tables(str(defaults_path), defaults_path.stat().st_mtime_ns)
    known = sorted(k for k, v in tables.items() if isinstance(v, dict))
    for rule_id, section in data.items():
        if rule_id == "schema":
            continue
        if rule_id not in known:
            raise ConfigError(f"{where}: unknown rule {rule_id!r}; known rules: {', '.join(known)}.")
        if not isinstance(section, dict):
            raise ConfigError(f"{where}: {rule_id} must be a table ([{rule_id}]), got {_got(section)}.")
        keys = rule_keys(tables[rule_id])
        _check_rule(rule_id, section, keys, where, partial=not is_defaults)
    return data


def _check_rule(rule_id: str, section: dict[str, Any], keys: Mapping[str, _Key], where: str, *, partial: bool) -> None:
    try:
        msgspec.convert(section, _struct(rule_id, keys, partial), strict=True)
    except msgspec.ValidationError as e:
        raise ConfigError(_sentence(str(e), rule_id, section, keys, where)) from e


def _sentence(message: str, rule_id: str, section: Mapping[str, Any], keys: Mapping[str, _Key], where: str) -> str:
    """msgspec's error -> one sentence with the file, key, expected type and the value found."""
    if message.startswith("Object contains unknown field"):
        name = message.split("`")[1]
        return (
            f"{where}: [{rule_id}] has an unknown setting {name!r} (unknown setting); "
            f"expected one of {', '.join(sorted(keys))}."
        )
    if message.startswith("Object missing required field"):
        name = message.split("`")[1]
        return f"{where}: [{rule_id}] is missing {name}; expected {keys[name].expects}."
    at = message.rsplit("at `$", 1)[-1].rstrip("`") if "at `$" in message else ""
    name = at.lstrip(".").split("[")[0].split(".")[0]
    if name not in keys:  # not expected from msgspec; still one sentence
        return f"{where}: [{rule_id}] has an invalid value ({message})."
    value = section.get(name)
    extra = ""
    if name in ("views", "movements") and isinstance(value, list):
        bad = [v for v in value if not isinstance(v, str) or v not in getattr(_config, name.upper(), ())]
        if bad:
            extra = f" (unknown {name}: {_words(tuple(bad))})"
    return f"{where}: [{rule_id}] {name} must be {keys[name].expects}, got {_got(value)}{extra}."


def describe_rule_keys() -> dict[str, dict[str, str]]:
    """``{rule: {key: what it expects}}`` for the current defaults (used by ``config write``)."""
    p = Path(_config.DEFAULTS_PATH)
    tables = _defaults_tables(str(p), p.stat().st_mtime_ns)
    return {rid: {k: v.expects for k, v in rule_keys(t).items()} for rid, t in tables.items()}
