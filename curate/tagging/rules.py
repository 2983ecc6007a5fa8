"""Subset rules: an ordered list of named conditions over a record, compiled once.

```yaml
default: other          # subset for records that no rule matches (omit: leave untagged)
multi: false            # true: every matching name, as a list
subsets:
  - name: code
    when: {language_type: [programming]}
  - name: docs
    when:
      any:
        - {language: [Markdown, reStructuredText]}
        - {field: meta.path, glob: "docs/**"}
```

Conditions: `{field: F, equals: V}`, `{field: F, in: [...]}`, `{field: F, regex: R}` (search,
time-bounded), `{field: F, glob: G}` (`*` within a folder, `**` across), `{field: F, exists:
true|false}`, `{min_chars: N}`, `{max_chars: N}`, `{language: [...]}`, `{language_type:
[...]}`; combined with `{all: [...]}`, `{any: [...]}`, `{not: ...}`. Several keys in one
mapping must all hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from curate.core.errors import RecordError
from curate.core.globs import Glob, GlobError
from curate.core.patterns import BoundedRegex
from curate.core.records import get_path, split_path
from curate.core.yamlconf import Loc, LocatedYaml, load_yaml
from curate.tagging.languages import LANGUAGE_TYPES

_MISSING = object()
OPS = ("equals", "in", "regex", "glob", "exists")
KEYS = ("field", *OPS, "min_chars", "max_chars", "language", "language_type", "all", "any", "not")


class Columns:
    """A batch of records plus what the tag stage worked out about them. Conditions read
    columns (a field's values, text lengths) computed once per batch and answer for every
    record at once: the per-record cost is a list comprehension, not a tree of calls."""

    def __init__(
        self,
        records: list[dict],
        texts: list[str | None],
        languages: list[str | None],
        type_of: Callable[[str | None], str | None],
    ):
        self.records = records
        self._texts = texts  # a list, or anything with all() returning one (read on demand)
        self.languages = languages
        self.type_of = type_of
        self.n = len(records)
        self.errors: dict[int, str] = {}  # row -> problem (a regex that timed out)
        self._fields: dict[tuple[str, ...], list[str | None]] = {}
        self._lengths: list[int] | None = None

    def field(self, parts: tuple[str, ...]) -> list[str | None]:
        """A field's values as text (JSON for non-strings), None where missing or null."""
        values = self._fields.get(parts)
        if values is None:
            values = self.raw_field(parts, None)
            if set(map(type, values)) - {str, type(None)}:
                values = [_as_text(v) for v in values]
            self._fields[parts] = values
        return values

    def raw_field(self, parts: tuple[str, ...], default: Any) -> list[Any]:
        records = self.records
        if len(parts) == 1:
            key = parts[0]
            return [r.get(key, default) for r in records]
        if len(parts) == 2:
            first, key = parts
            try:
                return [r[first].get(key, default) for r in records]
            except (KeyError, AttributeError, TypeError):
                pass
        return [get_path(r, parts, default) for r in records]

    @property
    def texts(self) -> list[str | None]:
        texts = self._texts
        return texts if type(texts) is list else texts.all()

    def lengths(self) -> list[int]:
        """Text length per record, -1 where there is no text."""
        if self._lengths is None:
            self._lengths = [len(t) if t is not None else -1 for t in self.texts]
        return self._lengths


class Condition:
    """A compiled condition: `rows(cols)` answers for a batch (one bool per record);
    `on_language`, when set, says the answer depends on the language alone."""

    __slots__ = ("rows", "on_language")

    def __init__(
        self,
        rows: Callable[[Columns], list[bool]],
        on_language: Callable[[str | None, str | None], bool] | None = None,
    ):
        self.rows = rows
        self.on_language = on_language


def _language_condition(test: Callable[[str | None, str | None], bool]) -> Condition:
    def rows(cols: Columns) -> list[bool]:
        type_of = cols.type_of
        table = {lang: test(lang, type_of(lang)) for lang in set(cols.languages)}
        return [table[lang] for lang in cols.languages]

    return Condition(rows, test)


@dataclass
class Rule:
    name: str
    condition: Condition


@dataclass
class RuleSet:
    rules: list[Rule]
    default: str | None
    multi: bool
    entries: int

    def classify_batch(self, cols: Columns) -> list:
        """Subset per record: the first matching rule's name (or every matching name, as a
        list, with `multi`), else the default (None: leave untagged)."""
        names = [rule.name for rule in self.rules]
        if self.multi:
            fallback = [self.default] if self.default is not None else None
            hits = zip(*[rule.condition.rows(cols) for rule in self.rules])
            return [[names[k] for k, hit in enumerate(row) if hit] or fallback for row in hits]
        chosen: list[str | None] = [None] * cols.n  # a subset name once decided
        undecided = cols.n
        rules = self.rules
        k = 0
        while k < len(rules) and undecided:
            if rules[k].condition.on_language is not None:
                # A run of rules that look only at the language: decide once per language.
                end = k
                while end < len(rules) and rules[end].condition.on_language is not None:
                    end += 1
                type_of = cols.type_of
                first = {}
                for lang in set(cols.languages):
                    kind = type_of(lang)
                    first[lang] = next(
                        (
                            names[j]
                            for j in range(k, end)
                            if rules[j].condition.on_language(lang, kind)
                        ),
                        None,
                    )
                chosen = [
                    c if c is not None else first[lang] for c, lang in zip(chosen, cols.languages)
                ]
                k = end
            else:
                name = names[k]
                hits = rules[k].condition.rows(cols)
                if undecided == cols.n:
                    chosen = [name if hit else None for hit in hits]
                else:
                    chosen = [
                        c if c is not None or not hit else name for c, hit in zip(chosen, hits)
                    ]
                k += 1
            undecided = chosen.count(None)
        if undecided and self.default is not None:
            default = self.default
            return [c if c is not None else default for c in chosen]
        return chosen

    def classify(self, record: dict, language: str | None = None, type_of=None) -> Any:
        """One record's subset (a batch of one); for tests and callers outside the stage."""
        text = record.get("text")
        text = text if type(text) is str else None
        cols = Columns([record], [text], [language], type_of or (lambda language: None))
        subset = self.classify_batch(cols)[0]
        if cols.errors:
            raise RecordError(cols.errors[0])
        return subset


def _as_text(value: Any) -> str | None:
    if value is None or value is _MISSING:
        return None
    return value if type(value) is str else orjson.dumps(value).decode()


class _Compiler:
    def __init__(self, doc: LocatedYaml):
        self.doc = doc

    def compile(self, node: Any, loc: Loc) -> Condition:
        doc = self.doc
        if not isinstance(node, dict) or not node:
            raise doc.error(
                loc, "expected a condition mapping, e.g. {field: meta.path, glob: '*.py'}"
            )
        unknown = [k for k in node if k not in KEYS]
        if unknown:
            raise doc.error(loc + (unknown[0],), f"unknown condition (known: {', '.join(KEYS)})")
        parts: list[Condition] = []
        ops = [k for k in OPS if k in node]
        if "field" in node or ops:
            if "field" not in node:
                raise doc.error(loc + (ops[0],), "needs a `field` to test")
            if len(ops) != 1:
                raise doc.error(
                    loc + ("field",), "a field condition takes exactly one of " + ", ".join(OPS)
                )
            parts.append(self._field(node["field"], ops[0], node[ops[0]], loc))
        for key in ("min_chars", "max_chars"):
            if key in node:
                limit = node[key]
                if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
                    raise doc.error(loc + (key,), "expected a non-negative integer")
                parts.append(_min_chars(limit) if key == "min_chars" else _max_chars(limit))
        for key in ("language", "language_type"):
            if key in node:
                values = node[key]
                if isinstance(values, dict) and set(values) == {"in"}:
                    values = values["in"]
                if isinstance(values, str):
                    values = [values]
                if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    raise doc.error(loc + (key,), "expected a list of names")
                if key == "language_type":
                    for i, value in enumerate(values):
                        if value not in LANGUAGE_TYPES:
                            raise doc.error(
                                loc + (key, i),
                                f"unknown type {value!r} (types: {', '.join(LANGUAGE_TYPES)})",
                            )
                wanted = frozenset(values)
                if key == "language":
                    parts.append(_language_condition(lambda lang, kind, w=wanted: lang in w))
                else:
                    parts.append(_language_condition(lambda lang, kind, w=wanted: kind in w))
        for key in ("all", "any"):
            if key in node:
                items = node[key]
                if not isinstance(items, list) or not items:
                    raise doc.error(loc + (key,), "expected a non-empty list of conditions")
                subs = [self.compile(item, loc + (key, i)) for i, item in enumerate(items)]
                parts.append(_all(subs) if key == "all" else _any(subs))
        if "not" in node:
            inner = self.compile(node["not"], loc + ("not",))
            parts.append(_not(inner))
        return parts[0] if len(parts) == 1 else _all(parts)

    def _field(self, field: Any, op: str, arg: Any, loc: Loc) -> Condition:
        doc = self.doc
        if not isinstance(field, str) or not field:
            raise doc.error(loc + ("field",), "expected a dotted field name, e.g. meta.path")
        parts = split_path(field)
        if op == "exists":
            if not isinstance(arg, bool):
                raise doc.error(loc + (op,), "expected true or false")
            return Condition(
                lambda cols: [(v is not _MISSING) is arg for v in cols.raw_field(parts, _MISSING)]
            )
        if op in ("equals", "in"):
            if op == "in" and not isinstance(arg, list):
                raise doc.error(loc + (op,), "expected a list of values")
            wanted = frozenset(_arg_text(v) for v in (arg if op == "in" else [arg]))
            return Condition(lambda cols: [v in wanted for v in cols.field(parts)])
        if not isinstance(arg, str):
            raise doc.error(loc + (op,), "expected a string")
        if op == "regex":
            try:
                pattern = BoundedRegex(arg)
            except Exception as exc:  # regex.error
                raise doc.error(loc + (op,), f"invalid regex: {exc}") from None
            return Condition(lambda cols: _search(cols, parts, pattern))
        basename = arg.startswith("**/") and "/" not in arg[3:]
        try:
            # `**/name-glob` tests the last path segment: cheaper than matching `**/`.
            match = Glob(arg[3:] if basename else arg).match
        except GlobError as exc:
            raise doc.error(loc + (op,), f"invalid glob: {exc}") from None

        prefixes = _literal_prefixes(arg[3:]) if basename else None

        def glob(cols: Columns) -> list[bool]:
            values = cols.field(parts)
            if prefixes:  # one C-level startswith rules out most names before the regex
                return [
                    v is not None
                    and v.startswith(prefixes, v.rfind("/") + 1)
                    and match(v, v.rfind("/") + 1)
                    for v in values
                ]
            if basename:
                return [v is not None and match(v, v.rfind("/") + 1) for v in values]
            return [v is not None and match(v) for v in values]

        return Condition(glob)


def _literal_prefixes(glob: str, limit: int = 256) -> tuple[str, ...] | None:
    """The literal text every match of a glob starts with, one per `{a,b}` alternative (None
    when some alternative starts with a wildcard, or braces expand past `limit`)."""
    variants = [""]
    i = 0
    while i < len(glob):
        c = glob[i]
        if c in "*?":
            break
        close = glob.find("}", i) if c == "{" else -1
        if close > i and "{" not in glob[i + 1 : close]:
            options = [o.split("*", 1)[0].split("?", 1)[0] for o in glob[i + 1 : close].split(",")]
            if len(variants) * len(options) > limit:
                return None
            variants = [v + o for v in variants for o in options]
            if any("*" in o or "?" in o for o in glob[i + 1 : close].split(",")):
                break  # an alternative has a wildcard: the literal part ends there
            i = close + 1
            continue
        variants = [v + c for v in variants]
        i += 1
    if not all(variants):
        return None
    kept: list[str] = []
    for variant in sorted(set(variants), key=len):  # "LICENSE" already covers "LICENSE."
        if not variant.startswith(tuple(kept)):
            kept.append(variant)
    return tuple(kept)


def _search(cols: Columns, parts: tuple[str, ...], pattern: BoundedRegex) -> list[bool]:
    out = [False] * cols.n
    for i, value in enumerate(cols.field(parts)):
        if value is not None:
            try:
                out[i] = pattern.search(value)
            except RecordError as exc:
                cols.errors.setdefault(i, exc.problem)
    return out


def _arg_text(value: Any) -> str:
    return value if type(value) is str else orjson.dumps(value).decode()


def _min_chars(n: int) -> Condition:
    return Condition(lambda cols: [length >= n for length in cols.lengths()])


def _max_chars(n: int) -> Condition:
    return Condition(lambda cols: [0 <= length <= n for length in cols.lengths()])


def _all(subs: list[Condition]) -> Condition:
    return _combined(subs, all)


def _any(subs: list[Condition]) -> Condition:
    return _combined(subs, any)


def _combined(subs: list[Condition], how: Callable) -> Condition:
    """`all` or `any` of several conditions: per distinct language when each of them looks
    only at the language, else row by row."""
    if all(sub.on_language is not None for sub in subs):
        return _language_condition(lambda lang, kind: how(s.on_language(lang, kind) for s in subs))

    def rows(cols: Columns) -> list[bool]:
        return [how(row) for row in zip(*[sub.rows(cols) for sub in subs])]

    return Condition(rows)


def _not(inner: Condition) -> Condition:
    if inner.on_language is not None:
        return _language_condition(lambda lang, kind: not inner.on_language(lang, kind))
    return Condition(lambda cols: [not hit for hit in inner.rows(cols)])


def load_rules(path: Path) -> RuleSet:
    """Parse and compile a rules file; errors are `file:line: key.path: problem`."""
    doc = load_yaml(path)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), "expected a mapping with `subsets` (and optionally default, multi)")
    unknown = [k for k in data if k not in ("subsets", "default", "multi")]
    if unknown:
        raise doc.error((unknown[0],), "unknown key (keys: subsets, default, multi)")
    default = data.get("default")
    if default is not None and not isinstance(default, str):
        raise doc.error(("default",), "expected a subset name")
    multi = data.get("multi", False)
    if not isinstance(multi, bool):
        raise doc.error(("multi",), "expected true or false")
    items = data.get("subsets")
    if not isinstance(items, list) or not items:
        raise doc.error(("subsets",), "expected a non-empty list of {name, when}")
    compiler = _Compiler(doc)
    rules = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        loc = ("subsets", i)
        if not isinstance(item, dict) or set(item) - {"name", "when"} or "name" not in item:
            raise doc.error(loc, "expected {name: ..., when: {...}}")
        name = item["name"]
        if not isinstance(name, str) or not name:
            raise doc.error(loc + ("name",), "expected a non-empty string")
        if name in seen:
            raise doc.error(loc + ("name",), f"duplicate subset name {name!r}")
        seen.add(name)
        if "when" not in item:
            raise doc.error(loc, "missing `when` condition")
        rules.append(Rule(name, compiler.compile(item["when"], loc + ("when",))))
    return RuleSet(rules, default, multi, len(rules))
