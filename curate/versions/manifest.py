"""Dataset manifests: build and write them deterministically, and verify a folder against one.

A manifest is a pure function of the inputs, the config and the code versions: keys sorted,
lists in a stable order, paths relative, and the only clock reading is `created`, which
`SOURCE_DATE_EPOCH` pins. Timings live beside it in `run.json`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
import resource
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from curate.core.errors import CurateError, UsageError
from curate.core.version import __version__
from curate.io.atomic import atomic_write
from curate.io.dataset_files import MANIFEST, member_path
from curate.io.hashing import sha256_file
from curate.io.writer import ShardInfo

MANIFEST_VERSION = 1
RUN_INFO = "run.json"
REPORT = "report.html"  # derived from the rest (and from run.json's timings): not listed
CARD = "README.md"
KEY_DEPENDENCIES = (
    "orjson",
    "zstandard",
    "pydantic",
    "numpy",
    "PyYAML",
    "regex",
    "datasketch",
    "detect-secrets",
    "scancode-toolkit",
    "license-expression",
)
# files a dataset folder may hold that the manifest does not list
UNLISTED = {MANIFEST, RUN_INFO, REPORT}


def created_timestamp() -> str:
    """UTC creation time, from SOURCE_DATE_EPOCH when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        try:
            when = dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc)
        except ValueError:
            raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not an integer") from None
    else:
        when = dt.datetime.now(tz=dt.timezone.utc).replace(microsecond=0)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def dependency_versions() -> dict[str, str]:
    from importlib import metadata  # noqa: PLC0415 - ~20 ms; only a manifest needs it

    out = {}
    for name in KEY_DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def dumps_manifest(manifest: dict) -> bytes:
    return orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


@dataclass
class ManifestParts:
    """What a writer of a dataset folder knows at the end; turned into a manifest by `build`."""

    name: str
    version: str
    fields: dict
    config: dict | None = None
    parent: dict | None = None
    resources: list[dict] = field(default_factory=list)
    inputs: list[dict] = field(default_factory=list)
    shards: list[ShardInfo] = field(default_factory=list)
    rejects: list[ShardInfo] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)
    stages: list[dict] = field(default_factory=list)
    totals: dict = field(default_factory=dict)
    composition: dict = field(default_factory=dict)
    stage_info: dict = field(default_factory=dict)


def build(parts: ManifestParts) -> dict:
    config_sha = None
    if parts.config is not None:
        config_sha = hashlib.sha256(
            orjson.dumps(parts.config, option=orjson.OPT_SORT_KEYS)
        ).hexdigest()
    return {
        "manifest_version": MANIFEST_VERSION,
        "name": parts.name,
        "version": parts.version,
        "parent": parts.parent,
        "created": created_timestamp(),
        "curate_version": __version__,
        "python": platform.python_version(),
        "dependencies": dependency_versions(),
        "fields": parts.fields,
        "pipeline": {"config": parts.config, "sha256": config_sha},
        "resources": sorted(parts.resources, key=lambda r: (r["kind"], r["path"])),
        "inputs": parts.inputs,
        "shards": [_shard(s) for s in parts.shards],
        "rejects": [_shard(s) for s in parts.rejects],
        "files": sorted(parts.files, key=lambda f: f["path"]),
        "stages": parts.stages,
        "totals": parts.totals,
        "composition": parts.composition,
        "stage_info": parts.stage_info,
    }


def _shard(info: ShardInfo) -> dict:
    return {"path": info.path, "sha256": info.sha256, "bytes": info.bytes, "records": info.records}


def write_manifest(folder: Path, manifest: dict) -> None:
    atomic_write(folder / MANIFEST, dumps_manifest(manifest))


def load_manifest(path: Path) -> tuple[Path, dict]:
    """A manifest from a dataset folder or a manifest file: (folder, manifest)."""
    file = path / MANIFEST if path.is_dir() else path
    if not file.exists():
        raise CurateError(f"{path}: no {MANIFEST} (not a curate dataset folder)")
    try:
        data = orjson.loads(file.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise CurateError(f"{file}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or "manifest_version" not in data:
        raise CurateError(f"{file}: not a curate manifest")
    return file.parent, data


def parent_reference(path: Path) -> dict:
    """How a manifest names the version it was built from or compared to."""
    folder, manifest = load_manifest(path)
    sha, _ = sha256_file(folder / MANIFEST)
    return {
        "name": manifest.get("name"),
        "version": manifest.get("version"),
        "manifest_sha256": sha,
    }


# ---- verify --------------------------------------------------------------------------------


def listed_files(manifest: dict) -> list[dict]:
    return [*manifest.get("shards", []), *manifest.get("rejects", []), *manifest.get("files", [])]


def verify(folder: Path) -> dict:
    """Re-hash every file the manifest lists; report missing, truncated, altered, extra."""
    folder, manifest = load_manifest(folder)
    problems: list[dict] = []
    listed = listed_files(manifest)
    names = {entry["path"] for entry in listed}
    for entry in sorted(listed, key=lambda e: e["path"]):
        path = member_path(folder, entry["path"])
        if not path.is_file():
            problems.append({"path": entry["path"], "problem": "missing"})
            continue
        size = path.stat().st_size
        if size < entry["bytes"]:
            problems.append(
                {
                    "path": entry["path"],
                    "problem": "truncated",
                    "bytes": size,
                    "expected_bytes": entry["bytes"],
                }
            )
            continue
        sha, _ = sha256_file(path)
        if sha != entry["sha256"] or size != entry["bytes"]:
            problems.append(
                {
                    "path": entry["path"],
                    "problem": "altered",
                    "sha256": sha,
                    "expected_sha256": entry["sha256"],
                }
            )
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(folder).as_posix()
        if rel in names or rel in UNLISTED:
            continue
        problems.append({"path": rel, "problem": "extra"})
    return {
        "ok": not problems,
        "dataset": f"{manifest.get('name')} {manifest.get('version')}",
        "checked": len(listed),
        "problems": problems,
    }


def describe_problem(problem: dict) -> str:
    kind, path = problem["problem"], problem["path"]
    if kind == "missing":
        return f"missing: {path} (listed in the manifest, not on disk)"
    if kind == "truncated":
        return f"truncated: {path} ({problem['bytes']:,} of {problem['expected_bytes']:,} bytes)"
    if kind == "altered":
        return f"altered: {path} (sha256 {problem['sha256'][:12]}..., expected {problem['expected_sha256'][:12]}...)"
    return f"extra: {path} (not in the manifest)"


def stage_entries(stages: list, stats: list) -> list[dict]:
    """The manifest's per-stage counts (no timings: those go to run.json)."""
    out = []
    for stage, st in zip(stages, stats):
        out.append({"stage": stage.name, **st.to_dict()})
    return out


def peak_rss_bytes() -> int:
    """This process's peak resident memory so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def run_info(
    stages: list,
    stats: list,
    workers: int,
    seconds: float,
    executor: dict | None = None,
    steps: list[dict] | None = None,
) -> dict[str, Any]:
    return {
        "executor": executor or {},
        "workers": workers,
        "seconds": round(seconds, 3),
        # the driver's high-water mark: it plans and gathers summaries, so this must not
        # grow with the input (forked or remote workers are not counted in it)
        "driver_peak_rss_bytes": peak_rss_bytes(),
        "stages": [
            {"stage": s.name, "seconds": round(st.seconds, 3)} for s, st in zip(stages, stats)
        ],
        "steps": steps or [],
    }
