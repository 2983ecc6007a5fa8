"""Closing a dataset folder: dataset card, manifest, run.json, and the CI guards."""

from __future__ import annotations

from pathlib import Path

import orjson

from curate.core.errors import CurateError
from curate.io.atomic import atomic_write
from curate.io.hashing import sha256_file
from curate.versions.card import render_card
from curate.versions.manifest import CARD, RUN_INFO, ManifestParts, build, write_manifest
from curate.versions.report_page import write_report


def finalize(folder: Path, parts: ManifestParts, run_info: dict | None = None) -> dict:
    """Write README.md, then manifest.json listing it, then run.json and report.html (neither
    listed: timings differ between equal runs); return the manifest."""
    draft = build(parts)
    atomic_write(folder / CARD, render_card(draft).encode("utf-8"))
    sha, size = sha256_file(folder / CARD)
    parts.files = [f for f in parts.files if f["path"] != CARD] + [
        {"path": CARD, "sha256": sha, "bytes": size}
    ]
    manifest = build(parts)
    write_manifest(folder, manifest)
    if run_info is not None:
        atomic_write(folder / RUN_INFO, orjson.dumps(run_info, option=orjson.OPT_INDENT_2) + b"\n")
    write_report(folder)
    return manifest


class GuardFailed(CurateError):
    """An `expect:` guard does not hold; everything was written, so the evidence is there."""


def check_guards(expect, manifest: dict) -> list[str]:
    """Violated guards, each as one sentence naming the guard."""
    failures = []
    totals = manifest["totals"]
    if expect.min_records is not None and totals["records_out"] < expect.min_records:
        failures.append(
            f"expect.min_records: {totals['records_out']:,} records < {expect.min_records:,}"
        )
    for stage_name, limit in sorted(expect.max_drop_rate.items()):  # names checked at load
        entries = [s for s in manifest["stages"] if s["stage"] == stage_name]
        seen = sum(s["records_in"] for s in entries)
        dropped = sum(sum(s["dropped"].values()) for s in entries)
        rate = dropped / seen if seen else 0.0
        if rate > limit:
            failures.append(f"expect.max_drop_rate.{stage_name}: dropped {rate:.1%} > {limit:.1%}")
    if expect.max_error_rate is not None:
        rate = totals["errors"] / totals["records_in"] if totals["records_in"] else 0.0
        if rate > expect.max_error_rate:
            failures.append(
                f"expect.max_error_rate: {rate:.2%} bad lines > {expect.max_error_rate:.2%}"
            )
    return failures
