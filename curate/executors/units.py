"""The work of one unit in one pass, as any worker runs it.

A pass runs a segment of the pipeline over a unit: per-record stages, optionally ending in
the map of a global stage (its keys go to disk, partitioned for the reduce), and starting,
after the first pass, by applying the decisions of the global stage before it. The last pass
writes the unit's final shards and rejects into the work folder under names fixed by the
plan; the driver only renames them into place. Everything a worker needs comes from the
`RunSpec`: it rebuilds the pipeline from the config data, once per process.
"""

from __future__ import annotations

import hashlib
import io
import logging
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import zstandard

from curate.core.errors import InputError
from curate.core.fields import Fields
from curate.core.records import dumps_record, dumps_records, set_path, split_path
from curate.executors.plan import UnitSpec, read_unit
from curate.io.atomic import atomic_write
from curate.io.decompress import decompress_all
from curate.io.parquet_out import arrow_to_parquet, parquet_name, shard_to_arrow
from curate.io.policy import ErrorPolicy, OnError
from curate.io.reader import Batch, parse_lines
from curate.io.sections import read_sections, write_sections
from curate.io.split import dataset_writer
from curate.io.writer import ShardWriter, parse_size
from curate.stages.base import ANNOTATE, Context, GlobalStage, Stage, StageStats
from curate.stages.privacy import PrivacyScreens
from curate.versions.composition import Composition

log = logging.getLogger("curate.run")


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


class WorkDir:
    """The run's scratch folder inside the output folder: `<out>/.curate-work/`."""

    def __init__(self, out_dir: Path):
        self.root = Path(out_dir) / ".curate-work"

    def seg(self, k: int) -> Path:
        return self.root / f"seg{k}"

    def unit_path(self, k: int, unit: int, suffix: str) -> Path:
        return self.seg(k) / f"unit-{unit:06d}.{suffix}"

    def is_done(self, k: int, unit: int) -> bool:
        return self.unit_path(k, unit, "done.json").exists()

    def read_done(self, k: int, unit: int) -> UnitResult:
        return UnitResult.from_dict(orjson.loads(self.unit_path(k, unit, "done.json").read_bytes()))

    def output(self, unit: int) -> Path:
        """Where the last pass writes a unit's shards, before the driver renames them."""
        return self.root / "out" / f"u{unit:06d}"

    def rejects(self, k: int, unit: int) -> Path:
        return self.root / "rejects" / f"p{k}" / f"u{unit:06d}"

    def keys(self, position: int) -> Path:
        """A global stage's keys, one file per unit, a section per partition."""
        return self.root / "keys" / f"s{position}"

    def decisions(self, position: int) -> Path:
        return self.root / "decisions" / f"s{position}"


_ZSTD_LEVEL = 1  # scratch data: fast beats small


def _pack(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=_ZSTD_LEVEL, write_checksum=True).compress(data)


def _unpack(data: bytes) -> bytes:
    if not data:
        return b""
    return decompress_all(data)


@dataclass(frozen=True)
class RunSpec:
    """All a worker needs to take part in a run; small and picklable."""

    config_path: str
    data: Any  # the pipeline config as parsed
    base_dir: str
    out_dir: str
    key: str  # identifies the run's pipeline in a worker's cache


@dataclass
class WorkerState:
    pipeline: Any
    segments: list[Segment]
    fields: Fields
    screens: PrivacyScreens
    work: WorkDir
    on_error: OnError
    keep_rejects: bool
    keep_last: bool
    split_by: str | None
    writer_args: dict


_STATES: dict[str, WorkerState] = {}


def adopt_pipeline(spec: RunSpec, pipeline: Any) -> None:
    """The driver's own pipeline serves as this process's worker state (no second setup)."""
    _STATES.clear()
    _STATES[spec.key] = _state_from(spec, pipeline)


def _state_from(spec: RunSpec, pipeline: Any) -> WorkerState:
    cfg = pipeline.config
    return WorkerState(
        pipeline,
        plan_segments(pipeline.stages),
        pipeline.fields,
        PrivacyScreens.of(pipeline.stages),
        WorkDir(Path(spec.out_dir)),
        OnError(cfg.on_error),
        cfg.output.rejects,
        cfg.duplicate_keys == "last",
        cfg.output.split_by,
        {
            "shard_bytes": parse_size(cfg.output.shard_size),
            "shard_records": cfg.output.shard_records,
            "level": cfg.output.level,
        },
    )


def stage_at(spec: RunSpec, position: int):
    """The stage at `position` of the run's pipeline, in this process (`ReduceInfo.resolve`)."""
    return state_of(spec).pipeline.stages[position]


