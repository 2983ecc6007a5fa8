"""The shipped pipeline's throughput as a share of the `curate cat` floor, on the scale corpus.

`curate cat FILES > /dev/null` (decompress, parse, check and write back every record) is the
floor any curate job pays; the shipped pipeline is `pipeline.yaml`'s stages (filter, optout,
tag, redact, exact and near dedup; no scancode content detection) as `curate run` with 2
workers, writing the dataset. Same run, same corpus (benchmarks/scale.py builds it).

    python benchmarks/pipeline_share.py [--records 1000000] [--checkout DIR]

`--checkout DIR` runs another checkout of curate (e.g. `git worktree add DIR <commit>`) with
this venv's packages: the "before" of a change, measured in the same run as the "after".
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from _tree import run_tree
from scale import PIPELINE_STAGES, build


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--checkout", action="append", default=[], help="also time this checkout")
    args = ap.parse_args()
    root = Path(__file__).resolve().parent.parent
    paths = build(args.records)
    work = Path(tempfile.mkdtemp(prefix="curate-share-"))
    yaml = work / "pipeline.yaml"
    yaml.write_text(
        f"name: share\nversion: '1'\ninputs: [{', '.join(map(str, paths))}]\n"
        f"stages:\n{PIPELINE_STAGES.replace('%(root)s', str(root))}"
        f"output: {{dir: {work / 'out'}}}\n"
        f"executor: {{type: local, workers: {args.workers}}}\n"
    )
    python = sys.executable
    print(f"corpus: {args.records:,} records; pipeline: curate run, {args.workers} workers")
    print("| code | `curate cat` floor | pipeline run | records/s | share of `cat` |")
    print("|---|---:|---:|---:|---:|")
    try:
        for checkout in [str(root), *args.checkout]:
            env = dict(os.environ, PYTHONPATH=checkout)
            cat = run_tree(
                ["sh", "-c", f"{python} -m curate cat {' '.join(map(str, paths))} > /dev/null"],
                env=env,
            )
            shutil.rmtree(work / "out", ignore_errors=True)
            run = run_tree([python, "-m", "curate", "run", "-q", str(yaml)], env=env)
            share = cat.seconds / run.seconds
            print(
                f"| {checkout} | {cat.seconds:.1f} s | {run.seconds:.1f} s "
                f"| {args.records / run.seconds:,.0f} | **{share:.3f}** |",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
