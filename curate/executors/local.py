"""The local executor: a pipeline over input units on a pool of forked worker processes.

Order of events, each step resumable:
1. the parent cuts inputs into units (whole lines, in input order) and hashes the inputs;
2. workers run each unit through the per-record stages of segment 0, and compute the keys of
   the first global stage, if any; the parent reduces the keys to decisions, and the next
   segment applies them, and so on;
3. the parent writes the output shards from the last segment's units, in unit order.

The output never depends on the worker count or on timing: units are cut from the data alone,
decisions come from keys in unit order, and only the parent writes shards.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from curate.config.pipeline import Pipeline
from curate.core.errors import InputError, UsageError
from curate.core.faults import checkpoint
from curate.core.progress import RunProgress
from curate.core.version import __version__
from curate.executors.engine import Engine, make_engine
from curate.executors.plan import UnitSpec, count_lines_before, plan_units
from curate.executors.ray_engine import RayEngine, check_reachable
from curate.executors.units import (
    OPTOUT,
    QUARANTINE,
    RunSpec,
    UnitFailed,
    UnitResult,
    WorkDir,
    adopt_pipeline,
    hash_input,
    parquet_schema_task,
    parquet_write_task,
    plan_segments,
    run_pass_task,
    stage_at,
    state_of,
)
from curate.io.atomic import atomic_write
from curate.io.parquet_out import unify_schemas
from curate.io.policy import OnError
from curate.io.sources import Source, check_not_inside, expand_inputs
from curate.io.writer import ShardInfo, fsync_dir, parse_size
from curate.stages.base import FINE_PARTS, ReduceInfo, StageStats
from curate.versions.composition import Composition

STATE_FILE = "state.json"
OPTOUT_LOG = "optout-log.jsonl"


@dataclass
class RunResult:
    """Everything a run learned, for the summary table and the manifest."""

    out_dir: Path
    inputs: list[dict] = field(default_factory=list)
    shards: list[ShardInfo] = field(default_factory=list)
    rejects: list[ShardInfo] = field(default_factory=list)
    stage_stats: list[StageStats] = field(default_factory=list)
    records_in: int = 0
    records_out: int = 0
    errors: int = 0
    empty_lines: int = 0
    first_error: str | None = None
    quarantine: str | None = None
    resumed_units: int = 0
    composition: dict = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # other dataset files stages wrote (indexes)
    seconds: float = 0.0
    workers: int = 1
    executor: str = "local"
    steps: list[dict] = field(default_factory=list)  # timings, for run.json


def _output_state(pipeline: Pipeline, sources: list[Source]) -> dict:
    """What a resume must find unchanged: the code, the config, the inputs (size and
    modification time here; each reused unit's bytes are checked as it is cut), and every
    rules file and registry by checksum."""
    inputs = []
    for source in sources:
        try:
            st = os.stat(source.path) if source.path else None
        except OSError:
            st = None
        inputs.append(
            {
                "path": source.name,
                "bytes": st.st_size if st else None,
                "mtime_ns": st.st_mtime_ns if st else None,
            }
        )
    resources = [
        {"path": r["path"], "sha256": r["sha256"]}
        for stage in pipeline.stages
        for r in stage.resources(pipeline.base_dir)
    ]
    return {
        "curate_version": __version__,
        "config_sha256": pipeline.config_sha256(),
        "inputs": inputs,
        "resources": resources,
    }


def _changed(old: dict, new: dict) -> str | None:
    """Why an interrupted run cannot be resumed with the current state, or None."""
    if old.get("curate_version") != new["curate_version"]:
        return f"curate changed ({old.get('curate_version')} -> {new['curate_version']})"
    if old.get("config_sha256") != new["config_sha256"]:
        return "the pipeline config changed"
    old_inputs = {i["path"]: i for i in old.get("inputs", []) if isinstance(i, dict)}
    if list(old_inputs) != [i["path"] for i in new["inputs"]]:
        return "the list of inputs changed"
    for item in new["inputs"]:
        before = old_inputs[item["path"]]
        if (before.get("bytes"), before.get("mtime_ns")) != (item["bytes"], item["mtime_ns"]):
            return f"input {item['path']} changed"
    old_res = {r["path"]: r["sha256"] for r in old.get("resources", [])}
    for res in new["resources"]:
        if old_res.get(res["path"]) != res["sha256"]:
            return f"{res['path']} changed"
    if set(old_res) != {r["path"] for r in new["resources"]}:
        return "the rules files or registries changed"
    return None


def prepare_run_folder(
    out: Path, work: WorkDir, state: dict, resume: bool, overwrite: bool = False
) -> None:
    """Check the output folder: empty, or an interrupted run of this same pipeline to resume
    (everything it reuses unchanged), or, with `overwrite`, a curate folder to start again."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a folder")
    remove_trash(out)
    busy = out.is_dir() and any(out.iterdir())
    if busy and overwrite:
        clear_curate_folder(out)
        busy = False
    if busy and not resume:
        hint = (
            "an interrupted run is there: add --resume to finish it, or --overwrite to start again"
            if work.root.exists()
            else "remove it, choose another output.dir, or --overwrite a curate dataset"
        )
        raise UsageError(f"{out}: output folder is not empty ({hint})")
    state_path = work.root / STATE_FILE
    if busy and resume:
        if not work.root.exists():
            if (out / "manifest.json").exists():
                raise NothingToResume(f"{out}: the dataset is complete; nothing to resume")
            raise UsageError(f"{out}: not a curate run folder; nothing to resume")
        if state_path.exists():
            try:
                old = orjson.loads(state_path.read_bytes())
            except orjson.JSONDecodeError:
                old = {}
            why = _changed(old, state)
            if why is not None:
                raise UsageError(
                    f"{out}: cannot resume: {why} since the interrupted run "
                    "(use --overwrite to start again)"
                )
    work.root.mkdir(parents=True, exist_ok=True)
    atomic_write(state_path, orjson.dumps(state))


