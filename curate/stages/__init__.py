"""Stage registry: YAML and CLI names -> stage classes, imported only when used.

Lazy imports keep `curate cat` fast to start: heavy dependencies (scancode, datasketch) load
only for the stages that need them.
"""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import ValidationError

from curate.core.errors import ConfigError, UsageError
from curate.core.validation import first_error
from curate.stages.base import Context, GlobalStage, RecordStage, Stage, StageConfig, StageStats

_REGISTRY: dict[str, str] = {
    "filter": "curate.stages.filter:FilterStage",
    "license": "curate.stages.license:LicenseStage",
    "optout": "curate.stages.optout:OptoutStage",
    "redact": "curate.stages.redact:RedactStage",
    "tag": "curate.stages.tag:TagStage",
    "langid": "curate.stages.langid:LangidStage",
    "quality": "curate.stages.quality:QualityStage",
    "decontaminate": "curate.stages.decontaminate:DecontaminateStage",
    "dedup_exact": "curate.stages.dedup_exact:DedupExactStage",
    "dedup_near": "curate.stages.dedup_near:DedupNearStage",
}


def stage_names() -> list[str]:
    return sorted(_REGISTRY)


def get_stage_class(name: str) -> type[Stage]:
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise UsageError(f"unknown stage {name!r} (known: {', '.join(stage_names())})") from None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


class StageOptionsError(ConfigError):
    """A stage's options rejected by its config model: the key path and the problem, for each
    caller to name in its own terms (YAML key path, command-line option, API argument)."""

    def __init__(self, stage: str, loc: tuple, problem: str) -> None:
        self.stage, self.loc, self.problem = stage, loc, problem
        where = ".".join(str(p) for p in loc)
        super().__init__(f"{stage}: {where + ': ' if where else ''}{problem}")


def configure(name: str, options: dict[str, Any]) -> StageConfig:
    """The stage's config from its options, validated as every caller validates it."""
    model = get_stage_class(name).Config
    try:
        return model(**options)
    except ValidationError as exc:
        loc, problem = first_error(exc, model=model)
        raise StageOptionsError(name, loc, problem) from None


__all__ = [
    "Context",
    "GlobalStage",
    "RecordStage",
    "Stage",
    "StageConfig",
    "StageOptionsError",
    "StageStats",
    "configure",
    "get_stage_class",
    "stage_names",
]
