"""Forked worker processes with results in submission order, which can always be stopped.

`multiprocessing.Pool` shares one job queue and lock between its workers and feeds it from a
thread: `terminate()` can wait forever on that thread, blocked sending to a worker, or on a
lock a killed worker held (`curate dedup near | head -n 1` hung that way). Here every worker
has its own pipe and is sent a job only while it waits for one, so the parent never blocks on
a send, and stopping is a SIGKILL to each worker: no thread, no shared lock, nothing to wait on.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from curate.core.errors import CurateError


def _quiet() -> None:
    # the parent handles Ctrl-C and stops the workers; a worker must not print a traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def _serve(conn, fn: Callable[..., Any], siblings: list) -> None:
    _quiet()
    # the parent's ends of earlier workers' pipes came along with the fork: closed, a dead
    # parent means end-of-file here, and every worker ends instead of waiting forever
    for other in siblings:
        other.close()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            result = ("ok", fn(*job))
        except Exception as exc:  # handed to the parent, which raises it there
            result = ("error", exc)
        try:
            conn.send(result)
        except (BrokenPipeError, OSError):
            return


class OrderedWorkers:
    """`workers` forked processes running `fn`; `submit` hands out jobs round-robin and returns
    the results (oldest first) it had to collect to free the next worker."""

    def __init__(self, workers: int, fn: Callable[..., Any]):
        ctx = multiprocessing.get_context("fork")
        self._conns = []
        self._procs = []
        for _ in range(workers):
            parent, child = ctx.Pipe()
            siblings = [*self._conns, parent]
            proc = ctx.Process(target=_serve, args=(child, fn, siblings), daemon=True)
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)
        self._busy = [False] * workers
        self._inflight: deque[int] = deque()
        self._next = 0

    def submit(self, *job: Any) -> list[Any]:
        done = []
        w = self._next
        while self._busy[w]:
            done.append(self._collect())
        self._conns[w].send(job)
        self._busy[w] = True
        self._inflight.append(w)
        self._next = (w + 1) % len(self._conns)
        return done

    def pending(self) -> int:
        return len(self._inflight)

    def collect(self) -> Any:
        """The oldest result still out."""
        return self._collect()

    def drain(self) -> Iterator[Any]:
        while self._inflight:
            yield self._collect()

    def _collect(self) -> Any:
        w = self._inflight.popleft()
        try:
            status, value = self._conns[w].recv()
        except (EOFError, OSError):
            code = self._procs[w].exitcode
            raise CurateError(f"a worker process died (exit code {code})") from None
        self._busy[w] = False
        if status == "error":
            raise value
        return value

    def close(self) -> None:
        """Let idle workers end, then wait for them."""
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.send(None)
        for proc in self._procs:
            proc.join()
        for conn in self._conns:
            conn.close()

    def kill(self) -> None:
        """Stop now, whatever the workers are doing."""
        for proc in self._procs:
            proc.kill()
        for proc in self._procs:
            proc.join()
        for conn in self._conns:
            conn.close()
