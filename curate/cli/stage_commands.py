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
from curate.cli.lazy_group import DedupGroup, RootGroup, StageCommand
from curate.core.errors import UsageError
from curate.core.fields import Fields
from curate.io.policy import OnError

if TYPE_CHECKING:
    from curate.stages.base import Context, Stage, StageStats

VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Print the stage's counts on stderr at the end.")
]


def build_stage(name: str, options: dict, fields: Fields) -> Stage:
    """Validate CLI options against the stage's config model, exactly as YAML is validated;
    a problem names the option."""
    from curate.stages import StageOptionsError, configure, get_stage_class

    try:
        config = configure(name, {k: v for k, v in options.items() if v is not None})
    except StageOptionsError as exc:
        where = "--" + "-".join(str(p) for p in exc.loc).replace("_", "-") if exc.loc else ""
        raise UsageError(f"{name}: {where + ': ' if where else ''}{exc.problem}") from None
    return get_stage_class(name)(config, fields)


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
    from curate.stages.privacy import PrivacyScreens

    with error_policy(on_error, quarantine, inputs) as policy:
        PrivacyScreens.of([stage]).install(policy)
        ctx = Context(policy)
        stats = run_pipe([stage], sources_of(inputs), policy, make_sink(compress), ctx)
    if verbose:
        print(summary_line(stage, stats[0]), file=sys.stderr)
    return ctx


def pipe_body(stage: str | None, doc: str):
    """The body of a stage's pipe command: the stage over the inputs to stdout. With `stage`
    None, the stage named by the command (a registered stage without a command of its own)."""

    def body(
        options: dict,
        inputs: Inputs = None,
        text_field: TextField = "text",
        id_field: IdField = "id",
        compress: CompressOpt = "none",
        on_error: OnErrorOpt = OnError.fail,
        quarantine: QuarantineOpt = None,
        verbose: VerboseOpt = False,
    ) -> None:
        name = stage or click.get_current_context().info_name
        stage_obj = build_stage(name, options, make_fields(id_field, text_field))
        run_stage_command(stage_obj, inputs, compress, on_error, quarantine, verbose)

    body.__doc__ = doc
    return body


filter_body = pipe_body(
    "filter",
    """Drop records by length, line shape or field values.

    Example: curate cat data.jsonl.zst | curate filter --min-chars 20 --where meta.lang=python
    """,
)
dedup_exact_body = pipe_body(
    "dedup_exact",
    """Drop records whose text (or --key) was seen before; the first copy is kept.

    Example: curate cat shards/*.jsonl.zst | curate dedup exact --normalize whitespace > unique.jsonl
    """,
)
dedup_near_body = pipe_body(
    "dedup_near",
    """Drop records that are near-duplicates (MinHash + LSH, verified) of an earlier kept one.

    Example: curate cat shards/*.jsonl.zst | curate dedup near --threshold 0.8 > unique.jsonl
    """,
)
tag_body = pipe_body(
    "tag",
    """Write meta.subset from declarative rules, and meta.language for source files.

    Example: curate cat repos/*.jsonl.zst | curate tag --rules rules/subsets.yaml | jq -r .meta.subset
    """,
)
redact_body = pipe_body(
    "redact",
    """Replace emails, public IPs, keys, tokens and passwords by placeholders; count them in meta.pii.

    Example: curate cat code.jsonl.zst | curate redact | jq -c 'select(.meta.pii) | .meta.pii'
    """,
)
license_body = pipe_body(
    "license",
    """Annotate meta.license (SPDX expression, source, allowed) and keep what the policy allows.

    Example: curate cat code.jsonl.zst | curate license --cache .license-cache.jsonl > permissive.jsonl
    """,
)
langid_body = pipe_body(
    "langid",
    """Write meta.natural_language (ISO 639) and its score for prose records (fastText lid.176).

    Example: curate cat web.jsonl.zst | curate langid --keep en --keep de | jq -r .meta.natural_language
    """,
)
quality_body = pipe_body(
    "quality",
    """Compute quality signals into meta.quality and drop by a preset's thresholds (gopher, c4, code).

    Example: curate cat web.jsonl.zst | curate quality --preset gopher > kept.jsonl
    """,
)
decontaminate_body = pipe_body(
    "decontaminate",
    """Drop (or annotate) records sharing a long n-gram with evaluation sets (e.g. HumanEval).

    Example: curate cat code.jsonl.zst | curate decontaminate --eval HumanEval.jsonl.gz > clean.jsonl
    """,
)


dedup_app = typer.Typer(cls=DedupGroup, help="Exact and near deduplication.", no_args_is_help=True)
app.add_typer(dedup_app, name="dedup")


RootGroup.generic = staticmethod(pipe_body(None, "Run this stage over the inputs."))
RootGroup.lazy.update(
    {
        "filter": StageCommand("filter", "filter", filter_body),
        "tag": StageCommand("tag", "tag", tag_body),
        "redact": StageCommand(
            "redact",
            "redact",
            redact_body,
            aliases={"fields": ("--field",), "drop_if.min_secrets": ("--drop-min-secrets",)},
        ),
        "license": StageCommand("license", "license", license_body),
        "langid": StageCommand("langid", "langid", langid_body),
        "quality": StageCommand("quality", "quality", quality_body),
        "decontaminate": StageCommand(
            "decontaminate",
            "decontaminate",
            decontaminate_body,
            aliases={"evals": ("--eval",), "eval_fields": ("--eval-field",)},
        ),
    }
)
DedupGroup.lazy.update(
    {
        "exact": StageCommand("exact", "dedup_exact", dedup_exact_body),
        "near": StageCommand("near", "dedup_near", dedup_near_body),
    }
)
