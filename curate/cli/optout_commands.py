"""`curate optout` (the stage in a pipe, or `--rewrite` of a finished version) and
`curate registry` (maintaining the registry file)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer

from curate.cli import app
from curate.cli.common import (
    CompressOpt,
    IdField,
    Inputs,
    OnErrorOpt,
    QuarantineOpt,
    TextField,
    make_fields,
)
from curate.cli.lazy_group import RootGroup, StageCommand
from curate.core.errors import CurateError, UsageError
from curate.io.policy import OnError


def optout_body(
    options: dict,
    inputs: Inputs = None,
    log: Annotated[
        Path | None,
        typer.Option("--log", help="Write {id, kind, ref} of each removed record here."),
    ] = None,
    rewrite: Annotated[
        Path | None, typer.Option("--rewrite", help="A finished dataset version to erase from.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="With --rewrite: the new version's folder.")
    ] = None,
    dataset_version: Annotated[
        str | None, typer.Option("--dataset-version", help="With --rewrite: the new version.")
    ] = None,
    text_field: TextField = "text",
    id_field: IdField = "id",
    compress: CompressOpt = "none",
    on_error: OnErrorOpt = OnError.fail,
    quarantine: QuarantineOpt = None,
) -> None:
    """Drop records that an opt-out registry entry matches; keep only proof, never content.

    Example: curate cat data.jsonl.zst | curate optout --registry optout.jsonl --log removed.jsonl
    """
    from curate.cli.stage_commands import build_stage, run_stage_command

    if rewrite is not None:
        from curate.versions.optout_rewrite import rewrite_version

        if out is None:
            raise UsageError("--rewrite needs --out NEW_FOLDER for the new version")
        registry = Path(options.get("registry", "optout.jsonl"))
        manifest = rewrite_version(rewrite, out, registry, dataset_version)
        removed = manifest["totals"]["rejected"]
        print(
            f"{out}: {manifest['name']} {manifest['version']}: {removed:,} records removed, "
            f"{manifest['totals']['records_out']:,} kept (parent {manifest['parent']['version']})",
            file=sys.stderr,
        )
        return
    from curate.io.atomic import atomic_write

    stage = build_stage("optout", options, make_fields(id_field, text_field))
    ctx = run_stage_command(stage, inputs, compress, on_error, quarantine, verbose=False)
    if log is not None:
        proofs = ctx.optout_log + ctx.policy.withheld
        atomic_write(log, b"".join(orjson.dumps(r) + b"\n" for r in proofs))


RootGroup.lazy["optout"] = StageCommand("optout", "optout", optout_body)

registry_app = typer.Typer(help="Maintain an opt-out registry file.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")

RegistryArg = Annotated[Path, typer.Option("--registry", "-r", help="The registry file.")]


def _load_or_empty(path: Path):
    from curate.optout.registry import load_registry

    return load_registry(path) if path.exists() else []


@registry_app.command("add")
def registry_add(
    kind: Annotated[
        str, typer.Argument(help="repo, owner, url_prefix, path_glob, email or sha256.")
    ],
    value: Annotated[str, typer.Argument(help="What to exclude, e.g. octo/repo.")],
    registry: RegistryArg = Path("optout.jsonl"),
    ref: Annotated[str | None, typer.Option(help="The request's id.")] = None,
    note: Annotated[str | None, typer.Option(help="A note.")] = None,
    added: Annotated[str | None, typer.Option(help="Date added (default: today, UTC).")] = None,
) -> None:
    """Add an entry (the file stays sorted and de-duplicated).

    Example: curate registry add repo octo/private-stuff --ref REQ-1042 -r optout.jsonl
    """
    import datetime as dt

    from curate.optout.registry import check_entry, write_registry

    entries = _load_or_empty(registry)
    data = {
        "kind": kind,
        "value": value,
        "added": added or dt.datetime.now(dt.timezone.utc).date().isoformat(),
    }
    if ref:
        data["ref"] = ref
    if note:
        data["note"] = note
    try:
        entry = check_entry(data)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if any(e.key() == entry.key() for e in entries):
        print(f"{registry}: {kind} {entry.value} is already listed", file=sys.stderr)
        return
    write_registry(registry, [*entries, entry])
    print(f"{registry}: added {kind} {entry.value}", file=sys.stderr)


@registry_app.command("remove")
def registry_remove(
    kind: Annotated[str, typer.Argument(help="The entry's kind.")],
    value: Annotated[str, typer.Argument(help="The entry's value.")],
    registry: RegistryArg = Path("optout.jsonl"),
) -> None:
    """Remove an entry.

    Example: curate registry remove repo octo/private-stuff -r optout.jsonl
    """
    from curate.optout.registry import normalize_value, write_registry

    entries = _load_or_empty(registry)
    key = (kind, normalize_value(kind, value))
    kept = [e for e in entries if e.key() != key]
    if len(kept) == len(entries):
        raise CurateError(f"{registry}: no {kind} entry {key[1]!r}")
    write_registry(registry, kept)
    print(f"{registry}: removed {kind} {key[1]}", file=sys.stderr)


@registry_app.command("list")
def registry_list(
    registry: RegistryArg = Path("optout.jsonl"),
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
) -> None:
    """Print the entries as JSON lines.

    Example: curate registry list -r optout.jsonl --kind repo | jq -r .value
    """
    for entry in _load_or_empty(registry):
        if kind is None or entry.kind == kind:
            sys.stdout.buffer.write(entry.to_json() + b"\n")


@registry_app.command("check")
def registry_check(
    record: Annotated[
        str, typer.Argument(help="A JSON record, or a repo / URL / email / text hash.")
    ],
    registry: RegistryArg = Path("optout.jsonl"),
) -> None:
    """Say which entry, if any, matches a record; exit 1 when one does.

    Example: curate registry check '{"id": "x", "meta": {"repo": "Octo/Repo"}}' -r optout.jsonl
    """
    from curate.optout.matcher import Matcher

    matcher = Matcher(_load_or_empty(registry))
    try:
        data = orjson.loads(record)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        candidates = [data]
    else:
        value = record.strip()
        candidates = [
            {"meta": {"repo": value}},
            {"meta": {"url": value}},
            {"meta": {"email": value}},
        ]
        if len(value) == 64:
            candidates.append({"text": None, "_sha": value})
    for candidate in candidates:
        hit = (
            matcher.match(candidate)
            if "_sha" not in candidate
            else (matcher.sha.get(candidate["_sha"].lower()) and True)
        )
        if hit:
            if hit is True:
                entry = matcher.sha[candidate["_sha"].lower()]
                print(f"opted out: sha256 {entry.value} (ref {entry.ref or '-'})")
            else:
                print(f"opted out: {hit.kind} {hit.value} (ref {hit.ref or '-'})")
            raise typer.Exit(1)
    print("not opted out")


@registry_app.command("validate")
def registry_validate(registry: RegistryArg = Path("optout.jsonl")) -> None:
    """Report every invalid line with its number, and unsorted or duplicate entries.

    Example: curate registry validate -r optout.jsonl
    """
    from curate.optout.registry import canonical, parse_registry

    entries, problems = parse_registry(registry)
    for problem in problems:
        print(f"curate registry: {problem}", file=sys.stderr)
    if not problems and entries != canonical(entries):
        problems.append("x")
        print(
            f"curate registry: {registry}: not sorted and de-duplicated "
            "(any `curate registry add/remove/import` rewrites it canonically)",
            file=sys.stderr,
        )
    if problems:
        raise typer.Exit(1)
    print(f"{registry}: {len(entries)} entries, ok", file=sys.stderr)


@registry_app.command("import")
def registry_import(
    csv_file: Annotated[
        Path, typer.Argument(help="CSV with columns kind, value[, added, ref, note].")
    ],
    registry: RegistryArg = Path("optout.jsonl"),
) -> None:
    """Merge entries from a CSV file; nothing is written if any row is invalid.

    Example: curate registry import requests.csv -r optout.jsonl
    """
    from curate.optout.registry import import_csv, write_registry

    entries = _load_or_empty(registry)
    try:
        text = csv_file.read_text("utf-8-sig")
    except FileNotFoundError:
        raise CurateError(f"{csv_file}: no such file") from None
    new, problems = import_csv(text, str(csv_file))
    if problems:
        for problem in problems:
            print(f"curate registry: {problem}", file=sys.stderr)
        rows = "row" if len(problems) == 1 else "rows"
        raise CurateError(f"{csv_file}: {len(problems)} invalid {rows}; nothing imported")
    write_registry(registry, [*entries, *new])
    print(f"{registry}: imported {len(new)} entries ({len(entries)} before)", file=sys.stderr)
