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
    path = DATA / f"corpus-{target_mb}mb.jsonl.zst"
    texts = stdlib_texts() if not path.exists() else []

    def record(i: int, rng: random.Random) -> dict:
        name, text = texts[rng.randrange(len(texts))]
        start = rng.randrange(max(1, len(text) - doc_chars))
        return {
            "id": f"doc-{i:08d}",
            "text": text[start : start + doc_chars],
            "meta": {"path": name, "repo": f"repo-{i % 997}", "source": "stdlib"},
        }

    return _write_corpus(path, target_mb, seed, record)


def _write_corpus(path: Path, target_mb: int, seed: int, record) -> Path:
    """Write records from `record(i, rng)` until target_mb uncompressed (cached: built once)."""
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    rng = random.Random(seed)
    cctx = zstandard.ZstdCompressor(level=3)
    written = 0
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh, cctx.stream_writer(fh) as zw:
        i = 0
        while written < target_mb * 10**6:
            line = orjson.dumps(record(i, rng)) + b"\n"
            zw.write(line)
            written += len(line)
            i += 1
    tmp.rename(path)
    return path


def machine_text_files(per_kind: int = 2500, seed: int = 11) -> list[tuple[str, str]]:
    """Real text files on this machine (headers, sources, configs, docs, data...), with their
    real paths: at most `per_kind` files per extension, so no one kind dominates."""
    rng = random.Random(seed)
    by_kind: dict[str, list[Path]] = {}
    for root in (
        "/usr/include",
        "/usr/share",
        "/usr/lib",
        "/etc",
        sysconfig.get_paths()["purelib"],
    ):
        for path in sorted(Path(root).rglob("*")):
            try:
                if (
                    path.is_symlink()
                    or not path.is_file()
                    or not 200 <= path.stat().st_size <= 10**6
                ):
                    continue
            except OSError:
                continue
            name = path.name
            kind = name.rsplit(".", 1)[-1] if "." in name[1:] else name
            by_kind.setdefault(kind, []).append(path)
    out = []
    for kind in sorted(by_kind):
        paths = by_kind[kind]
        rng.shuffle(paths)
        for path in paths[:per_kind]:
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if b"\0" in data[:4096]:
                continue
            try:
                out.append((path.as_posix().lstrip("/"), data.decode("utf-8")))
            except UnicodeDecodeError:
                continue
    return out


def mixed_corpus(target_mb: int = 220, doc_chars: int = 2000, seed: int = 7) -> Path:
    """Like big_corpus, but from every kind of text file on the machine, with real paths made
    unique per record (`repo-N/...`): what a tagger sees in a code corpus."""
    path = DATA / f"mixed-{target_mb}mb.jsonl.zst"
    files = machine_text_files() if not path.exists() else []

    def record(i: int, rng: random.Random) -> dict:
        name, text = files[rng.randrange(len(files))]
        start = rng.randrange(max(1, len(text) - doc_chars)) if rng.random() < 0.7 else 0
        return {
            "id": f"doc-{i:08d}",
            "text": text[start : start + doc_chars],
            "meta": {"path": f"repo-{i}/{name}", "repo": f"repo-{i % 997}"},
        }

    return _write_corpus(path, target_mb, seed, record)
