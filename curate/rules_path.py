"""Where the shipped rule files live: `rules/` of the source tree, or `share/curate/rules`
of the environment for a regular (non-editable) install."""

from __future__ import annotations

import sys
from pathlib import Path

from curate.errors import ConfigError


def shipped_rules(name: str) -> Path:
    for folder in (
        Path(__file__).resolve().parent.parent / "rules",
        Path(sys.prefix) / "share" / "curate" / "rules",
    ):
        if (folder / name).is_file():
            return folder / name
    raise ConfigError(f"shipped rules file {name!r} not found (is curate installed?)")
