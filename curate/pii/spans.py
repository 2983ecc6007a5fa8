"""Where a detector found something: character spans of a text, merged when they overlap."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str


def merge(spans: list[Span]) -> list[Span]:
    """Sorted, non-overlapping spans; an overlap keeps the earliest start and longest reach."""
    if not spans:
        return spans
    # the same place found twice keeps the specific kind (stripe_key) over generic_secret
    spans.sort(key=lambda s: (s.start, -s.end, s.kind == "generic_secret"))
    out = [spans[0]]
    for span in spans[1:]:
        last = out[-1]
        if span.start < last.end:
            if span.end > last.end:
                out[-1] = Span(last.start, span.end, last.kind)
            continue
        out.append(span)
    return out
