"""Tagging with the shipped rules vs `curate cat` on the same 220 MB input, for two inputs:
~2 KB slices of standard-library sources (all Python, ~1,800 distinct paths), and slices of
every kind of text file on the machine with unique real paths (headers, configs, docs, data,
files without an extension). Target (issue 5): tagging costs at most 15% over cat.

    python benchmarks/tag.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from _corpus import big_corpus, mixed_corpus
from _measure import measure


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    curate = shutil.which("curate") or str(Path(sys.executable).parent / "curate")
    empty = min(
        measure(["sh", "-c", f"{curate} tag < /dev/null > /dev/null"])[0]
        for _ in range(args.repeat)
    )
    empty_cat = min(
        measure(["sh", "-c", f"{curate} cat < /dev/null > /dev/null"])[0]
        for _ in range(args.repeat)
    )
    print(f"start-up: cat {empty_cat:.2f} s, tag {empty:.2f} s")
    for label, corpus in (("stdlib", big_corpus()), ("mixed", mixed_corpus())):
        cat = tag = float("inf")
        for _ in range(args.repeat):
            cat = min(cat, measure(["sh", "-c", f"{curate} cat {corpus} > /dev/null"])[0])
            tag = min(tag, measure(["sh", "-c", f"{curate} tag {corpus} > /dev/null"])[0])
        steady = (tag - empty) / (cat - empty_cat) - 1
        print(
            f"{label}: curate cat {cat:.2f} s, curate tag {tag:.2f} s, overhead "
            f"{100 * (tag / cat - 1):.0f}% (start-up excluded: {100 * steady:.0f}%; target <= 15%)"
        )


if __name__ == "__main__":
    main()
