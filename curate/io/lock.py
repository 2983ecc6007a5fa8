"""One writer per output folder: an exclusive lock on the folder itself, held for the run.

`flock` on the folder's own descriptor leaves no file behind (nothing for `verify` to call
extra) and is released by the kernel when the process dies, so a killed run never leaves a
stale lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from curate.errors import UsageError


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"{folder}: another curate process is writing this folder (wait for it to end)"
            ) from None
        yield
    finally:
        os.close(fd)
