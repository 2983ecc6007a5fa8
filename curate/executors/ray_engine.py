"""The Ray engine: the run's tasks as Ray tasks, results taken back in submission order.

Nothing about the output depends on Ray: units, partitions and their numbering come from the
plan, every task writes its files under names the plan fixed, and the driver takes results
in the order it submitted them, whatever order they finish in. Ray Data is not used: its
block layouts, `preserve_order` default and shuffle order would be one more thing that
could decide what a run writes.

Tasks are idempotent (every file is written under a temporary name and renamed), so a task
lost with its node is simply run again elsewhere (`max_retries`). Each Ray worker process
builds the run's pipeline once, on its first task (`units.state_of` caches it per process),
so the scancode index, the opt-out registry and the rules load once per process, not per task.

Every node must see the inputs, the output folder and the pipeline's rules files at the same
paths (a shared filesystem), and have the same curate installed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from curate.core.errors import CurateError, UsageError, first_line
from curate.executors.engine import Engine, timed_call

#: times Ray runs a task again when its worker process or node dies under it
TASK_RETRIES = 5


def _run(cwd: str, fn: Callable[..., Any], job: tuple) -> tuple[str, Any]:
    """A task body: in the driver's working folder (relative paths in the config mean the
    same everywhere), errors returned as values so that the driver raises the original."""
    if os.getcwd() != cwd:
        os.chdir(cwd)
    try:
        return "ok", timed_call(fn, job)
    except Exception as exc:  # a bad line, a bad rules file: the driver raises it as it is
        return "error", exc


def check_reachable(address: str) -> None:
    """Fail at once, in one line, when a `HOST:PORT` cluster address does not answer (Ray
    itself retries for minutes, printing a warning every few seconds)."""
    if "://" in address or address == "auto":
        return  # Ray Client addresses and `auto` fail fast on their own
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--address {address!r}: expected auto, ray://HOST:PORT or HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise CurateError(
            f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}"
        ) from None


def _ray():
    try:
        import ray
    except ImportError:
        raise UsageError(
            "the ray executor needs Ray: pip install 'curate[ray]' (on every node)"
        ) from None
    return ray


class RayEngine(Engine):
    """Tasks on a Ray cluster: `address` is `auto`, `ray://host:port`, a GCS `host:port`, or
    None to start a local Ray for this run (with `workers` CPUs, if given)."""

    def __init__(self, address: str | None = None, workers: int | None = None):
        super().__init__()
        if address:
            check_reachable(address)
        else:
            # a local Ray of our own: Ray's default (a token) stated, which silences its
            # warning; read when Ray is imported, so set first
            os.environ.setdefault("RAY_AUTH_MODE", "token")
        ray = _ray()
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            options: dict[str, Any] = {
                "logging_level": logging.WARNING,
                "log_to_driver": False,
                "include_dashboard": False,
            }
            if address:
                options["address"] = address
            else:
                options["num_cpus"] = workers or os.cpu_count() or 1
                # results are small summaries: the object store holds next to nothing
                options["object_store_memory"] = 128 << 20
                options["_node_ip_address"] = "127.0.0.1"  # a private cluster: loopback only
            try:
                ray.init(**options)
            except ConnectionError as exc:
                raise UsageError(f"cannot reach the Ray cluster at {address}: {exc}") from None
            self._started = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = max(1, cpus)
        # tasks in flight: one per CPU keeps every core busy; as many again queued means a
        # core that frees up never waits for the driver
        self.inflight = 2 * (workers or self.workers)
        self._task = ray.remote(_run).options(
            num_cpus=1, max_retries=TASK_RETRIES, retry_exceptions=False
        )
        self._cwd = os.getcwd()
        self._pending: deque = deque()

    def _map(self, fn: Callable[..., Any], jobs: Iterable[tuple]) -> Iterator[Any]:
        pending = self._pending
        for job in jobs:
            pending.append(self._task.remote(self._cwd, fn, job))
            if len(pending) >= self.inflight:
                yield self._take(pending.popleft())
        while pending:
            yield self._take(pending.popleft())

    def _take(self, ref) -> Any:
        ray = self._ray
        try:
            status, value = ray.get(ref)
        except ray.exceptions.RayError as exc:  # retries spent, or the cluster went away
            raise CurateError(f"a Ray task failed: {first_line(exc)}") from None
        if status == "error":
            raise value
        return value

    def close(self, ok: bool = True) -> None:
        ray = self._ray
        if not ok:
            for ref in self._pending:
                with contextlib.suppress(Exception):  # finished already, or its node is gone
                    ray.cancel(ref, force=True)
        self._pending.clear()
        if self._started:
            ray.shutdown()