def state_of(spec: RunSpec) -> WorkerState:
    """The run's pipeline in this process, built from the spec the first time it is asked."""
    state = _STATES.get(spec.key)
    if state is None:
        from curate.config.pipeline import pipeline_from_doc
        from curate.core.yamlconf import LocatedYaml

        doc = LocatedYaml(Path(spec.config_path), spec.data, {})
        pipeline = pipeline_from_doc(doc, Path(spec.base_dir), check=False)
        state = _state_from(spec, pipeline)
        _STATES.clear()  # one run at a time per process
        _STATES[spec.key] = state
    return state


@dataclass
class UnitResult:
    """What a unit's pass tells the driver: counts, where its files are, never records."""

    unit: int
    k: int
    source: str
    lines: int = 0  # lines the unit owns (first pass): line numbers of later units build on it
    records_read: int = 0
    records_out: int = 0
    keyed: int = 0  # records the global stage at the end of this pass keyed
    errors: int = 0
    empty_lines: int = 0
    first_error: list | None = None  # [source, line, problem]
    local_lines: bool = False  # line numbers above (and in proofs) count from the unit's start
    modified: bool = False
    stats: dict[str, dict] = field(default_factory=dict)
    composition: dict | None = None
    input_check: str | None = None  # `range_check` of the unit's input bytes
    input_bytes: int = 0
    shards: list[dict] = field(default_factory=list)  # relative to the unit's output folder
    rejects: list[dict] = field(default_factory=list)  # relative to its rejects folder
    side: dict[str, str] = field(default_factory=dict)  # side output name -> file
    part_bytes: list[int] | None = None  # bytes of its keys per partition
    # its records are the input's own lines: the next pass reads the unit again instead of a
    # spool (decompressing the input is cheaper than compressing and reading back a copy)
    reread_input: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> UnitResult:
        return cls(**data)


# ---- side outputs ----------------------------------------------------------------------------

QUARANTINE = "quarantine"
OPTOUT = "optout"


def _write_side(work: WorkDir, k: int, unit: int, name: str, data: bytes) -> str:
    path = work.unit_path(k, unit, name)
    atomic_write(path, data)
    return path.name


# ---- one pass over one unit -------------------------------------------------------------------


def run_pass(spec: RunSpec, k: int, unit: UnitSpec, line_base: int | None) -> UnitResult:
    """Unit `unit` through segment `k`; its results on disk, its summary returned.

    `line_base`: lines of the input before this unit, when known (every pass after the
    first); unknown, line numbers count from the unit's start and the driver adds the rest.
    """
    state = state_of(spec)
    segment = state.segments[k]
    work = state.work
    quarantine = io.BytesIO() if state.on_error is OnError.quarantine else None
    policy = state.screens.install(ErrorPolicy(state.on_error, quarantine, state.keep_last))
    policy.line_base = line_base or 0
    ctx = Context(policy, keep_rejects=state.keep_rejects)
    result = UnitResult(unit.index, k, unit.source, local_lines=line_base is None)
    last = k == len(state.segments) - 1
    next_applies_only = k + 1 == len(state.segments) - 1 and not state.segments[k + 1].stages
    stats: dict[str, StageStats] = {}

    if k > 0 and last and not segment.stages:
        batch = _apply_only(state, segment, k, unit, ctx, result)
    else:
        if k == 0:
            batch, input_lines = _read_input(unit, policy, result)
        else:
            batch = _read_previous(work, k, unit, result)
            stats[str(segment.applies_at)] = st = StageStats()
            state.screens.before_stage(ctx, segment.applies_at)
            decisions = load_decisions(work, segment.applies_at, unit.index)
            batch = _apply_decisions(segment.applies, batch, decisions, ctx, st)
        for position, stage in zip(segment.stage_at, segment.stages):
            stats[str(position)] = st = StageStats()
            state.screens.before_stage(ctx, position)
            batch = stage.process(batch, ctx, st) if batch.records else batch
        state.screens.before_stage(ctx, segment.ends_at)
        if segment.ends_with is not None:
            # the map only computes keys; its time is the stage's, its counts come with the
            # decisions
            st = StageStats()
            batch, keys = segment.ends_with.map_keys(batch, ctx, st)
            stats[str(segment.ends_at)] = StageStats(
                records_in=st.errors, errors=st.errors, seconds=st.seconds
            )
            result.keyed = len(batch.records)
            folder = work.keys(segment.ends_at)
            sections = segment.ends_with.shuffle(keys, unit.index, folder)
            write_sections(folder / f"u{unit.index:06d}.sec", sections)
            result.part_bytes = _section_bytes(folder / f"u{unit.index:06d}.sec")
        if last or next_applies_only:  # the next pass only drops: it adjusts this composition
            comp = Composition()
            comp.add_records(batch.records, state.fields)
            result.composition = comp.to_state()
        result.stats = {key: v.to_dict() | {"seconds": v.seconds} for key, v in stats.items()}
    result.records_out = len(batch.records)
    result.modified = batch.modified
    if last:
        result.shards = _write_output(state, unit.index, batch)
    else:
        if k == 0 and not segment.stages and _input_lines_kept(batch, input_lines):
            result.reread_input = True
        else:
            atomic_write(work.unit_path(k, unit.index, "jsonl.zst"), _pack(batch.to_bytes()))
        lines = np.asarray(batch.linenos, dtype=np.int64) - policy.line_base
        atomic_write(work.unit_path(k, unit.index, "lines.npy"), lines.tobytes())
    if ctx.rejects:
        writer = ShardWriter(work.rejects(k, unit.index), threads=0, **state.writer_args)
        writer.write_block(dumps_records(ctx.rejects))
        result.rejects = [s.to_dict() for s in writer.close()]
    if quarantine is not None and quarantine.tell():
        result.side[QUARANTINE] = _write_side(
            work, k, unit.index, QUARANTINE, quarantine.getvalue()
        )
    proofs = ctx.optout_log + policy.withheld
    if proofs:
        dumps = orjson.dumps
        data = b"".join(dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in proofs)
        result.side[OPTOUT] = _write_side(work, k, unit.index, OPTOUT, data)
    result.errors += policy.errors
    result.empty_lines += policy.empty_lines
    if policy.first_error_at is not None:
        source, line, problem = policy.first_error_at
        result.first_error = [source, line, problem]
    atomic_write(work.unit_path(k, unit.index, "done.json"), orjson.dumps(result.to_dict()))
    log.debug(
        "unit %d pass %d done: %d in, %d out",
        unit.index,
        k,
        result.records_read,
        result.records_out,
    )
    return result


