"""The Python API: the CLI's verbs as functions and methods, on the same stage implementations.

    import curate
    recs = curate.read("raw/*.jsonl.zst", text_field="content", on_error="skip")
    recs = recs.filter(min_chars=20).tag().redact().dedup_exact()
    for record in recs: ...                       # dicts, streamed
    version = recs.write("out/v1", shard_size="64MB", split_by="meta.subset")
    run = curate.run("pipeline.yaml", workers=4)  # or a dict
    curate.verify("out/v1"); curate.diff("out/v1", "out/v2")

Iterating a `Records` streams it as `curate cat FILES | curate STAGE ...` would: the same
reader, the same stages in their pipe form, the same records. `write` of records read from
files runs the pipeline as `curate run` does (parallel, resumable, the same bytes); records
from memory are written in one pass, as `... | curate write` would.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from curate.core.errors import ConfigError, CurateError, UsageError
from curate.core.fields import Fields
from curate.io.policy import ErrorPolicy, OnError
from curate.io.reader import Batch, parse_lines, read_batches
from curate.io.sources import expand_inputs
from curate.stages import configure, get_stage_class
from curate.stages import stage_names as _registered
from curate.stages.base import Context, Stage, StageStats

PathLike = str | os.PathLike
BATCH_RECORDS = 1000  # records of an in-memory iterable per batch


def make_stage(name: str, options: dict[str, Any], fields: Fields) -> Stage:
    """A stage from its registry name and config keys, validated as YAML is."""
    return get_stage_class(name)(configure(name, options), fields)


@dataclass(frozen=True)
class _Step:
    name: str
    options: dict[str, Any]


class Records:
    """A lazy stream of records (dicts) and the stages to apply to it.

    Stage methods (`filter`, `tag`, `redact`, `license`, `optout`, `dedup_exact`,
    `dedup_near`, and `apply(name, **options)` for any registered stage) return a new
    `Records`; nothing runs until it is iterated or written. Options are the stage's YAML keys.
    """

    def __init__(
        self,
        *,
        paths: list[str] | None = None,
        items: Iterable[dict] | None = None,
        fields: Fields | None = None,
        on_error: str = "fail",
        quarantine: PathLike | None = None,
        duplicate_keys: str = "error",
        steps: tuple[_Step, ...] = (),
    ):
        self._paths = paths
        self._items = items
        self.fields = fields or Fields()
        self.on_error = OnError(on_error)
        self.quarantine = None if quarantine is None else str(quarantine)
        self.duplicate_keys = duplicate_keys
        self._steps = steps
        self.stats: list[dict] = []  # per stage, filled by the last complete iteration
        self._last_stages: list[Stage] = []
        self.errors = 0  # bad lines skipped or quarantined by the last iteration
        if self.on_error is OnError.quarantine and self.quarantine is None:
            raise UsageError("on_error='quarantine' needs quarantine=PATH")

    # ---- building the chain ---------------------------------------------------------------

    def apply(self, stage: str, **options: Any) -> Records:
        """This stream through the stage `stage` (a YAML stage name) configured by `options`.

        Bad options fail here, at the call; the stage itself (its rules, indexes) is built
        only when the records are iterated or written."""
        configure(stage, options)
        return Records(
            paths=self._paths,
            items=self._items,
            fields=self.fields,
            on_error=self.on_error.value,
            quarantine=self.quarantine,
            duplicate_keys=self.duplicate_keys,
            steps=(*self._steps, _Step(stage, dict(options))),
        )

    def filter(self, **options: Any) -> Records:
        """Keep records by length, lines and field conditions (`min_chars`, `where`, ...)."""
        return self.apply("filter", **options)

    def optout(self, **options: Any) -> Records:
        """Drop records an opt-out registry names (`registry=PATH`)."""
        return self.apply("optout", **options)

    def tag(self, **options: Any) -> Records:
        """Set `meta.subset` and `meta.language` from the shipped or given rules."""
        return self.apply("tag", **options)

    def redact(self, **options: Any) -> Records:
        """Replace PII and secrets with placeholders; `meta.pii` counts them by kind."""
        return self.apply("redact", **options)

    def license(self, **options: Any) -> Records:
        """Annotate `meta.license` and keep what the policy allows (`scancode=False`: metadata
        and SPDX tags only)."""
        return self.apply("license", **options)

    def langid(self, **options: Any) -> Records:
        """Set `meta.natural_language` (ISO 639) and its score on prose records."""
        return self.apply("langid", **options)

    def quality(self, **options: Any) -> Records:
        """Compute `meta.quality` signals and drop by a preset's thresholds (`preset="gopher"`)."""
        return self.apply("quality", **options)

    def decontaminate(self, **options: Any) -> Records:
        """Drop (or annotate) records that share long n-grams with evaluation sets
        (`evals=[PATH, ...]`)."""
        return self.apply("decontaminate", **options)

    def dedup_exact(self, **options: Any) -> Records:
        """Drop exact duplicates (SHA-256 of the normalised text or a key), keeping the first."""
        return self.apply("dedup_exact", **options)

    def dedup_near(self, **options: Any) -> Records:
        """Drop near duplicates (MinHash + LSH, verified), keeping the first."""
        return self.apply("dedup_near", **options)

    # ---- running it ---------------------------------------------------------------------------

    def stages(self) -> list[Stage]:
        """Fresh stage instances for one pass (stages hold state: dedup keys, counts)."""
        return [make_stage(s.name, s.options, self.fields) for s in self._steps]

    def batches(self) -> Iterator[Batch]:
        """The output as batches (records plus their raw lines): the fast path underneath."""
        from curate.executors.stream import process_batches
        from curate.stages.privacy import PrivacyScreens

        stages = self.stages()
        self._last_stages = stages
        stats = [StageStats() for _ in stages]
        sink = open(self.quarantine, "wb") if self.quarantine else None  # noqa: SIM115
        try:
            policy = ErrorPolicy(self.on_error, sink, self.duplicate_keys == "last")
            PrivacyScreens.of(stages).install(policy)
            ctx = Context(policy)
            if self._paths is not None:
                source_batches = read_batches(expand_inputs(self._paths), policy)
            else:
                source_batches = _item_batches(self._items or (), policy)
            try:
                yield from process_batches(stages, source_batches, ctx, stats)
            finally:
                close = getattr(source_batches, "close", None)
                if close is not None:
                    close()
            self.stats = [{"stage": s.name, **st.to_dict()} for s, st in zip(stages, stats)]
            self.errors = policy.errors
        finally:
            if sink is not None:
                sink.close()

    def __iter__(self) -> Iterator[dict]:
        for batch in self.batches():
            yield from batch.records

    def to_list(self) -> list[dict]:
        """Every output record, in order."""
        return list(self)

    def count(self) -> int:
        """How many records come out."""
        return sum(len(batch.records) for batch in self.batches())

    def write(
        self,
        out: PathLike,
        *,
        shard_size: str | int = "256MB",
        shard_records: int | None = None,
        split_by: str | None = None,
        format: str = "jsonl",
        rejects: bool = False,
        name: str | None = None,
        version: str = "0",
        overwrite: bool = False,
        workers: int | None = None,
    ) -> Version:
        """Write a dataset version (shards, manifest, card, report) to `out`.

        Records read from files are written by `curate run` of the equivalent pipeline;
        records from memory in one pass, as `... | curate write` would."""
        out = Path(out)
        if self._paths is None:
            return self._write_items(
                out, shard_size, shard_records, split_by, format, name, version, overwrite
            )
        config: dict[str, Any] = {
            "name": name or out.resolve().name,
            "version": version,
            "inputs": list(self._paths),
            "fields": {"id": self.fields.id, "text": self.fields.text},
            "stages": [{s.name: s.options} for s in self._steps],
            "output": {
                "dir": str(out),
                "shard_size": shard_size,
                "split_by": split_by,
                "rejects": rejects,
                "format": format,
            },
            "on_error": self.on_error.value,
        }
        if shard_records is not None:
            config["output"]["shard_records"] = shard_records
        if self.quarantine:
            config["quarantine"] = self.quarantine
        if self.duplicate_keys != "error":
            config["duplicate_keys"] = self.duplicate_keys
        result = run(config, workers=workers, overwrite=overwrite)
        return Version(result.path, result.manifest)

    def _write_items(
        self, out, shard_size, shard_records, split_by, format, name, version, overwrite
    ) -> Version:
        from curate.versions.write import write_batches

        manifest = write_batches(
            out,
            self.batches(),
            fields=self.fields,
            processed=lambda: (self._last_stages, self.stats, self.errors),
            shard_size=shard_size,
            shard_records=shard_records,
            split_by=split_by,
            format=format,
            name=name,
            version=version,
            overwrite=overwrite,
        )
        return Version(out, manifest)

    def __repr__(self) -> str:
        source = self._paths if self._paths is not None else "<records>"
        chain = "".join(f".{s.name}(...)" for s in self._steps)
        return f"curate.read({source!r}){chain}"


