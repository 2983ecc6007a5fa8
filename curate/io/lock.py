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

from curate.core.errors import UsageError

_HELD: set[int] = set()


def _close_in_child() -> None:
    # A forked worker shares the lock's open file: closing its copy leaves the parent as the
    # only holder, so a killed parent releases the folder at once (busy workers would not).
    for fd in list(_HELD):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_close_in_child)


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"{folder}: another curate process is writing this folder (wait for it to end)"
            ) from None
        _HELD.add(fd)
        yield
    finally:
        _HELD.discard(fd)
        os.close(fd)
