"""The opt-out registry: a sorted, de-duplicated JSON-lines file of exclusion requests.

Each line: {"kind", "value", "added" (YYYY-MM-DD), optional "ref" (the request's id) and
"note"}. Kinds and what they match (the record field each reads is configurable):

- repo       `owner/name`, case-insensitive, against `meta.repo`
- owner      a user or organisation: every repository `owner/*` in `meta.repo`
- url_prefix the start of `meta.url`, compared exactly
- path_glob  `owner/name:GLOB` — files of that repository whose `meta.path` matches GLOB
             (`*` within a folder, `**` across folders)
- email      an author address in `meta.email`, case-insensitive
- sha256     hex SHA-256 of the record's text: that content wherever it appears

The file is kept sorted by (kind, value) and de-duplicated so it diffs cleanly in git.
Invalid lines are reported with their line numbers, never skipped silently.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import orjson

from curate.core.errors import ConfigError

KINDS = ("repo", "owner", "url_prefix", "path_glob", "email", "sha256")
_REPO = re.compile(r"^[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+$")
_OWNER = re.compile(r"^[A-Za-z0-9_.\-]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SHA = re.compile(r"^[0-9a-f]{64}$")
FIELDS = ("kind", "value", "added", "ref", "note")


@dataclass(frozen=True)
class Entry:
    kind: str
    value: str
    added: str
    ref: str | None = None
    note: str | None = None

    def key(self) -> tuple[str, str]:
        return (self.kind, self.value)

    def to_json(self) -> bytes:
        data = {"kind": self.kind, "value": self.value, "added": self.added}
        if self.ref:
            data["ref"] = self.ref
        if self.note:
            data["note"] = self.note
        return orjson.dumps(data)


def normalize_value(kind: str, value: str) -> str:
    """The canonical form stored and matched: lowercase where matching ignores case."""
    value = value.strip()
    if kind in ("repo", "owner", "email", "sha256"):
        return value.lower()
    if kind == "path_glob":
        repo, sep, glob = value.partition(":")
        return f"{repo.strip().lower()}{sep}{glob.strip()}"
    return value


def check_entry(data: object) -> Entry:
    """Validate one parsed line; raises ValueError with a plain reason."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r} (fields: {', '.join(FIELDS)})")
    kind = data.get("kind")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    value = data.get("value")
    if not isinstance(value, str) or not value.strip():
        raise ValueError("value must be a non-empty string")
    value = normalize_value(kind, value)
    if kind == "repo" and not _REPO.match(value):
        raise ValueError(f"repo must look like owner/name, got {value!r}")
    if kind == "owner" and not _OWNER.match(value):
        raise ValueError(f"owner must be a user or organisation name, got {value!r}")
    if kind == "email" and not _EMAIL.match(value):
        raise ValueError(f"not an email address: {value!r}")
    if kind == "sha256" and not _SHA.match(value):
        raise ValueError("sha256 must be 64 hex digits")
    if kind == "url_prefix" and not re.match(r"^[a-z][a-z0-9+.\-]*://\S+$", value, re.I):
        raise ValueError(f"url_prefix must start with a scheme, e.g. https://, got {value!r}")
    if kind == "path_glob":
        repo, sep, glob = value.partition(":")
        if not sep or not _REPO.match(repo) or not glob:
            raise ValueError(f"path_glob must look like owner/name:GLOB, got {value!r}")
    added = data.get("added")
    if not isinstance(added, str):
        raise ValueError("added must be a date, YYYY-MM-DD")
    try:
        dt.date.fromisoformat(added)
    except ValueError:
        raise ValueError(f"added must be a date, YYYY-MM-DD, got {added!r}") from None
    for name in ("ref", "note"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise ValueError(f"{name} must be a string")
    return Entry(kind, value, added, data.get("ref") or None, data.get("note") or None)


def parse_registry(path: Path, data: bytes | None = None) -> tuple[list[Entry], list[str]]:
    """(entries, problems): each problem is `file:line: reason`."""
    if data is None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such file") from None
    entries: list[Entry] = []
    problems: list[str] = []
    loads = orjson.loads
    for lineno, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            entries.append(check_entry(loads(line)))
        except orjson.JSONDecodeError as exc:
            problems.append(f"{path}:{lineno}: invalid JSON ({str(exc).split(':')[0]})")
        except ValueError as exc:
            problems.append(f"{path}:{lineno}: {exc}")
    return entries, problems


def load_registry(path: Path) -> list[Entry]:
    """Entries of a valid registry; any invalid line is an error naming it."""
    entries, problems = parse_registry(path)
    if problems:
        more = (
            f" (and {len(problems) - 1} more; see `curate registry validate`)"
            if len(problems) > 1
            else ""
        )
        raise ConfigError(problems[0] + more)
    return entries


def canonical(entries: list[Entry]) -> list[Entry]:
    """Sorted by (kind, value), one entry per (kind, value): the earliest added wins."""
    best: dict[tuple[str, str], Entry] = {}
    for entry in entries:
        old = best.get(entry.key())
        if old is None or entry.added < old.added:
            best[entry.key()] = entry
    return [best[k] for k in sorted(best)]


def write_registry(path: Path, entries: list[Entry]) -> None:
    from curate.io.atomic import atomic_write

    atomic_write(path, b"".join(e.to_json() + b"\n" for e in canonical(entries)))


def import_csv(text: str, source: str) -> tuple[list[Entry], list[str]]:
    """Entries from CSV with a header row naming at least kind and value."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "kind" not in header or "value" not in header:
        return [], [
            f"{source}:1: the header must name the columns kind and value (and optionally added, ref, note)"
        ]
    entries, problems = [], []
    today = dt.date.today().isoformat()
    for lineno, row in enumerate(reader, 2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        data = {k: v for k, v in row.items() if k in FIELDS and v}
        data.setdefault("added", today)
        try:
            entries.append(check_entry(data))
        except ValueError as exc:
            problems.append(f"{source}:{lineno}: {exc}")
    return entries, problems
