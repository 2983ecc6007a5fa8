"""Running a pipeline end to end: execute, write card + manifest, clean up, check guards.

This is the library entry point behind `curate run`.
"""

from __future__ import annotations

import os
from pathlib import Path

from curate.config.pipeline import Pipeline, load_pipeline
from curate.core.faults import checkpoint
from curate.executors.local import RunResult, execute, finish_run
from curate.io.hashing import sha256_file
from curate.io.lock import folder_lock
from curate.stages.base import relative_path
from curate.versions.finalize import check_guards, finalize
from curate.versions.manifest import ManifestParts, parent_reference, run_info, stage_entries


def manifest_parts(pipeline: Pipeline, result: RunResult) -> ManifestParts:
    cfg = pipeline.config
    base = pipeline.base_dir

    def rel(path: str) -> str:
        return relative_path(path, base) if os.path.isabs(path) else path

    files = []
    listed = list(result.files)
    if result.quarantine and not os.path.isabs(result.quarantine):
        listed.append(result.quarantine)
    for name in listed:
        sha, size = sha256_file(result.out_dir / name)
        files.append({"path": name, "sha256": sha, "bytes": size})
    resources = [r for stage in pipeline.stages for r in stage.resources(base)]
    stage_info = {}
    for i, stage in enumerate(pipeline.stages):
        info = stage.manifest_info()
        if info:
            stage_info[f"{i}:{stage.name}"] = info
    return ManifestParts(
        name=cfg.name,
        version=cfg.version,
        fields={"id": cfg.fields.id, "text": cfg.fields.text},
        config=pipeline.resolved_config(),
        parent=parent_reference(pipeline.resolve(cfg.parent)) if cfg.parent else None,
        resources=resources,
        inputs=[{**i, "path": rel(i["path"])} for i in result.inputs],
        shards=result.shards,
        rejects=result.rejects,
        files=files,
        stages=stage_entries(pipeline.stages, result.stage_stats),
        totals={
            "records_in": result.records_in,
            "records_out": result.records_out,
            "rejected": sum(sum(st.dropped.values()) for st in result.stage_stats),
            "errors": result.errors,
            "empty_lines": result.empty_lines,
        },
        composition=result.composition,
        stage_info=stage_info,
    )


def run_pipeline(
    pipeline: Pipeline | Path | str,
    *,
    workers: int | None = None,
    resume: bool = False,
    quiet: bool = True,
    overwrite: bool = False,
    executor: str | None = None,
    address: str | None = None,
) -> tuple[RunResult, dict, list[str]]:
    """Run a pipeline; returns (result, manifest, violated guards). Raises on bad input.

    One run at a time per output folder: a second one is refused while the first holds it."""
    if not isinstance(pipeline, Pipeline):
        pipeline = load_pipeline(Path(pipeline))
    with folder_lock(pipeline.output_dir):
        result = execute(
            pipeline,
            workers=workers,
            resume=resume,
            quiet=quiet,
            overwrite=overwrite,
            executor=executor,
            address=address,
        )
        engine = pipeline.config.executor.model_dump(mode="json") | {"type": result.executor}
        if address:
            engine["address"] = address
        info = run_info(
            pipeline.stages,
            result.stage_stats,
            result.workers,
            result.seconds,
            engine,
            result.steps,
        )
        manifest = finalize(result.out_dir, manifest_parts(pipeline, result), info)
        checkpoint("manifest")
        finish_run(result.out_dir)
    return result, manifest, check_guards(pipeline.config.expect, manifest)
