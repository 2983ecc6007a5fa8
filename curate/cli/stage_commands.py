"""Pipe commands for stages: each builds the stage from its config model and streams stdin->stdout."""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING, Annotated

import click
import typer

from curate.cli import app
from curate.cli.common import (
    CompressOpt,
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
from curate.errors import UsageError
from curate.fields import Fields
from curate.io.policy import OnError

if TYPE_CHECKING:
    from curate.stages.base import Context, Stage, StageStats

PathFieldOpt = Annotated[str, typer.Option(help="Dotted field holding the file path.")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Print the stage's counts on stderr at the end.")
]


def build_stage(name: str, options: dict, fields: Fields) -> Stage:
    """Validate CLI options against the stage's config model, exactly as YAML is validated."""
    from pydantic import ValidationError

    from curate.stages import get_stage_class
    from curate.validation import first_error

    cls = get_stage_class(name)
    try:
        config = cls.Config(**{k: v for k, v in options.items() if v is not None})
    except ValidationError as exc:
        loc, problem = first_error(exc)
        where = "--" + "-".join(str(p) for p in loc).replace("_", "-") if loc else ""
        raise UsageError(f"{name}: {where + ': ' if where else ''}{problem}") from None
    return cls(config, fields)


def summary_line(stage: Stage, stats: StageStats) -> str:
    drops = ", ".join(f"{k}={v}" for k, v in sorted(stats.dropped.items())) or "none"
    return (
        f"curate {stage.name}: {stats.records_in} in, {stats.records_out} out, "
        f"dropped: {drops}, errors: {stats.errors}"
    )


def run_stage_command(stage: Stage, inputs, compress, on_error, quarantine, verbose) -> Context:
    """Stream the inputs through one stage to stdout; returns the run's context (its
    rejects and opt-out log)."""
    from curate.executors.stream import run_pipe
    from curate.stages.base import Context

    # What start-up built (modules, tables, the stage) lives for the whole run: frozen, the
    # cyclic collector never scans it again, the collection at exit included (~10-30 ms).
    gc.freeze()
    from curate.privacy import PrivacyScreens

    with error_policy(on_error, quarantine, inputs) as policy:
        PrivacyScreens.of([stage]).install(policy)
        ctx = Context(policy)
        stats = run_pipe([stage], sources_of(inputs), policy, make_sink(compress), ctx)
    if verbose:
        print(summary_line(stage, stats[0]), file=sys.stderr)
    return ctx


@app.command("filter")
def filter_command(
    inputs: Inputs = None,
    min_chars: Annotated[int | None, typer.Option(help="Drop texts shorter than N chars.")] = None,
    max_chars: Annotated[int | None, typer.Option(help="Drop texts longer than N chars.")] = None,
    min_lines: Annotated[int | None, typer.Option(help="Drop texts with fewer lines.")] = None,
    max_line_chars: Annotated[
        int | None, typer.Option(help="Drop texts that have a longer line.")
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option("--where", help="Keep only records where FIELD=VALUE or FIELD~REGEX holds."),
    ] = None,
    where_not: Annotated[
        list[str] | None,
        typer.Option("--where-not", help="Drop records where FIELD=VALUE or FIELD~REGEX holds."),
    ] = None,
    text_field: TextField = "text",
    id_field: IdField = "id",
    compress: CompressOpt = "none",
    on_error: OnErrorOpt = OnError.fail,
    quarantine: QuarantineOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Drop records by length, line shape or field values.

    Example: curate cat data.jsonl.zst | curate filter --min-chars 20 --where meta.lang=python
    """
    options = dict(
        min_chars=min_chars,
        max_chars=max_chars,
        min_lines=min_lines,
        max_line_chars=max_line_chars,
        where=where or [],
        where_not=where_not or [],
    )
    stage = build_stage("filter", options, make_fields(id_field, text_field))
    run_stage_command(stage, inputs, compress, on_error, quarantine, verbose)


dedup_app = typer.Typer(help="Exact and near deduplication.", no_args_is_help=True)
app.add_typer(dedup_app, name="dedup")


@dedup_app.command("exact")
def dedup_exact_command(
    inputs: Inputs = None,
    normalize: Annotated[
        str, typer.Option(help="none, whitespace (collapse runs, strip ends) or lower (+ NFKC).")
    ] = "none",
    key: Annotated[
        str | None, typer.Option(help="Dotted field to key on instead of the text (e.g. meta.url).")
    ] = None,
    memory: Annotated[
        str, typer.Option(help="Index budget (e.g. 2GB, 25%); past it, keys spill to disk.")
    ] = "25%",
    index: Annotated[
        str | None, typer.Option(help="Save the keys of the kept records to this index file.")
    ] = None,
    against: Annotated[
        list[str] | None,
        typer.Option(help="Drop records already in an earlier version (its index or folder)."),
    ] = None,
    text_field: TextField = "text",
    id_field: IdField = "id",
    compress: CompressOpt = "none",
    on_error: OnErrorOpt = OnError.fail,
    quarantine: QuarantineOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Drop records whose text (or --key) was seen before; the first copy is kept.

    Example: curate cat shards/*.jsonl.zst | curate dedup exact --normalize whitespace > unique.jsonl
    """
    options = dict(normalize=normalize, key=key, memory=memory, index=index, against=against or [])
    stage = build_stage("dedup_exact", options, make_fields(id_field, text_field))
    run_stage_command(stage, inputs, compress, on_error, quarantine, verbose)


@dedup_app.command("near")
def dedup_near_command(
    inputs: Inputs = None,
    threshold: Annotated[
        float, typer.Option(help="Jaccard similarity that makes a duplicate.")
    ] = 0.8,
    tokenizer: Annotated[str, typer.Option(help="words, chars or code.")] = "words",
    ngram: Annotated[int, typer.Option(help="Shingle size in tokens (chars: bytes).")] = 5,
    num_perm: Annotated[int, typer.Option(help="MinHash permutations.")] = 128,
    bands: Annotated[
        int | None, typer.Option(help="LSH bands (default: chosen for the threshold).")
    ] = None,
    rows: Annotated[int | None, typer.Option(help="LSH rows per band (with --bands).")] = None,
    verify: Annotated[
        str, typer.Option(help="signature (estimated Jaccard) or exact (true Jaccard of shingles).")
    ] = "exact",
    index: Annotated[
        str | None, typer.Option(help="Save the kept records' sketches to this index file.")
    ] = None,
    against: Annotated[
        list[str] | None,
        typer.Option(help="Drop near-duplicates of an earlier version (its index or folder)."),
    ] = None,
    text_field: TextField = "text",
    id_field: IdField = "id",
    compress: CompressOpt = "none",
    on_error: OnErrorOpt = OnError.fail,
    quarantine: QuarantineOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Drop records that are near-duplicates (MinHash + LSH, verified) of an earlier kept one.

    Example: curate cat shards/*.jsonl.zst | curate dedup near --threshold 0.8 > unique.jsonl
    """
    options = dict(
        threshold=threshold,
        tokenizer=tokenizer,
        ngram=ngram,
        num_perm=num_perm,
        bands=bands,
        rows=rows,
        verify=verify,
        index=index,
        against=against or [],
    )
    stage = build_stage("dedup_near", options, make_fields(id_field, text_field))
    run_stage_command(stage, inputs, compress, on_error, quarantine, verbose)


@app.command("tag")
def tag_command(
    inputs: Inputs = None,
    rules: Annotated[
        str | None,
        typer.Option(help="Subset rules YAML (default: the shipped rules/subsets.yaml)."),
    ] = None,
    languages: Annotated[
        str | None, typer.Option(help="Language table YAML (default: rules/languages.yaml).")
    ] = None,
    path_field: PathFieldOpt = "meta.path",
    overwrite: Annotated[
        bool, typer.Option(help="Replace existing meta.subset / meta.language.")
    ] = False,
    text_field: TextField = "text",
    id_field: IdField = "id",
    compress: CompressOpt = "none",
    on_error: OnErrorOpt = OnError.fail,
    quarantine: QuarantineOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Write meta.subset from declarative rules, and meta.language for source files.

    Example: curate cat repos/*.jsonl.zst | curate tag --rules rules/subsets.yaml | jq -r .meta.subset
    """
    options = dict(rules=rules, languages=languages, path_field=path_field, overwrite=overwrite)
    stage = build_stage("tag", options, make_fields(id_field, text_field))
    run_stage_command(stage, inputs, compress, on_error, quarantine, verbose)


@app.command("redact")
def redact_command(
    inputs: Inputs = None,
    rules: Annotated[
        str | None, typer.Option(help="PII rules YAML (default: the shipped rules/pii.yaml).")
    ] = None,
    path_field: PathFieldOpt = "meta.path",
    drop_min_secrets: Annotated[
        int | None, typer.Option("--drop-min-secrets", help="Drop records with at least N secrets.")
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field", help="Another dotted field to redact besides the text (repeatable)."
        ),
    ] = None,
    text_field: TextField = "text",
    id_field: IdField = "id",
    compress: CompressOpt = "none",
    on_error: OnErrorOpt = OnError.fail,
    quarantine: QuarantineOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Replace emails, public IPs, keys, tokens and passwords by placeholders; count them in meta.pii.

    Example: curate cat code.jsonl.zst | curate redact | jq -c 'select(.meta.pii) | .meta.pii'
    """
    options = dict(
        rules=rules,
        path_field=path_field,
        drop_if={"min_secrets": drop_min_secrets} if drop_min_secrets else None,
        fields=field or [],
    )
    stage = build_stage("redact", options, make_fields(id_field, text_field))
    run_stage_command(stage, inputs, compress, on_error, quarantine, verbose)


@app.command("license")
def license_command(
    inputs: Inputs = None,
    policy: Annotated[
        str | None, typer.Option(help="Allow/deny policy YAML (default: rules/licenses.yaml).")
    ] = None,
    metadata: Annotated[
        list[str] | None, typer.Option(help="Metadata fields holding a license (repeatable).")
    ] = None,
    no_spdx_tags: Annotated[bool, typer.Option("--no-spdx-tags", help="Ignore SPDX tags.")] = False,
    no_scancode: Annotated[
        bool, typer.Option("--no-scancode", help="Skip scancode detection.")
    ] = False,
    cache: Annotated[
        str | None, typer.Option(help="Keep scancode results in this file between runs.")
    ] = None,
    unknown: Annotated[
        str | None,
        typer.Option(
            click_type=click.Choice(["drop", "keep"]),
            help="Records of no known license: drop or keep (default: the policy's `unknown`).",
        ),
    ] = None,
    path_field: PathFieldOpt = "meta.path",
    text_field: TextField = "text",
    id_field: IdField = "id",
    compress: CompressOpt = "none",
    on_error: OnErrorOpt = OnError.fail,
    quarantine: QuarantineOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Annotate meta.license (SPDX expression, source, allowed) and keep what the policy allows.

    Example: curate cat code.jsonl.zst | curate license --cache .license-cache.jsonl > permissive.jsonl
    """
    options = dict(
        policy=policy,
        spdx_tags=not no_spdx_tags,
        scancode=not no_scancode,
        cache=cache,
        unknown=unknown,
        path_field=path_field,
    )
    if metadata:
        options["metadata"] = metadata
    stage = build_stage("license", options, make_fields(id_field, text_field))
    run_stage_command(stage, inputs, compress, on_error, quarantine, verbose)
