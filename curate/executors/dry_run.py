"""`curate run --dry-run`: what a run will do and roughly what it will need, without running it.

Estimates come from a sample of each input's beginning: its compression ratio and mean line
length give the record count; stages report their per-record memory for keys.
"""

from __future__ import annotations

import zstandard

from curate.config.pipeline import Pipeline
from curate.executors.units import plan_segments
from curate.io.decompress import iter_decompressed
from curate.io.hashing import HashingReader
from curate.io.sources import Source, expand_inputs
from curate.io.writer import parse_size

SAMPLE_BYTES = 4 << 20


def _sample(source: Source) -> tuple[int, int, int, bytes]:
    """(compressed bytes read, decompressed bytes, lines) of an input's first few MB, plus data."""
    fh = source.open()
    try:
        reader = HashingReader(fh)
        parts: list[bytes] = []
        total = 0
        for chunk in iter_decompressed(reader, read_size=1 << 16):
            parts.append(chunk)
            total += len(chunk)
            if total >= SAMPLE_BYTES:
                break
        data = b"".join(parts)
        return reader.bytes, len(data), data.count(b"\n"), data
    finally:
        fh.close()


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} TB"


def make_plan(pipeline: Pipeline, workers: int) -> dict:
    sources = [s for s in expand_inputs(pipeline.input_specs()) if not s.is_stdin]
    est_records = 0
    est_raw = 0
    est_out = 0
    total = 0
    for source in sources:
        size = source.size() or 0
        total += size
        used, raw, lines, data = _sample(source)
        if not used or not raw:
            continue
        scale = size / used
        est_raw += raw * scale
        est_records += lines * scale
        packed = len(zstandard.ZstdCompressor(level=pipeline.config.output.level).compress(data))
        est_out += packed * scale
    segments = plan_segments(pipeline.stages)
    stages = []
    key_memory = 0
    for stage in pipeline.stages:
        per = getattr(stage, "key_bytes_per_record", 0)
        need = per * est_records
        key_memory = max(key_memory, need)
        stages.append(
            {
                "stage": stage.name,
                "kind": "global" if stage.is_global else "per-record",
                "key_memory": need,
            }
        )
    return {
        "name": pipeline.config.name,
        "version": pipeline.config.version,
        "output": str(pipeline.output_dir),
        "workers": workers,
        "inputs": len(sources),
        "input_bytes": total,
        "estimated_records": int(est_records),
        "estimated_uncompressed_bytes": int(est_raw),
        "stages": stages,
        "passes": len(segments),
        "estimated_key_memory": int(key_memory),
        "estimated_output_disk": int(est_out),
        # scratch copies of the data between passes (zstd level 1), removed at the end
        "estimated_work_disk": int(est_out * 1.3 * len(segments)),
        "chunk_size": parse_size(pipeline.config.executor.chunk_size),
    }
