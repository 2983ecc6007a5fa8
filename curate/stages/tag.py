"""`tag`: write `meta.subset` (from declarative rules) and `meta.language` (for code).

Existing values are kept unless `overwrite: true`. A record that the stage changes keeps its
raw bytes up to the end of its `meta` object, and gains the new keys there: no full
re-serialisation, and the same bytes whether the record came through a pipe or a run.
"""

from __future__ import annotations

import functools
import time
from itertools import repeat
from pathlib import Path
from typing import ClassVar

import orjson
from pydantic import Field

from curate.core.records import dumps_record, get_path, split_path
from curate.core.rules_path import shipped_rules
from curate.io.reader import Batch
from curate.stages.base import Context, RecordStage, StageConfig, StageStats
from curate.tagging.languages import load_languages
from curate.tagging.rules import Columns, load_rules

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
    overwrite: bool = Field(False, description="replace existing meta.subset / meta.language")
    detect_language: bool = Field(True, description="set meta.language of source files")


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
        self._tails: dict[tuple, bytes | None] = {}  # (language, subset) -> line tail
        self._keys: dict[tuple, dict] = {}  # (language, subset) -> the meta keys it adds
        self._text_parts = self.fields.text_parts
        parts = self.path_parts
        self._path_in_meta = parts[1] if len(parts) == 2 and parts[0] == "meta" else None

    def resources(self, base_dir: Path | None = None) -> list[dict]:
        return [
            self.resource("rules", self.rules_path, self.ruleset.entries, base_dir),
            self.resource("languages", self.languages_path, len(self.table.types), base_dir),
        ]

    def process(self, batch: Batch, ctx: Context, stats: StageStats) -> Batch:
        """Tag a whole batch at once: languages from `detect_many`, subsets from rules
        evaluated column-wise, then one pass that writes the new keys."""
        started = time.perf_counter()
        stats.records_in += len(batch.records)
        batch, metas, had_language = self._checked(batch, ctx, stats)
        records = batch.records
        overwrite = self.config.overwrite
        texts = _LazyTexts(records, self._text_parts)
        n = len(records)
        language_keys = had_language.count(_MISSING) != n
        if language_keys:
            had_language = [None if h is _MISSING else h for h in had_language]
        else:
            had_language = [None] * n
        languages = had_language
        if self.config.detect_language:
            if self._path_in_meta is not None:
                key = self._path_in_meta
                paths = [m.get(key) for m in metas]
            else:
                paths = [get_path(r, self.path_parts) for r in records]
            found = self.table.detect_many(paths, texts)
            if overwrite:
                languages = [f if f is not None else h for f, h in zip(found, had_language)]
            elif not language_keys:
                languages = found
            else:
                languages = [h if h is not None else f for f, h in zip(found, had_language)]

        had_subset = [m.get("subset", _MISSING) for m in metas]
        cols = Columns(records, texts, languages, self.table.types.get)
        subsets = self.ruleset.classify_batch(cols)
        fresh = not language_keys and had_subset.count(_MISSING) == n
        if not overwrite and not fresh:
            subsets = [s if h is _MISSING else h for s, h in zip(subsets, had_subset)]

        if fresh:  # nothing to compare against: every value found is new
            add_language, add_subset = languages, subsets
        else:
            add_language = [
                lang if lang is not None and lang != had else None
                for lang, had in zip(languages, had_language)
            ]
            add_subset = [
                sub if sub is not None and sub != had else None
                for sub, had in zip(subsets, had_subset)
            ]
        batch = self._write(batch, metas, add_language, add_subset, fresh)
        if cols.errors:
            for i in sorted(cols.errors):
                stats.errors += 1
                ctx.policy.bad_line(batch.source, batch.linenos[i], cols.errors[i], batch.raws[i])
            batch = batch.select([i for i in range(len(batch.records)) if i not in cols.errors])
        stats.records_out += len(batch.records)
        stats.seconds += time.perf_counter() - started
        return batch

    def _write(
        self, batch: Batch, metas: list[dict], add_language: list, add_subset: list, fresh: bool
    ) -> Batch:
        """Set the new keys on the records, and say how their lines change.

        Fast path, per record: `meta` is the record's last key and gains only keys it does
        not have, so its line gains them in place of its final `}}` (a tail; no
        re-serialisation, and the same bytes from a pipe or a run). Otherwise the record is
        re-serialised by orjson.
        """
        records = batch.records
        raws = batch.raws
        n = len(records)
        if (
            not batch.modified
            and all(metas)  # every record has a non-empty meta of its own
            and fresh  # no record has either key yet
            # `meta` is each record's last key, and its line ends with the meta object
            and list(map(next, map(reversed, records))).count("meta") == n
            and list(map(bytes.endswith, raws, repeat(b"}}"))).count(True) == n
        ):
            # The usual batch, decided column-wise: one cached tail and key set per
            # combination, applied by C-level maps (no Python loop a record).
            multi = self.ruleset.multi  # subsets are lists: tuples as memo keys
            subsets = [_frozen(s) for s in add_subset] if multi else add_subset
            pairs = list(zip(add_language, subsets))
            for pair in set(pairs) - self._tails.keys():
                self._edit(pair)
            list(map(dict.update, metas, map(self._keys.__getitem__, pairs)))
            if multi:  # a list of its own in each record, as parsing the line would give
                for meta in metas:
                    if "subset" in meta:
                        meta["subset"] = list(meta["subset"])
            tails = list(map(self._tails.__getitem__, pairs))
            return Batch(batch.source, records, batch.linenos, raws, False, tails)
        tails = []
        lines = None
        for i, (record, meta, language, subset) in enumerate(
            zip(records, metas, add_language, add_subset)
        ):
            if language is None and subset is None:
                tails.append(None)
                continue
            had_keys = bool(meta)
            fast = (
                not batch.modified
                and (language is None or "language" not in meta)
                and (subset is None or "subset" not in meta)
                and next(reversed(record), None) == "meta"
                and raws[i].endswith(b"}}")
            )
            if language is not None:
                meta["language"] = language
            if subset is not None:
                meta["subset"] = subset
            if record.get("meta") is not meta:
                record["meta"] = meta
            if fast:
                tails.append(_tail(language, _frozen(subset), had_keys))
            else:
                if lines is None:
                    lines = list(raws)
                lines[i] = dumps_record(record)
                tails.append(None)
        if lines is not None:
            raws = lines
        if tails.count(None) == len(tails):
            return Batch(batch.source, records, batch.linenos, raws, batch.modified)
        return Batch(batch.source, records, batch.linenos, raws, batch.modified, tails)

    def _edit(self, pair: tuple[str | None, str | tuple | None]) -> None:
        """Remember the tail and the meta keys a (language, subset) pair gives."""
        language, subset = pair
        value = list(subset) if subset.__class__ is tuple else subset
        keys = {k: v for k, v in (("language", language), ("subset", value)) if v is not None}
        self._tails[pair] = _tail(language, subset, True) if keys else None
        self._keys[pair] = keys

    def _checked(
        self, batch: Batch, ctx: Context, stats: StageStats
    ) -> tuple[Batch, list[dict], list]:
        """The batch without records whose `meta` is not an object or whose `meta.language`
        is not a string (bad lines, per the error policy), with each record's meta ({} when
        missing or null) and its `meta.language` (_MISSING when absent)."""
        metas = [r.get("meta") for r in batch.records]
        problems: dict[int, str] = {}
        if set(map(type, metas)) - {dict, type(None)}:
            for i, meta in enumerate(metas):
                if meta is not None and meta.__class__ is not dict:
                    problems[i] = "meta is not an object"
                    metas[i] = None
        if None in metas:
            metas = [m if m is not None else {} for m in metas]
        languages = [m.get("language", _MISSING) for m in metas]
        if languages.count(_MISSING) != len(languages):
            for i, language in enumerate(languages):
                if not (language is _MISSING or language is None or language.__class__ is str):
                    problems[i] = "meta.language is not a string"
        if not problems:
            return batch, metas, languages
        for i in sorted(problems):
            stats.errors += 1
            ctx.policy.bad_line(batch.source, batch.linenos[i], problems[i], batch.raws[i])
        keep = [i for i in range(len(metas)) if i not in problems]
        return batch.select(keep), [metas[i] for i in keep], [languages[i] for i in keep]


