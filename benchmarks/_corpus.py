"""Shared benchmark inputs, built from real text on this machine (standard-library sources).

Deterministic for a given Python installation, cached under benchmarks/.data/.
"""

from __future__ import annotations

import random
import sysconfig
from pathlib import Path

import orjson
import zstandard

DATA = Path(__file__).resolve().parent / ".data"
STDLIB = Path(sysconfig.get_paths()["stdlib"])


def stdlib_texts(max_bytes: int = 200_000) -> list[tuple[str, str]]:
    out = []
    for path in sorted(STDLIB.rglob("*.py")):
        if "site-packages" in path.parts:
            continue
        try:
            text = path.read_text("utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if 0 < len(text) <= max_bytes:
            out.append((path.relative_to(STDLIB).as_posix(), text))
    return out


def big_corpus(target_mb: int = 220, doc_chars: int = 2000, seed: int = 7) -> Path:
    """A zstd JSON-lines file of >= target_mb uncompressed: ~2 KB slices of stdlib sources."""
    DATA.mkdir(exist_ok=True)
    path = DATA / f"corpus-{target_mb}mb.jsonl.zst"
    if path.exists():
        return path
    rng = random.Random(seed)
    texts = stdlib_texts()
    cctx = zstandard.ZstdCompressor(level=3)
    written = 0
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh, cctx.stream_writer(fh) as zw:
        i = 0
        while written < target_mb * 10**6:
            name, text = texts[rng.randrange(len(texts))]
            start = rng.randrange(max(1, len(text) - doc_chars))
            rec = {
                "id": f"doc-{i:08d}",
                "text": text[start : start + doc_chars],
                "meta": {"path": name, "repo": f"repo-{i % 997}", "source": "stdlib"},
            }
            line = orjson.dumps(rec) + b"\n"
            zw.write(line)
            written += len(line)
            i += 1
    tmp.rename(path)
    return path
