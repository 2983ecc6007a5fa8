"""The pipe executor: read batches, push them through the stages, write to a sink, in one pass.

Global stages run in their streaming form here, which keeps the same records as the
map/reduce form used by `curate run` (keep-first in input order).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

from curate.io.policy import ErrorPolicy
from curate.io.reader import Batch, read_batches
from curate.io.sources import Source
from curate.stages.base import Context, Stage, StageStats


def process_batches(
    stages: list[Stage], batches: Iterable[Batch], ctx: Context, stats: list[StageStats]
) -> Iterator[Batch]:
    """Chain the stages' streams: each batch flows through every stage in turn; global
    stages release what they held back at the end of their input."""
    stream: Iterator[Batch] = iter(batches)
    for stage, stage_stats in zip(stages, stats):
        stream = stage.stream(stream, ctx, stage_stats)
    return stream


def run_pipe(
    stages: list[Stage],
    sources: list[Source],
    policy: ErrorPolicy,
    sink,
    ctx: Context | None = None,
) -> list[StageStats]:
    """Run stages over sources into `sink` (anything with `write_batch(batch)` and `close()`)."""
    stats = [StageStats() for _ in stages]
    ctx = ctx or Context(policy)
    with contextlib.closing(read_batches(sources, policy)) as batches:
        for batch in process_batches(stages, batches, ctx, stats):
            sink.write_batch(batch)
    sink.close()
    return stats
