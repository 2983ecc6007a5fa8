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

import gc
import hashlib
import io
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from curate import __version__
from curate.composition import Composition
from curate.errors import UsageError
from curate.executors.forked import OrderedWorkers
from curate.executors.units import (
    InputInfo,
    RunSetup,
    UnitSpec,
    WorkDir,
    atomic_write,
    cut_units,
    install_setup,
    load_keys,
    plan_segments,
    read_unit_output,
    run_unit,
)
from curate.faults import checkpoint
from curate.io.policy import ErrorPolicy, OnError
from curate.io.sources import Source, check_not_inside, expand_inputs
from curate.io.split import dataset_writer
from curate.io.writer import ShardInfo, ShardWriter, fsync_dir, parse_size
from curate.pipeline import Pipeline
from curate.privacy import PrivacyScreens
from curate.progress import RunProgress
from curate.stages.base import ReduceContext, StageStats

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


class _Runner:
    """Runs unit tasks in-process (1 worker) or on forked workers, with bounded in-flight work
    and results taken in submission order."""

    def __init__(self, workers: int, on_done: Callable[[dict], None]):
        self.workers = workers
        self.on_done = on_done
        self.pool: OrderedWorkers | None = None
        if workers > 1:
            # what the stages loaded (rules, scancode's ~1 GB license index) is shared with the
            # forked workers; frozen, the collector does not touch (and so copy) those pages
            gc.freeze()
            self.pool = OrderedWorkers(workers, run_unit)

    def submit(self, seg: int, spec: UnitSpec, payload: Any) -> None:
        if self.pool is None:
            self.on_done(run_unit(seg, spec, payload))
            return
        for summary in self.pool.submit(seg, spec, payload):
            self.on_done(summary)

    def drain(self) -> None:
        if self.pool is not None:
            for summary in self.pool.drain():
                self.on_done(summary)

    def close(self, ok: bool) -> None:
        if self.pool is None:
            return
        if ok:
            self.pool.close()
        else:
            self.pool.kill()


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


