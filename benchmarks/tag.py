"""Tagging with the shipped rules vs `curate cat` on the same 220 MB input.
Target (issue 5): tagging costs at most 15% over cat.

    python benchmarks/tag.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from _corpus import big_corpus
from _measure import measure


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    corpus = big_corpus()
    curate = shutil.which("curate") or str(Path(sys.executable).parent / "curate")
    cat = tag = float("inf")
    for _ in range(args.repeat):
        cat = min(cat, measure(["sh", "-c", f"{curate} cat {corpus} > /dev/null"])[0])
        tag = min(tag, measure(["sh", "-c", f"{curate} tag {corpus} > /dev/null"])[0])
    print(
        f"curate cat: {cat:.2f} s   curate tag: {tag:.2f} s   overhead: {100 * (tag / cat - 1):.0f}% "
        "(target <= 15%)"
    )


if __name__ == "__main__":
    main()
