"""The `curate` command: a typer app whose commands are thin shells over library code.

`main` is the console entry point. It turns every expected failure into one line on stderr
(`curate: error: ...`) with a meaningful exit code, and keeps stdout for data only.
"""

from __future__ import annotations

import gc
import os
import signal
import sys

import click
import typer

from curate.cli.lazy_group import RootGroup
from curate.core.errors import CurateError, Interrupted, OutputClosed
from curate.core.version import __version__

app = typer.Typer(
    cls=RootGroup,
    name="curate",
    help="Curate LLM pretraining corpora: composable stages over JSON-lines records.\n\n"
    "Example: curate cat shards/*.jsonl.zst | curate filter --min-chars 20 | curate count",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"curate {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Curate LLM pretraining corpora: composable stages over JSON-lines records."""


from curate.cli import (  # noqa: E402,F401  (register commands)
    io_commands,
    manifest_commands,
    optout_commands,
    run_commands,
    stage_commands,
)


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def _interrupt(signum, frame) -> None:
    raise Interrupted()


def _configure_logging() -> None:
    """`CURATE_LOG_LEVEL=debug|info|warning` sends curate's logs to stderr (default: warning)."""
    import logging

    level = os.environ.get("CURATE_LOG_LEVEL", "warning").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.WARNING),
        stream=sys.stderr,
        format="curate %(levelname)s %(name)s: %(message)s",
    )


def main(argv: list[str] | None = None) -> None:
    _configure_logging()
    # Records are acyclic dicts created by the million: the default collector thresholds make
    # it rescan them constantly (~25% of a dedup pass). Collect far less often instead.
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        code = app(args=argv, prog_name="curate", standalone_mode=False)
    except CurateError as exc:
        label = "curate: " if exc.exit_code == 0 else "curate: error: "
        print(f"{label}{exc.message}", file=sys.stderr)
        code = exc.exit_code
    except RecursionError:
        print("curate: error: input nested too deeply to process", file=sys.stderr)
        code = 1
    except click.ClickException as exc:  # usage errors from the argument parser
        ctx = getattr(exc, "ctx", None)
        hint = ""
        if ctx is not None and ctx.command is not None:
            path = ctx.command_path or "curate"
            hint = f" (see '{path} --help')"
        message = exc.format_message() or "missing command"  # a group run without one
        print(f"curate: error: {message}{hint}", file=sys.stderr)
        code = exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt, Interrupted):
        print("curate: interrupted", file=sys.stderr)
        code = 130
    except (OutputClosed, BrokenPipeError):
        _silence_stdout()
        code = 0
    except OSError as exc:  # a full disk, a closed stream, a path that cannot be opened
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"curate: error: {where}{exc.strerror or exc}", file=sys.stderr)
        code = 1
    # Finalise abandoned generators (a reader's decompression thread among them) now, while
    # the interpreter is whole: left to shutdown, a live helper thread can abort the process.
    gc.collect()
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    except OSError as exc:
        print(f"curate: error: <stdout>: {exc.strerror or exc}", file=sys.stderr)
        _silence_stdout()
        code = code or 1
    sys.exit(code if isinstance(code, int) else 0)
