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

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from curate.optout.matcher import glob_to_regex
from curate.patterns import BoundedRegex
from curate.records import get_path, split_path
from curate.yamlconf import Loc, LocatedYaml, load_yaml

_MISSING = object()
Condition = Callable[["RecordView"], bool]
OPS = ("equals", "in", "regex", "glob", "exists")
KEYS = ("field", *OPS, "min_chars", "max_chars", "language", "language_type", "all", "any", "not")


class RecordView:
    """A record plus what the tag stage already worked out about it."""

    __slots__ = ("record", "text", "language", "language_type")

    def __init__(
        self, record: dict, text: str | None, language: str | None, language_type: str | None
    ):
        self.record = record
        self.text = text
        self.language = language
        self.language_type = language_type


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
    uses_language: bool

    def classify(self, view: RecordView) -> str | list[str] | None:
        if self.multi:
            names = [r.name for r in self.rules if r.condition(view)]
            if names:
                return names
            return [self.default] if self.default is not None else None
        for rule in self.rules:
            if rule.condition(view):
                return rule.name
        return self.default


def _as_text(value: Any) -> str:
    return value if type(value) is str else orjson.dumps(value).decode()


class _Compiler:
    def __init__(self, doc: LocatedYaml):
        self.doc = doc
        self.uses_language = False

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
                self.uses_language = True
                wanted = frozenset(values)
                parts.append(_language(wanted) if key == "language" else _language_type(wanted))
        for key in ("all", "any"):
            if key in node:
                items = node[key]
                if not isinstance(items, list) or not items:
                    raise doc.error(loc + (key,), "expected a non-empty list of conditions")
                subs = [self.compile(item, loc + (key, i)) for i, item in enumerate(items)]
                parts.append(_all(subs) if key == "all" else _any(subs))
        if "not" in node:
            inner = self.compile(node["not"], loc + ("not",))
            parts.append(lambda view, inner=inner: not inner(view))
        return parts[0] if len(parts) == 1 else _all(parts)

    def _field(self, field: Any, op: str, arg: Any, loc: Loc) -> Condition:
        doc = self.doc
        if not isinstance(field, str) or not field:
            raise doc.error(loc + ("field",), "expected a dotted field name, e.g. meta.path")
        parts = split_path(field)
        if op == "exists":
            if not isinstance(arg, bool):
                raise doc.error(loc + (op,), "expected true or false")
            return lambda view: (get_path(view.record, parts, _MISSING) is not _MISSING) is arg
        if op == "equals":
            want = _as_text(arg)
            return lambda view: _value(view, parts) == want
        if op == "in":
            if not isinstance(arg, list):
                raise doc.error(loc + (op,), "expected a list of values")
            wanted = frozenset(_as_text(v) for v in arg)
            return lambda view: _value(view, parts) in wanted
        if not isinstance(arg, str):
            raise doc.error(loc + (op,), "expected a string")
        if op == "regex":
            try:
                pattern = BoundedRegex(arg)
            except Exception as exc:  # regex.error
                raise doc.error(loc + (op,), f"invalid regex: {exc}") from None

            def search(view: RecordView, parts=parts, pattern=pattern) -> bool:
                value = _value(view, parts)
                return value is not None and pattern.search(value)

            return search
        try:
            compiled = re.compile(glob_to_regex(arg) + r"\Z")
        except re.error as exc:
            raise doc.error(loc + (op,), f"invalid glob: {exc}") from None

        def glob(view: RecordView, parts=parts, compiled=compiled) -> bool:
            value = _value(view, parts)
            return value is not None and compiled.match(value) is not None

        return glob


def _value(view: RecordView, parts: tuple[str, ...]) -> str | None:
    value = get_path(view.record, parts, _MISSING)
    if value is _MISSING or value is None:
        return None
    return _as_text(value)


def _min_chars(n: int) -> Condition:
    return lambda view: view.text is not None and len(view.text) >= n


def _max_chars(n: int) -> Condition:
    return lambda view: view.text is not None and len(view.text) <= n


def _language(wanted: frozenset) -> Condition:
    return lambda view: view.language in wanted


def _language_type(wanted: frozenset) -> Condition:
    return lambda view: view.language_type in wanted


def _all(subs: list[Condition]) -> Condition:
    def check(view: RecordView) -> bool:
        for sub in subs:
            if not sub(view):
                return False
        return True

    return check


def _any(subs: list[Condition]) -> Condition:
    def check(view: RecordView) -> bool:
        for sub in subs:
            if sub(view):
                return True
        return False

    return check


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
    return RuleSet(rules, default, multi, len(rules), compiler.uses_language)
