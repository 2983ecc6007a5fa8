"""`quality`: quality signals computed once per record into `meta.quality`, and drops by the
thresholds of documented presets (Gopher, C4, StarCoder-style code), each with its reason.

Rules come from the presets named (`rules/quality.yaml` cites each one's source), then
`thresholds` overrides or switches off single rules. A record is dropped by the first rule it
breaks, with reason `quality:<measure>` and the value and threshold in its reject.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, ValidationInfo, field_validator

from curate.core.errors import ConfigError
from curate.core.rules_path import shipped_rules
from curate.quality.presets import Rule, load_presets, parse_rule
from curate.quality.signals import MEASURES, measure
from curate.stages.base import EDITED, RecordStage, StageConfig, Verdict, one_or_more, own_meta


class QualityConfig(StageConfig):
    path_fields: ClassVar[tuple[str, ...]] = ("rules",)

    rules: str | None = Field(
        None, description="presets file (default: the shipped rules/quality.yaml)"
    )
    preset: list[str] = Field(
        default_factory=list, description="presets whose rules apply: gopher, c4, code"
    )
    thresholds: dict[str, dict[str, float] | None] = Field(
        default_factory=dict,
        description="rules by measure, over the presets': {words: {min: 20}}; null switches "
        "one off",
    )
    measures: list[str] = Field(
        default_factory=list,
        description="measures written to meta.quality besides those the rules use ('all': "
        "every one; every one too when there is no rule)",
    )
    drop: bool = Field(True, description="drop records that break a rule (false: annotate)")
    annotate: bool = Field(True, description="write the measures to meta.quality")

    _listed = field_validator("preset", "measures", mode="before")(one_or_more)

    @field_validator("preset")
    @classmethod
    def _known_presets(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("rules") is None:  # the shipped presets (another file: at setup)
            known = load_presets(shipped_rules("quality.yaml")).rules
            for name in value:
                if name not in known:
                    raise ValueError(f"unknown preset {name!r} (known: {', '.join(known)})")
        return value

    @field_validator("thresholds")
    @classmethod
    def _known_rules(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name, rule in value.items():
            if rule is None:
                if name not in MEASURES:
                    raise ValueError(f"unknown measure {name!r}")
                continue
            try:
                parse_rule(name, rule)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return value

    @field_validator("measures")
    @classmethod
    def _known_measures(cls, value: list[str]) -> list[str]:
        for name in value:
            if name != "all" and name not in MEASURES:
                raise ValueError(f"unknown measure {name!r} (known: all, {', '.join(MEASURES)})")
        return value


class QualityStage(RecordStage):
    """Reasons: quality:<measure>, e.g. quality:words, quality:duplicate_lines_fraction."""

    name = "quality"
    Config = QualityConfig

    def setup(self) -> None:
        cfg: QualityConfig = self.config
        self.rules_path = Path(cfg.rules) if cfg.rules else shipped_rules("quality.yaml")
        self.presets = load_presets(self.rules_path)
        rules: dict[str, Rule] = {}
        for name in cfg.preset:
            if name not in self.presets.rules:
                known = ", ".join(self.presets.rules)
                raise ConfigError(f"quality: unknown preset {name!r} (known: {known})")
            for rule in self.presets.rules[name]:
                rules.setdefault(rule.measure, rule)  # the first preset's rule wins
        for name, value in cfg.thresholds.items():
            if value is None:
                rules.pop(name, None)
            else:
                rules[name] = parse_rule(name, value)
        self.checks = tuple(rules.values())
        if "all" in cfg.measures or not (rules or cfg.measures):
            self.names = list(MEASURES)
        else:
            self.names = list(dict.fromkeys([*rules, *cfg.measures]))

    def resources(self, base_dir: Path | None = None) -> list[dict]:
        return [
            self.resource("quality_presets", self.rules_path, len(self.presets.rules), base_dir)
        ]

    def apply(self, record: dict) -> Verdict:
        cfg: QualityConfig = self.config
        values = measure(self.fields.text_of(record), self.names)
        if cfg.annotate:
            own_meta(record)["quality"] = values
        if cfg.drop:
            for rule in self.checks:
                broken = rule.broken(values[rule.measure])
                if broken is not None:
                    return f"quality:{rule.measure}", {"value": values[rule.measure], **broken}
        return EDITED if cfg.annotate else None
