"""Stage registry: YAML and CLI names -> stage classes, imported only when used.

Lazy imports keep `curate cat` fast to start: heavy dependencies (scancode, datasketch) load
only for the stages that need them.
"""

from __future__ import annotations

import importlib

from curate.core.errors import UsageError
from curate.stages.base import Context, GlobalStage, RecordStage, Stage, StageConfig, StageStats

_REGISTRY: dict[str, str] = {
    "filter": "curate.stages.filter:FilterStage",
    "license": "curate.stages.license:LicenseStage",
    "optout": "curate.stages.optout:OptoutStage",
    "redact": "curate.stages.redact:RedactStage",
    "tag": "curate.stages.tag:TagStage",
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


__all__ = [
    "Context",
    "GlobalStage",
    "RecordStage",
    "Stage",
    "StageConfig",
    "StageStats",
    "get_stage_class",
    "stage_names",
]
