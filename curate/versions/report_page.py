"""`report.html`: one self-contained page on what a run did, built from the manifest, `run.json`,
the opt-out log and small samples of the shards and rejects — never from the whole data.

Static HTML with inline SVG charts (see `svg_charts`): no script, no stylesheet or font to
fetch, so it opens from disk, offline. It shows only what the dataset folder already holds:
redacted texts as written, and for opted-out records nothing but counts per request.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from pathlib import Path

import orjson

from curate.core.errors import RecordError
from curate.core.fields import Fields
from curate.io.atomic import atomic_write
from curate.io.policy import ErrorPolicy, OnError
from curate.io.reader import read_source
from curate.io.sources import Source
from curate.versions.composition import DIMENSIONS
from curate.versions.diff import composition_delta, config_changes
from curate.versions.manifest import REPORT, RUN_INFO, load_manifest
from curate.versions.svg_charts import columns, hbars

SAMPLE = 4000  # records read from the shards, and as many from the rejects
PAIRS = 5  # near-duplicate pairs shown
OPTOUT_LOG = "optout-log.jsonl"

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:960px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.2rem .6rem;text-align:left;
border-bottom:1px solid #eee;font-size:.9rem}td.n,th.n{text-align:right}
.note{color:#666;font-size:.85rem}pre{background:#f6f6f6;padding:.4rem;white-space:pre-wrap;
font-size:.8rem;max-height:6rem;overflow:hidden}.pair{border:1px solid #ddd;padding:.5rem;
margin:.5rem 0}.kpi{display:inline-block;margin-right:2rem}.kpi b{font-size:1.3rem;display:block}
"""


