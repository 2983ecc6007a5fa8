"""Command groups whose stage commands are built on first use (`curate.cli.stage_options`).

Light on purpose: it runs at every start, so it imports neither pydantic nor any stage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click
from typer.core import TyperGroup


@dataclass
class StageCommand:
    """A command running one stage: `body(options, **own_parameters)`."""

    name: str
    stage: str
    body: Callable[..., Any]
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # key -> older names


_BUILT: dict[tuple[str, str], click.Command] = {}


def built(spec: StageCommand) -> click.Command:
    """The click command of a stage command, built once per process."""
    key = (spec.name, spec.stage)
    command = _BUILT.get(key)
    if command is None:
        from curate.cli.stage_options import build_command

        command = _BUILT[key] = build_command(spec)
    return command


class LazyStageGroup(TyperGroup):
    """A command group whose stage commands are built on first use (see the module doc)."""

    lazy: dict[str, StageCommand] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            return built(self.lazy[name])
        return super().get_command(ctx, name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            import difflib

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise click.UsageError(f"No such command '{name}'.{hint}", ctx)
        return super().resolve_command(ctx, args)


class RootGroup(LazyStageGroup):
    lazy: dict[str, StageCommand] = {}
    # the body of a registered stage that has no command of its own: its name becomes one
    generic: Callable[..., Any] | None = None

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None and self.generic is not None:
            from curate.stages import stage_names

            groups = (RootGroup, DedupGroup)
            covered = {spec.stage for group in groups for spec in group.lazy.values()}
            if name in stage_names() and name not in covered:
                return built(StageCommand(name, name, self.generic))
        return command


class DedupGroup(LazyStageGroup):
    lazy: dict[str, StageCommand] = {}
