"""curate: composable, reproducible stages for curating LLM pretraining corpora.

The Python API mirrors the command line (see `curate.api`):

    import curate
    recs = curate.read("raw/*.jsonl.zst", text_field="content", on_error="skip")
    recs = recs.filter(min_chars=20).tag().redact().dedup_exact()
    version = recs.write("out/v1", shard_size="64MB", split_by="meta.subset")
    run = curate.run("pipeline.yaml", workers=4)      # or a dict
    curate.verify("out/v1"); curate.diff("out/v1", "out/v2")

Names load on first use, so `curate cat` starts without the stages' dependencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from curate.core.version import __version__

__all__ = [
    "ConfigError",
    "CurateError",
    "InputError",
    "Records",
    "Run",
    "UsageError",
    "Version",
    "__version__",
    "diff",
    "read",
    "run",
    "stage_names",
    "verify",
]

_API = {"Records", "Run", "Version", "diff", "read", "run", "stage_names", "verify"}
_ERRORS = {"ConfigError", "CurateError", "InputError", "UsageError"}

if TYPE_CHECKING:
    from curate.api import Records, Run, Version, diff, read, run, stage_names, verify
    from curate.core.errors import ConfigError, CurateError, InputError, UsageError


def __getattr__(name: str) -> Any:
    if name in _API:
        from curate import api

        return getattr(api, name)
    if name in _ERRORS:
        from curate.core import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'curate' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