def _item_batches(items: Iterable[dict], policy: ErrorPolicy) -> Iterator[Batch]:
    """In-memory records as the reader gives file records: each goes through its JSON line,
    so stages see their own copies and bad values are reported as a file's would be."""
    lines: list[bytes] = []
    first = 1
    for i, item in enumerate(items, 1):
        try:
            lines.append(orjson.dumps(item))
        except TypeError as exc:
            raise ConfigError(f"<records>:{i}: not JSON-serialisable: {exc}") from None
        if len(lines) >= BATCH_RECORDS:
            yield parse_lines("<records>", first, lines, policy)
            first += len(lines)
            lines = []
    if lines:
        yield parse_lines("<records>", first, lines, policy)


@dataclass
class Version:
    """A dataset version folder: its manifest, and its records to read back."""

    path: Path
    manifest: dict

    @property
    def records_out(self) -> int:
        return self.manifest["totals"]["records_out"]

    def read(self, **options: Any) -> Records:
        """The version's kept records (its shards, in order)."""
        from curate.io.dataset_files import shard_paths

        fields = self.manifest.get("fields") or {}
        return read(
            [str(p) for p in shard_paths(self.path, self.manifest)],
            text_field=fields.get("text", "text"),
            id_field=fields.get("id", "id"),
            **options,
        )


