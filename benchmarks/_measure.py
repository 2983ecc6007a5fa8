"""Run a command as a child, returning (seconds, peak RSS in MB) of that command alone."""

from __future__ import annotations

import compileall
import subprocess
import sys
import time
from pathlib import Path

import curate

# A pip install ships curate as bytecode; an editable one under PYTHONDONTWRITEBYTECODE (set
# on this machine) would compile it from source at every start (~30 ms). Measure the former.
compileall.compile_dir(Path(curate.__file__).parent, quiet=1)

_WRAPPER = (
    "import resource, subprocess, sys; "
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"
)


def measure(cmd: list[str], cwd: str | None = None) -> tuple[float, float]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _WRAPPER, *cmd], capture_output=True, cwd=cwd)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed: {done.stderr.decode()[-2000:]}")
    return seconds, int(done.stdout.split()[-1]) / 1024
