"""`optout`: drop every record an opt-out registry entry matches, and log only the proof.

An opted-out record's content is never written anywhere: not to rejects, not to logs. What
is kept is `{id, kind, ref}` in the optout log, which shows the request was honoured.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator

from curate.io.reader import Batch
from curate.manifest import sha256_file
from curate.optout.matcher import DEFAULT_FIELDS, Matcher
from curate.optout.registry import load_registry
from curate.records import get_path
from curate.stages.base import Context, RecordStage, StageConfig, StageStats


class OptoutConfig(StageConfig):
    path_fields: ClassVar[tuple[str, ...]] = ("registry",)

    registry: str
    fields: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_FIELDS), description="record field each kind reads"
    )

    @field_validator("fields")
    @classmethod
    def _known(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(DEFAULT_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown field role {unknown[0]!r} (roles: {', '.join(DEFAULT_FIELDS)})"
            )
        return {**DEFAULT_FIELDS, **value}


class OptoutStage(RecordStage):
    name = "optout"
    Config = OptoutConfig

    def setup(self) -> None:
        cfg: OptoutConfig = self.config
        self.path = Path(cfg.registry)
        self.entries = load_registry(self.path)
        self.matcher = Matcher(self.entries, dict(cfg.fields), self.fields.text)
        self._sha = None

    def resources(self, base_dir: Path | None = None) -> list[dict]:
        if self._sha is None:
            self._sha, _ = sha256_file(self.path)
        entries = len(self.entries)
        return [self.resource("optout_registry", self.path, entries, base_dir, self._sha)]

    def process(self, batch: Batch, ctx: Context, stats: StageStats) -> Batch:
        started = time.perf_counter()
        hits = self.matcher.match_batch(batch.records)
        keep: list[int] = [i for i in range(len(batch.records)) if i not in hits]
        id_parts = self.fields.id_parts
        for i in sorted(hits):
            hit = hits[i]
            stats.dropped["opted_out"] += 1
            rid = get_path(batch.records[i], id_parts)
            ctx.optout_log.append(
                {"id": None if rid is None else str(rid), "kind": hit.kind, "ref": hit.ref}
            )
        stats.records_in += len(batch.records)
        stats.records_out += len(keep)
        stats.seconds += time.perf_counter() - started
        return batch.select(keep)
