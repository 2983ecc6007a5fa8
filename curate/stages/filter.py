"""`filter`: drop records by length, line shape or field values, with a reason per drop."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from pydantic import Field, field_validator

from curate.core.patterns import BoundedRegex, compile_checked
from curate.core.records import get_path, split_path
from curate.stages.base import RecordStage, StageConfig, Verdict

_MISSING = object()


@dataclass(frozen=True)
class Condition:
    """`FIELD=VALUE` (the field's value, as text, equals VALUE) or `FIELD~REGEX` (regex search)."""

    field: str
    parts: tuple[str, ...]
    value: str | None = None
    regex: BoundedRegex | None = None

    @classmethod
    def parse(cls, spec: str) -> Condition:
        eq, tilde = spec.find("="), spec.find("~")
        cuts = [i for i in (eq, tilde) if i > 0]
        if not cuts:
            raise ValueError(f"expected FIELD=VALUE or FIELD~REGEX, got {spec!r}")
        cut = min(cuts)
        name, rest = spec[:cut].strip(), spec[cut + 1 :]
        if spec[cut] == "~":
            return cls(name, split_path(name), regex=compile_checked(rest))
        return cls(name, split_path(name), value=rest)

    def matches(self, record: dict) -> bool:
        value = get_path(record, self.parts, _MISSING)
        if value is _MISSING:
            return False
        text = value if type(value) is str else orjson.dumps(value).decode()
        if self.regex is not None:
            return self.regex.search(text)
        return text == self.value


class FilterConfig(StageConfig):
    min_chars: int | None = Field(None, ge=0, description="drop texts shorter than this")
    max_chars: int | None = Field(None, ge=0, description="drop texts longer than this")
    min_lines: int | None = Field(None, ge=0, description="drop texts with fewer lines")
    max_line_chars: int | None = Field(None, ge=1, description="drop texts with a longer line")
    where: list[str] = Field(default_factory=list, description="keep only records matching all")
    where_not: list[str] = Field(default_factory=list, description="drop records matching any")

    @field_validator("where", "where_not")
    @classmethod
    def _valid_conditions(cls, specs: list[str]) -> list[str]:
        for spec in specs:
            Condition.parse(spec)
        return specs


class FilterStage(RecordStage):
    """Reasons: too_short, too_long, too_few_lines, line_too_long, where:F, where_not:F."""

    name = "filter"
    Config = FilterConfig

    def setup(self) -> None:
        cfg: FilterConfig = self.config
        self._where = [Condition.parse(s) for s in cfg.where]
        self._where_not = [Condition.parse(s) for s in cfg.where_not]
        self._needs_text = any(
            v is not None for v in (cfg.min_chars, cfg.max_chars, cfg.min_lines, cfg.max_line_chars)
        )

    def apply(self, record: dict) -> Verdict:
        cfg: FilterConfig = self.config
        for cond in self._where:
            if not cond.matches(record):
                return f"where:{cond.field}"
        for cond in self._where_not:
            if cond.matches(record):
                return f"where_not:{cond.field}"
        if not self._needs_text:
            return None
        text = self.fields.text_of(record)
        if cfg.min_chars is not None and len(text) < cfg.min_chars:
            return "too_short"
        if cfg.max_chars is not None and len(text) > cfg.max_chars:
            return "too_long"
        if cfg.min_lines is not None:
            lines = text.count("\n") + (0 if not text or text.endswith("\n") else 1)
            if lines < cfg.min_lines:
                return "too_few_lines"
        if cfg.max_line_chars is not None and max(map(len, text.split("\n"))) > cfg.max_line_chars:
            return "line_too_long"
        return None
