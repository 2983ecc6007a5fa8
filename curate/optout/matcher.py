"""Matching records against a registry in O(1)-ish per record.

Hash sets for repos, owners, emails and text hashes; for URL prefixes, a set of prefixes
probed at each distinct prefix length (few lengths, whatever the number of entries); for
path globs, one compiled regex per repository.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from curate.optout.registry import Entry
from curate.records import get_path, split_path

DEFAULT_FIELDS = {
    "repo": "meta.repo",
    "url": "meta.url",
    "path": "meta.path",
    "email": "meta.email",
}


def glob_to_regex(glob: str) -> str:
    """`*` within a folder, `**` across folders (also zero of them), `?` one character,
    `{a,b}` either alternative (not nested). The result never backtracks badly."""
    out = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if c == "{":
            close = glob.find("}", i)
            if close > i and "{" not in glob[i + 1 : close]:
                options = glob[i + 1 : close].split(",")
                out.append("(?:" + "|".join(glob_to_regex(o) for o in options) + ")")
                i = close + 1
                continue
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


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
        self._glob_entries = globs
        self.globs: dict[str, tuple[re.Pattern, list[Entry]]] = {}  # compiled on first use
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

    def _compiled_globs(self, repo: str) -> tuple[re.Pattern, list[Entry]] | None:
        compiled = self.globs.get(repo)
        if compiled is None:
            items = self._glob_entries.get(repo)
            if items is None:
                return None
            pattern = "|".join(
                f"(?P<g{i}>{glob_to_regex(e.value.partition(':')[2])})\\Z"
                for i, e in enumerate(items)
            )
            compiled = self.globs[repo] = (re.compile(pattern), items)
        return compiled

    def _get(self, record: dict, name: str) -> str | None:
        value = get_path(record, self._parts[name])
        return value if isinstance(value, str) else None

    def match(self, record: dict) -> Match | None:
        """The first registry entry that matches the record, or None."""
        if self._shared is not None:
            holder = record.get(self._shared)
            if type(holder) is not dict:
                holder = _EMPTY
            get = holder.get
            leaf = self._leaf
            return self._match(record, lambda name: _str(get(leaf[name])))
        return self._match(record, lambda name: self._get(record, name))

    def _match(self, record: dict, get) -> Match | None:
        if self.repo or self.owner or self._glob_entries:
            repo = get("repo")
            if repo is not None:
                lowered = repo.lower()
                hit = self.repo.get(lowered)
                if hit is not None:
                    return Match("repo", hit.ref, hit.value)
                if self.owner:
                    hit = self.owner.get(lowered.partition("/")[0])
                    if hit is not None:
                        return Match("owner", hit.ref, hit.value)
                if self._glob_entries and lowered in self._glob_entries:
                    compiled = self._compiled_globs(lowered)
                    path = get("path")
                    if path is not None:
                        m = compiled[0].match(path)
                        if m is not None:
                            hit = compiled[1][int(m.lastgroup[1:])]
                            return Match("path_glob", hit.ref, hit.value)
        if self.url:
            url = get("url")
            if url is not None:
                for length in self.url_lengths:
                    if length > len(url):
                        break
                    hit = self.url.get(url[:length])
                    if hit is not None:
                        return Match("url_prefix", hit.ref, hit.value)
        if self.email:
            email = get("email")
            if email is not None:
                hit = self.email.get(email.strip().lower())
                if hit is not None:
                    return Match("email", hit.ref, hit.value)
        if self.sha:
            text = get_path(record, self._text_parts)
            if type(text) is str:
                digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
                hit = self.sha.get(digest)
                if hit is not None:
                    return Match("sha256", hit.ref, hit.value)
        return None


_EMPTY: dict = {}


def _str(value: object) -> str | None:
    return value if type(value) is str else None
