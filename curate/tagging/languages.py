"""Language of a source file from its path: well-known names, extensions (longest suffix
first), content patterns for shared extensions, and `#!` lines for files without one.

The table is data (`rules/languages.yaml`); this module only applies it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from curate.errors import ConfigError
from curate.rules_path import shipped_rules
from curate.yamlconf import load_yaml

SNIFF_CHARS = 65536
_SHEBANG = re.compile(r"^#!\s*(\S+)(?:[ \t]+(\S+))?")


@dataclass
class LanguageTable:
    types: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, str] = field(default_factory=dict)
    by_name_lower: dict[str, str] = field(default_factory=dict)
    by_ext: dict[str, list[str]] = field(default_factory=dict)
    by_interp: dict[str, str] = field(default_factory=dict)
    rules: dict[str, tuple[str, list[tuple[str, re.Pattern]]]] = field(default_factory=dict)

    def detect(self, path: str | None, text: str | None = None) -> str | None:
        """The language of a file, or None when nothing identifies one."""
        if path:
            base = path.rsplit("/", 1)[-1]
            hit = self.by_name.get(base) or self.by_name_lower.get(base.lower())
            if hit is not None:
                return hit
            lowered = base.lower()
            dot = lowered.find(".", 1)  # a leading dot is a hidden file, not an extension
            while dot > 0:
                ext = lowered[dot + 1 :]
                candidates = self.by_ext.get(ext)
                if candidates is not None:
                    if len(candidates) == 1:
                        return candidates[0]
                    return self._disambiguate(ext, candidates, text)
                dot = lowered.find(".", dot + 1)
        if text and text.startswith("#!"):
            return self.from_shebang(text)
        return None

    def _disambiguate(self, ext: str, candidates: list[str], text: str | None) -> str:
        rule = self.rules.get(ext)
        if rule is None:
            return candidates[0]
        default, patterns = rule
        if text:
            sample = text[:SNIFF_CHARS]
            for language, pattern in patterns:
                if pattern.search(sample):
                    return language
        return default

    def from_shebang(self, text: str) -> str | None:
        match = _SHEBANG.match(text)
        if not match:
            return None
        program = match.group(1).rsplit("/", 1)[-1]
        if program == "env" and match.group(2):
            program = match.group(2)
            if program == "-S":  # `env -S interp args`
                rest = text[match.end(2) :].split()
                program = rest[0] if rest else ""
        for name in (program, program.rstrip("0123456789."), re.sub(r"[\d.]+$", "", program)):
            hit = self.by_interp.get(name)
            if hit is not None:
                return hit
        return None

    def type_of(self, language: str | None) -> str | None:
        return self.types.get(language) if language else None


def load_languages(path: Path | None = None) -> LanguageTable:
    """Parse and check the table; errors name file, line and key."""
    path = path or shipped_rules("languages.yaml")
    return _load(str(path))


@lru_cache(maxsize=8)
def _load(path_text: str) -> LanguageTable:
    path = Path(path_text)
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise doc.error((), "expected a mapping of language names")
    table = LanguageTable()
    rules = doc.data.get("disambiguate") or {}
    for name, spec in doc.data.items():
        if name == "disambiguate":
            continue
        if not isinstance(spec, dict):
            raise doc.error((name,), "expected {type, ext, names, interp}")
        unknown = set(spec) - {"type", "ext", "names", "interp"}
        if unknown:
            raise doc.error(
                (name, sorted(unknown)[0]), "unknown key (keys: type, ext, names, interp)"
            )
        kind = spec.get("type")
        if kind not in ("programming", "markup", "data", "prose"):
            raise doc.error((name, "type"), "expected one of programming, markup, data, prose")
        table.types[name] = kind
        for key in ("ext", "names", "interp"):
            values = spec.get(key, [])
            if not isinstance(values, list) or not all(isinstance(v, (str, int)) for v in values):
                raise doc.error((name, key), "expected a list of strings")
        for ext in spec.get("ext", []):
            table.by_ext.setdefault(str(ext).lower(), []).append(name)
        for file_name in spec.get("names", []):
            table.by_name.setdefault(str(file_name), name)
            table.by_name_lower.setdefault(str(file_name).lower(), name)
        for interp in spec.get("interp", []):
            table.by_interp.setdefault(str(interp), name)
    for ext, rule in rules.items():
        loc = ("disambiguate", ext)
        if not isinstance(rule, list) or not rule or rule[0] not in table.types:
            raise doc.error(loc, "expected [default language, [language, regex], ...]")
        patterns = []
        for i, item in enumerate(rule[1:], 1):
            if (
                not isinstance(item, list)
                or len(item) != 2
                or item[0] not in table.types
                or not isinstance(item[1], str)
            ):
                raise doc.error(loc + (i,), "expected [known language, regex]")
            try:
                patterns.append((item[0], re.compile(item[1], re.M)))
            except re.error as exc:
                raise doc.error(loc + (i,), f"invalid regex: {exc}") from None
        table.rules[str(ext).lower()] = (rule[0], patterns)
    if not table.types:
        raise ConfigError(f"{path}: no languages")
    return table