def _sample(folder: Path, entries: list[dict], limit: int) -> list[dict]:
    """Up to `limit` records, taken evenly from the start of each listed file."""
    if not entries:
        return []
    per = max(limit // len(entries), 1)
    out: list[dict] = []
    policy = ErrorPolicy(OnError.skip)
    for entry in entries:
        path = folder / entry["path"]
        if not path.is_file():
            continue
        taken = 0
        for batch in read_source(Source(entry["path"], str(path)), policy):
            take = batch.records[: per - taken]
            out.extend(take)
            taken += len(take)
            if taken >= per:
                break
    return out


def _length(record: dict, fields: Fields) -> int | None:
    try:
        return len(fields.text_of(record))
    except RecordError:
        return None


BUCKETS = [0, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000]


def _bucket_labels() -> list[str]:
    def short(n: int) -> str:
        return f"{n // 1000}k" if n >= 1000 else str(n)

    labels = [f"{short(a)}–{short(b)}" for a, b in zip(BUCKETS, BUCKETS[1:])]
    return [*labels, f"≥{short(BUCKETS[-1])}"]


def _histogram(lengths: list[int]) -> list[int]:
    counts = [0] * len(BUCKETS)
    for n in lengths:
        i = max(b for b in range(len(BUCKETS)) if BUCKETS[b] <= n)
        counts[i] += 1
    return counts


def _table(head: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    cells = "".join(
        f'<th class="{"n" if i in numeric else ""}">{escape(h)}</th>' for i, h in enumerate(head)
    )
    body = []
    for row in rows:
        tds = "".join(
            f'<td class="{"n" if i in numeric else ""}">'
            f"{escape(f'{v:,}' if isinstance(v, int) else str(v))}</td>"
            for i, v in enumerate(row)
        )
        body.append(f"<tr>{tds}</tr>")
    return f"<table><tr>{cells}</tr>{''.join(body)}</table>"


def _first_lines(text: str, n: int = 3) -> str:
    lines = text.splitlines()[:n]
    return "\n".join(line[:160] for line in lines)


def _funnel(manifest: dict) -> str:
    totals = manifest["totals"]
    rows = [("read", totals["records_in"])]
    for i, st in enumerate(manifest["stages"]):
        rows.append((f"{i + 1}. {st['stage']}", st["records_out"]))
    drops = [
        [st["stage"], reason, n] for st in manifest["stages"] for reason, n in st["dropped"].items()
    ]
    html = hbars(rows, title="records after each stage")
    if drops:
        html += _table(["stage", "reason", "dropped"], drops, {2})
    if totals.get("errors"):
        html += f'<p class="note">{totals["errors"]:,} bad lines were skipped or quarantined.</p>'
    return html


def _composition(manifest: dict) -> str:
    comp = manifest["composition"]
    parts = []
    for dim in DIMENSIONS:
        rows = comp.get(dim) or {}
        if not rows:
            continue
        items = sorted(rows.items(), key=lambda kv: -kv[1]["records"])
        bars = [(name, row["records"]) for name, row in items[:25]]
        if dim != "license":
            rest = comp.get("records", 0) - sum(r["records"] for r in rows.values())
            if rest > 0:
                bars.append((f"(no {dim.replace('_', ' ')})", rest))
        parts.append(
            f"<h3>by {dim.replace('_', ' ')}</h3>"
            + hbars(bars, title=f"records by {dim.replace('_', ' ')}")
        )
        if len(items) > 25:
            parts.append(f'<p class="note">the 25 largest of {len(items)} values</p>')
    return "".join(parts) or '<p class="note">No subset, language or license was recorded.</p>'


def _near_pairs(kept: list[dict], rejects: list[dict], fields: Fields) -> str:
    near = [
        r
        for r in rejects
        if (r.get("meta") or {}).get("rejected", {}).get("reason") == "near_duplicate"
    ]
    if not near:
        return '<p class="note">No near duplicates among the sampled rejects.</p>'
    sizes = Counter((r["meta"]["rejected"].get("duplicate_of")) for r in near)
    by_size = Counter(n + 1 for n in sizes.values())
    chart = hbars(
        [(f"{size} records", count) for size, count in sorted(by_size.items())],
        title="near-duplicate cluster sizes",
    )
    ids = fields.id_parts
    kept_by_id = {}
    for record in kept:
        value = record.get(ids[0]) if len(ids) == 1 else None
        if value is not None:
            kept_by_id[str(value)] = record
    pairs = []
    for record in near[:PAIRS]:
        info = record["meta"]["rejected"]
        kept_id = str(info.get("duplicate_of"))
        try:
            dropped_text = _first_lines(fields.text_of(record))
        except RecordError:
            dropped_text = ""
        other = kept_by_id.get(kept_id)
        kept_text = "(not in the sample)"
        if other is not None:
            try:
                kept_text = _first_lines(fields.text_of(other))
            except RecordError:
                kept_text = ""
        pairs.append(
            '<div class="pair">'
            f"<b>{escape(str(record.get(ids[0], '?')))}</b> dropped as a near duplicate of "
            f"<b>{escape(kept_id)}</b> (similarity {info.get('similarity', '?')})"
            f"<pre>{escape(dropped_text)}</pre><pre>{escape(kept_text)}</pre></div>"
        )
    return (
        chart
        + f'<p class="note">From {len(near):,} sampled near-duplicate rejects.</p>'
        + "".join(pairs)
    )


def _redactions(manifest: dict, kept: list[dict]) -> str:
    exact = Counter()
    for st in manifest.get("stages") or []:
        if st.get("stage") == "redact":
            exact.update(st.get("found") or {})
    if exact:  # the stage's own counts over every kept record
        return hbars(sorted(exact.items(), key=lambda kv: -kv[1]), title="redactions by kind") + (
            '<p class="note">Counted by the redact stage over every record it kept.</p>'
        )
    totals = Counter()
    for record in kept:
        pii = (record.get("meta") or {}).get("pii")
        if isinstance(pii, dict):
            for kind, n in pii.items():
                if isinstance(n, int):
                    totals[kind] += n
    if not totals:
        return '<p class="note">No redactions in the sampled records.</p>'
    return hbars(sorted(totals.items(), key=lambda kv: -kv[1]), title="redactions by kind") + (
        f'<p class="note">Counted in a sample of {len(kept):,} kept records.</p>'
    )


def _optout(folder: Path) -> str:
    log = folder / OPTOUT_LOG
    if not log.is_file():
        return '<p class="note">No opt-out stage in this run.</p>'
    by_ref: Counter = Counter()
    for line in log.read_bytes().splitlines():
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        by_ref[(str(row.get("ref") or "-"), str(row.get("kind") or "-"))] += 1
    if not by_ref:
        return '<p class="note">The registry matched no record.</p>'
    rows = [[ref, kind, n] for (ref, kind), n in sorted(by_ref.items())]
    return _table(["request", "kind", "records removed"], rows, {2})


def _timing(folder: Path) -> str:
    path = folder / RUN_INFO
    if not path.is_file():
        return '<p class="note">No run.json here.</p>'
    info = orjson.loads(path.read_bytes())
    stages = [(s["stage"], s["seconds"]) for s in info.get("stages", [])]
    html = hbars(stages, title="seconds per stage", unit=" s") if stages else ""
    steps = info.get("steps") or []
    if steps:
        rows = [[s["step"], s.get("tasks", "-"), f"{s['wall']:.2f}"] for s in steps]
        html += _table(["step", "tasks", "wall seconds"], rows, {1, 2})
    where = info.get("executor", {}).get("type", "?")
    html += (
        f'<p class="note">{info.get("seconds", 0):.1f} s in all, executor {escape(where)}, '
        f"{info.get('workers', '?')} workers.</p>"
    )
    return html


def _against(manifest: dict, old: dict) -> str:
    """What changed since `old`: totals, composition by value, configuration (manifests only)."""
    rows = [
        [
            "records",
            old["totals"]["records_out"],
            manifest["totals"]["records_out"],
            manifest["totals"]["records_out"] - old["totals"]["records_out"],
        ],
    ]
    comp_a, comp_b = old.get("composition", {}), manifest.get("composition", {})
    for dim, changes in composition_delta(old, manifest).items():
        for name, change in changes.items():
            before = (comp_a.get(dim) or {}).get(name, {}).get("records", 0)
            after = (comp_b.get(dim) or {}).get(name, {}).get("records", 0)
            rows.append([f"{dim}: {name}", before, after, change["records"]])
    head = [
        "",
        f"{old['name']} {old['version']}",
        f"{manifest['name']} {manifest['version']}",
        "change",
    ]
    html = _table(head, rows, {1, 2, 3})
    changes = config_changes(old, manifest)
    if changes["config_keys_changed"] or changes["resources"]:
        html += (
            "<p>Configuration changes:</p><pre>"
            + escape(orjson.dumps(changes, option=orjson.OPT_INDENT_2).decode())
            + "</pre>"
        )
    else:
        html += '<p class="note">Same pipeline configuration and rules.</p>'
    return html


def build_report(folder: Path, against: Path | None = None) -> str:
    """The report page of the dataset version in `folder` (optionally against an older one)."""
    _folder, manifest = load_manifest(folder)
    old = load_manifest(against)[1] if against is not None else None
    fields = Fields(id=manifest["fields"]["id"], text=manifest["fields"]["text"])
    kept = _sample(folder, manifest["shards"], SAMPLE)
    rejects = _sample(folder, manifest.get("rejects") or [], SAMPLE)
    kept_lengths = [n for n in (_length(r, fields) for r in kept) if n is not None]
    dropped_lengths = [n for n in (_length(r, fields) for r in rejects) if n is not None]
    totals = manifest["totals"]
    title = f"{manifest['name']} {manifest['version']}"
    sections = [
        ("Records through the pipeline", _funnel(manifest)),
        ("Composition", _composition(manifest)),
        (
            "Text length (characters)",
            columns(
                _bucket_labels(),
                {
                    f"kept ({len(kept_lengths):,} sampled)": _histogram(kept_lengths),
                    f"dropped ({len(dropped_lengths):,} sampled)": _histogram(dropped_lengths),
                },
                title="text length of kept and dropped records",
            ),
        ),
        ("Near-duplicate clusters", _near_pairs(kept, rejects, fields)),
        ("Redactions", _redactions(manifest, kept)),
        ("Opt-out removals", _optout(folder)),
        ("Time", _timing(folder)),
    ]
    if old is not None:
        sections.append((f"Against {old['name']} {old['version']}", _against(manifest, old)))
    kpis = "".join(
        f'<span class="kpi"><b>{value}</b>{escape(label)}</span>'
        for label, value in [
            ("records in", f"{totals['records_in']:,}"),
            ("records out", f"{totals['records_out']:,}"),
            ("rejected", f"{totals['rejected']:,}"),
            ("bad lines", f"{totals['errors']:,}"),
            ("shards", f"{len(manifest['shards']):,}"),
        ]
    )
    body = "".join(f"<section><h2>{escape(h)}</h2>{content}</section>" for h, content in sections)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} — curate report</title><style>{_CSS}</style></head><body>"
        f'<h1>{escape(title)}</h1><p class="note">Built by curate '
        f"{escape(manifest.get('curate_version', '?'))} on {escape(str(manifest.get('created', '')))}."
        f" Charts from the manifest; lengths, pairs and redactions from samples of at most "
        f"{SAMPLE:,} records.</p><div>{kpis}</div>{body}</body></html>"
    )


def write_report(folder: Path, against: Path | None = None, out: Path | None = None) -> Path:
    target = out or folder / REPORT
    atomic_write(target, build_report(folder, against).encode("utf-8"))
    return target
