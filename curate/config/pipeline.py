"""pipeline.yaml -> a validated `Pipeline`: config models, stage instances, resolved paths.

Every error names the file, the YAML line and the key path:
`pipeline.yaml:9: stages[2].dedup_exact.normalize: expected one of none, whitespace, lower`.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from curate.core.errors import CurateError
from curate.core.fields import Fields
from curate.core.limits import MAX_WORKERS
from curate.core.validation import first_error
from curate.core.yamlconf import LocatedYaml, load_yaml
from curate.io.policy import OnError
from curate.io.sources import expand_inputs
from curate.io.writer import parse_size
from curate.stages import StageOptionsError, configure, get_stage_class, stage_names
from curate.stages.base import Stage, StageConfig


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldsConfig(_Model):
    id: str = "id"
    text: str = "text"


class OutputConfig(_Model):
    dir: str
    # jsonl: zstd JSON-lines shards; parquet: Parquet shards sharing one schema
    format: Literal["jsonl", "parquet"] = "jsonl"
    shard_size: str | int = "256MB"
    shard_records: int | None = Field(None, ge=1)
    level: int = Field(3, ge=1, le=22)
    rejects: bool = False
    split_by: str | None = None

    @field_validator("shard_size")
    @classmethod
    def _size(cls, value: str | int) -> str | int:
        try:
            parse_size(value)
        except CurateError as exc:
            raise ValueError(exc.message) from None
        return value


class ExecutorConfig(_Model):
    # local: this machine (inline or forked workers); ray: tasks on a Ray cluster
    type: Literal["local", "ray"] = "local"
    # ray only: `auto`, `ray://host:port` or a GCS `host:port`; none starts a local Ray
    address: str | None = None
    workers: int = Field(1, ge=1, le=MAX_WORKERS)
    chunk_size: str | int = "32MB"
    # per process, for the reduce of a global stage: keys are partitioned so that each
    # partition fits, and stay on disk until their partition is resolved
    memory: str | int = "512MB"

    @field_validator("chunk_size", "memory")
    @classmethod
    def _sizes(cls, value: str | int) -> str | int:
        try:
            parse_size(value)
        except CurateError as exc:
            raise ValueError(exc.message) from None
        return value

    @model_validator(mode="after")
    def _address_for_ray(self) -> ExecutorConfig:
        if self.address is not None and self.type != "ray":
            raise ValueError("address is for `type: ray` only")
        return self


class ExpectConfig(_Model):
    min_records: int | None = Field(None, ge=0)
    max_drop_rate: dict[str, float] = Field(default_factory=dict)
    max_error_rate: float | None = Field(None, ge=0, le=1)


class PipelineConfig(_Model):
    name: str
    version: str
    parent: str | None = None
    inputs: list[str] = Field(min_length=1)
    fields: FieldsConfig = Field(default_factory=FieldsConfig)
    stages: list[dict[str, Any]] = Field(default_factory=list)
    output: OutputConfig
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    on_error: OnError = OnError.fail
    quarantine: str | None = None
    # a line with a duplicated key: an error, or read with the last value winning (and
    # written in its canonical form)
    duplicate_keys: Literal["error", "last"] = "error"
    expect: ExpectConfig = Field(default_factory=ExpectConfig)

    @field_validator("version", "name", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        # `version: 2026.11` is a float to YAML; a version is text
        return str(value) if isinstance(value, (int, float)) else value

    @field_validator("version", "name")
    @classmethod
    def _one_folder(cls, value: str) -> str:
        # both name folders of output.dir: they must not climb out of it or split it
        if not value or value in (".", "..") or _NAME_UNSAFE.search(value):
            raise ValueError(
                "must be a folder name: not empty, '.' or '..', no '/', '\\' or control characters"
            )
        return value

    @model_validator(mode="after")
    def _output_dir(self) -> PipelineConfig:
        template = self.output.dir
        if "\x00" in template:
            raise ValueError("output.dir: contains a NUL character")
        try:
            template.format(name=self.name, version=self.version)
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise ValueError(
                f"output.dir: invalid placeholder ({exc}); known: {{name}}, {{version}}"
            ) from None
        return self


class Pipeline:
    """A validated pipeline: its config (defaults filled in), stages, and resolved paths."""

    def __init__(
        self, config: PipelineConfig, stages: list[Stage], base_dir: Path, source: Path | None
    ):
        self.config = config
        self.stages = stages
        self.base_dir = base_dir
        self.source = source
        self.data: Any = None  # the config as parsed, from which a worker rebuilds it

    @property
    def fields(self) -> Fields:
        return Fields(id=self.config.fields.id, text=self.config.fields.text)

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def output_dir(self) -> Path:
        cfg = self.config
        return self.resolve(cfg.output.dir.format(name=cfg.name, version=cfg.version))

    def input_specs(self) -> list[str]:
        return [str(self.resolve(spec)) if spec != "-" else spec for spec in self.config.inputs]

    def resolved_config(self) -> dict:
        """The config as run: defaults filled in, stages with their full configs.

        The executor section is left out but for `chunk_size`: how a dataset is computed
        (workers, memory, engine) never changes what it holds, so it must not change the
        config hash; the unit size sets where shards are cut, so it is part of it.
        """
        data = self.config.model_dump(mode="json", exclude={"executor"})
        data["executor"] = {"chunk_size": self.config.executor.chunk_size}
        data["stages"] = [stage.describe(self.base_dir) for stage in self.stages]
        return data

    def config_sha256(self) -> str:
        blob = orjson.dumps(self.resolved_config(), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(blob).hexdigest()


_NAME_UNSAFE = re.compile(r"[/\\\x00-\x1f\x7f]")
_STAGE_SHAPE = "expected a mapping with one stage name, e.g. '- filter: {min_chars: 20}'"


def _build_stage(doc: LocatedYaml, index: int, item: Any, fields: Fields, base_dir: Path) -> Stage:
    loc = ("stages", index)
    if not isinstance(item, dict) or len(item) != 1:
        raise doc.error(loc, _STAGE_SHAPE)
    ((name, options),) = item.items()
    try:
        cls = get_stage_class(name)
    except CurateError:
        raise doc.error(
            loc + (name,), f"unknown stage {name!r} (known: {', '.join(stage_names())})"
        ) from None
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise doc.error(loc + (name,), "expected a mapping of options")
    options = resolve_stage_paths(cls.Config, options, base_dir)
    try:
        config = configure(name, options)
    except StageOptionsError as exc:
        raise doc.error(loc + (name, *exc.loc), exc.problem) from None
    try:
        return cls(config, fields)
    except CurateError as exc:
        raise doc.error(loc + (name,), exc.message) from None


def resolve_stage_paths(model: type[StageConfig], options: dict, base_dir: Path) -> dict:
    """Make the options a stage marks as paths (`path_fields`) relative to the YAML file."""
    path_fields = getattr(model, "path_fields", ())
    out = dict(options)
    for key in path_fields:
        value = out.get(key)
        if isinstance(value, str):
            out[key] = str(_join(base_dir, value))
        elif isinstance(value, list):
            out[key] = [str(_join(base_dir, v)) if isinstance(v, str) else v for v in value]
    return out


def _join(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def check_paths(doc: LocatedYaml, config: PipelineConfig, base_dir: Path) -> None:
    """Mistakes found before any work, with their YAML line: an input that matches nothing,
    a `parent:` that is not a dataset folder."""
    for i, spec in enumerate(config.inputs):
        if spec == "-":
            continue
        path = _join(base_dir, spec)
        try:
            sources = expand_inputs([str(path)])
        except CurateError as exc:
            raise doc.error(("inputs", i), exc.message) from None
        if len(sources) == 1 and not os.path.exists(sources[0].path or ""):
            raise doc.error(("inputs", i), f"no such file: {spec}")
    if config.parent:
        parent = _join(base_dir, config.parent)
        if not (parent / "manifest.json").is_file():
            raise doc.error(
                ("parent",), f"{config.parent}: not a curate dataset (no manifest.json)"
            )


def privacy_first(stages: list[Stage]) -> list[Stage]:
    """Opt-out stages run first, wherever they are listed: an opted-out record must reach no
    other stage, which could write it to rejects or to the work folder."""
    return [s for s in stages if s.name == "optout"] + [s for s in stages if s.name != "optout"]


def check_privacy_order(doc: LocatedYaml, stages: list[Stage]) -> None:
    """`redact` must come before every global stage: a run stores records between its passes,
    and none may be stored with a value redaction would replace."""
    first_global = next((i for i, s in enumerate(stages) if s.is_global), None)
    if first_global is None:
        return
    for i, stage in enumerate(stages):
        if stage.name == "redact" and i > first_global:
            other = stages[first_global].name
            raise doc.error(
                ("stages", i, "redact"),
                f"must come before {other} (stages[{first_global}]): a run stores records "
                "between passes, and none may be stored unredacted",
            )


def load_pipeline(path: Path) -> Pipeline:
    return pipeline_from_doc(load_yaml(path), path.resolve().parent, check=True)


def pipeline_from_dict(data: dict, base_dir: Path) -> Pipeline:
    """A pipeline from the structure a YAML file holds (the Python API's `curate.run(dict)`);
    relative paths are taken from `base_dir`, errors name `<config>` and the key path."""
    return pipeline_from_doc(LocatedYaml(Path("<config>"), data, {}), base_dir, check=True)


def pipeline_from_doc(doc: LocatedYaml, base_dir: Path, check: bool = True) -> Pipeline:
    """A pipeline from parsed config data. `check` looks at the file system too (inputs,
    parent); a worker rebuilding the driver's pipeline from its data skips that."""
    path = doc.path
    if not isinstance(doc.data, dict):
        raise doc.error(
            (), "expected a mapping at the top level (name, version, inputs, stages, output)"
        )
    raw = dict(doc.data)
    stage_items = raw.get("stages") or []
    if not isinstance(stage_items, list):
        raise doc.error(("stages",), "expected a list of stages")
    for i, item in enumerate(stage_items):
        if not isinstance(item, dict) or len(item) != 1:
            raise doc.error(("stages", i), _STAGE_SHAPE)
    try:
        config = PipelineConfig(**raw)
    except ValidationError as exc:
        where, problem = first_error(exc, model=PipelineConfig)
        if where[:1] == ("stages",) and len(where) > 1:
            where = where[:2]
        if not where and problem.startswith("output.dir: "):  # from the model's own check
            where, problem = ("output", "dir"), problem[len("output.dir: ") :]
        raise doc.error(where, problem) from None
    fields = Fields(id=config.fields.id, text=config.fields.text)
    stages = [_build_stage(doc, i, item, fields, base_dir) for i, item in enumerate(stage_items)]
    if check:
        check_paths(doc, config, base_dir)
    check_privacy_order(doc, stages)
    stages = privacy_first(stages)
    names = [stage.name for stage in stages]
    for name, rate in config.expect.max_drop_rate.items():
        where = ("expect", "max_drop_rate", name)
        if name not in names:  # a guard that could never fire
            listed = ", ".join(dict.fromkeys(names)) or "none"
            raise doc.error(where, f"no stage {name!r} in this pipeline (stages: {listed})")
        if not 0 <= rate <= 1:
            raise doc.error(where, "expected a share from 0 to 1")
    pipeline = Pipeline(config, stages, base_dir, path)
    pipeline.data = doc.data
    return pipeline
