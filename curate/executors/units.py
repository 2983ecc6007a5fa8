"""Cutting inputs into units of work, and the per-unit work itself.

A unit is a run of whole lines from one input (at most `chunk_size` bytes of them), numbered in
input order. Units are cut by the parent from the decompressed stream, so their boundaries
depend only on the data, never on timing or the worker count; the results of each unit are
written to the run's work folder under final names only once complete, which is what makes a
killed run resumable.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import itertools
import logging
import os
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import zstandard

from curate.composition import Composition
from curate.fields import Fields
from curate.io.decompress import iter_decompressed_background
from curate.io.hashing import HashingReader
from curate.io.policy import ErrorPolicy, OnError
from curate.io.reader import Batch, _Truncated, iter_line_batches, parse_lines
from curate.io.sources import Source
from curate.privacy import PrivacyScreens
from curate.records import dumps_record, dumps_records, set_path, split_path
from curate.stages.base import ANNOTATE, Context, GlobalStage, Stage, StageStats


@dataclass
class Segment:
    """Per-record stages run together, optionally ending in a global stage's map.

    A segment after a global stage first applies that stage's decisions (`applies`).
    """

    index: int
    applies: GlobalStage | None
    stages: list[Stage]
    ends_with: GlobalStage | None
    # positions in the pipeline's stage list, which key the stats
    applies_at: int | None = None
    stage_at: list[int] = field(default_factory=list)
    ends_at: int | None = None


def plan_segments(stages: list[Stage]) -> list[Segment]:
    segments: list[Segment] = []
    current: list[Stage] = []
    positions: list[int] = []
    applies: GlobalStage | None = None
    applies_at: int | None = None
    for i, stage in enumerate(stages):
        if isinstance(stage, GlobalStage) and stage.is_global:
            segments.append(
                Segment(len(segments), applies, current, stage, applies_at, positions, i)
            )
            applies, applies_at, current, positions = stage, i, [], []
        else:
            current.append(stage)
            positions.append(i)
    segments.append(Segment(len(segments), applies, current, None, applies_at, positions, None))
    return segments


@dataclass
class UnitSpec:
    index: int
    source: str
    first_line: int
    lines: int


@dataclass
class InputInfo:
    name: str
    sha256: str = ""
    bytes: int = 0
    units: list[int] = field(default_factory=list)


def cut_units(
    sources: list[Source],
    chunk_size: int,
    policy: ErrorPolicy,
    progress=None,
) -> Iterator[tuple[UnitSpec, bytes, InputInfo]]:
    """Yield (unit, its raw lines as bytes, its input) in input order.

    Stream errors (truncated or corrupt compression) are handled here, by the parent, with the
    run's policy; line-level errors are left to the workers.
    """
    index = 0

    def unit(lines: list[bytes]) -> tuple[UnitSpec, bytes, InputInfo]:
        nonlocal index
        info.units.append(index)
        index += 1
        spec = UnitSpec(index - 1, source.name, start, len(lines))
        return spec, b"\n".join(lines) + b"\n", info

    for source in sources:
        info = InputInfo(source.name)
        fh = source.open()
        reader = HashingReader(fh)
        pending: list[bytes] = []
        pending_bytes = 0
        start = 1
        try:
            for lines in iter_line_batches(iter_decompressed_background(reader)):
                if progress is not None:
                    progress.advance_bytes(reader.bytes)
                while lines:
                    # the unit ends with the line that brings it to chunk_size
                    # ends[i] + i: the unit's bytes (newlines included) after taking i lines
                    ends = list(itertools.accumulate(map(len, lines), initial=pending_bytes))
                    take = bisect.bisect_left(
                        range(len(ends)), chunk_size, 1, key=lambda i, e=ends: e[i] + i
                    )
                    if take >= len(ends):
                        pending.extend(lines)
                        pending_bytes = ends[-1] + len(lines)
                        break
                    pending.extend(lines[:take])
                    lines = lines[take:]
                    yield unit(pending)
                    start += len(pending)
                    pending, pending_bytes = [], 0
        except _Truncated as exc:
            policy.bad_line(source.name, exc.line, str(exc.error), exc.partial or None)
        finally:
            if not source.is_stdin:
                fh.close()
        if pending:
            yield unit(pending)
        # a final, empty yield marks the input as fully read (its hash is complete)
        info.sha256 = reader.sha.hexdigest()
        info.bytes = reader.bytes
        yield None, b"", info  # type: ignore[misc]


class WorkDir:
    """The run's scratch folder inside the output folder: `<out>/.curate-work/`."""

    def __init__(self, out_dir: Path):
        self.root = out_dir / ".curate-work"

    def seg(self, k: int) -> Path:
        return self.root / f"seg{k}"

    def unit_path(self, k: int, unit: int, suffix: str) -> Path:
        return self.seg(k) / f"unit-{unit:06d}.{suffix}"

    def is_done(self, k: int, unit: int) -> bool:
        return self.unit_path(k, unit, "done.json").exists()

    def read_done(self, k: int, unit: int) -> dict:
        return orjson.loads(self.unit_path(k, unit, "done.json").read_bytes())


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