def execute(
    pipeline: Pipeline,
    *,
    workers: int | None = None,
    resume: bool = False,
    quiet: bool = False,
    overwrite: bool = False,
) -> RunResult:
    started = time.monotonic()
    cfg = pipeline.config
    out = pipeline.output_dir
    sources = expand_inputs(pipeline.input_specs())
    if resume and any(s.is_stdin for s in sources):
        raise UsageError("--resume cannot be used with stdin as input")
    work = WorkDir(out)
    check_not_inside(out, sources, cfg.quarantine and pipeline.resolve(cfg.quarantine))
    prepare_run_folder(out, work, _output_state(pipeline, sources), resume, overwrite)
    workers = workers or cfg.executor.workers
    chunk_size = parse_size(cfg.executor.chunk_size)
    segments = plan_segments(pipeline.stages)
    on_error = OnError(cfg.on_error)
    screens = PrivacyScreens.of(pipeline.stages)
    keep_last = cfg.duplicate_keys == "last"
    install_setup(
        RunSetup(segments, pipeline.fields, on_error, cfg.output.rejects, work, screens, keep_last)
    )

    result = RunResult(out)
    stats = [StageStats() for _ in pipeline.stages]
    summaries: dict[tuple[int, int], dict] = {}
    total_bytes = sum(s.size() or 0 for s in sources)
    progress = RunProgress(total_bytes, quiet=quiet)
    stream_quarantine = io.BytesIO() if on_error is OnError.quarantine else None
    parent_policy = screens.install(ErrorPolicy(on_error, stream_quarantine, keep_last))

    def done(summary: dict, seg: int) -> None:
        summaries[(seg, summary["unit"])] = summary
        progress.add_records(summary["records_read"])
        checkpoint("unit")

    specs: list[UnitSpec] = []
    inputs: list[InputInfo] = []
    reduce_seconds: dict[int, float] = {}
    runner = None
    try:
        for k, _segment in enumerate(segments):
            runner = _Runner(workers, lambda s, k=k: done(s, k))
            if k == 0:
                progress.start_phase(describe_pass(segments, 0), total_bytes)
                for spec, data, info in cut_units(sources, chunk_size, parent_policy, progress):
                    if spec is None:
                        inputs.append(info)
                        progress.input_done(info.bytes)
                        continue
                    specs.append(spec)
                    if work.is_done(0, spec.index):
                        summary = work.read_done(0, spec.index)
                        if summary.get("input_sha256") != hashlib.sha256(data).hexdigest():
                            raise UsageError(
                                f"{out}: cannot resume: input {spec.source} changed since the "
                                "interrupted run (use --overwrite to start again)"
                            )
                        result.resumed_units += 1
                        done(summary, 0)
                        continue
                    runner.submit(0, spec, data)
            else:
                progress.start_phase(describe_pass(segments, k), None)
                reducer = segments[k - 1].ends_with
                rctx = ReduceContext(out, cfg.name, cfg.version, segments[k - 1].ends_at or 0)
                started_reduce = time.monotonic()
                decisions = reducer.reduce([load_keys(work, k - 1, s.index) for s in specs], rctx)
                reduce_seconds[segments[k - 1].ends_at] = time.monotonic() - started_reduce
                result.files.extend(rctx.files)
                for spec, unit_decisions in zip(specs, decisions):
                    if work.is_done(k, spec.index):
                        result.resumed_units += 1
                        done(work.read_done(k, spec.index), k)
                        continue
                    runner.submit(k, spec, unit_decisions)
            runner.drain()
            runner.close(ok=True)
            runner = None
    finally:
        if runner is not None:
            runner.close(ok=False)
        progress.close()

    # gather counts
    final = len(segments) - 1
    errors = parent_policy.errors
    empty = parent_policy.empty_lines
    first_error = parent_policy.first_error
    composition = Composition()
    for (seg, _unit), summary in sorted(summaries.items()):
        # The output's composition is the last pass's; an earlier pass may carry one too, as
        # the starting point of a last pass that only drops records.
        if seg == final and summary.get("composition") is not None:
            composition.merge_state(summary["composition"])
        errors += summary["errors"]
        empty += summary["empty_lines"]
        first_error = first_error or summary["first_error"]
        for key, data in summary["stats"].items():
            stats[int(key)].merge(StageStats.from_dict(data))
    records_by_source: dict[str, int] = {}
    for spec in specs:
        s0 = summaries[(0, spec.index)]
        records_by_source[spec.source] = records_by_source.get(spec.source, 0) + s0["records_read"]
        result.records_in += s0["records_read"]
    # lines in: parsed records plus the lines that failed to parse
    result.records_in += errors - sum(st.errors for st in stats)
    for position, seconds in reduce_seconds.items():
        stats[position].seconds += seconds
    result.stage_stats = stats
    result.composition = composition.to_manifest()
    result.workers = workers
    result.errors, result.empty_lines, result.first_error = errors, empty, first_error
    result.inputs = [
        {
            "path": i.name,
            "sha256": i.sha256,
            "bytes": i.bytes,
            "records": records_by_source.get(i.name, 0),
        }
        for i in inputs
    ]

    # write the dataset: shards, rejects, quarantine, in unit order
    _clear_outputs(out)
    writer_args = {
        "shard_bytes": parse_size(cfg.output.shard_size),
        "shard_records": cfg.output.shard_records,
        "level": cfg.output.level,
    }
    split = cfg.output.split_by
    writer = dataset_writer(out, split, **writer_args)
    rejects = ShardWriter(
        out,
        subdir="rejects",
        shard_bytes=parse_size(cfg.output.shard_size),
        shard_records=cfg.output.shard_records,
        level=cfg.output.level,
    )
    quarantine_parts: list[bytes] = []
    optout_parts: list[bytes] = []
    try:
        for spec in specs:
            data = read_unit_output(work, final, spec.index, "jsonl.zst")
            if data:
                lines = data.split(b"\n")
                lines.pop()
                if split:
                    writer.write_lines_of(
                        [orjson.loads(x) for x in lines], [x + b"\n" for x in lines]
                    )
                else:
                    writer.write_block(data)
                result.records_out += len(lines)
            for k in range(len(segments)):
                rdata = read_unit_output(work, k, spec.index, "rejects.zst")
                if rdata:
                    rejects.write_block(rdata)
                q = read_unit_output(work, k, spec.index, "quarantine")
                if q:
                    quarantine_parts.append(q)
                log = read_unit_output(work, k, spec.index, "optout")
                if log:
                    optout_parts.append(log)
        result.shards = writer.close()
        result.rejects = rejects.close()
    except BaseException:
        writer.abort()
        rejects.abort()
        raise
    if parent_policy.withheld:
        optout_parts.append(b"".join(orjson.dumps(p) + b"\n" for p in parent_policy.withheld))
    if stream_quarantine is not None and stream_quarantine.tell():
        quarantine_parts.append(stream_quarantine.getvalue())
    if on_error is OnError.quarantine:
        qpath = (
            pipeline.resolve(cfg.quarantine)
            if cfg.quarantine
            else out / "quarantine" / "bad-lines.jsonl"
        )
        atomic_write(qpath, b"".join(quarantine_parts))
        result.quarantine = os.path.relpath(qpath, out) if qpath.is_relative_to(out) else str(qpath)
    if any(stage.name == "optout" for stage in pipeline.stages):
        atomic_write(out / OPTOUT_LOG, b"".join(optout_parts))
        result.files.append(OPTOUT_LOG)
    fsync_dir(out)
    checkpoint("assembled")
    result.seconds = time.monotonic() - started
    return result


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


def _clear_outputs(out: Path) -> None:
    """Remove shards of an earlier, interrupted assembly; they are rewritten identically."""
    for entry in out.iterdir():
        if entry.is_dir() and not entry.name.startswith("."):
            if entry.name not in ("rejects", "indexes", "quarantine") and any(
                p.name.startswith("part-") for p in entry.iterdir()
            ):
                shutil.rmtree(entry)  # a split folder from an interrupted assembly
            continue
        if entry.name.startswith("part-") or (
            entry.name.startswith(".part-") and entry.name.endswith(".tmp")
        ):
            entry.unlink()
    if (out / "rejects").is_dir():
        shutil.rmtree(out / "rejects")
