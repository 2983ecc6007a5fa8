"""Where a record's license comes from: metadata, `SPDX-License-Identifier:` tags, and
scancode-toolkit's detection of license texts and notices.

scancode is slow in general, so only texts that can hold a license reach it (a cheap
pre-check), matching is exact (`approximate=False`: 1.5-20 ms instead of 0.25-1 s a file, with
the same answers on tags, standard headers and full texts), and results are cached by the
SHA-256 of the text — the MIT text appears millions of times in a code corpus. The cache can
persist between runs. The license index loads once per process (in the parent, before the
workers fork).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

import orjson

from curate.licenses.build_names import NAMES
from curate.licenses.policy import parse_expression

SPDX_TAG = re.compile(r"SPDX-License-Identifier:\s*([^\n\r]*)", re.I)
_TAG_END = re.compile(r"\s*(\*/|-->|#\}|\*\)|;|\"\"\"|''')?\s*$")
HEAD_CHARS = 8192
HINTS = (
    "licen",
    "copyright",
    "permission is hereby granted",
    "redistribution",
    "warranty",
    "gnu general",
    "public domain",
    "spdx",
)
# scancode keys that say "some license is mentioned" without saying which
VAGUE = {
    "unknown",
    "unknown-license-reference",
    "free-unknown",
    "unknown-spdx",
    "warranty-disclaimer",
    "generic-cla",
    "other-permissive",
    "other-copyleft",
    "proprietary-license",
    "commercial-license",
    "public-domain-disclaimer",
}


def spdx_tag(text: str) -> str | None:
    """The expression of the first `SPDX-License-Identifier:` in the head of the text."""
    head = text[:HEAD_CHARS]
    if "SPDX-License-Identifier" not in head and "spdx-license-identifier" not in head.lower():
        return None
    match = SPDX_TAG.search(head)
    if not match:
        return None
    value = _TAG_END.sub("", match.group(1)).strip()
    return value or None


def could_hold_license(text: str) -> bool:
    lowered = text.lower()
    return any(hint in lowered for hint in HINTS)


@lru_cache(maxsize=1)
def name_aliases() -> dict[str, str]:
    """Lowercased license names, short names and keys -> SPDX id: the table shipped with the
    package (built from scancode's license database by `curate.licenses.build_names`)."""
    return orjson.loads(NAMES.read_bytes())["aliases"]


def is_spdx(value: str) -> bool:
    """Every id in a well-formed expression is a known SPDX license or exception id."""
    from curate.licenses.policy import _LICENSING

    try:
        return not _LICENSING.validate(value, strict=False).errors
    except Exception:  # license-expression itself fails on some invalid keys (`MIT/X`)
        return False


def normalize(value: str) -> str | None:
    """A metadata license value as an SPDX expression: SPDX already, or a known name/key."""
    value = value.strip()
    if not value:
        return None
    if parse_expression(value) is not None and is_spdx(value):
        return value
    alias = name_aliases().get(value.lower())
    if alias is None and parse_expression(value) is not None:
        return value  # well-formed but not SPDX ids: the policy judges it (not allowed)
    if alias is None:
        for suffix in (" license", " licence"):
            if value.lower().endswith(suffix):
                alias = name_aliases().get(value.lower()[: -len(suffix)])
                if alias:
                    break
    return alias


def spdx_name(value: str) -> str | None:
    """A license name or id (`Apache 2.0`, `MIT License`) as an SPDX expression of known ids;
    None for a name that is no one SPDX license (`BSD`, `GPLv3`)."""
    expression = normalize(value)
    return expression if expression and is_spdx(expression) else None


COMBINE_VERSION = b"6:"  # bumped when `_scan` combines matches differently
# texts of the permissive families whose wording varies (BSD, MIT, ISC): short enough to be
# the license itself rather than a source file with a header
VARIANT_MARKERS = re.compile(
    r"(?i)redistribution and use in source and binary forms|permission is hereby granted"
    r"|permission to use, copy, modify"
)
VARIANT_CHARS = 6000
VARIANT_COVERAGE = 80.0
# exact rules matching less than this share of such a text's tokens, with license terms left in
# the lines no rule read, leave the license itself mostly unread: a near-identical variant (ISC
# with "NPM DISCLAIMS" read as pkgconf's shorter grant) won on a part, and approximate matching
# decides. (A source file with a standard header leaves its code unread: no such terms.)
VARIANT_PARTIAL = 0.6
_LICENSE_TERMS = re.compile(r"(?i)warrant|liable|disclaim")
_GNU_KEY = re.compile(r"^(gpl|lgpl|agpl)-(\d\.\d)(-plus)?$")


_OR = re.compile(r"\s+or\s+", re.I)
_AND_WITH = re.compile(r"\b(and|with)\b", re.I)


def alternatives_stated(keys: list[str]) -> list[str]:
    """A dual-license statement (`isc OR mit`) followed by the texts of its alternatives is
    that choice: the alternatives' own texts are not further licenses ANDed to it."""
    choices = [k for k in keys if _OR.search(k) and not _AND_WITH.search(k)]
    members = {m.strip("() ").lower() for k in choices for m in _OR.split(k.strip("()"))}
    return [k for k in keys if k in choices or k.lower() not in members]


_OR_LATER = re.compile(r"(?i)\b(?:any|some)\s+later\s+version\b|\bor[ -]later\b")
_NOT_LATER = re.compile(r"(?i)\b(?:not|no)\s+(?:any\s+)?later\s+version\b")


def _version_choice_stated(
    weight: dict[str, int], notice: dict[str, int], text: str
) -> tuple[dict[str, int], dict[str, int]]:
    """A GNU notice states its version choice in words: "or (at your option) any later
    version" ("some later version", "or later") makes it `-or-later`, its absence `-only`,
    whichever of scancode's rules matched more of the boilerplate around it. Only for a
    notice (a short text) of one GNU license and version: a full license text quotes the
    "any later version" notice in its appendix."""
    if len(text) > VARIANT_CHARS:
        return weight, notice
    gnu = {k: _GNU_KEY.match(k) for k in weight}
    versions = {(m.group(1), m.group(2)) for m in gnu.values() if m}
    # unversioned mentions ("the GNU General Public License for more details", also in LGPL
    # notices) are one_notice's to drop, not a second version
    versions.discard(("gpl", "1.0"))
    if any(f == "lgpl" and v != "2.0" for f, v in versions):
        versions.discard(("lgpl", "2.0"))
    if len(versions) != 1:
        return weight, notice
    family, version = versions.pop()
    gnu = {
        k: m is not None and (m.group(1), m.group(2)) == (family, version) for k, m in gnu.items()
    }
    later = _OR_LATER.search(text) is not None and _NOT_LATER.search(text) is None
    chosen = f"{family}-{version}{'-plus' if later else ''}"
    merged_weight: dict[str, int] = {}
    merged_notice: dict[str, int] = {}
    for key, value in weight.items():
        target = chosen if gnu[key] else key
        merged_weight[target] = merged_weight.get(target, 0) + value
        if key in notice:
            merged_notice[target] = max(merged_notice.get(target, 0), notice[key])
    return merged_weight, merged_notice


def one_notice(keys: list[str]) -> list[str]:
    """A GNU notice states one license: `F-v-plus` ("or later") subsumes `F-v` matched on a
    part of it, and an unversioned mention (`gpl-1.0-plus`, the "for more details" boilerplate,
    also inside LGPL notices) yields to a versioned GNU license."""
    gnu = {}
    for key in keys:
        m = _GNU_KEY.match(key)
        if m:
            gnu[key] = (m.group(1), m.group(2), bool(m.group(3)))
    drop = set()
    for key, (family, version, plus) in gnu.items():
        if not plus and f"{family}-{version}-plus" in gnu:
            drop.add(key)
        if family == "gpl" and version == "1.0" and plus:  # "the GNU GPL", no version
            if any(k != key for k in gnu):  # any versioned GNU license states the notice
                drop.add(key)
        elif (
            family == "lgpl"
            and version == "2.0"
            and plus
            and any(f == "lgpl" and v != version for f, v, _ in gnu.values())
        ):
            drop.add(key)
    return [k for k in keys if k not in drop]


class Detector:
    """scancode detection with an in-memory (and optionally persistent) cache by text hash."""

    def __init__(self, cache_path: Path | None = None):
        from licensedcode.cache import build_spdx_license_expression, get_index

        self.index = get_index()
        self._to_spdx = build_spdx_license_expression
        self.cache: dict[str, str | None] = {}
        self.cache_path = cache_path
        self.hits = 0
        self.misses = 0
        if cache_path is not None and cache_path.exists():
            for line in cache_path.read_bytes().splitlines():
                if line.strip():
                    entry = orjson.loads(line)
                    self.cache[entry["sha256"]] = entry["expression"]
        self._new: dict[str, str | None] = {}

    def detect(self, text: str) -> str | None:
        # the combination rules' version is part of the key: a cache written under older rules
        # is not read as today's answer
        digest = hashlib.sha256(COMBINE_VERSION + text.encode("utf-8", "surrogatepass")).hexdigest()
        if digest in self.cache:
            self.hits += 1
            return self.cache[digest]
        self.misses += 1
        expression = self._scan(text)
        self.cache[digest] = expression
        self._new[digest] = expression
        return expression

    def _scan(self, text: str) -> str | None:
        matches = self.index.match(query_string=text, approximate=False)
        weight, notice = self._weigh(matches)
        if self._reworded(text, matches, weight):
            # a permissive license text reworded (names in place of "the copyright holder", a
            # clause added): exact matching finds no rule whole, or only a near-identical
            # variant's part; approximate matching (~0.2 s) is spent only on such short texts,
            # must cover most of a rule, and wins when it reads more of the text
            approximate = self.index.match(query_string=text, approximate=True)
            found = self._weigh(m for m in approximate if m.coverage() >= VARIANT_COVERAGE)
            if sum(found[0].values()) > sum(weight.values()):
                weight, notice = found
        if not weight:
            return None
        weight, notice = _version_choice_stated(weight, notice, text)
        # A license text that mentions others in passing (CPython's LICENSE names the GPL in
        # its history table) is that license: keep what covers at least a quarter of the top
        # one, plus any full notice (a header of 20+ words) — a file under two licenses has both.
        top = max(weight.values())
        keys = [k for k, w in weight.items() if w * 4 >= top or notice.get(k, 0) >= 20]
        keys = alternatives_stated(one_notice(keys))
        combined = keys[0] if len(keys) == 1 else " AND ".join(f"({k})" for k in keys)
        try:
            return self._to_spdx(combined)
        except Exception:  # an expression scancode itself cannot render: treat as no answer
            return None

    @staticmethod
    def _reworded(text: str, matches: list, weight: dict[str, int]) -> bool:
        """A short permissive license text that exact matching leaves mostly unread."""
        if len(text) > VARIANT_CHARS or not VARIANT_MARKERS.search(text):
            return False
        if not weight:
            return True
        tokens = len(matches[0].query.tokens)
        if sum(m.len() for m in matches) >= VARIANT_PARTIAL * tokens:
            return False
        read = {n for m in matches for n in range(m.start_line, m.end_line + 1)}
        lines = text.splitlines()
        return any(_LICENSE_TERMS.search(x) for n, x in enumerate(lines, 1) if n not in read)

    @staticmethod
    def _weigh(matches) -> tuple[dict[str, int], dict[str, int]]:
        """Matched tokens per expression, and the longest notice or tag per expression."""
        weight: dict[str, int] = {}
        notice: dict[str, int] = {}
        for match in matches:
            rule = match.rule
            expression = rule.license_expression
            if expression and expression not in VAGUE:
                weight[expression] = weight.get(expression, 0) + match.len()
                if rule.is_license_notice or rule.is_license_tag:
                    notice[expression] = max(notice.get(expression, 0), match.len())
        return weight, notice

    def save(self) -> None:
        """Append this run's new results to the persistent cache."""
        if self.cache_path is None or not self._new:
            return
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.cache_path, "ab") as fh:
            for digest, expression in sorted(self._new.items()):
                fh.write(orjson.dumps({"sha256": digest, "expression": expression}) + b"\n")
        self._new.clear()
