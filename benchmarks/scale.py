"""A run at scale: 1M records through `curate run` against the pipe, with memory per process.

Builds a corpus of `--records` records (default 1M, ~1.6 KB each) from real text files on this
machine: each original joins two to four line-aligned pieces of different files, so originals
rarely resemble each other; 10% of the records are exact copies of an earlier one and 8% near
copies (1-3% of the words edited). The corpus is written as 16 zstd files, as datasets ship.

Then, for exact dedup, near dedup and the shipped pipeline (`pipeline.yaml`'s stages), it runs
the pipe (`curate dedup exact|near FILES`, or the stages chained with `|`), the pipe ending in
`| curate write OUT` (what a run produces: zstd shards and a manifest), and `curate run`
with the default memory budget, and reports wall time, CPU %, peak RSS of the largest process
and summed over processes, peak RSS per record, records/s and the run/pipe ratio. It checks that
run and pipe keep the same records (ids, in order).

    python benchmarks/scale.py [--records 1000000] [--workers 2] [--only exact,near,pipeline]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
import zstandard
from _corpus import DATA, machine_text_files
from _tree import TreeUsage, run_tree

CURATE = [sys.executable, "-m", "curate"]
FILES = 16


def build(records: int, seed: int = 5) -> list[Path]:
    folder = DATA / f"scale-{records}"
    paths = [folder / f"part-{i:02d}.jsonl.zst" for i in range(FILES)]
    if all(p.exists() for p in paths):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    sources = [
        (name, text.splitlines(keepends=True))
        for name, text in machine_text_files()
        if len(text) >= 400
    ]
    vocab = sorted({w for _, lines in sources[:400] for ln in lines for w in ln.split()})

    def piece(chars: int) -> str:
        _, lines = sources[rng.randrange(len(sources))]
        start = rng.randrange(len(lines))
        out, size = [], 0
        for line in lines[start:]:
            out.append(line)
            size += len(line)
            if size >= chars:
                break
        return "".join(out)

    def edit(text: str) -> str:
        rate = rng.uniform(0.01, 0.03)
        words = text.split(" ")
        for _ in range(max(1, int(len(words) * rate))):
            words[rng.randrange(len(words))] = rng.choice(vocab)
        return " ".join(words)

    made: list[str] = []
    cctx = zstandard.ZstdCompressor(level=3)
    per_file = -(-records // FILES)
    for f, path in enumerate(paths):
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as fh, cctx.stream_writer(fh) as zw:
            for i in range(f * per_file, min(records, (f + 1) * per_file)):
                r = rng.random()
                if made and r < 0.10:
                    text = made[rng.randrange(len(made))]
                elif made and r < 0.18:
                    text = edit(made[rng.randrange(len(made))])
                else:
                    parts = rng.randint(2, 4)
                    text = "".join(piece(1600 // parts) for _ in range(parts))
                    if len(made) < 200_000:
                        made.append(text)
                    else:
                        made[rng.randrange(len(made))] = text
                rec = {"id": f"doc-{i:08d}", "text": text, "meta": {"repo": f"repo-{i % 4999}"}}
                zw.write(orjson.dumps(rec) + b"\n")
        tmp.rename(path)
    return paths


PIPELINE_STAGES = """\
  - filter: {min_chars: 20}
  - optout: {registry: %(root)s/fixtures/registry/optout.jsonl}
  - tag: {}
  - redact: {}
  - dedup_exact: {normalize: whitespace}
  - dedup_near: {threshold: 0.8}
