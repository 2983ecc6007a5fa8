"""Exact dedup throughput on >= 1M records: curate vs a minimal floor loop vs datatrove.

- floor: read zstd + parse + hashlib.sha256 + keep-first set + write, one process;
- curate dedup exact (pipe) and curate run (2 workers), and curate with a tiny memory budget
  (spilling), with peak RSS;
- datatrove's ExactDedupSignature -> ExactFindDedups -> ExactDedupFilter, with its defaults,
  when a Python with datatrove is given (--datatrove-python).
Target (issue 7): curate >= 75% of the floor's MB/s.

    python benchmarks/dedup_exact.py [--records 1100000] [--datatrove-python /path/to/python]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

import orjson
import zstandard
from _corpus import DATA, stdlib_texts
from _measure import measure

FLOOR = r"""
import hashlib, io, sys, orjson, zstandard
seen = set()
out = open(sys.argv[2], "wb")
with open(sys.argv[1], "rb") as fh:
    reader = zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)
    for line in io.BufferedReader(reader, buffer_size=1 << 20):
        rec = orjson.loads(line)
        key = hashlib.sha256(rec["text"].encode()).digest()
        if key in seen:
            continue
        seen.add(key)
        out.write(line)
"""

DATATROVE = r"""
import sys
from datatrove.executor.local import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from datatrove.pipeline.dedup.exact_dedup import (
    ExactDedupConfig, ExactDedupSignature, ExactFindDedups, ExactDedupFilter)

src, work = sys.argv[1], sys.argv[2]
def content(doc) -> str:
    return doc.text
config = ExactDedupConfig(content_getter=content)
LocalPipelineExecutor(pipeline=[JsonlReader(src), ExactDedupSignature(f"{work}/sigs", config=config)],
                      tasks=1, logging_dir=f"{work}/logs1").run()
LocalPipelineExecutor(pipeline=[ExactFindDedups(f"{work}/sigs", f"{work}/dups", config=config)],
                      tasks=1, logging_dir=f"{work}/logs2").run()
LocalPipelineExecutor(pipeline=[JsonlReader(src), ExactDedupFilter(f"{work}/dups", config=config),
                                JsonlWriter(f"{work}/out")], tasks=1, logging_dir=f"{work}/logs3").run()
"""


def build_input(records: int, dup_rate: float = 0.2, seed: int = 11) -> Path:
    DATA.mkdir(exist_ok=True)
    folder = DATA / f"exact-{records}"
    path = folder / "data.jsonl.zst"
    if path.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    texts = [t for _, t in stdlib_texts()]
    cctx = zstandard.ZstdCompressor(level=3)
    made: list[str] = []
    with open(path, "wb") as fh, cctx.stream_writer(fh) as zw:
        for i in range(records):
            if made and rng.random() < dup_rate:
                text = made[rng.randrange(len(made))]
            else:
                src = texts[rng.randrange(len(texts))]
                start = rng.randrange(max(1, len(src) - 400))
                text = src[start : start + rng.randint(100, 400)] + f" #{i}"
                if len(made) < 200_000:
                    made.append(text)
            zw.write(orjson.dumps({"id": f"d{i:08d}", "text": text, "meta": {"n": i}}) + b"\n")
    return folder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_100_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--datatrove-python", default=None)
    args = ap.parse_args()
    folder = build_input(args.records)
    path = folder / "data.jsonl.zst"
    with open(path, "rb") as fh:
        reader = zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)
        mb = sum(iter(lambda: len(reader.read(1 << 20)), 0)) / 1e6
    curate = shutil.which("curate") or str(Path(sys.executable).parent / "curate")
    tmp = Path(tempfile.mkdtemp(prefix="bench-exact-"))
    (tmp / "pipeline.yaml").write_text(
        f"name: bench\nversion: '1'\ninputs: [{path}]\nstages:\n  - dedup_exact: {{}}\n"
        f"output: {{dir: {tmp}/out}}\nexecutor: {{workers: 2}}\n"
    )
    runs = {
        "floor (read+parse+sha256+set+write)": [sys.executable, "-c", FLOOR, str(path), os.devnull],
        "curate dedup exact (pipe)": ["sh", "-c", f"{curate} dedup exact {path} > /dev/null"],
        "curate dedup exact --memory 64MB (spills)": [
            "sh",
            "-c",
            f"{curate} dedup exact --memory 64MB {path} > /dev/null",
        ],
        "curate run, 2 workers (+ shards, manifest)": [
            "sh",
            "-c",
            f"rm -rf {tmp}/out && {curate} run -q {tmp}/pipeline.yaml",
        ],
    }
    if args.datatrove_python:
        runs["datatrove exact dedup (3 steps, defaults)"] = [
            "sh",
            "-c",
            f"rm -rf {tmp}/dt && {args.datatrove_python} -c '{DATATROVE}' {path} {tmp}/dt",
        ]
    best: dict[str, tuple[float, float]] = {}
    for _ in range(args.repeat):
        for name, cmd in runs.items():
            seconds, rss = measure(cmd)
            old = best.get(name)
            best[name] = (
                min(seconds, old[0]) if old else seconds,
                max(rss, old[1]) if old else rss,
            )
    floor = best["floor (read+parse+sha256+set+write)"][0]
    print(f"input: {args.records:,} records, {mb:,.0f} MB uncompressed, ~20% exact duplicates")
    print(f"{'run':46s} {'MB/s':>8s} {'vs floor':>9s} {'peak RSS':>10s}")
    for name, (seconds, rss) in best.items():
        print(f"{name:46s} {mb / seconds:8.1f} {floor / seconds:9.2f} {rss:8.0f} MB")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
