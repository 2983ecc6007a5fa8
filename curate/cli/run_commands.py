"""`curate run` and `curate validate`: the same stages, declared in pipeline.yaml."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import click
import typer

from curate.cli import app
from curate.core.errors import UsageError
from curate.core.limits import MAX_WORKERS

PipelineArg = Annotated[Path, typer.Argument(help="The pipeline YAML file.", show_default=False)]


@app.command("validate")
def validate_command(pipeline: PipelineArg) -> None:
    """Check a pipeline file (schema, stages, options) without running it.

    Example: curate validate pipeline.yaml
    """
    from curate.config.pipeline import load_pipeline

    loaded = load_pipeline(pipeline)
    names = ", ".join(stage.name for stage in loaded.stages) or "no stages"
    count = f"{len(loaded.stages)} stage{'' if len(loaded.stages) == 1 else 's'}"
    print(f"{pipeline}: ok ({count}: {names})", file=sys.stderr)


@app.command("run")
def run_command(
    pipeline: PipelineArg,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            min=1,
            max=MAX_WORKERS,
            help="Worker processes (default: executor.workers).",
        ),
    ] = None,
    executor: Annotated[
        str | None,
        typer.Option(
            "--executor",
            click_type=click.Choice(["local", "ray"]),
            help="Where tasks run: local (this machine) or ray (default: executor.type).",
            show_default=False,
        ),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            help="Ray cluster: auto, ray://HOST:PORT or HOST:PORT (default: executor.address; "
            "none starts a local Ray).",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show the plan and the resources it needs; run nothing."),
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish an interrupted run in the same output folder.")
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite", help="Start again in an output folder holding a curate run or dataset."
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress and no summary.")
    ] = False,
) -> None:
    """Run a pipeline: inputs -> stages -> versioned output shards (+ rejects, manifest).

    Stages (YAML keys, with the options of their commands): filter, optout, tag, langid,
    quality, redact, license, decontaminate, dedup_exact, dedup_near.

    Example: curate run pipeline.yaml --workers 2
    Example: curate run pipeline.yaml --executor ray --address auto
    """
    from curate.config.pipeline import load_pipeline

    loaded = load_pipeline(pipeline)
    if dry_run:
        from curate.cli.summary import print_plan
        from curate.executors.dry_run import make_plan

        print_plan(make_plan(loaded, workers or loaded.config.executor.workers))
        return
    from curate.cli.summary import print_summary
    from curate.executors.pipeline_run import run_pipeline
    from curate.versions.finalize import GuardFailed

    if resume and overwrite:
        raise UsageError("--resume and --overwrite exclude each other")
    result, _manifest, failures = run_pipeline(
        loaded,
        workers=workers,
        resume=resume,
        quiet=quiet,
        overwrite=overwrite,
        executor=executor,
        address=address,
    )
    if not quiet:
        print_summary(loaded, result)
    if failures:
        raise GuardFailed("guard failed: " + "; ".join(failures))
