"""Where tasks run: the executor interface the driver talks to.

A task is a top-level function and picklable arguments; the first argument is always the
run's `RunSpec`, from which a worker builds (once per process) everything it needs. So an
engine needs nothing but to call functions somewhere and hand results back in order: in this
process, on forked processes, or (later) on a cluster.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from curate.executors.forked import OrderedWorkers


def timed_call(fn: Callable[..., Any], job: tuple) -> tuple[Any, float]:
    """A task as every engine runs it: its result and the seconds it took where it ran."""
    started = time.perf_counter()
    value = fn(*job)
    return value, time.perf_counter() - started


@dataclass
class StepTiming:
    """One `map` call: how many tasks, its wall time, and the seconds its tasks took (summed
    and the longest) — what a projection to more nodes needs."""

    step: str
    tasks: int = 0
    wall: float = 0.0
    task_seconds: float = 0.0
    longest_task: float = 0.0

    def to_dict(self) -> dict:
        return {
            "step": self.step,
            "tasks": self.tasks,
            "wall": round(self.wall, 3),
            "task_seconds": round(self.task_seconds, 3),
            "longest_task": round(self.longest_task, 3),
        }


class Engine:
    """Runs tasks; results come back in submission order. Subclasses implement `_map`, which
    yields `timed_call` results; `map` keeps the timings."""

    workers = 1

    def __init__(self) -> None:
        self.timings: list[StepTiming] = []

    def map(
        self, fn: Callable[..., Any], jobs: Iterable[tuple], step: str | None = None
    ) -> Iterator[Any]:
        """`fn(*job)` for every job, somewhere; results in job order. `step` names the
        work in the timings (`run.json`)."""
        started = time.perf_counter()
        timing: StepTiming | None = None

        def named(items: Iterable[tuple]) -> Iterator[tuple]:
            nonlocal timing
            for job in items:
                if timing is None:
                    timing = StepTiming(step or getattr(fn, "__name__", "task").lstrip("_"))
                    self.timings.append(timing)
                yield job

        for value, seconds in self._map(fn, named(jobs)):
            assert timing is not None
            timing.tasks += 1
            timing.task_seconds += seconds
            timing.longest_task = max(timing.longest_task, seconds)
            timing.wall = time.perf_counter() - started
            yield value

    def _map(self, fn: Callable[..., Any], jobs: Iterable[tuple]) -> Iterator[tuple[Any, float]]:
        raise NotImplementedError

    def close(self, ok: bool = True) -> None:
        """Stop the workers: politely after success, at once (SIGKILL) otherwise."""


class InlineEngine(Engine):
    """Every task in this process, one after the other (`workers: 1`)."""

    def _map(self, fn, jobs):
        for job in jobs:
            yield timed_call(fn, job)


class ForkEngine(Engine):
    """Tasks on forked worker processes, a bounded number in flight, results in order.

    `warm` runs in this process before the fork: whatever it loads (rules, scancode's license
    index) is shared with the workers, copy-on-write, instead of loaded by each.
    """

    def __init__(self, workers: int, warm: Callable[[], Any] | None = None):
        super().__init__()
        self.workers = workers
        if warm is not None:
            warm()
        gc.freeze()  # loaded state stays shared: the collector does not touch its pages
        self.pool = OrderedWorkers(workers, timed_call)

    def _map(self, fn, jobs):
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