class UnitFailed(Exception):
    """A bad line under `on_error: fail`, found where only the unit's own line is known."""

    def __init__(self, unit: int, error: InputError):
        super().__init__(error.message)
        self.unit = unit
        self.error = error

    def __reduce__(self):
        return (UnitFailed, (self.unit, self.error))


def run_pass_task(spec: RunSpec, k: int, unit: UnitSpec, line_base: int | None) -> UnitResult:
    try:
        return run_pass(spec, k, unit, line_base)
    except InputError as exc:
        if line_base is None and exc.line is not None:
            raise UnitFailed(unit.index, exc) from None
        raise


def _section_bytes(path: Path) -> list[int]:
    from curate.io.sections import section_sizes
    from curate.stages.base import FINE_PARTS

    return section_sizes(path, FINE_PARTS).tolist()


def _read_input(
    unit: UnitSpec, policy: ErrorPolicy, result: UnitResult
) -> tuple[Batch, list[bytes]]:
    read = read_unit(unit)
    result.input_check = read.check
    result.input_bytes = unit.size
    batch = parse_lines(unit.source, 1, read.lines, policy, bom=False)
    result.lines = len(read.lines)
    if read.error is not None:
        result.lines += 1
        policy.bad_line(unit.source, len(read.lines) + 1, str(read.error), read.partial or None)
    result.records_read = len(batch.records)
    return batch, read.lines


def _input_lines_kept(batch: Batch, lines: list[bytes]) -> bool:
    """Is every record written as its own input line, unchanged (the common case)?"""
    if batch.modified:
        return False
    if batch.tails is None and batch._raws is lines:  # the reader's fast path: every line kept
        return True
    return all(raw is lines[n - 1] for raw, n in zip(batch.raws, batch.linenos))


def _previous_lines(work: WorkDir, k: int, unit: UnitSpec, prev: UnitResult) -> list[bytes]:
    """The lines pass `k - 1` of `unit` kept: its spool, or its input lines read again."""
    if not prev.reread_input:
        data = _unpack(work.unit_path(k - 1, unit.index, "jsonl.zst").read_bytes())
        lines = data.split(b"\n")
        lines.pop()
        return lines
    read = read_unit(unit)
    if read.check != prev.input_check:
        raise InputError(unit.source, None, "changed while the run was reading it")
    linenos = np.frombuffer(work.unit_path(k - 1, unit.index, "lines.npy").read_bytes(), np.int64)
    if len(linenos) == len(read.lines):  # every line kept (increasing line numbers: 1..n)
        return read.lines
    return [read.lines[n - 1] for n in linenos.tolist()]


def _read_previous(work: WorkDir, k: int, unit: UnitSpec, result: UnitResult) -> Batch:
    prev = work.read_done(k - 1, unit.index)
    lines = _previous_lines(work, k, unit, prev)
    records = [orjson.loads(line) for line in lines]
    linenos = np.frombuffer(work.unit_path(k - 1, unit.index, "lines.npy").read_bytes(), np.int64)
    result.records_read = len(records)
    return Batch(unit.source, records, linenos.tolist(), lines, prev.modified)