@dataclass
class Run:
    """A finished `curate run`: the version it wrote, its per-stage counts, violated guards."""

    path: Path
    manifest: dict
    violations: list[str] = field(default_factory=list)

    @property
    def stats(self) -> list[dict]:
        return self.manifest["stages"]

    @property
    def version(self) -> Version:
        return Version(self.path, self.manifest)


def read(
    source: PathLike | Iterable[PathLike] | Iterable[dict],
    *,
    text_field: str = "text",
    id_field: str = "id",
    on_error: str = "fail",
    quarantine: PathLike | None = None,
    duplicate_keys: str = "error",
) -> Records:
    """Records from files, globs and folders (JSON lines, zstd, gzip, Parquet), or from any
    iterable of dicts. `on_error`: fail (raise at the first bad line), skip or quarantine."""
    fields = Fields(id=id_field, text=text_field)
    common = dict(
        fields=fields, on_error=on_error, quarantine=quarantine, duplicate_keys=duplicate_keys
    )
    if isinstance(source, str | os.PathLike):
        return Records(paths=[os.fspath(source)], **common)
    if (
        isinstance(source, list | tuple)
        and source
        and all(isinstance(s, str | os.PathLike) for s in source)
    ):
        return Records(paths=[os.fspath(s) for s in source], **common)
    return Records(items=source, **common)


def run(
    config: PathLike | dict,
    *,
    workers: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    executor: str | None = None,
    address: str | None = None,
) -> Run:
    """Run a pipeline (a YAML file or the same structure as a dict), as `curate run` does;
    relative paths in a dict are taken from the current folder."""
    from curate.config.pipeline import load_pipeline, pipeline_from_dict
    from curate.executors.pipeline_run import run_pipeline

    if isinstance(config, dict):
        pipeline = pipeline_from_dict(config, Path.cwd())
    else:
        pipeline = load_pipeline(Path(config))
    result, manifest, violations = run_pipeline(
        pipeline,
        workers=workers,
        resume=resume,
        overwrite=overwrite,
        executor=executor,
        address=address,
    )
    return Run(result.out_dir, manifest, violations)


def verify(path: PathLike, *, check: bool = True) -> dict:
    """Re-hash a dataset version against its manifest: the report (`ok`, files `checked`,
    `problems`). With `check` (the default) a problem raises `CurateError` naming the first."""
    from curate.versions.manifest import describe_problem
    from curate.versions.manifest import verify as verify_folder

    report = verify_folder(Path(path))
    if check and report["problems"]:
        raise CurateError(f"{path}: {describe_problem(report['problems'][0])}")
    return report


def diff(a: PathLike, b: PathLike, *, ids: bool = False) -> dict:
    """What changed from version `a` to version `b`: records added and removed (with ids if
    asked), composition and config changes, opt-out attributions."""
    from curate.versions.diff import diff_versions

    return diff_versions(Path(a), Path(b), want_ids=ids)


def stage_names() -> list[str]:
    """The registered stage names (methods of `Records`, YAML stage keys, CLI commands)."""
    return _registered()
