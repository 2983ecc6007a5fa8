"""What `redact` replaces in real text it was not written from: the machine's documentation,
configuration and package files (nothing planted), for a hand-check of each kind's precision.

Files: READMEs, changelogs and copyright files under /usr/share/doc, configuration under /etc,
English man pages (as text), and the text files of installed Python and npm packages (docs,
metadata, manifests, configs), at most 256 KB each, in path order, up to --mb megabytes.

Reported: files and megabytes scanned, replacements by kind, and (with --sample N) N random
replacements of each kind with their line, written to benchmarks/.data/redact_real.txt for a
person to label (a real address, key or password; or a look-alike destroyed).

    python benchmarks/redact_real.py [--mb 40] [--sample 25]
"""

from __future__ import annotations

import argparse
import gzip
import random
import sysconfig
import time
from collections import Counter, defaultdict
from pathlib import Path

from _man import strip_roff

from curate.stages import configure, get_stage_class

DATA = Path(__file__).parent / ".data"
TEXT_SUFFIXES = {
    ".md", ".rst", ".txt", ".cfg", ".conf", ".ini", ".toml", ".yaml", ".yml", ".json",
    ".properties", ".env", ".xml", ".html", ".py", ".js", ".sh",
}  # fmt: skip
LIMIT = 256 * 1024


def files(mb: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    budget = mb * 1_000_000

    def take(path: Path, text: str) -> bool:
        nonlocal budget
        if not text.strip():
            return budget > 0
        out.append((str(path), text))
        budget -= len(text)
        return budget > 0

    groups: list[list[Path]] = [
        sorted(Path("/usr/share/doc").glob("*/README*"))
        + sorted(Path("/usr/share/doc").glob("*/copyright"))
        + sorted(Path("/usr/share/doc").glob("*/changelog*")),
        sorted(p for p in Path("/etc").rglob("*") if p.suffix in TEXT_SUFFIXES),
        sorted(Path("/usr/share/man").glob("man*/*.gz")),
        sorted(
            p
            for root in {sysconfig.get_paths()["purelib"], "/usr/lib/node_modules"}
            for p in Path(root).rglob("*")
            if p.suffix in TEXT_SUFFIXES - {".py", ".js"} or p.name == "METADATA"
        ),
    ]
    share = budget // len(groups)
    for group in groups:
        budget_before = budget
        for path in group:
            try:
                if not path.is_file() or path.stat().st_size > LIMIT:
                    continue
                raw = path.read_bytes()
                if path.suffix == ".gz":
                    raw = gzip.decompress(raw)
                    text = "\n".join(strip_roff(raw.decode("utf-8")))
                else:
                    text = raw.decode("utf-8")
            except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
                continue
            if not take(path, text) or budget_before - budget >= share:
                break
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=40)
    ap.add_argument("--sample", type=int, default=25)
    args = ap.parse_args()
    corpus = files(args.mb)
    stage = get_stage_class("redact")(configure("redact", {}))
    found: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    started = time.perf_counter()
    for path, text in corpus:
        for span in stage.scanner.scan(text, path):
            value = text[span.start : span.end]
            if stage._kept(span.kind, value):
                continue
            line_start = text.rfind("\n", 0, span.start) + 1
            line_end = text.find("\n", span.end)
            line = text[line_start : line_end if line_end != -1 else len(text)]
            found[span.kind].append((path, value, line.strip()[:200]))
    seconds = time.perf_counter() - started
    size = sum(len(t) for _, t in corpus)
    print(f"{len(corpus):,} files, {size / 1e6:.1f} MB, {size / 1e6 / seconds:.1f} MB/s")
    counts = Counter({k: len(v) for k, v in found.items()})
    print("replacements:", ", ".join(f"{k} {n:,}" for k, n in counts.most_common()))
    rng = random.Random(3)
    DATA.mkdir(exist_ok=True)
    with open(DATA / "redact_real.txt", "w") as fh:
        for kind, items in sorted(found.items()):
            for path, value, line in rng.sample(items, min(args.sample, len(items))):
                fh.write(f"{kind}\t{value!r}\t{path}\t{line!r}\n")
    print(f"samples: {DATA / 'redact_real.txt'}")


if __name__ == "__main__":
    main()
