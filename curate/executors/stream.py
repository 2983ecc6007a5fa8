"""The pipe executor: read batches, push them through the stages, write to a sink, in one pass.

Global stages run in their streaming form here, which keeps the same records as the
map/reduce form used by `curate run` (keep-first in input order).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from curate.io.policy import ErrorPolicy
from curate.io.reader import Batch, read_batches
from curate.io.sources import Source
from curate.stages.base import Context, GlobalStage, Stage, StageStats


def process_batches(
    stages: list[Stage], batches: Iterable[Batch], ctx: Context, stats: list[StageStats]
) -> Iterator[Batch]:
    """Yield each batch after every stage has seen it; dropped records go to `ctx`.

    At the end, global stages release what they held back (`flush`), which then passes
    through the stages after them.
    """
    pairs = list(zip(stages, stats))

    def through(batch: Batch, start: int) -> Batch:
        for stage, stage_stats in pairs[start:]:
            if not batch.records:
                break
            batch = stage.process(batch, ctx, stage_stats)
        return batch

    for batch in batches:
        batch = through(batch, 0)
        if batch.records:
            yield batch
    for i, (stage, stage_stats) in enumerate(pairs):
        if isinstance(stage, GlobalStage):
            for held in stage.flush(ctx, stage_stats):
                batch = through(held, i + 1)
                if batch.records:
                    yield batch


def run_pipe(
    stages: list[Stage], sources: list[Source], policy: ErrorPolicy, sink
) -> list[StageStats]:
    """Run stages over sources into `sink` (anything with `write_batch(batch)` and `close()`)."""
    stats = [StageStats() for _ in stages]
    ctx = Context(policy)
    for batch in process_batches(stages, read_batches(sources, policy), ctx, stats):
        sink.write_batch(batch)
    sink.close()
    return stats
