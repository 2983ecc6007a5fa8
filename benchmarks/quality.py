"""The quality stage's speed as a share of `curate cat`, per preset, on the 220 MB corpora of
benchmarks/_corpus.py (standard-library slices; every kind of text file on the machine).

    python benchmarks/quality.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import zstandard
from _corpus import big_corpus, mixed_corpus
from _measure import measure

RUNS = {
    "gopher": "--preset gopher",
    "c4": "--preset c4",
    "code": "--preset code",
    "all measures, no drop": "--measures all --no-drop",
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    exe = shutil.which("curate") or str(Path(sys.executable).parent / "curate")
    for label, corpus in (("stdlib", big_corpus()), ("mixed", mixed_corpus())):
        data = zstandard.ZstdDecompressor().stream_reader(corpus.open("rb")).read()
        records, mb = data.count(b"\n"), len(data) / 1e6
        del data
        best = dict.fromkeys(["cat", *RUNS], float("inf"))
        for _ in range(args.repeat):
            best["cat"] = min(
                best["cat"], measure(["sh", "-c", f"{exe} cat {corpus} > /dev/null"])[0]
            )
            for name, options in RUNS.items():
                command = f"{exe} quality {options} {corpus} > /dev/null"
                best[name] = min(best[name], measure(["sh", "-c", command])[0])
        print(f"{label}: {records:,} records, {mb:.0f} MB; cat {best['cat']:.2f} s")
        for name in RUNS:
            seconds = best[name]
            print(
                f"  {name:22s} {seconds:6.2f} s  {records / seconds:8,.0f} records/s  "
                f"{best['cat'] / seconds:.3f} of cat"
            )


if __name__ == "__main__":
    main()
