"""Commands that move records without changing them: cat, head, count, stats, write."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import click
import typer

from curate.cli import app
from curate.cli.common import (
    CompressOpt,
    DuplicateKeysOpt,
    IdField,
    Inputs,
    OnErrorOpt,
    QuarantineOpt,
    TextField,
    error_policy,
    make_fields,
    make_sink,
    sources_of,
)
from curate.io.policy import OnError
from curate.io.reader import Batch, read_batches


@app.command("cat")
def cat_command(
    inputs: Inputs = None,
    compress: CompressOpt = "none",
    on_error: OnErrorOpt = OnError.fail,
    quarantine: QuarantineOpt = None,
    duplicate_keys: DuplicateKeysOpt = "error",
) -> None:
    """Concatenate inputs (any compression) to stdout as JSON lines.

    Example: curate cat shards/*.jsonl.zst | jq -c '{id, n: (.text | length)}'
    """
    with error_policy(on_error, quarantine, inputs, duplicate_keys == "last") as policy:
        sink = make_sink(compress)
        for batch in read_batches(sources_of(inputs), policy):
            sink.write_batch(batch)
        sink.close()


@app.command("head")
def head_command(
    inputs: Inputs = None,
    n: Annotated[int, typer.Option("-n", "--lines", min=0, help="Number of records.")] = 10,
    compress: CompressOpt = "none",
    on_error: OnErrorOpt = OnError.fail,
    quarantine: QuarantineOpt = None,
) -> None:
    """Write the first N records to stdout and stop reading.

    Example: curate head -n 5 fixtures/stdlib.jsonl.zst
    """
    with error_policy(on_error, quarantine, inputs) as policy:
        sink = make_sink(compress)
        left = n
        if left:
            for batch in read_batches(sources_of(inputs), policy):
                if len(batch.records) > left:
                    batch = Batch(
                        batch.source,
                        batch.records[:left],
                        batch.linenos[:left],
                        batch.raws[:left],
                        batch.modified,
                    )
                sink.write_batch(batch)
                left -= len(batch.records)
                if not left:
                    break
        sink.close()


@app.command("count")
def count_command(
    inputs: Inputs = None,
    on_error: OnErrorOpt = OnError.fail,
    quarantine: QuarantineOpt = None,
) -> None:
    """Print the number of records.

    Example: curate cat fixtures/*.jsonl.zst | curate count
    """
    total = 0
    with error_policy(on_error, quarantine, inputs) as policy:
        for batch in read_batches(sources_of(inputs), policy):
            total += len(batch.records)
    typer.echo(total)


@app.command("stats")
def stats_command(
    inputs: Inputs = None,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    text_field: TextField = "text",
    on_error: OnErrorOpt = OnError.fail,
    quarantine: QuarantineOpt = None,
) -> None:
    """Records, bytes, field presence and text length (min/median/max).

    Example: curate stats --json fixtures/stdlib.jsonl.zst | jq .text_chars
    """
    from curate.versions.stats import DatasetStats, render_stats

    result = DatasetStats(make_fields("id", text_field))
    with error_policy(on_error, quarantine, inputs) as policy:
        for batch in read_batches(sources_of(inputs), policy):
            result.add(batch.records, None if batch.modified else batch.raws)
        result.empty_lines = policy.empty_lines
        result.errors = policy.errors
    render_stats(result.to_dict(), json_out)


@app.command("write")
def write_command(
    out_dir: Annotated[Path, typer.Argument(help="Output dataset folder.", show_default=False)],
    inputs: Inputs = None,
    shard_size: Annotated[
        str, typer.Option("--shard-size", help="Roll over after this much uncompressed data.")
    ] = "256MB",
    shard_records: Annotated[
        int | None, typer.Option("--shard-records", min=1, help="Roll over after N records.")
    ] = None,
    level: Annotated[int, typer.Option("--level", min=1, max=22, help="zstd level.")] = 3,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace the shards of an existing dataset folder.")
    ] = False,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Dataset name for the manifest (default: folder name)."),
    ] = None,
    dataset_version: Annotated[
        str, typer.Option("--dataset-version", help="Dataset version for the manifest.")
    ] = "0",
    parent: Annotated[
        Path | None, typer.Option("--parent", help="The version this one was built from.")
    ] = None,
    split_by: Annotated[
        str | None, typer.Option("--split-by", help="One folder per value of this field.")
    ] = None,
    format: Annotated[
        str,
        typer.Option(
            "--format",
            click_type=click.Choice(["jsonl", "parquet"]),
            help="jsonl: zstd JSON-lines shards; parquet: Parquet shards with one schema.",
        ),
    ] = "jsonl",
    text_field: TextField = "text",
    id_field: IdField = "id",
    on_error: OnErrorOpt = OnError.fail,
    quarantine: QuarantineOpt = None,
    duplicate_keys: DuplicateKeysOpt = "error",
) -> None:
    """Write records into zstd shards part-00000.jsonl.zst, ... (or part-00000.parquet, ...)
    in OUT_DIR.

    Example: curate cat raw/*.jsonl.gz | curate write out/v1 --shard-size 64MB
    """
    from curate.versions.write import write_dataset

    with error_policy(on_error, quarantine, inputs, duplicate_keys == "last") as policy:
        write_dataset(
            out_dir,
            sources_of(inputs),
            policy,
            shard_size=shard_size,
            shard_records=shard_records,
            level=level,
            overwrite=overwrite,
            name=name,
            version=dataset_version,
            parent=parent,
            fields=make_fields(id_field, text_field),
            split_by=split_by,
            format=format,
        )
