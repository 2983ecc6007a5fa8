"""The files of a dataset folder as its manifest lists them, confined to the folder."""

from __future__ import annotations

import os
from pathlib import Path

from curate.core.errors import CurateError

MANIFEST = "manifest.json"


def member_path(folder: Path, rel: object, manifest_file: Path | None = None) -> Path:
    """A path a manifest lists, inside its dataset folder, or a one-line error: a manifest
    must never make curate read or hash files elsewhere (`../`, absolute paths, symlinks)."""
    where = manifest_file or folder / MANIFEST
    if not isinstance(rel, str) or not rel or "\x00" in rel or "\\" in rel:
        raise CurateError(f"{where}: invalid file path {rel!r}")
    parts = rel.split("/")
    if rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise CurateError(f"{where}: file path {rel!r} is outside the dataset folder")
    path = folder / rel
    real_root = os.path.realpath(folder)
    real = os.path.realpath(path)
    if not real.startswith(real_root.rstrip(os.sep) + os.sep):
        raise CurateError(f"{where}: file path {rel!r} leads outside the dataset folder")
    return path


def shard_paths(folder: Path, manifest: dict) -> list[Path]:
    """The shards a manifest lists, each checked to lie inside the folder."""
    shards = manifest.get("shards")
    if not isinstance(shards, list) or not all(isinstance(s, dict) for s in shards):
        raise CurateError(f"{folder / MANIFEST}: 'shards' is not a list of objects")
    return [member_path(folder, s.get("path")) for s in shards]
