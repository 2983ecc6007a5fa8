"""Progress on stderr: a live display on a terminal, periodic plain lines otherwise (CI logs).

stdout is never touched: it may carry data.
"""

from __future__ import annotations

import sys
import time


class RunProgress:
    """Tracks bytes read and records done for one phase at a time."""

    def __init__(self, total_bytes: int | None, *, quiet: bool = False, interval: float = 10.0):
        self.total = total_bytes or None
        self.quiet = quiet
        self.interval = interval
        self.tty = sys.stderr.isatty() and not quiet
        self.started = time.monotonic()
        self.phase = ""
        self.bytes_done = 0
        self.bytes_base = 0  # bytes of inputs already finished
        self.records = 0
        self._last_log = self.started
        self._live = None
        self._task = None
        if self.tty:
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._live = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TransferSpeedColumn(),
                TextColumn("{task.fields[records]} records ({task.fields[rate]}/s)"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=True,
            )
            self._live.start()
            self._task = self._live.add_task("reading", total=self.total, records="0", rate="0")

    def start_phase(self, name: str, total_bytes: int | None = None) -> None:
        self.phase = name
        if total_bytes is not None:
            self.total = total_bytes
        self.bytes_done = self.bytes_base = 0
        self.records = 0
        self.started = time.monotonic()
        if self._live is not None:
            self._live.reset(self._task, total=self.total, description=name)
        self._refresh()

    def input_done(self, size: int) -> None:
        self.bytes_base += size
        self.bytes_done = self.bytes_base

    def advance_bytes(self, current_input_bytes: int) -> None:
        self.bytes_done = self.bytes_base + current_input_bytes
        self._refresh()

    def add_records(self, n: int) -> None:
        self.records += n
        self._refresh()

    def _refresh(self) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        elapsed = max(now - self.started, 1e-9)
        if self._live is not None:
            self._live.update(
                self._task,
                completed=self.bytes_done,
                records=f"{self.records:,}",
                rate=f"{self.records / elapsed:,.0f}",
            )
            return
        if now - self._last_log >= self.interval:
            self._last_log = now
            print(self.line(elapsed), file=sys.stderr, flush=True)

    def line(self, elapsed: float) -> str:
        mb = self.bytes_done / 1e6
        pct = f" {100 * self.bytes_done / self.total:.0f}%" if self.total else ""
        return (
            f"curate run: {self.phase}{pct}: {self.records:,} records, {mb:,.1f} MB read, "
            f"{self.records / elapsed:,.0f} records/s, {mb / elapsed:,.1f} MB/s"
        )

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
