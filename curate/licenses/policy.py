"""An allow/deny policy over SPDX license expressions.

`A OR B` passes when either side passes; `A AND B` only when both do; `X WITH E` when X passes
and the exception E is not denied. A license id on neither list does not pass. An expression
that cannot be parsed is `unknown`, with the raw text kept: never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches
from functools import lru_cache
from pathlib import Path

from license_expression import (
    AND,
    OR,
    ExpressionError,
    LicenseSymbol,
    LicenseWithExceptionSymbol,
    get_spdx_licensing,
)

from curate.core.rules_path import shipped_rules
from curate.core.yamlconf import load_yaml

_LICENSING = get_spdx_licensing()


@dataclass(frozen=True)
class Verdict:
    """The judgement of one expression: normalised text (or None) and whether it passes."""

    expression: str | None  # normalised SPDX expression; None when absent or unparsable
    allowed: bool | None  # None when there is no usable license
    raw: str | None = None  # the input, kept when it could not be parsed


@dataclass(frozen=True)
class Policy:
    allow: frozenset[str]
    deny: frozenset[str]
    unknown: str  # "drop" or "keep"
    entries: int = 0

    def judge(self, text: str | None) -> Verdict:
        """Parse, normalise and evaluate one expression."""
        if text is None or not str(text).strip():
            return Verdict(None, None)
        parsed = parse_expression(str(text))
        if parsed is None:
            return Verdict(None, None, str(text))
        return Verdict(parsed.render(), self._passes(parsed))

    def _passes(self, node) -> bool:
        if isinstance(node, LicenseWithExceptionSymbol):
            exception = _key(node.exception_symbol)
            return self._passes(node.license_symbol) and exception not in self.deny_lower
        if isinstance(node, LicenseSymbol):
            return _key(node) in self.allow_lower
        if isinstance(node, OR):
            return any(self._passes(arg) for arg in node.args)
        if isinstance(node, AND):
            return all(self._passes(arg) for arg in node.args)
        return False

    @property
    def allow_lower(self) -> frozenset[str]:
        return _lowered(self.allow)

    @property
    def deny_lower(self) -> frozenset[str]:
        return _lowered(self.deny)


@lru_cache(maxsize=4)
def _lowered(items: frozenset[str]) -> frozenset[str]:
    return frozenset(i.lower() for i in items)


def _key(symbol) -> str:
    return str(symbol.key).lower()


@lru_cache(maxsize=65536)
def parse_expression(text: str):
    """A parsed, simplified-free expression, or None when it is not valid SPDX syntax.

    Ids are matched case-insensitively against the SPDX list and shown in their SPDX case;
    unknown ids are kept (as `LicenseRef-...` would be) and judged by the policy lists.
    """
    try:
        parsed = _LICENSING.parse(text.strip(), validate=False, strict=False)
    except (ExpressionError, TypeError, ValueError, AttributeError):
        return None
    if parsed is None:
        return None
    for symbol in _LICENSING.license_symbols(parsed, unique=False, decompose=True):
        key = str(symbol.key)
        if " " in key or not key:
            return None  # "MIT License" and other names are not SPDX ids
    return parsed


def load_policy(path: Path | None = None) -> Policy:
    path = path or shipped_rules("licenses.yaml")
    doc = load_yaml(path)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), "expected a mapping with allow, deny and unknown")
    for key in data:
        if key not in ("allow", "deny", "unknown"):
            raise doc.error((key,), "unknown key (keys: allow, deny, unknown)")
    lists = {}
    for key in ("allow", "deny"):
        values = data.get(key) or []
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise doc.error((key,), "expected a list of SPDX ids")
        ids = []
        for i, value in enumerate(values):
            canonical, problem = _policy_id(value)
            if problem:
                raise doc.error((key, i), problem)
            ids.append(canonical)
        lists[key] = frozenset(ids)
    both = sorted(lists["allow"] & lists["deny"])
    if both:
        raise doc.error(("deny",), f"{both[0]} is both allowed and denied")
    unknown = data.get("unknown", "drop")
    if unknown not in ("drop", "keep"):
        raise doc.error(("unknown",), "expected one of drop, keep")
    return Policy(lists["allow"], lists["deny"], unknown, len(lists["allow"]) + len(lists["deny"]))


def _policy_id(value: str) -> tuple[str, str | None]:
    """A policy entry as records' expressions are normalised (`GPL-2.0` -> `GPL-2.0-only`,
    `mit` -> `MIT`), or the problem with it: an id the SPDX list does not know would never
    match a record, silently (`LicenseRef-...` ids are the user's own and always accepted)."""
    if value.lower().startswith("licenseref-"):
        return value, None
    try:
        parsed = _LICENSING.parse(value.strip(), validate=False, strict=False)
        symbols = _LICENSING.license_symbols(parsed, unique=True, decompose=True)
    except (ExpressionError, TypeError, ValueError, AttributeError):
        symbols = []
    if len(symbols) != 1 or str(symbols[0].key) not in _LICENSING.known_symbols:
        if len(symbols) > 1:
            return value, f"{value!r} is an expression: list one SPDX id an entry"
        near = get_close_matches(value.lower(), _known_lowercase(), n=1)
        hint = f" (did you mean {_known_lowercase()[near[0]]}?)" if near else ""
        return value, f"{value!r} is not an SPDX license or exception id{hint}"
    return str(symbols[0].key), None


def canonical_id(name: str) -> str:
    """An SPDX license id as the SPDX list spells it (`bsd-1-clause` -> `BSD-1-Clause`)."""
    return _known_lowercase().get(name.lower(), name)


@lru_cache(maxsize=1)
def _known_lowercase() -> dict[str, str]:
    return {str(k).lower(): str(k) for k in _LICENSING.known_symbols}
