"""Where the shipped rule files live: `rules/` of the source tree, or `share/curate/rules`
of the environment for a regular (non-editable) install."""

from __future__ import annotations

import sys
from pathlib import Path

from curate.core.errors import ConfigError

SHIPPED_PREFIX = "curate:rules/"


def _folders() -> tuple[Path, ...]:
    return (
        Path(__file__).resolve().parents[2] / "rules",
        Path(sys.prefix) / "share" / "curate" / "rules",
    )


def shipped_name(path: str | Path) -> str | None:
    """`curate:rules/pii.yaml` for a shipped rules file, wherever curate is installed (so a
    manifest does not depend on where the project sits), else None."""
    try:
        real = Path(path).resolve()
    except OSError:
        return None
    for folder in _folders():
        if real.parent == folder.resolve():
            return SHIPPED_PREFIX + real.name
    return None


def shipped_rules(name: str) -> Path:
    for folder in _folders():
        if (folder / name).is_file():
            return folder / name
    raise ConfigError(f"shipped rules file {name!r} not found (is curate installed?)")