class NothingToResume(UsageError):
    """`--resume` of a folder whose run had finished: not an error."""

    exit_code = 0


TRASH = ".curate-work.done"


def remove_trash(out: Path) -> None:
    """Finish a clean-up a kill interrupted: the renamed work folder of a finished run."""
    trash = out / TRASH
    if not trash.exists():
        return
    for root, dirs, files in os.walk(trash, topdown=False):
        for name in files:
            os.unlink(os.path.join(root, name))
            checkpoint("cleanup-file")
        for name in dirs:
            os.rmdir(os.path.join(root, name))
    os.rmdir(trash)


def clear_curate_folder(out: Path) -> None:
    """Empty a folder for a new run, only if it holds a curate dataset or run (never
    unrelated files)."""
    if not ((out / "manifest.json").is_file() or (out / ".curate-work").is_dir()):
        raise UsageError(
            f"{out}: holds files but no curate dataset or run; refusing to delete them"
        )
    for entry in out.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def describe_pass(segments: list, k: int) -> str:
    """What a pass does, for progress: `pass 2/3: dedup_exact decisions, tag, dedup_near keys`."""
    seg = segments[k]
    parts = []
    if seg.applies is not None:
        parts.append(f"{seg.applies.name} decisions")
    parts.extend(stage.name for stage in seg.stages)
    if seg.ends_with is not None:
        parts.append(f"{seg.ends_with.name} keys")
    what = ", ".join(parts) or "read"
    return f"pass {k + 1}/{len(segments)}: {what}" if len(segments) > 1 else what


def spool_stdin(sources: list[Source], work: WorkDir) -> list[Source]:
    """Standard input to a file in the work folder, so that it can be planned like any input."""
    out = []
    for source in sources:
        if not source.is_stdin:
            out.append(source)
            continue
        path = work.root / "stdin.input"
        with source.open() as fh, open(path, "wb") as dst:
            shutil.copyfileobj(fh, dst, 1 << 22)
        out.append(Source(source.name, str(path)))
    return out


