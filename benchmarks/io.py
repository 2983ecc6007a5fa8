"""`curate cat` of a >= 200 MB zstd file to /dev/null vs a minimal zstandard + orjson read loop.

Target (issue 2): curate reaches >= 70% of the loop's MB/s. Both run as separate processes (so
both pay interpreter start-up), alternating, best of N, so machine noise hits both alike.

    python benchmarks/io.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import zstandard
from _corpus import big_corpus

BASELINE = """
import io, sys, orjson, zstandard
with open(sys.argv[1], "rb") as fh:
    reader = zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)
    for line in io.BufferedReader(reader, buffer_size=1 << 20):
        orjson.loads(line)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    path = big_corpus()
    with open(path, "rb") as fh:
        reader = zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)
        mb = sum(iter(lambda: len(reader.read(1 << 20)), 0)) / 1e6
    best_base = best_cat = float("inf")
    for _ in range(args.repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", BASELINE, str(path)], check=True)
        best_base = min(best_base, time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run(["curate", "cat", str(path)], stdout=subprocess.DEVNULL, check=True)
        best_cat = min(best_cat, time.perf_counter() - t)
    print(f"input: {path.name}, {mb:.0f} MB uncompressed")
    print(f"baseline loop (zstandard + orjson.loads per line): {mb / best_base:7.1f} MB/s")
    print(f"curate cat > /dev/null:                             {mb / best_cat:7.1f} MB/s")
    print(f"ratio: {best_base / best_cat:.2f} (target >= 0.70)")
    sys.exit(0)


if __name__ == "__main__":
    main()