"""
STAGES = {
    "exact": "  - dedup_exact: {}\n",
    "near": "  - dedup_near: {threshold: 0.8}\n",
    "pipeline": PIPELINE_STAGES,
}
PIPES = {
    "exact": "curate dedup exact {files}",
    "near": "curate dedup near --threshold 0.8 {files}",
    "pipeline": (
        "curate filter --min-chars 20 {files} "
        "| curate optout --registry %(root)s/fixtures/registry/optout.jsonl "
        "| curate tag | curate redact | curate dedup exact --normalize whitespace "
        "| curate dedup near --threshold 0.8"
    ),
}


def pipe_ids(cmd: str, env: dict) -> TreeUsage:
    return run_tree(["bash", "-o", "pipefail", "-c", cmd], env=env)


def ids_of_file(records: Path, out: Path, env: dict) -> None:
    subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"jq -r .id < {records} > {out}"], env=env, check=True
    )


def ids_of_run(folder: Path, out: Path, env: dict) -> None:
    shards = sorted(p for p in folder.rglob("part-*.jsonl.zst") if "rejects" not in p.parts)
    cmd = f"curate cat {' '.join(map(str, shards))} | jq -r .id > {out}"
    subprocess.run(["bash", "-o", "pipefail", "-c", cmd], env=env, check=True)


def row(name: str, u: TreeUsage, records: int) -> str:
    return (
        f"| {name} | {u.seconds:.1f} s | {u.cpu_percent:.0f}% | {u.peak_rss_mb:.0f} MB "
        f"| {u.sum_rss_mb:.0f} MB ({u.processes}) | {u.peak_rss_mb * 2**20 / records:.0f} B "
        f"| {records / u.seconds:,.0f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default="exact,near,pipeline")
    ap.add_argument("--keep", action="store_true", help="keep the run folders")
    args = ap.parse_args()
    root = Path(__file__).resolve().parent.parent
    paths = build(args.records)
    size = sum(p.stat().st_size for p in paths)
    print(f"corpus: {args.records:,} records in {FILES} files, {size / 1e6:.0f} MB zstd")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    files = " ".join(map(str, paths))
    work = Path(tempfile.mkdtemp(prefix="curate-scale-"))
    print(
        "| command | wall | CPU | peak RSS (largest) | peak RSS summed (processes) "
        "| largest per record | records/s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    try:
        for job in args.only.split(","):
            pipe = PIPES[job].replace("%(root)s", str(root)).format(files=files)
            yaml = work / f"{job}.yaml"
            out = work / f"out-{job}"
            yaml.write_text(
                f"name: scale-{job}\nversion: '1'\ninputs: [{', '.join(map(str, paths))}]\n"
                f"stages:\n{STAGES[job].replace('%(root)s', str(root))}"
                f"output: {{dir: {out}}}\n"
                f"executor: {{type: local, workers: {args.workers}}}\n"
            )
            piped = work / f"{job}.pipe.jsonl"  # the pipe's output, to compare with the run's
            p = pipe_ids(f"{pipe} > {piped}", env)
            print(row(f"{job}: pipe", p, args.records), flush=True)
            written = work / f"pipe-{job}"
            w = pipe_ids(f"{pipe} | curate write {written} 2>/dev/null", env)
            shutil.rmtree(written, ignore_errors=True)
            print(row(f"{job}: pipe \\| `curate write`", w, args.records), flush=True)
            r = run_tree([*CURATE, "run", str(yaml), "--overwrite"], env=env)
            print(row(f"{job}: `curate run`", r, args.records), flush=True)
            print(
                f"|  | run/pipe records/s: **{p.seconds / r.seconds:.2f}x**; run/(pipe "
                f"\\| write): **{w.seconds / r.seconds:.2f}x** |||||",
                flush=True,
            )
            ids_of_file(piped, work / f"{job}.pipe.ids", env)
            piped.unlink()
            ids_of_run(out, work / f"{job}.run.ids", env)
            same = (work / f"{job}.pipe.ids").read_bytes() == (work / f"{job}.run.ids").read_bytes()
            kept = len((work / f"{job}.run.ids").read_bytes().splitlines())
            print(f"<!-- {job}: {kept:,} kept; same records as the pipe: {same} -->", flush=True)
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
