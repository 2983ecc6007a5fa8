"""The license a package manifest declares: package.json, composer.json, bower.json,
Cargo.toml, pyproject.toml (PEP 621/639 and Poetry) and setup.cfg.

A manifest is its own file's license, and, when a repository's LICENSE files give none (no
text, only "see package.json", a text no rule reads), the repository's: the manifest beside
the LICENSE file says what the package is under.
"""

from __future__ import annotations

import configparser
import re
from pathlib import PurePosixPath

import orjson

from curate.licenses.sources import spdx_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

JSON_MANIFESTS = frozenset({"package.json", "composer.json", "bower.json"})
TOML_MANIFESTS = frozenset({"Cargo.toml", "pyproject.toml"})
MANIFESTS = JSON_MANIFESTS | TOML_MANIFESTS | {"setup.cfg"}
_SLASH = re.compile(r"\s*/\s*")  # Cargo's old "MIT/Apache-2.0" form: a choice


def is_manifest(path: str) -> bool:
    return PurePosixPath(path).name in MANIFESTS


def manifest_license(path: str, text: str) -> str | None:
    """The SPDX expression the manifest at `path` declares, or None (no license field, a
    file reference, a name that is no SPDX license, or a manifest that does not parse)."""
    name = PurePosixPath(path).name
    try:
        if name in JSON_MANIFESTS:
            values = _json_values(orjson.loads(text))
        elif name in TOML_MANIFESTS:
            values = _toml_values(tomllib.loads(text))
        elif name == "setup.cfg":
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string(text)
            values = [parser.get("metadata", "license", fallback=None)]
        else:
            return None
    except (orjson.JSONDecodeError, tomllib.TOMLDecodeError, configparser.Error, ValueError):
        return None
    found = [_spdx(v) for v in values if isinstance(v, str) and v.strip()]
    found = [f for f in found if f]
    if not found:
        return None
    unique = list(dict.fromkeys(found))
    if len(unique) == 1:
        return unique[0]
    return " OR ".join(f"({e})" if " " in e else e for e in unique)  # a list offers a choice


def _spdx(value: str) -> str | None:
    return spdx_name(_SLASH.sub(" OR ", value.strip()))


def _json_values(data: object) -> list:
    if not isinstance(data, dict):
        return []
    license_ = data.get("license")
    if isinstance(license_, str):
        return [license_]
    if isinstance(license_, dict):  # npm's old {"type": "MIT", "url": ...}
        return [license_.get("type")]
    if isinstance(license_, list):  # composer: a list is a choice
        return license_
    licenses = data.get("licenses")  # npm's old [{"type": ...}, ...]
    if isinstance(licenses, list):
        return [item.get("type") if isinstance(item, dict) else item for item in licenses]
    return []


def _toml_values(data: dict) -> list:
    for table in (
        data.get("package"),  # Cargo
        data.get("project"),  # PEP 621 / 639
        (data.get("tool") or {}).get("poetry"),
    ):
        if not isinstance(table, dict) or "license" not in table:
            continue
        license_ = table["license"]
        if isinstance(license_, dict):  # PEP 621 {text = "MIT"} ({file = ...} names no license)
            license_ = license_.get("text")
        return [license_]
    return []
