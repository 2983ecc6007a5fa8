"""Fault injection for the kill/resume tests: `CURATE_KILL_AT=point[:n]` SIGKILLs the process
the n-th time (default 1st) it passes that point, exactly as a crash or `kill -9` would there.

Points: `unit` (a unit's result taken), `assembled` (shards written, before the card),
`manifest` (manifest written, before clean-up), `cleanup` (work folder renamed for removal),
`cleanup-file` (a file of it removed).
"""

from __future__ import annotations

import os
import signal

_SPEC = os.environ.get("CURATE_KILL_AT", "")
_POINT, _, _NTH = _SPEC.partition(":")
_COUNT = 0


def checkpoint(point: str) -> None:
    global _COUNT
    if not _POINT or point != _POINT:
        return
    _COUNT += 1
    if int(_NTH or 1) <= _COUNT:
        os.kill(os.getpid(), signal.SIGKILL)
