"""A Hugging Face-style dataset card (README.md) for every dataset folder curate writes.

YAML front matter (license, size category, `configs` pointing at the shards) lets the folder
be pushed to a dataset hub as is; the body carries the composition table.
"""

from __future__ import annotations

import yaml

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
    licenses = sorted((composition.get("license") or {}).keys())
    ids = [lic.lower() for lic in licenses if " " not in lic and lic not in ("unknown", "")]
    if not ids:
        return "other"
    return ids[0] if len(ids) == 1 else ids


def _data_files(shards: list[dict]) -> list[dict]:
    folders = sorted({s["path"].rpartition("/")[0] for s in shards})
    if folders == [""] or not folders:
        return [
            {
                "config_name": "default",
                "data_files": [{"split": "train", "path": "part-*.jsonl.zst"}],
            }
        ]
    # the default config names each data folder: a `*/` pattern would take `rejects/` too
    configs = [
        {
            "config_name": "default",
            "default": True,
            "data_files": [
                {"split": "train", "path": [f"{folder}/part-*.jsonl.zst" for folder in folders]}
            ],
        }
    ]
    for folder in folders:
        configs.append(
            {
                "config_name": folder,
                "data_files": [{"split": "train", "path": f"{folder}/part-*.jsonl.zst"}],
            }
        )
    return configs


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
        f"in {len(manifest['shards'])} zstd JSON-lines shards listed with their SHA-256 in "
        "`manifest.json` (check them with `curate verify`).",
        "",
    ]
    for dim in ("subset", "language", "license"):
        rows = comp.get(dim) or {}
        if not rows:
            continue
        lines += [
            f"## Composition by {dim}",
            "",
            f"| {dim} | records | % records | bytes | % bytes |",
            "|---|---:|---:|---:|---:|",
        ]
        for value, row in rows.items():
            lines.append(
                f"| {value} | {row['records']:,} | {row['share_records_pct']:.2f} | "
                f"{row['bytes']:,} | {row['share_bytes_pct']:.2f} |"
            )
        lines.append("")
    if manifest["stages"]:
        lines += ["## Processing", "", "| stage | in | out | dropped |", "|---|---:|---:|---|"]
        for st in manifest["stages"]:
            drops = ", ".join(f"{k} {v:,}" for k, v in st["dropped"].items()) or "-"
            lines.append(
                f"| {st['stage']} | {st['records_in']:,} | {st['records_out']:,} | {drops} |"
            )
        lines.append("")
    return "\n".join(lines)