def _write_output(state: WorkerState, unit: int, batch: Batch) -> list[dict]:
    folder = state.work.output(unit)
    writer = dataset_writer(folder, state.split_by, **state.writer_args)
    if isinstance(writer, ShardWriter):
        writer = ShardWriter(folder, threads=0, **state.writer_args)
    try:
        if batch.records:
            writer.write_batch(batch)
        shards = writer.close()
    except BaseException:
        writer.abort()
        raise
    return [s.to_dict() for s in shards]


def _apply_only(
    state: WorkerState, segment: Segment, k: int, unit: UnitSpec, ctx: Context, result: UnitResult
) -> Batch:
    """The last pass when it only applies a global stage's decisions: lines in, lines out.

    Only the dropped records are parsed (for rejects, and to take them out of the
    composition the previous pass computed), so a dedup at the end of a pipeline does not pay
    for parsing the data twice.
    """
    work = state.work
    prev = work.read_done(k - 1, unit.index)
    lines = _previous_lines(work, k, unit, prev)
    decisions = load_decisions(work, segment.applies_at, unit.index)
    comp = Composition()
    if prev.composition:
        comp.merge_state(prev.composition)
    st = StageStats(records_in=prev.records_out)
    state.screens.before_stage(ctx, segment.applies_at)
    if decisions:
        name = segment.applies.name if segment.applies else "?"
        dropped_records = []
        for i in sorted(decisions):
            reason, details = decisions[i]
            record = orjson.loads(lines[i])
            if reason == ANNOTATE:
                comp.add_records([record], state.fields, sign=-1)  # counted again, annotated
                _annotate(record, details)
                comp.add_records([record], state.fields)
                lines[i] = dumps_record(record)
                continue
            dropped_records.append(record)
            st.dropped[reason] += 1
            ctx.reject(record, name, reason, details)
            lines[i] = None
        comp.add_records(dropped_records, state.fields, sign=-1)
        lines = [line for line in lines if line is not None]
    st.records_out = st.records_in - sum(st.dropped.values())
    result.records_read = prev.records_out
    result.composition = comp.to_state()
    result.stats = {str(segment.applies_at): st.to_dict() | {"seconds": st.seconds}}
    # the lines are written as they are; records only where a split needs their values
    records = [orjson.loads(line) for line in lines] if state.split_by else [None] * len(lines)
    return Batch(unit.source, records, [], lines, False)  # type: ignore[arg-type]


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


def load_decisions(work: WorkDir, position: int | None, unit: int) -> dict[int, tuple[str, Any]]:
    """The decisions of the global stage at `position` for one unit's records, by row:
    its section of every decision file the stage's reduce wrote."""
    if position is None:
        return {}
    folder = work.decisions(position)
    out: dict[int, tuple[str, Any]] = {}
    for path in sorted(folder.glob("d*.sec")):
        for _key, part in read_sections(path, unit):
            out.update(part)
    return out


# ---- parquet output ---------------------------------------------------------------------------


def parquet_schema_task(spec: RunSpec, unit: int, paths: list[str]) -> list[bytes]:
    """Each of a unit's JSON shards to an Arrow file; their schemas (Parquet step 1)."""
    folder = state_of(spec).work.output(unit)
    return [shard_to_arrow(folder / p, folder / f"{p}.arrow") for p in paths]


def parquet_write_task(spec: RunSpec, unit: int, shards: list[dict], schema: bytes) -> list[dict]:
    """A unit's shards as Parquet with the run's one schema (Parquet step 2)."""
    folder = state_of(spec).work.output(unit)
    out = []
    for shard in shards:
        target = parquet_name(shard["path"])
        info = arrow_to_parquet(
            folder / f"{shard['path']}.arrow", schema, folder / target, shard["uncompressed_bytes"]
        )
        out.append({**shard, **info, "path": target})
    return out


# ---- hashing inputs ---------------------------------------------------------------------------


def hash_input(spec: RunSpec, path: str, ranges: list[tuple[int, int]]) -> tuple[str, list[str]]:
    """An input's SHA-256 (for the manifest), and each unit's `range_check` (what a resume
    compares with the check its first pass recorded)."""
    whole = hashlib.sha256()
    parts = []
    with open(path, "rb") as fh:
        pos = 0
        for start, end in ranges:
            if start > pos:  # bytes no unit owns (never, for a plan of the whole file)
                whole.update(fh.read(start - pos))
            crc, size = 0, 0
            left = end - start
            while left > 0:
                data = fh.read(min(left, 1 << 22))
                if not data:
                    break
                whole.update(data)
                crc = zlib.crc32(data, crc)
                size += len(data)
                left -= len(data)
            parts.append(f"{crc:08x}:{size}")
            pos = end
        while data := fh.read(1 << 22):
            whole.update(data)
    return whole.hexdigest(), parts
