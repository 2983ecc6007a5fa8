"""`decontaminate`: drop, or annotate, records that share a long n-gram with evaluation sets.

The index of the evaluation n-grams is built once per process from the files given
(JSON-lines, plain or compressed, or Parquet); the manifest records each file's SHA-256 and
the index's own checksum, so a rebuild can show it used the same benchmarks.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from curate.decontam.ngrams import DEFAULT_N, build_index
from curate.stages.base import EDITED, RecordStage, StageConfig, Verdict, one_or_more, own_meta


class DecontaminateConfig(StageConfig):
    path_fields: ClassVar[tuple[str, ...]] = ("evals",)

    evals: list[str] = Field(
        ..., min_length=1, description="evaluation sets: JSON-lines or Parquet files"
    )
    eval_fields: list[str] = Field(
        default_factory=lambda: ["text"],
        description="fields of an evaluation item whose text is indexed, joined by newlines",
    )
    eval_id: str = Field("id", description="field naming an evaluation item")
    unit: Literal["words", "chars"] = Field(
        "words", description="n-grams of words, or of characters without whitespace (code)"
    )
    n: int | None = Field(
        None, ge=1, description="n-gram length (default: 13 words, 50 characters)"
    )
    action: Literal["drop", "annotate"] = Field(
        "drop", description="drop a contaminated record, or keep it with meta.contamination"
    )

    _listed = field_validator("evals", "eval_fields", mode="before")(one_or_more)


class DecontaminateStage(RecordStage):
    """Reason: contaminated, with the benchmark and item whose n-gram the record shares."""

    name = "decontaminate"
    Config = DecontaminateConfig

    def setup(self) -> None:
        cfg: DecontaminateConfig = self.config
        n = cfg.n or DEFAULT_N[cfg.unit]
        self.index = build_index(cfg.evals, cfg.unit, n, cfg.eval_fields, cfg.eval_id)
        self._checksum: str | None = None

    def resources(self, base_dir: Path | None = None) -> list[dict]:
        return [
            self.resource("eval_set", f["path"], f["items"], base_dir, sha256=f["sha256"])
            for f in self.index.files
        ]

    def manifest_info(self) -> dict:
        if self._checksum is None:
            self._checksum = self.index.checksum()
        index = self.index
        return {
            "index": {
                "unit": index.unit,
                "n": index.n,
                "ngrams": index.ngrams,
                "items": len(index.items),
                "short_items": index.short_items,
                "sha256": self._checksum,
            }
        }

    def apply(self, record: dict) -> Verdict:
        found = self.index.first_match(self.fields.text_of(record))
        if found is None:
            return None
        benchmark, item = found
        if self.config.action == "drop":
            return "contaminated", {"benchmark": benchmark, "item": item}
        own_meta(record)["contamination"] = {"benchmark": benchmark, "item": item}
        self.count({"contaminated": 1})
        return EDITED
