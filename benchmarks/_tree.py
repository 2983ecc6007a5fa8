"""Measure a command and every process it starts: wall, CPU %, peak RSS per process and summed.

`ru_maxrss` of RUSAGE_CHILDREN only gives the largest descendant; a run's memory is the sum
over its driver and workers, so this samples `/proc/<pid>/status` (VmHWM, the kernel's own
high-water mark per process) of the whole tree every 50 ms. HWM only grows, so the last sample
of each process is its peak up to ~50 ms before it exits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class TreeUsage:
    seconds: float
    cpu_percent: float
    peak_rss_mb: float  # largest single process
    sum_rss_mb: float  # sum of every process's peak
    processes: int


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _hwm_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


# Run through a wrapper whose own RUSAGE_CHILDREN covers this command alone (ours accumulates
# over every command this benchmark ran).
_WRAPPER = (
    "import resource, subprocess, sys; "
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
    "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(u.ru_maxrss, u.ru_utime + u.ru_stime); sys.exit(r.returncode)"
)


def _cpu_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime


def run_tree(
    cmd: list[str],
    cwd: str | None = None,
    env: dict | None = None,
    extra_roots: list[int] = (),
) -> TreeUsage:
    """Run `cmd` (stdout discarded) and measure it with all its descendants, and with the
    trees under `extra_roots` (a Ray cluster's raylets: their workers are not the command's
    children; their CPU is counted from /proc while the command runs)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRAPPER, *cmd],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    peaks: dict[int, int] = {}
    done = threading.Event()

    ticks: dict[int, list[int]] = {}  # extra processes: first and last CPU ticks seen

    def sample() -> None:
        while not done.is_set():
            tree = _children()
            stack = list(tree.get(proc.pid, ()))  # the command and below, not the wrapper
            extra = list(extra_roots)
            while stack or extra:
                own = bool(stack)
                pid = stack.pop() if stack else extra.pop()
                hwm = _hwm_kb(pid)
                if hwm is not None:
                    peaks[pid] = max(peaks.get(pid, 0), hwm)
                if not own:
                    t = _cpu_ticks(pid)
                    if t is not None:
                        ticks.setdefault(pid, [t, t])[1] = t
                (stack if own else extra).extend(tree.get(pid, ()))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} exited {proc.returncode}: {stderr.decode()[-2000:]}")
    maxrss, cpu = stdout.split()[-2:]
    # The largest process is also known exactly from rusage (covers one that outran sampling).
    largest = max(max(peaks.values(), default=0), int(maxrss))
    cpu = float(cpu) + sum(b - a for a, b in ticks.values()) / os.sysconf("SC_CLK_TCK")
    return TreeUsage(
        seconds=seconds,
        cpu_percent=100 * cpu / seconds,
        peak_rss_mb=largest / 1024,
        sum_rss_mb=sum(peaks.values()) / 1024,
        processes=len(peaks),
    )