def execute(
    pipeline: Pipeline,
    *,
    workers: int | None = None,
    resume: bool = False,
    quiet: bool = False,
    overwrite: bool = False,
    executor: str | None = None,
    address: str | None = None,
) -> RunResult:
    """plan -> map units -> reduce partitions -> apply decisions and write -> summaries.

    `executor` (`local` or `ray`) and `address` override the config's `executor` section."""
    started = time.monotonic()
    cfg = pipeline.config
    out = pipeline.output_dir
    kind = executor or cfg.executor.type
    address = address or cfg.executor.address
    sources = expand_inputs(pipeline.input_specs())
    if resume and any(s.is_stdin for s in sources):
        raise UsageError("--resume cannot be used with stdin as input")
    work = WorkDir(out)
    check_not_inside(out, sources, cfg.quarantine and pipeline.resolve(cfg.quarantine))
    if kind == "ray" and address:
        check_reachable(address)  # before anything is written
    prepare_run_folder(out, work, _output_state(pipeline, sources), resume, overwrite)
    sources = spool_stdin(sources, work)
    if kind == "ray":
        workers = workers or None  # Ray: every CPU of the cluster unless told
    else:
        if address:
            raise UsageError("--address is for the ray executor only")
        workers = workers or cfg.executor.workers
    units, inputs = plan_units(sources, parse_size(cfg.executor.chunk_size))
    segments = plan_segments(pipeline.stages)
    spec = RunSpec(
        str(pipeline.source),
        pipeline.data,
        str(pipeline.base_dir),
        str(out),
        f"{pipeline.config_sha256()}:{out}",
    )
    adopt_pipeline(spec, pipeline)  # this process already built it: no second setup
    planned = time.monotonic()
    if kind == "ray":
        engine: Engine = RayEngine(address, workers)
    else:
        engine = make_engine(workers, warm=lambda: state_of(spec))
    workers = engine.workers
    result = RunResult(out, workers=workers, executor=kind)
    results: dict[tuple[int, int], UnitResult] = {}
    total_bytes = sum(p.bytes for p in inputs)
    progress = RunProgress(total_bytes, quiet=quiet)
    ok = False
    try:
        hashes = list(
            engine.map(
                hash_input,
                [(spec, p.path, [(units[u].start, units[u].end) for u in p.units]) for p in inputs],
                step="hash inputs",
            )
        )
        for plan, (_whole, parts) in zip(inputs, hashes):
            for u, sha in zip(plan.units, parts):
                if work.is_done(0, u) and work.read_done(0, u).input_check != sha:
                    raise UsageError(
                        f"{out}: cannot resume: input {plan.name} changed since the "
                        "interrupted run (use --overwrite to start again)"
                    )
        bases: dict[int, int] = {}
        for k in range(len(segments)):
            progress.start_phase(describe_pass(segments, k), total_bytes if k == 0 else None)
            if k > 0:
                result.files.extend(
                    _reduce(engine, spec, pipeline, segments[k - 1], results, units, work, workers)
                )
                bases = line_bases(units, results)
            jobs = []
            for unit in units:
                if work.is_done(k, unit.index):
                    results[(k, unit.index)] = work.read_done(k, unit.index)
                    result.resumed_units += 1
                    continue
                jobs.append((spec, k, unit, bases.get(unit.index) if k else None))
            for done in engine.map(run_pass_task, jobs, step=describe_pass(segments, k)):
                results[(k, done.unit)] = done
                progress.add_records(done.records_read)
                checkpoint("unit")
        if cfg.output.format == "parquet":
            _to_parquet(engine, spec, units, results, len(segments) - 1)
        ok = True
    except UnitFailed as exc:
        unit = units[exc.unit]
        line = (exc.error.line or 0) + count_lines_before(units, unit)
        raise InputError(exc.error.source, line, exc.error.problem) from None
    finally:
        engine.close(ok)
        progress.close()
    bases = line_bases(units, results)
    assembling = time.monotonic()
    _gather(result, pipeline, segments, units, inputs, hashes, results, bases)
    _assemble(result, pipeline, segments, units, results, bases, work)
    # where the time went: the driver's own steps, and every task step with its task count
    result.steps = [
        {"step": "plan (driver)", "wall": round(planned - started, 3)},
        *(t.to_dict() for t in engine.timings),
        {"step": "gather and assemble (driver)", "wall": round(time.monotonic() - assembling, 3)},
    ]
    result.seconds = time.monotonic() - started
    return result