_ZSTD_LEVEL = 1  # scratch data: fast beats small
log = logging.getLogger("curate.run")


def _pack(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=_ZSTD_LEVEL, write_checksum=True).compress(data)


def _unpack(data: bytes) -> bytes:
    if not data:
        return b""
    dobj = zstandard.ZstdDecompressor().decompressobj()
    return dobj.decompress(data)


@dataclass
class RunSetup:
    """What every worker needs; inherited through fork, so stages load once in the parent."""

    segments: list[Segment]
    fields: Fields
    on_error: OnError
    keep_rejects: bool
    work: WorkDir
    screens: PrivacyScreens = field(default_factory=PrivacyScreens)
    keep_last_duplicate: bool = False


_SETUP: RunSetup | None = None


def install_setup(setup: RunSetup) -> None:
    global _SETUP
    _SETUP = setup


def run_unit(seg_index: int, spec: UnitSpec, payload: Any) -> dict:
    """Process one unit through one segment and write its results; returns its summary.

    For segment 0 `payload` is the unit's raw lines; later segments read the previous
    segment's output and `payload` holds the decisions of the global stage before them.
    """
    setup = _SETUP
    assert setup is not None, "install_setup() must run before run_unit()"
    segment = setup.segments[seg_index]
    work = setup.work
    quarantine = io.BytesIO() if setup.on_error is OnError.quarantine else None
    policy = setup.screens.install(
        ErrorPolicy(setup.on_error, quarantine, setup.keep_last_duplicate)
    )
    ctx = Context(policy, keep_rejects=setup.keep_rejects)
    stats: dict[str, StageStats] = {}

    last = seg_index == len(setup.segments) - 1
    if seg_index > 0 and last and not segment.stages:
        return _run_apply_only(seg_index, spec, payload, ctx, policy, quarantine)
    next_applies_only = (
        seg_index + 1 == len(setup.segments) - 1 and not setup.segments[seg_index + 1].stages
    )

    input_sha256 = None
    if seg_index == 0:
        input_sha256 = hashlib.sha256(payload).hexdigest()
        lines = payload.split(b"\n")
        lines.pop()
        batch = parse_lines(spec.source, spec.first_line, lines, policy)
        records_read = len(batch.records)
    else:
        prev = work.read_done(seg_index - 1, spec.index)
        data = _unpack(work.unit_path(seg_index - 1, spec.index, "jsonl.zst").read_bytes())
        lines = data.split(b"\n")
        lines.pop()
        records = [orjson.loads(line) for line in lines]
        batch = Batch(spec.source, records, prev["linenos"], lines, prev["modified"])
        records_read = len(records)
        stats[str(segment.applies_at)] = st = StageStats()
        setup.screens.before_stage(ctx, segment.applies_at)
        batch = _apply_decisions(segment.applies, batch, payload, ctx, st)

    for position, stage in zip(segment.stage_at, segment.stages):
        stats[str(position)] = st = StageStats()
        setup.screens.before_stage(ctx, position)
        batch = stage.process(batch, ctx, st) if batch.records else batch
    setup.screens.before_stage(ctx, segment.ends_at)

    keys = None
    if segment.ends_with is not None:
        # the map only computes keys; its time is the stage's, its counts come with the reduce
        st = StageStats()
        batch, keys = segment.ends_with.map_keys(batch, ctx, st)
        stats[str(segment.ends_at)] = StageStats(
            records_in=st.errors, errors=st.errors, seconds=st.seconds
        )
        atomic_write(
            work.unit_path(seg_index, spec.index, "keys.pkl"),
            pickle.dumps(keys, protocol=pickle.HIGHEST_PROTOCOL),
        )

    composition = None
    if last or next_applies_only:  # the next pass only drops: it adjusts this composition
        comp = Composition()
        comp.add_records(batch.records, setup.fields)
        composition = comp.to_state()

    atomic_write(work.unit_path(seg_index, spec.index, "jsonl.zst"), _pack(batch.to_bytes()))
    if ctx.rejects:
        data = dumps_records(ctx.rejects)
        atomic_write(work.unit_path(seg_index, spec.index, "rejects.zst"), _pack(data))
    if quarantine is not None and quarantine.tell():
        atomic_write(work.unit_path(seg_index, spec.index, "quarantine"), quarantine.getvalue())
    proofs = ctx.optout_log + policy.withheld
    if proofs:
        dumps = orjson.dumps
        data = b"".join(dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in proofs)
        atomic_write(work.unit_path(seg_index, spec.index, "optout"), data)
    summary = {
        "unit": spec.index,
        "source": spec.source,
        "records_read": records_read,
        "records_out": len(batch.records),
        "rejects": len(ctx.rejects),
        "errors": policy.errors,
        "empty_lines": policy.empty_lines,
        "first_error": policy.first_error,
        "modified": batch.modified,
        # later passes that run stages need line numbers for their error messages
        "linenos": [] if last or next_applies_only else list(batch.linenos),
        "stats": {k: v.to_dict() | {"seconds": v.seconds} for k, v in stats.items()},
        "composition": composition,
        "input_sha256": input_sha256,  # what a resume checks before reusing this unit
    }
    atomic_write(work.unit_path(seg_index, spec.index, "done.json"), orjson.dumps(summary))
    log.debug(
        "unit %d pass %d done: %d records in, %d out, %d rejected, %d errors",
        spec.index,
        seg_index,
        records_read,
        summary["records_out"],
        summary["rejects"],
        policy.errors,
    )
    return summary


