"""Quality presets: named sets of threshold rules on the measures, read from a rules file
(`rules/quality.yaml` by default) that cites each preset's source."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from curate.core.yamlconf import load_yaml
from curate.quality.signals import MEASURES


@dataclass(frozen=True)
class Rule:
    """Drop a record whose `measure` is below `min` or above `max`."""

    measure: str
    min: float | None = None
    max: float | None = None

    def broken(self, value: float | int | bool) -> dict | None:
        """The threshold `value` breaks ({"min": X} or {"max": X}), or None."""
        if self.min is not None and value < self.min:
            return {"min": self.min}
        if self.max is not None and value > self.max:
            return {"max": self.max}
        return None


@dataclass(frozen=True)
class Presets:
    path: Path
    rules: dict[str, tuple[Rule, ...]]  # preset name -> its rules, in file order
    sources: dict[str, str]


def parse_rule(measure: str, value: object) -> Rule:
    """A rule from its YAML form {min: X, max: Y}; ValueError says what is wrong."""
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r} (known: {', '.join(MEASURES)})")
    if not isinstance(value, dict) or not value or set(value) - {"min", "max"}:
        raise ValueError("expected {min: NUMBER} and/or {max: NUMBER}")
    for key, bound in value.items():
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            raise ValueError(f"{key}: expected a number")
    return Rule(measure, value.get("min"), value.get("max"))


def load_presets(path: Path) -> Presets:
    doc = load_yaml(path)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("presets"), dict):
        raise doc.error((), "expected a mapping with 'presets'")
    rules: dict[str, tuple[Rule, ...]] = {}
    sources: dict[str, str] = {}
    for name, preset in data["presets"].items():
        loc = ("presets", name)
        if not isinstance(preset, dict) or not isinstance(preset.get("rules"), dict):
            raise doc.error(loc, "expected {source, rules}")
        if not isinstance(preset.get("source"), str):
            raise doc.error(loc, "expected 'source': where the thresholds come from")
        parsed = []
        for measure, value in preset["rules"].items():
            try:
                parsed.append(parse_rule(measure, value))
            except ValueError as exc:
                raise doc.error((*loc, "rules", measure), str(exc)) from None
        rules[str(name)] = tuple(parsed)
        sources[str(name)] = preset["source"]
    return Presets(path, rules, sources)
