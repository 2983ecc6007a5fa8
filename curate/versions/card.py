"""A Hugging Face-style dataset card (README.md) for every dataset folder curate writes.

YAML front matter (license, size category, `configs` pointing at the shards) lets the folder
be pushed to a dataset hub as is; the body carries the composition table.
"""

from __future__ import annotations

import yaml

from curate.versions.composition import DIMENSIONS

SIZE_CATEGORIES = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
]


def size_category(n: int) -> str:
    for limit, label in SIZE_CATEGORIES:
        if n < limit:
            return label
    return "n>1B"


def _hub_license(composition: dict) -> str | list[str]:
    """The hub's `license` field: the SPDX ids the kept records carry (an expression counts
    each id it names), lowercased as the hub writes them; `unknown` when none is known."""
    ids: set[str] = set()
    for expression in composition.get("license") or {}:
        tokens = expression.replace("(", " ").replace(")", " ").split()
        for before, token in zip([None, *tokens], tokens):
            if token in ("AND", "OR", "WITH") or before == "WITH" or token.lower() == "unknown":
                continue  # operators, exceptions (`WITH Classpath-exception-2.0`), no license
            ids.add(token.lower())
    if not ids:
        return "unknown"
    ordered = sorted(ids)
    return ordered[0] if len(ordered) == 1 else ordered


def _data_files(shards: list[dict]) -> list[dict]:
    folders = sorted({s["path"].rpartition("/")[0] for s in shards})
    pattern = "part-*.parquet" if _is_parquet(shards) else "part-*.jsonl.zst"
    if folders == [""] or not folders:
        return [
            {
                "config_name": "default",
                "data_files": [{"split": "train", "path": pattern}],
            }
        ]
    # the default config names each data folder: a `*/` pattern would take `rejects/` too
    configs = [
        {
            "config_name": "default",
            "default": True,
            "data_files": [
                {"split": "train", "path": [f"{folder}/{pattern}" for folder in folders]}
            ],
        }
    ]
    for folder in folders:
        configs.append(
            {
                "config_name": folder,
                "data_files": [{"split": "train", "path": f"{folder}/{pattern}"}],
            }
        )
    return configs


def _unlabelled_row(comp: dict, rows: dict, dim: str) -> list[str]:
    """Records with no value for `dim` (prose has no programming language), so that the
    table accounts for every record."""
    records = comp.get("records", 0) - sum(r["records"] for r in rows.values())
    size = comp.get("bytes", 0) - sum(r["bytes"] for r in rows.values())
    if records <= 0:
        return []
    share = 100 * records / comp["records"] if comp.get("records") else 0.0
    share_bytes = 100 * size / comp["bytes"] if comp.get("bytes") else 0.0
    return [
        f"| (no {dim.replace('_', ' ')}) | {records:,} | {share:.2f} | {size:,} | {share_bytes:.2f} |"
    ]


def _is_parquet(shards: list[dict]) -> bool:
    return bool(shards) and all(s["path"].endswith(".parquet") for s in shards)


def render_card(manifest: dict) -> str:
    comp = manifest["composition"]
    front = {
        "pretty_name": f"{manifest['name']} {manifest['version']}",
        "license": _hub_license(comp),
        "size_categories": [size_category(comp.get("records", 0))],
        "configs": _data_files(manifest["shards"]),
    }
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False).rstrip(),
        "---",
        "",
        f"# {manifest['name']} {manifest['version']}",
        "",
        f"Built by curate {manifest['curate_version']}"
        + (
            f" from pipeline `{manifest['pipeline']['sha256'][:16]}`"
            if manifest["pipeline"]["sha256"]
            else ""
        )
        + f". {comp.get('records', 0):,} records, {comp.get('bytes', 0):,} bytes of text, "
        f"in {len(manifest['shards'])} "
        + ("Parquet" if _is_parquet(manifest["shards"]) else "zstd JSON-lines")
        + " shards listed with their SHA-256 in "
        "`manifest.json` (check them with `curate verify`).",
        "",
    ]
    for dim in DIMENSIONS:
        rows = comp.get(dim) or {}
        if not rows:
            continue
        lines += [
            f"## Composition by {dim.replace('_', ' ')}",
            "",
            f"| {dim.replace('_', ' ')} | records | % records | bytes | % bytes |",
            "|---|---:|---:|---:|---:|",
        ]
        for value, row in rows.items():
            lines.append(
                f"| {value} | {row['records']:,} | {row['share_records_pct']:.2f} | "
                f"{row['bytes']:,} | {row['share_bytes_pct']:.2f} |"
            )
        if dim != "license":  # one value a record: those without one get a row of their own
            lines.extend(_unlabelled_row(comp, rows, dim))
        lines.append("")
    if manifest["stages"]:
        lines += ["## Processing", "", "| stage | in | out | dropped |", "|---|---:|---:|---|"]
        for st in manifest["stages"]:
            drops = ", ".join(f"{k} {v:,}" for k, v in st["dropped"].items()) or "-"
            lines.append(
                f"| {st['stage']} | {st['records_in']:,} | {st['records_out']:,} | {drops} |"
            )
        lines.append("")
        for st in manifest["stages"]:
            if st.get("found"):
                found = ", ".join(f"{k} {v:,}" for k, v in st["found"].items())
                lines += [f"{st['stage']} found in the records it kept: {found}.", ""]
    return "\n".join(lines)
