"""Rule configuration: TOML -> frozen dataclasses, defaults defined once.

The defaults live in ``movescreen/rules/defaults.toml`` (commented: unit and reason for every
threshold). ``--config FILE`` overrides any subset with the same layout.
"""

from __future__ import annotations

import copyreg
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from movescreen.errors import ConfigError

Severity = Literal["note", "caution", "flag"]
SEVERITIES: tuple[Severity, ...] = ("note", "caution", "flag")
VIEWS = ("side", "front", "oblique")
MOVEMENTS = ("squat", "hinge", "hip_rotation_seated", "figure4", "hip_9090")  # hip tests: issue 13
DEFAULTS_PATH = Path(__file__).resolve().parent / "rules" / "defaults.toml"
_KNOWN_KEYS = {"enabled", "views", "movements", "unit", "direction", "min_confidence", *SEVERITIES}


def _read_only(d: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(d)


def _reduce_mapping_proxy(m: MappingProxyType[Any, Any]) -> tuple[Any, tuple[dict[Any, Any]]]:
    return _read_only, (dict(m),)


# the settings are read-only mappings; live sends them to its helper process, so they pickle
copyreg.pickle(MappingProxyType, _reduce_mapping_proxy)


@dataclass(frozen=True)
class RuleConfig:
    """Thresholds and scope of one rule."""

    id: str
    enabled: bool
    views: tuple[str, ...]
    movements: tuple[str, ...]
    unit: str
    thresholds: tuple[tuple[Severity, float], ...]  # from mildest to most severe
    direction: Literal["above", "below"] = "above"
    min_confidence: float = 0.3
    params: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def grade(self, value: float) -> tuple[Severity | None, float | None]:
        """The most severe level ``value`` reaches, and that level's threshold.

        >>> rc = RuleConfig("x", True, ("side",), ("hinge",), "deg", (("caution", 10.0), ("flag", 15.0)))
        >>> rc.grade(12.0)
        ('caution', 10.0)
        >>> rc.grade(9.9)
        (None, None)
        """
        hit: tuple[Severity | None, float | None] = (None, None)
        if value != value:  # NaN: nothing to grade
            return hit
        for sev, thr in self.thresholds:
            reached = value >= thr if self.direction == "above" else value <= thr
            if reached:
                hit = (sev, thr)
        return hit

    @property
    def first_threshold(self) -> float:
        return self.thresholds[0][1]

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "enabled": self.enabled,
            "views": list(self.views),
            "movements": list(self.movements),
            "unit": self.unit,
            "direction": self.direction,
            "min_confidence": self.min_confidence,
        }
        d.update({s: t for s, t in self.thresholds})
        d.update(dict(self.params))
        return d


@dataclass(frozen=True)
class RulesConfig:
    """All rules' settings, and the files they came from."""

    rules: Mapping[str, RuleConfig]
    sources: tuple[str, ...]

    def __getitem__(self, rule_id: str) -> RuleConfig:
        return self.rules[rule_id]

    def as_dict(self) -> dict[str, Any]:
        return {"sources": list(self.sources), "rules": {k: v.as_dict() for k, v in self.rules.items()}}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            # the typed check (config_schema imports this module, so it is imported here)
            from movescreen.config_schema import validate_config

            return validate_config(tomllib.load(f), path)
    except FileNotFoundError as e:
        raise ConfigError(f"No configuration file at {path}; check the --config path.") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"The configuration file {path} cannot be read as UTF-8 TOML text ({e}).") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"The configuration file {path} is not valid TOML ({e}).") from e


def _build_rule(rule_id: str, raw: Mapping[str, Any], where: str) -> RuleConfig:
    try:
        views = tuple(str(v) for v in raw.get("views", VIEWS))
        movements = tuple(str(m) for m in raw.get("movements", MOVEMENTS))
        bad = [v for v in views if v not in VIEWS] + [m for m in movements if m not in MOVEMENTS]
        if bad:
            raise ConfigError(
                f"{where}: rule {rule_id} names unknown views/movements {bad}; expected views "
                f"from {VIEWS} and movements from {MOVEMENTS}."
            )
        direction = str(raw.get("direction", "above"))
        if direction not in ("above", "below"):
            raise ConfigError(f"{where}: rule {rule_id} direction must be 'above' or 'below', got {direction!r}.")
        thresholds = tuple((s, float(raw[s])) for s in SEVERITIES if s in raw)
        if not thresholds:
            raise ConfigError(f"{where}: rule {rule_id} has no note/caution/flag threshold.")
        values = [t for _, t in thresholds]
        ordered = values == sorted(values) if direction == "above" else values == sorted(values, reverse=True)
        if not ordered:
            raise ConfigError(
                f"{where}: rule {rule_id} thresholds must grow in severity "
                f"({'increasing' if direction == 'above' else 'decreasing'}), got {dict(thresholds)}."
            )
        params = {k: float(v) for k, v in raw.items() if k not in _KNOWN_KEYS}
        return RuleConfig(
            id=rule_id,
            enabled=bool(raw.get("enabled", True)),
            views=views,
            movements=movements,
            unit=str(raw.get("unit", "")),
            thresholds=thresholds,  # type: ignore[arg-type]
            direction=direction,  # type: ignore[arg-type]
            min_confidence=float(raw.get("min_confidence", 0.3)),
            params=MappingProxyType(params),
        )
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where}: rule {rule_id} has an invalid value ({e}).") from e


def load_config(path: str | Path | None = None) -> RulesConfig:
    """Load the defaults, then apply ``path`` (if given) on top.

    Raises
    ------
    ConfigError
        For an unreadable file, an unknown rule id or key, or thresholds out of order.
    """
    base = _read_toml(DEFAULTS_PATH)
    sources = [str(DEFAULTS_PATH)]
    merged: dict[str, dict[str, Any]] = {k: dict(v) for k, v in base.items() if isinstance(v, dict)}
    if path is not None:
        user = _read_toml(Path(path))
        sources.append(str(path))
        for rule_id, section in user.items():
            if rule_id == "schema":
                continue
            if rule_id not in merged or not isinstance(section, dict):
                raise ConfigError(
                    f"{path}: unknown rule {rule_id!r}; known rules: {', '.join(sorted(merged))}."
                )
            unknown = set(section) - set(merged[rule_id]) - _KNOWN_KEYS
            if unknown:
                raise ConfigError(f"{path}: rule {rule_id} has unknown setting(s) {sorted(unknown)}.")
            merged[rule_id].update(section)
    rules = {rid: _build_rule(rid, raw, sources[-1]) for rid, raw in merged.items()}
    return RulesConfig(MappingProxyType(rules), tuple(sources))