def _to_parquet(engine: Engine, spec: RunSpec, units: list[UnitSpec], results, final: int) -> None:
    """The final shards as Parquet with one schema: every unit's schemas, unified here, then
    every unit's shards written with it (the JSON shards stay until the run is done, so a
    resume converts again)."""
    todo = [u.index for u in units if results[(final, u.index)].shards]
    jobs = [(spec, u, [s["path"] for s in results[(final, u)].shards]) for u in todo]
    schemas = [
        s for part in engine.map(parquet_schema_task, jobs, step="parquet: schemas") for s in part
    ]
    if not schemas:
        return
    unified = unify_schemas(schemas)
    jobs = [(spec, u, results[(final, u)].shards, unified) for u in todo]
    for u, shards in zip(todo, engine.map(parquet_write_task, jobs, step="parquet: shards")):
        results[(final, u)].shards = shards


def line_bases(units: list[UnitSpec], results: dict) -> dict[int, int]:
    """Lines of its input before each unit, from the first pass's counts."""
    bases: dict[int, int] = {}
    seen: dict[int, int] = {}
    for unit in units:
        bases[unit.index] = seen.get(unit.input_index, 0)
        seen[unit.input_index] = bases[unit.index] + results[(0, unit.index)].lines
    return bases


def finish_run(out: Path) -> None:
    """Remove the work folder once the dataset (and its manifest) is complete. A kill in
    the middle leaves only the renamed folder, which the next `--resume` removes."""
    work = WorkDir(out)
    if work.root.exists():
        remove_trash(out)
        os.replace(work.root, out / TRASH)
        fsync_dir(out)
        checkpoint("cleanup")
    remove_trash(out)


def _reduce(engine, spec, pipeline, segment, results, units, work, workers) -> list[str]:
    """The global stage ending `segment`, partition groups packed to the memory budget."""
    position = segment.ends_at
    done = work.decisions(position) / "done.json"
    if done.exists():
        return orjson.loads(done.read_bytes())["files"]
    memory = parse_size(pipeline.config.executor.memory)
    sizes = [0] * FINE_PARTS
    for unit in units:
        for p, n in enumerate(results[(segment.index, unit.index)].part_bytes or []):
            sizes[p] += n
    groups, lo, acc = [], 0, 0
    for p, n in enumerate(sizes):
        if acc and (acc + n) * 4 > memory:  # unpickled keys and sort scratch: ~4x on disk
            groups.append((lo, p))
            lo, acc = p, 0
        acc += n
    groups.append((lo, FINE_PARTS))
    info = ReduceInfo(
        spec,
        position,
        work.keys(position),
        work.decisions(position),
        [u.index for u in units],
        [results[(segment.index, u.index)].keyed for u in units],
        groups,
        memory,
        pipeline.output_dir,
        pipeline.config.name,
        pipeline.config.version,
        workers,
        stage_at,
    )
    files = segment.ends_with.reduce_run(engine, info)
    atomic_write(done, orjson.dumps({"files": files}))
    return files


