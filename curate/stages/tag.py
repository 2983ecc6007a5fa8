"""`tag`: write `meta.subset` (from declarative rules) and `meta.language` (for code).

Existing values are kept unless `overwrite: true`. A record that the stage changes keeps its
raw bytes up to the end of its `meta` object, and gains the new keys there: no full
re-serialisation, and the same bytes whether the record came through a pipe or a run.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar

import orjson
from pydantic import Field

from curate.errors import RecordError
from curate.io.reader import Batch
from curate.manifest import sha256_file
from curate.records import get_path, split_path
from curate.rules_path import shipped_rules
from curate.stages.base import Context, RecordStage, StageConfig, StageStats, relative_path
from curate.tagging.languages import load_languages
from curate.tagging.rules import RecordView, load_rules

_MISSING = object()
_dumps = orjson.dumps


class TagConfig(StageConfig):
    path_fields: ClassVar[tuple[str, ...]] = ("rules", "languages")

    rules: str | None = Field(
        None, description="subset rules (default: the shipped rules/subsets.yaml)"
    )
    languages: str | None = Field(
        None, description="language table (default: rules/languages.yaml)"
    )
    path_field: str = Field("meta.path", description="where a record's file path is")
    overwrite: bool = False
    detect_language: bool = True


class TagStage(RecordStage):
    name = "tag"
    Config = TagConfig

    def setup(self) -> None:
        cfg: TagConfig = self.config
        self.rules_path = Path(cfg.rules) if cfg.rules else shipped_rules("subsets.yaml")
        self.languages_path = (
            Path(cfg.languages) if cfg.languages else shipped_rules("languages.yaml")
        )
        self.ruleset = load_rules(self.rules_path)
        self.table = load_languages(self.languages_path)
        self.path_parts = split_path(cfg.path_field)
        self._text_parts = self.fields.text_parts

    def resources(self, base_dir: Path | None = None) -> list[dict]:
        out = []
        for kind, path, entries in (
            ("rules", self.rules_path, self.ruleset.entries),
            ("languages", self.languages_path, len(self.table.types)),
        ):
            sha, _ = sha256_file(path)
            rel = relative_path(str(path), base_dir) if base_dir else str(path)
            out.append(
                {"kind": kind, "stage": self.name, "path": rel, "sha256": sha, "entries": entries}
            )
        return out

    def process(self, batch: Batch, ctx: Context, stats: StageStats) -> Batch:
        started = time.perf_counter()
        records, linenos, raws = [], [], []
        overwrite = self.config.overwrite
        detect = self.table.detect if self.config.detect_language else None
        type_of = self.table.types.get
        classify = self.ruleset.classify
        path_parts = self.path_parts
        text_parts = self._text_parts
        text_key = text_parts[0] if len(text_parts) == 1 else None
        path_in_meta = path_parts[1] if len(path_parts) == 2 and path_parts[0] == "meta" else None
        for record, lineno, raw in zip(batch.records, batch.linenos, batch.raws):
            meta = record.get("meta")
            if meta is not None and type(meta) is not dict:
                stats.errors += 1
                ctx.policy.bad_line(batch.source, lineno, "meta is not an object", raw)
                continue
            meta = meta or {}
            text = record.get(text_key) if text_key is not None else get_path(record, text_parts)
            text = text if type(text) is str else None
            language = meta.get("language")
            new: dict = {}
            if detect is not None and (language is None or overwrite):
                if path_in_meta is not None:
                    path = meta.get(path_in_meta)
                else:
                    path = get_path(record, path_parts, None)
                found = detect(path if type(path) is str else None, text)
                if found is not None and found != language:
                    language = found
                    new["language"] = found
            if "subset" not in meta or overwrite:
                try:
                    subset = classify(RecordView(record, text, language, type_of(language)))
                except RecordError as exc:
                    stats.errors += 1
                    ctx.policy.bad_line(batch.source, lineno, exc.problem, raw)
                    continue
                if subset is not None and subset != meta.get("subset"):
                    new["subset"] = subset
            if new:
                raw = _apply(record, meta, new, raw, batch.modified)
            records.append(record)
            linenos.append(lineno)
            raws.append(raw)
        stats.records_in += len(batch.records)
        stats.records_out += len(records)
        stats.seconds += time.perf_counter() - started
        return Batch(batch.source, records, linenos, raws, batch.modified)


def _apply(record: dict, meta: dict, new: dict, raw: bytes, modified: bool) -> bytes:
    """Set the new meta keys on the record, and return its bytes.

    Fast path: `meta` is the record's last key and none of the new keys exists yet, so the
    raw line ends with the meta object and the keys can be appended in place. The choice
    depends only on the record and its bytes, so a pipe and a run write the same bytes.
    """
    fresh = True
    for key in new:
        if key in meta:
            fresh = False
            break
    had_meta = "meta" in record
    if not had_meta:
        record["meta"] = meta
    meta.update(new)
    if (
        not modified
        and fresh
        and had_meta
        and raw[-2:] == b"}}"
        and next(reversed(record)) == "meta"
    ):
        body = b",".join([_pair(k, v) for k, v in new.items()])
        sep = b"," if len(meta) > len(new) else b""
        return b"".join((memoryview(raw)[:-2], sep, body, b"}}"))
    return _dumps(record)


_PAIRS: dict[tuple[str, str], bytes] = {}


def _pair(key: str, value: object) -> bytes:
    """`"key":value` as JSON bytes; the few distinct (key, subset or language) pairs are cached."""
    if type(value) is str:
        cached = _PAIRS.get((key, value))
        if cached is None:
            cached = _PAIRS[(key, value)] = _dumps(key) + b":" + _dumps(value)
        return cached
    return _dumps(key) + b":" + _dumps(value)
