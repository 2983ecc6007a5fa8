"""Options shared by every command, and the plumbing around them (sources, sinks, policies)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Annotated

import click
import typer

from curate.core.errors import UsageError
from curate.core.fields import Fields
from curate.io.policy import ErrorPolicy, OnError
from curate.io.sources import Source, expand_inputs
from curate.io.writer import StdoutSink

Inputs = Annotated[
    list[str] | None,
    typer.Argument(
        help="Input files, globs, folders or '-' (stdin). Plain, gzip or zstd JSON lines. "
        "Default: stdin.",
        show_default=False,
    ),
]
TextField = Annotated[
    str,
    typer.Option("--text-field", help="Dotted path of the text field.", rich_help_panel="Fields"),
]
IdField = Annotated[
    str, typer.Option("--id-field", help="Dotted path of the id field.", rich_help_panel="Fields")
]
OnErrorOpt = Annotated[
    OnError,
    typer.Option(
        "--on-error",
        help="Bad input lines: fail (exit 1), skip (count them), quarantine (save raw lines).",
        rich_help_panel="Errors",
        case_sensitive=False,
    ),
]
QuarantineOpt = Annotated[
    str | None,
    typer.Option(
        "--quarantine",
        help="File for bad raw lines with --on-error quarantine.",
        rich_help_panel="Errors",
    ),
]
CompressOpt = Annotated[
    str,
    typer.Option(
        "--compress",
        help="Compression of records on stdout.",
        rich_help_panel="Output",
        click_type=click.Choice(["none", "zstd"]),
    ),
]


def make_fields(id_field: str, text_field: str) -> Fields:
    return Fields(id=id_field, text=text_field)


def make_sink(compress: str) -> StdoutSink:
    return StdoutSink(None if compress == "none" else compress)


@contextlib.contextmanager
def error_policy(
    on_error: OnError,
    quarantine: str | None,
    inputs: list[str] | None = None,
    keep_last_duplicate: bool = False,
) -> Iterator[ErrorPolicy]:
    """The run's error policy; reports skipped or quarantined lines on stderr at the end.

    The quarantine file is checked before it is created: never one of the inputs (opening it
    would truncate what is about to be read), and its folder must exist."""
    if quarantine and on_error is not OnError.quarantine:
        raise UsageError("--quarantine is only used with --on-error quarantine")
    if on_error is OnError.quarantine and not quarantine:
        raise UsageError("--on-error quarantine needs --quarantine PATH")
    sink = None
    if quarantine:
        real = os.path.realpath(quarantine)
        for spec in inputs or []:
            if spec != "-" and os.path.exists(spec) and os.path.realpath(spec) == real:
                raise UsageError(f"--quarantine {quarantine}: is also an input")
        if os.path.isdir(quarantine):
            raise UsageError(f"--quarantine {quarantine}: is a folder; give a file")
        folder = os.path.dirname(quarantine) or "."
        if not os.path.isdir(folder):
            raise UsageError(f"--quarantine {quarantine}: folder {folder} does not exist")
        sink = open(quarantine, "wb")  # noqa: SIM115
    try:
        policy = ErrorPolicy(on_error, sink, keep_last_duplicate)
        yield policy
    finally:
        if sink is not None:
            sink.close()
    message = policy.summary(quarantine)
    if message:
        print(message, file=sys.stderr)


def sources_of(inputs: list[str] | None) -> list[Source]:
    return expand_inputs(inputs)


DuplicateKeysOpt = Annotated[
    str,
    typer.Option(
        "--duplicate-keys",
        help="A line with a duplicated key: error, or last (keep the last value and write the "
        "line in canonical form).",
        rich_help_panel="Errors",
        click_type=click.Choice(["error", "last"]),
    ),
]
