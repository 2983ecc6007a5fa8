"""Turning command-line inputs (paths, globs, folders, `-`) into an ordered list of sources."""

from __future__ import annotations

import glob
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

from curate.core.errors import CurateError, InputError, UsageError
from curate.io.dataset_files import shard_paths

STDIN_NAME = "<stdin>"
_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class Source:
    """One input stream. `name` is what error messages show: the path as given, or `<stdin>`."""

    name: str
    path: str | None = None  # None means standard input

    @property
    def is_stdin(self) -> bool:
        return self.path is None

    def open(self) -> BinaryIO:
        if self.path is None:
            if sys.stdin is None:
                raise InputError(self.name, None, "standard input is closed")
            return sys.stdin.buffer
        try:
            return open(self.path, "rb")  # noqa: SIM115 - closed by the reader
        except FileNotFoundError:
            raise InputError(self.name, None, "no such file") from None
        except IsADirectoryError:
            raise InputError(self.name, None, "is a directory") from None
        except PermissionError:
            raise InputError(self.name, None, "permission denied") from None
        except OSError as exc:  # a symlink loop, a name too long, ...
            raise InputError(self.name, None, exc.strerror or str(exc)) from None

    def size(self) -> int | None:
        if self.path is None:
            return None
        try:
            return os.path.getsize(self.path)
        except OSError:
            return None


def _folder_files(folder: Path) -> list[Path]:
    """A dataset folder's shards (as its manifest lists them), or else every `*.jsonl*` and
    `*.parquet` file below the folder, sorted, skipping `rejects/`, `quarantine/` and hidden entries."""
    manifest = folder / "manifest.json"
    if manifest.is_file():
        try:
            data = orjson.loads(manifest.read_bytes())
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict) and "shards" in data:
            return shard_paths(folder, data)
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and d not in ("rejects", "quarantine")
        )
        for name in files:
            if not name.startswith(".") and (".jsonl" in name or name.endswith(".parquet")):
                found.append(Path(root) / name)
    return sorted(found, key=lambda p: p.relative_to(folder).parts)


def expand_inputs(specs: list[str] | None) -> list[Source]:
    """Expand inputs in the order given; globs and folders expand sorted. Nothing means stdin."""
    if not specs:
        return [Source(STDIN_NAME)]
    sources: list[Source] = []
    for spec in specs:
        if spec == "-":
            sources.append(Source(STDIN_NAME))
        elif _GLOB_CHARS & set(spec) and not os.path.exists(spec):
            matches = sorted(glob.glob(spec, recursive=True))
            # `**` follows symlinked folders: a loop would list one file dozens of times
            seen: set[str] = set()
            files = []
            for m in matches:
                real = os.path.realpath(m)
                if os.path.isfile(m) and real not in seen:
                    seen.add(real)
                    files.append(m)
            if not files:
                raise CurateError(f"no input file matches {spec!r}")  # exit 1, as a missing file
            sources.extend(Source(m, m) for m in files)
        elif os.path.isdir(spec):
            files = _folder_files(Path(spec))
            if not files:
                raise UsageError(f"no *.jsonl* or *.parquet file in folder {spec!r}")
            sources.extend(Source(str(p), str(p)) for p in files)
        else:
            sources.append(Source(spec, spec))
    return sources


def check_not_inside(out: Path, sources: list[Source], quarantine: Path | str | None) -> None:
    """A write must never destroy what it reads: no input inside the output folder, and the
    quarantine file not an input."""
    root = os.path.realpath(out)
    real_inputs = {os.path.realpath(s.path): s.name for s in sources if s.path is not None}
    for real, name in real_inputs.items():
        if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
            raise UsageError(f"input {name} is inside the output folder {out}")
    if quarantine:
        real = os.path.realpath(quarantine)
        if real in real_inputs:
            raise UsageError(f"the quarantine file {quarantine} is also an input")
