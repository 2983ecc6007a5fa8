"""The stage model: every stage is one class with one typed config model.

Per-record stages keep, edit or drop one record at a time (`apply` returns a verdict; this
module turns verdicts into kept records, new lines, counts, rejects and proofs) and
parallelise trivially.
Global stages (dedup) split into a `map` that computes small keys per batch and a `reduce`
that decides from the keys alone; in a pipe they run `process` as a streaming pass that makes
the same decisions (keep-first in input order).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from curate.core.errors import RecordError
from curate.core.fields import Fields
from curate.core.records import dumps_record, get_path
from curate.core.rules_path import shipped_name
from curate.io.hashing import sha256_file
from curate.io.policy import ErrorPolicy
from curate.io.reader import Batch

# A `reduce` decision that keeps the record and sets {dotted path: value} on it.
ANNOTATE = "__annotate__"


class Edited:
    """Verdict: keep the record, which the stage changed; its line is written anew."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "EDITED"


EDITED = Edited()


@dataclass(frozen=True)
class OptedOut:
    """Verdict: drop the record and keep only its proof, {id, kind, ref}: never its content
    (not in rejects, not anywhere)."""

    kind: str
    ref: str | None


# What `apply` returns: None keeps the record as it was; EDITED keeps it changed; a reason, or
# (reason, details), drops it (to rejects when they are kept); OptedOut drops it with proof
# only; a RecordError (returned by `apply_batch`, raised by `apply`) is a bad line.
Verdict = None | Edited | str | tuple[str, dict[str, Any] | None] | OptedOut