class _LazyTexts:
    """Each record's text (None when not a string), read only if a rule or a content check
    asks: most batches are tagged from paths alone."""

    def __init__(self, records: list[dict], parts: tuple[str, ...]):
        self.records = records
        self.parts = parts
        self._texts: list[str | None] | None = None

    def all(self) -> list[str | None]:
        if self._texts is None:
            parts = self.parts
            if len(parts) == 1:
                key = parts[0]
                texts = [r.get(key) for r in self.records]
            else:
                texts = [get_path(r, parts) for r in self.records]
            if set(map(type, texts)) - {str}:
                texts = [t if type(t) is str else None for t in texts]
            self._texts = texts
        return self._texts


def _frozen(subset):
    """A subset as a hashable key: `multi` rules give a list of names."""
    return tuple(subset) if subset.__class__ is list else subset


@functools.lru_cache(maxsize=4096)  # a few (language, subset) pairs recur
def _tail(language: str | None, subset: str | tuple | None, meta_had_keys: bool) -> bytes:
    """The bytes that replace a line's final `}}`: the new meta keys, then `}}`."""
    pairs = []
    if language is not None:
        pairs.append(b'"language":' + _dumps(language))
    if subset is not None:
        pairs.append(b'"subset":' + _dumps(subset))
    return (b"," if meta_had_keys else b"") + b",".join(pairs) + b"}}"