def _run_apply_only(
    seg_index: int, spec: UnitSpec, decisions: dict, ctx: Context, policy: ErrorPolicy, quarantine
) -> dict:
    """The last pass when it only applies a global stage's decisions: lines in, lines out.

    Only the dropped records are parsed (for rejects, and to take them out of the
    composition the previous pass computed), so a dedup at the end of a pipeline does not pay
    for parsing the data twice.
    """
    setup = _SETUP
    segment = setup.segments[seg_index]
    work = setup.work
    prev = work.read_done(seg_index - 1, spec.index)
    data = _unpack(work.unit_path(seg_index - 1, spec.index, "jsonl.zst").read_bytes())
    comp = Composition()
    if prev.get("composition"):
        comp.merge_state(prev["composition"])
    st = StageStats(records_in=prev["records_out"])
    setup.screens.before_stage(ctx, segment.applies_at)
    if decisions:
        lines = data.split(b"\n")
        lines.pop()
        dropped_records = []
        name = segment.applies.name if segment.applies else "?"
        for i in sorted(decisions):
            reason, details = decisions[i]
            record = orjson.loads(lines[i])
            if reason == ANNOTATE:
                comp.add_records([record], setup.fields, sign=-1)  # counted again, annotated
                _annotate(record, details)
                comp.add_records([record], setup.fields)
                lines[i] = dumps_record(record)
                continue
            dropped_records.append(record)
            st.dropped[reason] += 1
            ctx.reject(record, name, reason, details)
            lines[i] = None
        comp.add_records(dropped_records, setup.fields, sign=-1)
        kept = [line for line in lines if line is not None]
        data = b"\n".join(kept) + b"\n" if kept else b""
    st.records_out = st.records_in - sum(st.dropped.values())
    atomic_write(work.unit_path(seg_index, spec.index, "jsonl.zst"), _pack(data))
    if ctx.rejects:
        blob = dumps_records(ctx.rejects)
        atomic_write(work.unit_path(seg_index, spec.index, "rejects.zst"), _pack(blob))
    summary = {
        "unit": spec.index,
        "source": spec.source,
        "records_read": prev["records_out"],
        "records_out": st.records_out,
        "rejects": len(ctx.rejects),
        "errors": 0,
        "empty_lines": 0,
        "first_error": None,
        "modified": prev["modified"],
        "linenos": [],
        "stats": {str(segment.applies_at): st.to_dict() | {"seconds": st.seconds}},
        "composition": comp.to_state(),
    }
    atomic_write(work.unit_path(seg_index, spec.index, "done.json"), orjson.dumps(summary))
    return summary


def _apply_decisions(
    stage: GlobalStage | None, batch: Batch, decisions: dict, ctx: Context, st: StageStats
) -> Batch:
    """Drop the records a global stage's reduce decided against, with reason and details."""
    st.records_in = len(batch.records)
    if not decisions:
        st.records_out = st.records_in
        return batch
    records, linenos, raws = [], [], []
    for i, (record, lineno, raw) in enumerate(zip(batch.records, batch.linenos, batch.raws)):
        verdict = decisions.get(i)
        if verdict is None:
            records.append(record)
            linenos.append(lineno)
            raws.append(raw)
            continue
        reason, details = verdict
        if reason == ANNOTATE:  # the global stage keeps the record and sets fields on it
            _annotate(record, details)
            records.append(record)
            linenos.append(lineno)
            raws.append(dumps_record(record))
            continue
        st.dropped[reason] += 1
        ctx.reject(record, stage.name if stage else "?", reason, details)
    st.records_out = len(records)
    return Batch(batch.source, records, linenos, raws, batch.modified)


def _annotate(record: dict, values: dict[str, Any]) -> None:
    for path, value in values.items():
        set_path(record, split_path(path), value)


def load_keys(work: WorkDir, seg_index: int, unit: int) -> Any:
    return pickle.loads(work.unit_path(seg_index, unit, "keys.pkl").read_bytes())


def read_unit_output(work: WorkDir, seg_index: int, unit: int, suffix: str) -> bytes:
    path = work.unit_path(seg_index, unit, suffix)
    if not path.exists():
        return b""
    data = path.read_bytes()
    return data if suffix in ("quarantine", "optout") else _unpack(data)
