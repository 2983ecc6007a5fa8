"""Matching records against a registry in O(1)-ish per record.

Hash sets for repos, owners, emails and text hashes; for URL prefixes, a set of prefixes
probed at each distinct prefix length (few lengths, whatever the number of entries); for
path globs, one compiled regex per repository.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from curate.core.globs import Glob
from curate.core.records import get_path, split_path
from curate.optout.registry import Entry

DEFAULT_FIELDS = {
    "repo": "meta.repo",
    "url": "meta.url",
    "path": "meta.path",
    "email": "meta.email",
}


@dataclass
class Match:
    kind: str
    ref: str | None
    value: str


@dataclass
class Matcher:
    entries: list[Entry]
    fields: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELDS))
    text_field: str = "text"

    def __post_init__(self) -> None:
        self.repo: dict[str, Entry] = {}
        self.owner: dict[str, Entry] = {}
        self.email: dict[str, Entry] = {}
        self.sha: dict[str, Entry] = {}
        self.url: dict[str, Entry] = {}
        globs: dict[str, list[Entry]] = {}
        for e in self.entries:
            if e.kind == "repo":
                self.repo.setdefault(e.value, e)
            elif e.kind == "owner":
                self.owner.setdefault(e.value, e)
            elif e.kind == "email":
                self.email.setdefault(e.value, e)
            elif e.kind == "sha256":
                self.sha.setdefault(e.value, e)
            elif e.kind == "url_prefix":
                self.url.setdefault(e.value, e)
            elif e.kind == "path_glob":
                repo, _, glob = e.value.partition(":")
                globs.setdefault(repo, []).append(e)
        self.url_lengths = sorted({len(p) for p in self.url})
        self._by_repo: dict[str, Match | str | None] = {}
        self._glob_entries = globs
        self.globs: dict[str, list[tuple[Glob, Entry]]] = {}  # compiled on first use
        self._parts = {k: split_path(v) for k, v in self.fields.items()}
        self._text_parts = split_path(self.text_field)
        # fast path: every role is a key of one object (`meta.*` by default)
        heads = {parts[0] for parts in self._parts.values()}
        self._shared = (
            next(iter(heads))
            if len(heads) == 1 and all(len(p) == 2 for p in self._parts.values())
            else None
        )
        self._leaf = {k: p[-1] for k, p in self._parts.items()}

    def _compiled_globs(self, repo: str) -> list[tuple[Glob, Entry]] | None:
        compiled = self.globs.get(repo)
        if compiled is None:
            items = self._glob_entries.get(repo)
            if items is None:
                return None
            compiled = self.globs[repo] = [(Glob(e.value.partition(":")[2]), e) for e in items]
        return compiled

    def match(self, record: dict) -> Match | None:
        """The first registry entry that matches the record, or None."""
        return self.match_batch([record]).get(0)

    def match_batch(self, records: list[dict]) -> dict[int, Match]:
        """Row -> the first registry entry matching that record, for a batch. Each kind of
        entry is checked a column at a time (one comprehension over the batch, one dict probe
        a record), in the order repo, owner, path glob, URL prefix, email, text SHA-256; rows
        already matched are not checked again."""
        n = len(records)
        hits: dict[int, Match] = {}
        column = self._columns(records)
        if self.repo or self.owner or self._glob_entries:
            repos = column("repo")
            if repos.count(None) != n:
                self._match_repos(hits, repos, column)
        if self.url:
            urls = column("url")
            if urls.count(None) != n:
                _collect(hits, "url_prefix", [self._url_hit(u) for u in urls])
        if self.email:
            emails = column("email")
            if emails.count(None) != n:
                get = self.email.get
                _collect(
                    hits,
                    "email",
                    [get(e.strip().lower()) if e is not None else None for e in emails],
                )
        if self.sha:
            self._match_texts(hits, records)
        return hits

    def _columns(self, records: list[dict]):
        """A function giving one role's values for the batch (None where not a string)."""
        if self._shared is not None:
            shared = self._shared
            holders = [r.get(shared) for r in records]
            if set(map(type, holders)) - {dict}:
                holders = [h if type(h) is dict else _EMPTY for h in holders]

            def column(name: str) -> list[str | None]:
                key = self._leaf[name]
                values = [h.get(key) for h in holders]
                return _strings(values)

            return column

        def column(name: str) -> list[str | None]:
            parts = self._parts[name]
            return _strings([get_path(r, parts) for r in records])

        return column

    def _match_repos(self, hits: dict[int, Match], repos: list, column) -> None:
        """Repo, owner and path-glob entries, through a memo of what each repository string
        gets: a corpus holds many files of one repository, so most records cost one probe."""
        memo = self._by_repo
        if len(memo) > 1_000_000:
            memo.clear()
        get = memo.get
        verdicts = [get(r, _UNSEEN) if r is not None else None for r in repos]
        if verdicts.count(None) == len(verdicts):
            return
        paths = None
        for i, verdict in enumerate(verdicts):
            if verdict is None:
                continue
            if verdict is _UNSEEN:
                verdict = memo[repos[i]] = self._repo_verdict(repos[i])
                if verdict is None:
                    continue
            if verdict.__class__ is Match:
                hits[i] = verdict
                continue
            if paths is None:  # a repository with path globs: the path decides
                paths = column("path")
            path = paths[i]
            if path is not None:
                for glob, hit in self._compiled_globs(verdict):
                    if glob.match(path):
                        hits[i] = Match("path_glob", hit.ref, hit.value)
                        break

    def _repo_verdict(self, repo: str) -> Match | str | None:
        """A repo or owner match, else the lower-cased repository when it has path globs."""
        lowered = repo.lower()
        hit = self.repo.get(lowered)
        if hit is not None:
            return Match("repo", hit.ref, hit.value)
        hit = self.owner.get(lowered.partition("/")[0])
        if hit is not None:
            return Match("owner", hit.ref, hit.value)
        return lowered if lowered in self._glob_entries else None

    def _url_hit(self, url: str | None) -> Entry | None:
        if url is None:
            return None
        get = self.url.get
        for length in self.url_lengths:
            if length > len(url):
                break
            hit = get(url[:length])
            if hit is not None:
                return hit
        return None

    def _match_texts(self, hits: dict[int, Match], records: list[dict]) -> None:
        parts = self._text_parts
        if len(parts) == 1:
            key = parts[0]
            texts = [r.get(key) for r in records]
        else:
            texts = [get_path(r, parts) for r in records]
        sha256 = hashlib.sha256
        get = self.sha.get
        found = [
            get(sha256(t.encode("utf-8", "surrogatepass")).hexdigest())
            if t.__class__ is str
            else None
            for t in texts
        ]
        _collect(hits, "sha256", found)


def _collect(hits: dict[int, Match], kind: str, found: list[Entry | None]) -> None:
    """Record the rows a column check matched, unless an earlier kind matched them first."""
    if found.count(None) == len(found):
        return
    for i, entry in enumerate(found):
        if entry is not None and i not in hits:
            hits[i] = Match(kind, entry.ref, entry.value)


def _strings(values: list) -> list[str | None]:
    if set(map(type, values)) - {str, type(None)}:
        return [v if type(v) is str else None for v in values]
    return values


_EMPTY: dict = {}
_UNSEEN = object()
