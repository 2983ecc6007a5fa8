"""Replacing detected spans with placeholders, and the per-record audit counts."""

from __future__ import annotations

from collections import Counter

from curate.pii.detect import Span

DEFAULT_PLACEHOLDERS = {
    "email": "<EMAIL>",
    "ip_address": "<IP_ADDRESS>",
    "password": "<PASSWORD>",
    "basic_auth": "<PASSWORD>",
    "private_key": "<KEY>",
}
DEFAULT_KEY = "<KEY>"


def apply_spans(text: str, spans: list[Span], placeholders: dict[str, str]) -> tuple[str, Counter]:
    """The text with each span replaced by its type's placeholder, and counts by type."""
    counts: Counter = Counter()
    if not spans:
        return text, counts
    parts: list[str] = []
    last = 0
    for span in spans:
        parts.append(text[last : span.start])
        parts.append(
            placeholders.get(span.kind) or DEFAULT_PLACEHOLDERS.get(span.kind, DEFAULT_KEY)
        )
        counts[span.kind] += 1
        last = span.end
    parts.append(text[last:])
    return "".join(parts), counts
