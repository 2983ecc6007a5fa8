"""Replacing detected spans with placeholders, and the per-record audit counts."""

from __future__ import annotations

from collections import Counter

from curate.pii.spans import Span


def apply_spans(
    text: str, spans: list[Span], placeholders: dict[str, str], default: str = "<KEY>"
) -> tuple[str, Counter]:
    """The text with each span replaced by its type's placeholder (or `default`), and counts."""
    counts: Counter = Counter()
    if not spans:
        return text, counts
    parts: list[str] = []
    last = 0
    for span in spans:
        parts.append(text[last : span.start])
        parts.append(placeholders.get(span.kind, default))
        counts[span.kind] += 1
        last = span.end
    parts.append(text[last:])
    return "".join(parts), counts
