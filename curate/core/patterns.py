"""User-supplied regular expressions, compiled once and bounded in time.

A catastrophic pattern (`(a+)+$` on a long line) must not hang a run: matching goes through
the `regex` package with a timeout, and a timeout is reported as an error on that record.
"""

from __future__ import annotations

from curate.core.errors import RecordError

REGEX_TIMEOUT = 1.0  # seconds per match attempt


class BoundedRegex:
    __slots__ = ("pattern", "_compiled", "timeout")

    def __init__(self, pattern: str, timeout: float = REGEX_TIMEOUT):
        self.pattern = pattern
        import regex  # ~20 ms to import: only when a user regex is used

        self._compiled = regex.compile(pattern)  # raises regex.error on bad syntax
        self.timeout = timeout

    def search(self, text: str) -> bool:
        try:
            return self._compiled.search(text, timeout=self.timeout) is not None
        except TimeoutError:
            raise RecordError(f"regex {self.pattern!r} timed out after {self.timeout:g}s") from None


def compile_checked(pattern: str) -> BoundedRegex:
    """Compile, turning a syntax error into a ValueError (pydantic reports it with its path)."""
    import regex

    try:
        return BoundedRegex(pattern)
    except regex.error as exc:
        raise ValueError(f"invalid regex {pattern!r}: {exc}") from None
