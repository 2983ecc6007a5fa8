"""Stage commands generated from the stages' config models: one definition per stage.

Each config key is an option of the same name (`min_chars` -> `--min-chars`), with the key's
type, default and description; booleans are `--key/--no-key`, lists repeat (`--where A
--where B`), choices list their values, a nested model's keys are flattened (`drop_if:
{min_secrets}` -> `--drop-if-min-secrets`), and keys whose values are mappings or either-or
shapes (`keep: {prefer: [...]}`) take the YAML text of the value. Stage commands are built
when first used, so `curate cat` does not import every stage's dependencies.

A command's own body receives the config as a dict, validated like a pipeline's YAML, with
errors naming the option (`--drop-if-min-secrets: must be >= 1`).
"""

from __future__ import annotations

import inspect
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin

import click
import typer
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from curate.cli.lazy_group import StageCommand


def option_name(path: tuple[str, ...]) -> str:
    """The option of a config key path: ("drop_if", "min_secrets") -> --drop-if-min-secrets."""
    return "--" + "-".join(str(p) for p in path).replace("_", "-")


@dataclass
class _Generated:
    param: str  # the Python parameter name
    path: tuple[str, ...]  # config key path
    kind: str  # "plain", "list", "yaml", "tuple"
    parameter: inspect.Parameter


def _describe(info) -> str:
    """The key's description as option help (square brackets escaped from rich markup)."""
    text = info.description or ""
    text = text[:1].upper() + text[1:] + ("." if text and not text.endswith(".") else "")
    return text.replace("[", "\\[")


def _default(info) -> Any:
    if info.default_factory is not None:
        return info.default_factory()
    return None if info.default is PydanticUndefined else info.default


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model of `Model` or `Model | None`, if that is all the annotation allows."""
    args = [a for a in get_args(annotation) if a is not type(None)] or [annotation]
    if len(args) == 1 and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return args[0]
    return None


def _scalar(annotation: Any) -> tuple[Any, bool]:
    """(type, optional) of a plain annotation such as `int | None`; (None, _) otherwise."""
    args = get_args(annotation)
    optional = type(None) in args
    members = [a for a in args if a is not type(None)] if args else [annotation]
    if get_origin(annotation) in (typing.Union, types.UnionType) and len(members) == 1:
        annotation = members[0]
    if get_origin(annotation) is Literal:
        return annotation, optional
    if annotation in (int, float, str, bool):
        return annotation, optional
    return None, optional


def model_options(
    model: type[BaseModel],
    aliases: dict[str, tuple[str, ...]],
    prefix: tuple[str, ...] = (),
    optional: bool = False,
) -> list[_Generated]:
    """One typer parameter per config key (nested models flattened; the keys of an optional
    one are optional options)."""
    out: list[_Generated] = []
    for key, info in model.model_fields.items():
        path = (*prefix, key)
        dotted = ".".join(path)
        names = (option_name(path), *aliases.get(dotted, ()))
        help_text = _describe(info)
        default = _default(info)
        param = "__".join(path)
        nested = _nested_model(info.annotation)
        if nested is not None:
            out.extend(model_options(nested, aliases, path, optional or not info.is_required()))
            continue
        annotation = info.annotation
        origin = get_origin(annotation)
        scalar, _optional = _scalar(annotation)
        if scalar is bool:
            negative = "--no-" + option_name(path)[2:]
            option = typer.Option(f"{names[0]}/{negative}", *names[1:], help=help_text)
            kind, hint, value = "plain", bool, default
        elif scalar is not None and get_origin(scalar) is Literal:
            # the choices shown as the metavar; the value checked by the model, so that the
            # message is the one a pipeline's YAML gets ("expected one of ...")
            choices = "|".join(str(c) for c in get_args(scalar))
            option = typer.Option(*names, help=help_text, metavar=f"[{choices}]")
            kind, hint, value = "plain", str | None, default
        elif scalar is not None:
            required = info.is_required() and not optional
            option = typer.Option(*names, help=help_text, show_default=not required)
            kind, hint = "plain", scalar if required else scalar | None
            value = ... if required else default
        elif origin is list and get_args(annotation) == (str,):
            shown = ", ".join(default) if default else False
            option = typer.Option(*names, help=help_text + " Repeatable.", show_default=shown)
            kind, hint, value = "list", list[str] | None, None
        elif origin is tuple and all(a in (int, float) for a in get_args(annotation)):
            option = typer.Option(*names, help=help_text)
            kind, hint, value = "tuple", annotation, default
        else:  # mappings and either-or shapes: the value as YAML text
            import yaml

            shown = (
                default
                if isinstance(default, str)
                else yaml.safe_dump(default, default_flow_style=True).strip()
            )
            shown = shown.replace("[", "\\[")
            option = typer.Option(
                *names, help=help_text + " A YAML value.", show_default=shown, metavar="YAML"
            )
            kind, hint, value = "yaml", str | None, None
        parameter = inspect.Parameter(
            param, inspect.Parameter.KEYWORD_ONLY, default=value, annotation=Annotated[hint, option]
        )
        out.append(_Generated(param, path, kind, parameter))
    return out


def to_config(generated: list[_Generated], values: dict[str, Any]) -> dict[str, Any]:
    """The config dict of the options given (absent and empty ones left to the model)."""
    import yaml

    config: dict[str, Any] = {}
    for gen in generated:
        value = values.get(gen.param)
        if value is None or (gen.kind == "list" and not value):
            continue
        if gen.kind == "list":
            value = list(value)
        elif gen.kind == "tuple":
            value = tuple(value)
        elif gen.kind == "yaml":
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError as exc:
                raise click.BadParameter(
                    f"not YAML: {exc}", param_hint=f"'{option_name(gen.path)}'"
                ) from None
        target = config
        for part in gen.path[:-1]:
            target = target.setdefault(part, {})
        target[gen.path[-1]] = value
    return config


def build_command(spec: StageCommand) -> click.Command:
    """The click command of a stage: its config's options plus the body's own parameters."""
    from curate.stages import get_stage_class

    model = get_stage_class(spec.stage).Config
    generated = model_options(model, spec.aliases)
    own = [
        p
        for p in inspect.signature(spec.body, eval_str=True).parameters.values()
        if p.name != "options"
    ]
    names = {g.param for g in generated}
    clash = names & {p.name for p in own}
    if clash:
        raise RuntimeError(f"{spec.name}: options {sorted(clash)} are both config and command")
    parameters = [own[0], *(g.parameter for g in generated), *own[1:]]  # inputs first

    def command(**values: Any) -> Any:
        options = to_config(generated, values)
        return spec.body(options, **{k: v for k, v in values.items() if k not in names})

    command.__signature__ = inspect.Signature(
        [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in parameters]
    )
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__doc__ = spec.body.__doc__
    command.__name__ = spec.body.__name__
    single = typer.Typer(add_completion=False)
    single.command(spec.name, context_settings={"help_option_names": ["-h", "--help"]})(command)
    return typer.main.get_command(single)


def config_keys(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every config key path (nested models flattened) and its default: what the options
    must cover."""
    out: dict[str, Any] = {}
    for key, info in model.model_fields.items():
        path = (*prefix, key)
        nested = _nested_model(info.annotation)
        if nested is not None:
            out.update(config_keys(nested, path))
        else:
            out[".".join(path)] = _default(info)
    return out
