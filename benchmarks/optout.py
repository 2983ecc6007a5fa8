"""Opt-out with a 1M-entry registry: load time and peak memory, and records/s against
`curate cat` on the same input. Targets (issue 10): < 10 s to load, < 1 GB, >= 80% of cat.

    python benchmarks/optout.py [--entries 1000000]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from pathlib import Path

import orjson
from _corpus import DATA, big_corpus
from _measure import measure

LOAD = r"""
import sys, time
t = time.perf_counter()
from curate.stages.optout import OptoutConfig, OptoutStage
stage = OptoutStage(OptoutConfig(registry=sys.argv[1]))
print(f"{time.perf_counter() - t:.2f}", file=sys.stderr)
"""


RATE = r"""
import gc, sys, time
from curate.stages.optout import OptoutConfig, OptoutStage
from curate.io.reader import read_batches
from curate.io.policy import ErrorPolicy
from curate.io.sources import Source
from curate.stages.base import Context, StageStats
gc.freeze(); gc.set_threshold(100_000, 50, 1000)
corpus = sys.argv[3]
def run(stage):
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for b in read_batches([Source(corpus, corpus)], ErrorPolicy()):
            if stage is not None:
                b = stage.process(b, Context(ErrorPolicy()), StageStats())
            sys.stdout.buffer  # same work as cat: serialise
            b.to_bytes()
        best = min(best, time.perf_counter() - t)
    return best
cat = run(None)
for label, path in (("full registry", sys.argv[1]), ("without sha256 entries", sys.argv[2])):
    stage = OptoutStage(OptoutConfig(registry=path))
    s = run(stage)
    print(f"optout, {label}: {cat / s:.2f} of cat's throughput ({s:.2f} s vs {cat:.2f} s)")
"""


def build_registry(entries: int, seed: int = 5) -> Path:
    path = DATA / f"registry-{entries}.jsonl"
    if path.exists():
        return path
    rng = random.Random(seed)
    kinds = ["repo"] * 6 + ["owner", "url_prefix", "path_glob", "email", "sha256"]
    lines = []
    for i in range(entries):
        kind = rng.choice(kinds)
        value = {
            "repo": f"user{i}/project{rng.randrange(10**6)}",
            "owner": f"org{i}",
            "url_prefix": f"https://site{i % 5000}.example/{i}/",
            "path_glob": f"user{i}/repo:secret/**",
            "email": f"person{i}@mail{i % 100}.example",
            "sha256": f"{rng.getrandbits(256):064x}",
        }[kind]
        lines.append(
            orjson.dumps({"kind": kind, "value": value, "added": "2026-11-01", "ref": f"R{i}"})
        )
    lines.sort()
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1_000_000)
    args = ap.parse_args()
    registry = build_registry(args.entries)
    corpus = big_corpus()
    no_sha = registry.with_name(registry.stem + "-nosha.jsonl")
    if not no_sha.exists():
        no_sha.write_bytes(
            b"".join(
                line + b"\n"
                for line in registry.read_bytes().splitlines()
                if b'"sha256"' not in line
            )
        )
    load_s, load_rss = measure([sys.executable, "-c", LOAD, str(registry)])
    print(f"registry: {args.entries:,} entries ({registry.stat().st_size / 1e6:.0f} MB)")
    print(f"load (process start + parse + index): {load_s:.2f} s, peak RSS {load_rss:.0f} MB")
    # throughput of the stage itself, the load excluded: in-process, same input
    rates = subprocess.run(
        [sys.executable, "-c", RATE, str(registry), str(no_sha), str(corpus)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    print(rates, end="")


if __name__ == "__main__":
    main()
