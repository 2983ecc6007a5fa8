"""Memory budgets: `2GB`, `512MiB`, or a share of this machine's RAM (`25%`)."""

from __future__ import annotations

import os

from curate.io.writer import parse_size

DEFAULT_MEMORY = "25%"


def total_ram() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def parse_memory(text: str | int) -> int:
    if isinstance(text, str) and text.strip().endswith("%"):
        share = float(text.strip()[:-1])
        if not 0 < share <= 100:
            raise ValueError(f"invalid memory share {text!r} (expected 1% to 100%)")
        return int(total_ram() * share / 100)
    return parse_size(text)
