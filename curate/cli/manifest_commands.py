"""`curate verify`, `curate diff` and `curate manifest show`: checking and comparing versions."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer

from curate.cli import app
from curate.versions.composition import DIMENSIONS

manifest_app = typer.Typer(help="Inspect dataset manifests.", no_args_is_help=True)
app.add_typer(manifest_app, name="manifest")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


def _print_json(data: dict) -> None:
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


@app.command("verify")
def verify_command(
    folder: Annotated[
        Path, typer.Argument(help="A dataset folder with manifest.json.", show_default=False)
    ],
    json_out: JsonOpt = False,
) -> None:
    """Re-hash every file the manifest lists; exit 1 on anything missing, altered or extra.

    Example: curate verify out/tiny-corpus/2026.11.0 && echo intact
    """
    from curate.versions.manifest import describe_problem, verify

    report = verify(folder)
    if json_out:
        _print_json(report)
    else:
        for problem in report["problems"]:
            print(f"curate verify: {describe_problem(problem)}", file=sys.stderr)
        state = "ok" if report["ok"] else f"FAILED ({len(report['problems'])} problems)"
        print(f"{folder}: {report['dataset']}: {report['checked']} files checked, {state}")
    if not report["ok"]:
        raise typer.Exit(1)


@app.command("report")
def report_command(
    folder: Annotated[
        Path, typer.Argument(help="A dataset folder with manifest.json.", show_default=False)
    ],
    against: Annotated[
        Path | None,
        typer.Option("--against", help="An older version to compare with.", show_default=False),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Where to write the page (default: FOLDER/report.html).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write report.html: funnel, composition, lengths, near-duplicate pairs, redactions,
    opt-outs and time per stage, from the manifest and small samples (one static page).

    Example: curate report out/corpus/v2 --against out/corpus/v1
    """
    from curate.versions.report_page import write_report

    target = write_report(folder, against, out)
    print(str(target), file=sys.stderr)


@app.command("diff")
def diff_command(
    a: Annotated[
        Path, typer.Argument(help="Older version (folder or manifest).", show_default=False)
    ],
    b: Annotated[
        Path, typer.Argument(help="Newer version (folder or manifest).", show_default=False)
    ],
    ids: Annotated[
        bool, typer.Option("--ids", help="List the ids added, removed and changed.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Records added, removed and changed (by id), composition and config changes; exit 1 if any differ.

    Example: curate diff out/corpus/v1 out/corpus/v2 --ids --json | jq .ids.removed
    """
    from curate.versions.diff import diff_versions

    report = diff_versions(a, b, want_ids=ids)
    if json_out:
        _print_json(report)
    else:
        _print_diff(report)
    r = report["records"]
    same = not (r["added"] or r["removed"] or r["changed"])
    if not same:
        raise typer.Exit(1)


def _print_diff(report: dict) -> None:
    r = report["records"]
    print(f"{report['a']} -> {report['b']}")
    print(
        f"records: {r['a']:,} -> {r['b']:,}: {r['added']:,} added, {r['removed']:,} removed, "
        f"{r['changed']:,} changed, {r['unchanged']:,} unchanged"
    )
    dup = r["duplicate_ids"]
    if dup["a"] or dup["b"]:
        extra = "extra record" if dup["a"] == 1 else "extra records"
        print(
            f"duplicate ids: {dup['a']:,} {extra} in A, {dup['b']:,} in B "
            "(each id compared by its first record)"
        )
    for dim, rows in report["composition"].items():
        for value, d in rows.items():
            print(f"{dim} {value}: {d['records']:+,} records, {d['bytes']:+,} bytes")
    cfg = report["config"]
    if cfg["pipeline_sha256"][0] != cfg["pipeline_sha256"][1]:
        keys = ", ".join(cfg["config_keys_changed"]) or "-"
        print(f"pipeline config changed: {keys}")
    for res in cfg["resources"]:
        print(f"{res['kind']} {res['path']}: {res['change']}")
    opted = report.get("opted_out") or {}
    if opted.get("records"):
        refs = ", ".join(f"{ref} {n:,}" for ref, n in opted["by_ref"].items())
        print(f"opted out: {opted['records']:,} of the removed records ({refs})")
    listed = report.get("ids", {})
    for kind in ("added", "removed", "changed"):
        for rid in listed.get(kind, []):
            print(f"{kind} {rid}")
    for side in ("a", "b"):
        for rid in listed.get(f"duplicate_in_{side}", []):
            print(f"duplicate in {side.upper()} {rid}")


@manifest_app.command("show")
def manifest_show_command(
    folder: Annotated[
        Path, typer.Argument(help="A dataset folder or manifest.json.", show_default=False)
    ],
) -> None:
    """A readable summary of a dataset's manifest.

    Example: curate manifest show out/tiny-corpus/2026.11.0
    """
    from rich.console import Console
    from rich.table import Table

    from curate.executors.dry_run import human
    from curate.versions.manifest import load_manifest

    _, m = load_manifest(folder)
    console = Console(soft_wrap=True)
    t = m["totals"]
    console.print(
        f"[bold]{m['name']} {m['version']}[/]  created {m['created']}  curate {m['curate_version']}"
    )
    if m.get("parent"):
        console.print(f"parent: {m['parent'].get('name')} {m['parent'].get('version')}")
    if m["pipeline"].get("sha256"):
        console.print(f"pipeline sha256: {m['pipeline']['sha256']}")
    console.print(
        f"records: {t['records_in']:,} in, {t['records_out']:,} out, "
        f"{t['rejected']:,} rejected, {t['errors']:,} bad lines"
    )
    shards = m["shards"]
    console.print(
        f"shards: {len(shards)}, {human(sum(s['bytes'] for s in shards))}; "
        f"rejects: {len(m['rejects'])}; inputs: {len(m['inputs'])}"
    )
    if m["stages"]:
        table = Table(
            "stage", "in", "out", "dropped", "errors", title="stages", title_justify="left"
        )
        for st in m["stages"]:
            drops = ", ".join(f"{k} {v:,}" for k, v in st["dropped"].items()) or "-"
            table.add_row(
                st["stage"],
                f"{st['records_in']:,}",
                f"{st['records_out']:,}",
                drops,
                f"{st['errors']:,}",
            )
        console.print(table)
    for dim in DIMENSIONS:
        rows = m["composition"].get(dim) or {}
        if not rows:
            continue
        table = Table(
            dim,
            "records",
            "% records",
            "bytes",
            "% bytes",
            title=f"composition by {dim.replace('_', ' ')}",
            title_justify="left",
        )
        for value, row in rows.items():
            table.add_row(
                value,
                f"{row['records']:,}",
                f"{row['share_records_pct']:.2f}",
                f"{row['bytes']:,}",
                f"{row['share_bytes_pct']:.2f}",
            )
        console.print(table)
    for res in m.get("resources", []):
        console.print(
            f"{res['kind']}: {res['path']} sha256 {res['sha256'][:16]}... ({res.get('entries')} entries)"
        )
