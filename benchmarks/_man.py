"""Man pages as text: the paragraphs of a roff source, for benchmark sets built from the
machine's (translated and English) manuals."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

MAN = Path("/usr/share/man")
ROFF_ESCAPE = re.compile(r"\\(f[BIRPC]|f\(..|f\[[^\]]*\]|\(..|\[[^\]]*\]|[-&|^e]|\*\(..|\*.)")


def strip_roff(text: str) -> list[str]:
    """Paragraphs of a man page's text: requests dropped (their text arguments kept for
    .B/.I), escapes removed."""
    out: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith((".", "'")):
            request, _, rest = line[1:].partition(" ")
            if request in ("PP", "LP", "P", "SH", "SS", "TP", "IP", "sp", "br") and current:
                out.append(" ".join(current))
                current = []
            if request in ("B", "I", "BI", "BR", "IR", "RB", "RI", "IB", "SH", "SS"):
                current.append(rest.replace('"', ""))
            continue
        current.append(line)
    if current:
        out.append(" ".join(current))
    cleaned = (ROFF_ESCAPE.sub("", p).replace("\\", "") for p in out)
    return [re.sub(r"\s+", " ", p).strip() for p in cleaned if p.strip()]


def english_paragraphs() -> Iterator[tuple[str, str]]:
    """(page, paragraph) of every English man page on the machine, in path order."""
    for page in sorted(MAN.glob("man*/*.gz")):
        try:
            text = gzip.decompress(page.read_bytes()).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for paragraph in strip_roff(text):
            yield page.name, paragraph