class StageConfig(BaseModel):
    """Base of every stage's config: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def own_meta(record: dict) -> dict:
    """The record's `meta` object (created when missing or null); a `meta` that is something
    else is a bad line, not a value to overwrite (its content would be lost)."""
    meta = record.get("meta")
    if meta is None:
        meta = record["meta"] = {}
    elif type(meta) is not dict:
        raise RecordError("meta is not an object")
    return meta


def one_or_more(value: Any) -> Any:
    """A list key given one string (`preset: gopher`, `keep: en`) is a list of that one."""
    return [value] if isinstance(value, str) else value


@dataclass
class StageStats:
    """Counts for one stage: records in, out, dropped by reason, errors, seconds."""

    records_in: int = 0
    records_out: int = 0
    dropped: Counter = field(default_factory=Counter)
    errors: int = 0
    seconds: float = 0.0
    # what the stage found in the records it kept, by kind (redactions by type); in the
    # manifest as `found` when there is any
    found: Counter = field(default_factory=Counter)

    def merge(self, other: StageStats) -> None:
        self.records_in += other.records_in
        self.records_out += other.records_out
        self.dropped.update(other.dropped)
        self.errors += other.errors
        self.seconds += other.seconds
        self.found.update(other.found)

    def to_dict(self) -> dict:
        out = {
            "records_in": self.records_in,
            "records_out": self.records_out,
            "dropped": dict(sorted(self.dropped.items())),
            "errors": self.errors,
        }
        if self.found:
            out["found"] = dict(sorted(self.found.items()))
        return out

    @classmethod
    def from_dict(cls, data: dict) -> StageStats:
        return cls(
            data["records_in"],
            data["records_out"],
            Counter(data["dropped"]),
            data["errors"],
            data.get("seconds", 0.0),
            Counter(data.get("found") or {}),
        )


@dataclass
class Context:
    """What a stage needs besides its config while processing: error policy, stats, rejects."""

    policy: ErrorPolicy
    keep_rejects: bool = False
    rejects: list[dict] = field(default_factory=list)
    # opted-out records leave only {id, kind, ref} here: never their content
    optout_log: list[dict] = field(default_factory=list)
    # set while a stage before `redact` runs: rejects are redacted before they are kept
    scrub: Callable[[dict], dict] | None = None

    def reject(self, record: dict, stage: str, reason: str, details: dict | None) -> None:
        if not self.keep_rejects:
            return
        if self.scrub is not None:
            record = self.scrub(record)
        meta = record.get("meta")
        if type(meta) is not dict:
            meta = {}
            record["meta"] = meta
        info: dict[str, Any] = {"stage": stage, "reason": reason}
        if details:
            info.update(details)
        meta["rejected"] = info
        self.rejects.append(record)


class Stage:
    """Common part of every stage: a registry name, a config model, the dataset's fields."""

    name: ClassVar[str]
    Config: ClassVar[type[StageConfig]]
    is_global: ClassVar[bool] = False

    def __init__(self, config: StageConfig, fields: Fields | None = None):
        self.config = config
        self.fields = fields or Fields()
        self.found: Counter = Counter()  # what `apply` counted in the current batch
        self.setup()

    def setup(self) -> None:
        """Load what the stage needs once per process (rules, indexes); called before fork."""

    def apply(self, record: dict) -> Verdict:
        """The stage's decision on one record (see `Verdict`); edit it in place and return
        EDITED to keep the change. Raise RecordError for a record it cannot process."""
        raise NotImplementedError(f"{self.name}: implement apply() or apply_batch()")

    def apply_batch(self, records: list[dict]) -> list[Verdict | RecordError]:
        """`apply` over a batch; a stage that decides a batch at once (column-wise) overrides
        this and returns the same verdicts."""
        apply = self.apply
        out: list[Verdict | RecordError] = []
        for record in records:
            try:
                out.append(apply(record))
            except RecordError as exc:
                out.append(exc)
        return out

    def process(self, batch: Batch, ctx: Context, stats: StageStats) -> Batch:
        """The per-batch plumbing every stage shares: verdicts to kept records and new lines
        for edited ones, counts, rejects, opt-out proofs, bad lines, timing."""
        started = time.perf_counter()
        self.found = Counter()
        verdicts = self.apply_batch(batch.records)
        stats.found.update(self.found)
        keep: list[int] = []
        edited: list[int] = []
        dropped = stats.dropped
        for i, verdict in enumerate(verdicts):
            if verdict is None:
                keep.append(i)
            elif verdict is EDITED:
                keep.append(i)
                edited.append(i)
            elif type(verdict) is OptedOut:
                dropped["opted_out"] += 1
                rid = get_path(batch.records[i], self.fields.id_parts)
                ctx.optout_log.append(
                    {
                        "id": None if rid is None else str(rid),
                        "kind": verdict.kind,
                        "ref": verdict.ref,
                    }
                )
            elif isinstance(verdict, RecordError):
                stats.errors += 1
                ctx.policy.bad_line(batch.source, batch.linenos[i], verdict.problem, batch.raws[i])
            else:
                reason, details = (verdict, None) if type(verdict) is str else verdict
                dropped[reason] += 1
                ctx.reject(batch.records[i], self.name, reason, details)
        out = batch.select(keep)  # keeps any line tails an earlier stage left
        if edited:  # edited records get lines of their own
            at = {row: j for j, row in enumerate(keep)}
            raws = list(out.raws)
            for row in edited:
                raws[at[row]] = dumps_record(batch.records[row])
            out = Batch(out.source, out.records, out.linenos, raws, out.modified)
        stats.records_in += len(batch.records)
        stats.records_out += len(out.records)
        self.after_batch()
        stats.seconds += time.perf_counter() - started
        return out

    def after_batch(self) -> None:
        """Called after each batch `process` handles (e.g. to save a cache)."""

    def count(self, found: Counter | dict) -> None:
        """Add what `apply` found in a record it keeps (e.g. redactions by type) to the
        stage's counts."""
        self.found.update(found)

    @staticmethod
    def meta(record: dict) -> dict:
        """The record's `meta` object, created (or replaced, if not an object) when missing."""
        meta = record.get("meta")
        if type(meta) is not dict:
            meta = {}
            record["meta"] = meta
        return meta

    def stream(self, batches: Iterator[Batch], ctx: Context, stats: StageStats) -> Iterator[Batch]:
        """The stage over a stream of batches (pipes). Stages may override it to look ahead,
        e.g. to compute on a process pool while earlier batches are being decided."""
        for batch in batches:
            if batch.records:
                batch = self.process(batch, ctx, stats)
            if batch.records:
                yield batch

    def describe(self, base_dir: Path | None = None) -> dict:
        """The stage as it appears in a manifest: name plus its fully defaulted config.

        Paths the config marks (`path_fields`) are shown relative to `base_dir`, so that the
        manifest, and the config hash, do not depend on where the project is checked out.
        """
        data = self.config.model_dump(mode="json")
        for key in getattr(self.config, "path_fields", ()):
            value = data.get(key)
            if base_dir is not None and isinstance(value, str):
                data[key] = relative_path(value, base_dir)
            elif base_dir is not None and isinstance(value, list):
                data[key] = [relative_path(v, base_dir) if isinstance(v, str) else v for v in value]
        return {self.name: data}

    def resources(self, base_dir: Path | None = None) -> list[dict]:
        """Rules files and registries this stage read: [{kind, path, sha256, entries}]."""
        return []

    def resource(
        self,
        kind: str,
        path: Path | str,
        entries: int,
        base_dir: Path | None,
        sha256: str | None = None,
    ) -> dict:
        """One `resources()` entry: a file the stage read, its checksum and entry count."""
        if sha256 is None:
            sha256, _ = sha256_file(Path(path))
        shown = relative_path(str(path), base_dir) if base_dir else str(path)
        return {
            "kind": kind,
            "stage": self.name,
            "path": shown,
            "sha256": sha256,
            "entries": entries,
        }

    def manifest_info(self) -> dict | None:
        """Anything the manifest must record for this stage (e.g. a hashing scheme)."""
        return None


