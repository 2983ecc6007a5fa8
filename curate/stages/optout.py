"""`optout`: drop every record an opt-out registry entry matches, and log only the proof.

An opted-out record's content is never written anywhere: not to rejects, not to logs. What
is kept is `{id, kind, ref}` in the optout log, which shows the request was honoured.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

import orjson
from pydantic import Field, field_validator

from curate.core.records import get_path
from curate.io.hashing import sha256_file
from curate.optout.matcher import DEFAULT_FIELDS, Matcher
from curate.optout.registry import Entry, load_registry
from curate.stages.base import OptedOut, RecordStage, StageConfig, Verdict


class OptoutConfig(StageConfig):
    path_fields: ClassVar[tuple[str, ...]] = ("registry",)

    registry: str = Field("optout.jsonl", description="the opt-out registry (JSON lines)")
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
        self._literals: tuple[re.Pattern | None, dict[str, Entry]] | None = None

    def resources(self, base_dir: Path | None = None) -> list[dict]:
        if self._sha is None:
            self._sha, _ = sha256_file(self.path)
        entries = len(self.entries)
        return [self.resource("optout_registry", self.path, entries, base_dir, self._sha)]

    def screen_line(self, raw: bytes) -> dict | None:
        """The opt-out proof for a bad input line, or None when no entry can match it.

        A line that parses is matched like a record. One that does not is withheld when any
        entry's value (repository, owner, address, URL prefix) occurs in it, ignoring case:
        a broken line of an opted-out repository must not be quarantined with its content.
        """
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            record = None
        if type(record) is dict:
            hit = self.matcher.match(record)
            if hit is None:
                return None
            rid = get_path(record, self.fields.id_parts)
            return {"id": None if rid is None else str(rid), "kind": hit.kind, "ref": hit.ref}
        if self._literals is None:
            self._literals = _literal_screen(self.entries)
        if self._literals[0] is None:
            return None
        found = self._literals[0].search(raw.decode("utf-8", "replace").lower())
        if found is None:
            return None
        entry = self._literals[1][found.group(0)]
        return {"id": None, "kind": entry.kind, "ref": entry.ref}

    def apply_batch(self, records: list[dict]) -> list[Verdict]:
        """The registry's matcher looks at a whole batch at once; a match is withheld with
        its proof only."""
        hits = self.matcher.match_batch(records)
        return [
            OptedOut(hits[i].kind, hits[i].ref) if i in hits else None for i in range(len(records))
        ]


def _literal_screen(entries: list[Entry]) -> tuple[re.Pattern | None, dict[str, Entry]]:
    """One pattern finding any entry's literal value in a line (lower-cased), and the entry
    of each literal. Content hashes cannot be checked in a line that does not parse."""
    literals: dict[str, Entry] = {}
    for entry in entries:
        value = entry.value.partition(":")[0] if entry.kind == "path_glob" else entry.value
        if entry.kind == "sha256" or not value:
            continue
        literals.setdefault(value.lower(), entry)
    if not literals:
        return None, literals
    ordered = sorted(literals, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))), literals
