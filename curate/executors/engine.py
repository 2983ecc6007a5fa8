"""Where tasks run: the executor interface the driver talks to.

A task is a top-level function and picklable arguments; the first argument is always the
run's `RunSpec`, from which a worker builds (once per process) everything it needs. So an
engine needs nothing but to call functions somewhere and hand results back in order: in this
process, on forked processes, or (later) on a cluster.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from curate.executors.forked import OrderedWorkers


def _call(fn: Callable[..., Any], args: tuple) -> Any:
    return fn(*args)


class Engine:
    """Runs tasks; results come back in submission order."""

    workers = 1

    def map(self, fn: Callable[..., Any], jobs: Iterable[tuple]) -> Iterator[Any]:
        raise NotImplementedError

    def close(self, ok: bool = True) -> None:
        """Stop the workers: politely after success, at once (SIGKILL) otherwise."""


class InlineEngine(Engine):
    """Every task in this process, one after the other (`workers: 1`)."""

    def map(self, fn, jobs):
        for job in jobs:
            yield fn(*job)


class ForkEngine(Engine):
    """Tasks on forked worker processes, a bounded number in flight, results in order.

    `warm` runs in this process before the fork: whatever it loads (rules, scancode's license
    index) is shared with the workers, copy-on-write, instead of loaded by each.
    """

    def __init__(self, workers: int, warm: Callable[[], Any] | None = None):
        self.workers = workers
        if warm is not None:
            warm()
        gc.freeze()  # loaded state stays shared: the collector does not touch its pages
        self.pool = OrderedWorkers(workers, _call)

    def map(self, fn, jobs):
        pool = self.pool
        for job in jobs:
            yield from pool.submit(fn, job)
        yield from pool.drain()

    def close(self, ok: bool = True) -> None:
        if ok:
            self.pool.close()
        else:
            self.pool.kill()


def make_engine(workers: int, warm: Callable[[], Any] | None = None) -> Engine:
    if workers <= 1:
        if warm is not None:
            warm()
        return InlineEngine()
    return ForkEngine(workers, warm)