def relative_path(value: str, base_dir: Path) -> str:
    """`value` relative to `base_dir`, with forward slashes (manifests hold no absolute paths);
    a shipped rules file by its location-independent name, `curate:rules/NAME`."""
    shipped = shipped_name(value)
    if shipped is not None:
        return shipped
    return Path(os.path.relpath(value, base_dir)).as_posix()


class RecordStage(Stage):
    """A stage that decides each record on its own: implement `apply` (or `apply_batch`)."""


# Keys of a global stage are cut into this many partitions by each map task; the reduce packs
# consecutive partitions into jobs that fit the memory budget.
FINE_PARTS = 1024


@dataclass
class ReduceInfo:
    """What a global stage's reduce needs about the run: where the keys are, how the units
    line up, what to write, and within what memory."""

    spec: Any  # the run's RunSpec: jobs rebuild the stage from it
    position: int  # the stage's place in the pipeline
    keys: Path  # u{unit:06d}.sec per unit, a section per partition
    decisions: Path  # d{job:05d}.sec, a section per unit
    units: list[int]
    counts: list[int]  # records each unit keyed
    groups: list[tuple[int, int]]  # ranges of partitions, one job each
    memory: int
    out_dir: Path | None = None
    name: str = ""
    version: str = ""
    workers: int = 1
    # (spec, position) -> the stage, in whatever process a job runs: given by the executor
    # (a module-level function, so it travels to workers), so stages need not know it
    resolve: Callable[[Any, int], Stage] | None = None

    def stage(self) -> Stage:
        """This reduce's stage, as built in the process running the job."""
        if self.resolve is None:
            raise RuntimeError("ReduceInfo.resolve is not set")
        return self.resolve(self.spec, self.position)

    def offsets(self):
        """Position of each unit's first keyed record in the whole input."""
        import numpy as np

        return np.concatenate(([0], np.cumsum(self.counts, dtype=np.int64))).astype(np.int64)

    def unit_file(self, unit: int) -> Path:
        return self.keys / f"u{unit:06d}.sec"

    def decision_file(self, job: int) -> Path:
        return self.decisions / f"d{job:05d}.sec"


class GlobalStage(Stage):
    """A stage whose decision for a record depends on other records.

    `process` (+ `flush` at the end) is the streaming form used in pipes. `map_keys`,
    `shuffle` and `reduce_run` are the split form executors use: keys per unit, cut into
    partitions, resolved partition by partition on any worker. Both forms must keep exactly
    the same records.
    """

    is_global = True

    def flush(self, ctx: Context, stats: StageStats) -> Iterator[Batch]:
        """Batches held back until the end of the stream (e.g. after spilling to disk)."""
        return iter(())

    def stream(self, batches: Iterator[Batch], ctx: Context, stats: StageStats) -> Iterator[Batch]:
        yield from super().stream(batches, ctx, stats)
        for batch in self.flush(ctx, stats):
            if batch.records:
                yield batch

    def map_keys(self, batch: Batch, ctx: Context, stats: StageStats) -> tuple[Batch, Any]:
        """Small keys for the records of a batch; records whose key fails are errors, dropped."""
        raise NotImplementedError

    def shuffle(self, keys: Any, unit: int, folder: Path) -> dict[int, Any]:
        """One unit's keys by partition (0..FINE_PARTS-1). May write per-unit files of its
        own into `folder` (e.g. signatures that only some reduce jobs read)."""
        raise NotImplementedError

    def reduce_run(self, engine: Any, info: ReduceInfo) -> list[str]:
        """Decide from the keys, on `engine`: write decision files (a section per unit, rows
        to (reason, details)); return the dataset files written (indexes), relative."""
        raise NotImplementedError