def _gather(result, pipeline, segments, units, inputs, hashes, results, bases) -> None:
    """Counts, stats and composition from the units' summaries; line numbers made global."""
    stats = [StageStats() for _ in pipeline.stages]
    final = len(segments) - 1
    composition = Composition()
    for (k, u), summary in sorted(results.items()):
        if k == final and summary.composition is not None:
            composition.merge_state(summary.composition)
        result.errors += summary.errors
        result.empty_lines += summary.empty_lines
        if result.first_error is None and summary.first_error:
            source, line, problem = summary.first_error
            if summary.local_lines and line is not None:
                line += bases[u]
            result.first_error = InputError(source, line, problem).message
        for key, data in summary.stats.items():
            stats[int(key)].merge(StageStats.from_dict(data))
    by_input: dict[int, int] = {}
    for unit in units:
        read = results[(0, unit.index)].records_read
        by_input[unit.input_index] = by_input.get(unit.input_index, 0) + read
        result.records_in += read
    result.records_in += result.errors - sum(st.errors for st in stats)
    result.records_out = sum(results[(final, u.index)].records_out for u in units)
    result.stage_stats = stats
    result.composition = composition.to_manifest()
    result.inputs = [
        {"path": p.name, "sha256": whole, "bytes": p.bytes, "records": by_input.get(n, 0)}
        for n, (p, (whole, _parts)) in enumerate(zip(inputs, hashes))
    ]


def _assemble(result, pipeline, segments, units, results, bases, work: WorkDir) -> None:
    """Units' shards renamed into place, numbered across units per folder (idempotent on a
    resume); rejects likewise; side outputs concatenated in unit order."""
    out = pipeline.output_dir
    cfg = pipeline.config
    final = len(segments) - 1
    numbers: dict[str, int] = {}
    for unit in units:
        for shard in results[(final, unit.index)].shards:
            result.shards.append(_place(out, work.output(unit.index), "", shard, numbers))
    numbers = {}
    for unit in units:
        for k in range(len(segments)):
            for shard in results[(k, unit.index)].rejects:
                result.rejects.append(
                    _place(out, work.rejects(k, unit.index), "rejects", shard, numbers)
                )
    quarantine, optout = [], []
    for unit in units:
        for k in range(len(segments)):
            summary = results[(k, unit.index)]
            if QUARANTINE in summary.side:
                quarantine.append(work.unit_path(k, unit.index, QUARANTINE).read_bytes())
            if OPTOUT in summary.side:
                data = work.unit_path(k, unit.index, OPTOUT).read_bytes()
                if summary.local_lines:
                    data = _shift_lines(data, bases[unit.index])
                optout.append(data)
    if OnError(cfg.on_error) is OnError.quarantine:
        qpath = (
            pipeline.resolve(cfg.quarantine)
            if cfg.quarantine
            else out / "quarantine" / "bad-lines.jsonl"
        )
        atomic_write(qpath, b"".join(quarantine))
        result.quarantine = os.path.relpath(qpath, out) if qpath.is_relative_to(out) else str(qpath)
    if any(stage.name == "optout" for stage in pipeline.stages):
        atomic_write(out / OPTOUT_LOG, b"".join(optout))
        result.files.append(OPTOUT_LOG)
    fsync_dir(out)
    checkpoint("assembled")


def _place(out: Path, folder: Path, subdir: str, shard: dict, numbers: dict[str, int]) -> ShardInfo:
    """Move one unit's shard to its global name: `[subdir/][split/]part-NNNNN.jsonl.zst`."""
    rel = Path(shard["path"])
    split = rel.parent.as_posix() if rel.parent != Path(".") else ""
    n = numbers.get(split, 0)
    numbers[split] = n + 1
    suffix = ".parquet" if rel.name.endswith(".parquet") else ".jsonl.zst"
    target_rel = Path(subdir, split, f"part-{n:05d}{suffix}")
    source, target = folder / rel, out / target_rel
    if source.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
    return ShardInfo(**{**shard, "path": target_rel.as_posix()})


def _shift_lines(data: bytes, base: int) -> bytes:
    rows = [orjson.loads(line) for line in data.splitlines()]
    for row in rows:
        if isinstance(row.get("line"), int):
            row["line"] += base
    return b"".join(orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in rows)
