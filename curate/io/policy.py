"""What to do with a bad line: fail (default), skip and count, or quarantine the raw bytes."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import BinaryIO

from curate.core.errors import InputError, UsageError


class OnError(str, Enum):
    fail = "fail"
    skip = "skip"
    quarantine = "quarantine"


class ErrorPolicy:
    """Counts, skips or quarantines bad input; raises `InputError` under `fail`.

    Messages never carry the offending content (it may be a secret or an opted-out text);
    quarantine keeps the raw line, unchanged, only in the quarantine sink.
    """

    def __init__(
        self,
        mode: OnError | str = OnError.fail,
        quarantine: BinaryIO | None = None,
        keep_last_duplicate: bool = False,
    ):
        self.mode = OnError(mode)
        # a line with a duplicated key: an error (default), or read with the last value winning
        # and written in its canonical form
        self.keep_last_duplicate = keep_last_duplicate
        if self.mode is OnError.quarantine and quarantine is None:
            raise UsageError("--on-error quarantine needs --quarantine PATH")
        self.quarantine = quarantine
        # privacy screens of the run's stages for quarantined lines: `screen` gives the opt-out
        # proof {id, kind, ref} of a line the registry matches (the line is then withheld),
        # `scrub` redacts a line before it is kept
        self.screen: Callable[[bytes], dict | None] | None = None
        self.scrub: Callable[[bytes], bytes] | None = None
        self.withheld: list[dict] = []
        self.errors = 0
        self.empty_lines = 0
        self.first_error: str | None = None
        self.first_error_at: tuple[str, int | None, str] | None = None
        # added to line numbers: a worker reading part of a file knows its lines from the
        # unit's start until the driver tells it where the unit starts
        self.line_base = 0

    def bad_line(self, source: str, line: int | None, problem: str, raw: bytes | None) -> None:
        if line is not None:
            line += self.line_base
        error = InputError(source, line, problem)
        if self.mode is OnError.fail:
            raise error
        self.errors += 1
        if self.first_error is None:
            self.first_error = error.message
            self.first_error_at = (source, line, problem)
        if self.quarantine is not None and raw:
            raw = raw.rstrip(b"\n")
            if self.screen is not None:
                proof = self.screen(raw)
                if proof is not None:  # opted out: only the proof is kept, never the line
                    self.withheld.append({**proof, "source": source, "line": line})
                    return
            if self.scrub is not None:
                raw = self.scrub(raw)
            self.quarantine.write(raw + b"\n")

    def summary(self, quarantine_path: str | None = None) -> str | None:
        """One line for stderr at the end of a run, or None when nothing was bad."""
        if not self.errors:
            return None
        verb = "quarantined" if self.mode is OnError.quarantine else "skipped"
        where = f" to {quarantine_path}" if quarantine_path and verb == "quarantined" else ""
        noun = "line" if self.errors == 1 else "lines"
        return f"curate: {verb} {self.errors} bad {noun}{where} (first: {self.first_error})"
