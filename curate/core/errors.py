"""Errors that reach the user as one line: `curate: error: <where>: <what>`.

Every failure a user can cause (bad input, bad config, bad arguments) is one of these; the CLI
turns them into a single stderr line and an exit code instead of a traceback.
"""

from __future__ import annotations


class CurateError(Exception):
    """An error worth one line on stderr. `exit_code` 1 for data problems, 2 for usage."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(CurateError):
    """Wrong arguments or options: exit code 2, like every CLI."""

    exit_code = 2


class ConfigError(CurateError):
    """An invalid pipeline, rules or registry file; the message names file, line and key path."""

    exit_code = 2


class InputError(CurateError):
    """Bad input data at a known place: `<file>:<line>: <problem>`."""

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        self.source = source
        self.line = line
        self.problem = problem
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):  # crosses process boundaries from workers intact
        return (InputError, (self.source, self.line, self.problem))


class RecordError(Exception):
    """A record that a stage cannot process (e.g. missing its text field).

    Raised without a location; the runner adds file and line from the batch it came from.
    """

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem

    def __reduce__(self):
        return (RecordError, (self.problem,))


class OutputClosed(Exception):
    """The reader of our stdout went away (`| head`): stop quietly, it is not an error.

    Deliberately not an OSError, so that no layer in between mistakes it for a failure.
    """


class Interrupted(BaseException):
    """Ctrl-C / SIGINT or SIGTERM, raised by our own handler so it reaches `main` intact."""


def first_line(exc: BaseException) -> str:
    """An exception's message cut to its first line (libraries' messages run to many), or its
    type's name when it has none: what fits a one-line error."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
