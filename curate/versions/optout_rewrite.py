"""Erasure from a released version: a new version of a dataset folder without the records
that the registry now matches, with the old one as its `parent`."""

from __future__ import annotations

from pathlib import Path

import orjson

from curate.core.fields import Fields
from curate.io.atomic import atomic_write
from curate.io.dataset_files import shard_paths
from curate.io.hashing import sha256_file
from curate.io.policy import ErrorPolicy
from curate.io.sources import Source
from curate.io.split import dataset_writer
from curate.io.writer import parse_size
from curate.stages.base import Context, StageStats, relative_path
from curate.stages.optout import OptoutConfig, OptoutStage
from curate.versions.finalize import finalize
from curate.versions.manifest import ManifestParts, load_manifest, parent_reference
from curate.versions.write import prepare_output, write_shards

OPTOUT_LOG = "optout-log.jsonl"


def rewrite_version(source: Path, out: Path, registry: Path, version: str | None = None) -> dict:
    folder, old = load_manifest(source)
    fields = Fields(**old.get("fields", {"id": "id", "text": "text"}))
    stage = OptoutStage(OptoutConfig(registry=str(registry)), fields)
    layout = _layout(old)
    prepare_output(out, overwrite=False, hint="another --out")
    args = {
        "shard_bytes": parse_size(layout["shard_size"]),
        "shard_records": layout["shard_records"],
        "level": layout["level"],
    }
    writer = dataset_writer(out, layout["split_by"], **args)
    policy = ErrorPolicy()
    ctx = Context(policy)
    stats = StageStats()
    sources = [Source(str(p), str(p)) for p in shard_paths(folder, old)]
    shards, composition, inputs = write_shards(
        writer, sources, policy, fields, lambda batch: stage.process(batch, ctx, stats)
    )
    atomic_write(out / OPTOUT_LOG, b"".join(orjson.dumps(r) + b"\n" for r in ctx.optout_log))
    log_sha, log_size = sha256_file(out / OPTOUT_LOG)
    registry_sha, _ = sha256_file(registry)
    base = out.resolve()
    for item in inputs:
        item["path"] = relative_path(item["path"], base)
    parts = ManifestParts(
        name=old["name"],
        version=version or f"{old['version']}+optout.{registry_sha[:8]}",
        fields={"id": fields.id, "text": fields.text},
        config={
            "command": "optout --rewrite",
            "source_pipeline_sha256": (old.get("pipeline") or {}).get("sha256"),
            **layout,
        },
        parent=parent_reference(folder),
        resources=stage.resources(base),
        inputs=inputs,
        shards=shards,
        files=[{"path": OPTOUT_LOG, "sha256": log_sha, "bytes": log_size}],
        stages=[{"stage": "optout", **stats.to_dict()}],
        totals={
            "records_in": stats.records_in,
            "records_out": stats.records_out,
            "rejected": sum(stats.dropped.values()),
            "errors": 0,
            "empty_lines": 0,
        },
        composition=composition.to_manifest(),
    )
    return finalize(out, parts)


def _layout(manifest: dict) -> dict:
    """How the released version was written (shard size and records, zstd level, split
    field), from its pipeline's `output` (a run) or its command's options (`curate write`,
    an earlier rewrite), so the new version is laid out the same way."""
    pipeline = manifest.get("pipeline")
    config = (pipeline.get("config") if isinstance(pipeline, dict) else None) or {}
    output = config.get("output") if isinstance(config.get("output"), dict) else config
    return {
        "shard_size": output.get("shard_size") or "256MB",
        "shard_records": output.get("shard_records"),
        "level": output.get("level") or 3,
        "split_by": output.get("split_by"),
    }
