"""Human-facing summaries on stderr: the run's per-stage table and the dry-run plan."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from curate.executors.dry_run import human


def _console() -> Console:
    return Console(stderr=True, soft_wrap=True)


def print_summary(pipeline, result) -> None:
    console = _console()
    table = Table(title=f"{pipeline.config.name} {pipeline.config.version}", title_justify="left")
    for column in ("stage", "in", "out", "dropped", "errors", "seconds"):
        table.add_column(column, justify="left" if column in ("stage", "dropped") else "right")
    for stage, st in zip(pipeline.stages, result.stage_stats):
        drops = ", ".join(f"{k} {v:,}" for k, v in sorted(st.dropped.items())) or "-"
        table.add_row(
            stage.name,
            f"{st.records_in:,}",
            f"{st.records_out:,}",
            drops,
            f"{st.errors:,}",
            f"{st.seconds:.2f}",
        )
    console.print(table)
    for stage, st in zip(pipeline.stages, result.stage_stats):
        if st.found:
            found = ", ".join(f"{k} {v:,}" for k, v in sorted(st.found.items()))
            console.print(f"{stage.name} found: {found}")
    shards = len(result.shards)
    size = sum(s.bytes for s in result.shards)
    line = (
        f"{result.records_in:,} records in, {result.records_out:,} out "
        f"in {shards} shard{'s' if shards != 1 else ''} ({human(size)}) -> {result.out_dir}"
    )
    if result.rejects:
        line += f"; {sum(s.records for s in result.rejects):,} rejects"
    if result.errors:
        line += f"; {result.errors:,} bad lines"
        if result.quarantine:
            line += f" quarantined in {result.quarantine}"
    if result.resumed_units:
        line += f"; resumed ({result.resumed_units} units already done)"
    console.print(line)


def print_plan(plan: dict) -> None:
    console = _console()
    console.print(f"[bold]{plan['name']} {plan['version']}[/] -> {plan['output']}")
    console.print(
        f"inputs: {plan['inputs']} files, {human(plan['input_bytes'])} on disk, "
        f"~{plan['estimated_records']:,} records, ~{human(plan['estimated_uncompressed_bytes'])} uncompressed"
    )
    table = Table("stage", "kind", "key memory")
    for stage in plan["stages"]:
        table.add_row(
            stage["stage"],
            stage["kind"],
            human(stage["key_memory"]) if stage["key_memory"] else "-",
        )
    console.print(table)
    console.print(
        f"passes over the data: {plan['passes']}, workers: {plan['workers']}, "
        f"units of {human(plan['chunk_size'])}"
    )
    console.print(
        f"needs: ~{human(plan['estimated_key_memory'])} memory for global-stage keys, "
        f"~{human(plan['estimated_output_disk'])} disk for output, "
        f"~{human(plan['estimated_work_disk'])} scratch disk during the run"
    )
