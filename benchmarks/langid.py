"""Natural-language ID accuracy on a labelled set built from the machine's translations, and
its speed per core.

The set (benchmarks/.data/langid.jsonl), label policy:
- gettext catalogs under /usr/share/locale/<locale>/LC_MESSAGES/*.mo (not the iso_* catalogs
  of country and language names): each translated message differing from its English msgid.
  `short`: one message of 20-200 characters; `para`: ten consecutive messages of one catalog
  joined by spaces. Label: the locale's language (pt_BR -> pt, nb -> no); locales with a
  script or variant modifier (sr@latin, be@latin, uz@cyrillic) are left out.
- translated man pages under /usr/share/man/<locale>/man*/: roff requests and escapes
  stripped; paragraphs also found in the English page of the same name are removed (po4a
  leaves untranslated paragraphs in English); a page with >= 300 characters left is one
  `man` record, labelled with the locale's language.
- Locales whose language lid.176 does not know, and English locales, are left out.

    python benchmarks/langid.py [--per-locale 150]
"""

from __future__ import annotations

import argparse
import gettext
import gzip
import re
import shutil
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import orjson
from _man import strip_roff
from _measure import measure

import curate
from curate.tagging.natural_language import shipped_model

DATA = Path(__file__).parent / ".data"
LOCALE = Path("/usr/share/locale")
MAN = Path("/usr/share/man")


def language_of(locale: str, known: set[str]) -> str | None:
    if "@" in locale:  # a script or variant (sr@latin, be@latin, uz@cyrillic): not one label
        return None
    code = re.split(r"[_.]", locale)[0]
    code = {"nb": "no"}.get(code, code)
    return code if code in known and code != "en" else None


def man_records(known: set[str]) -> list[dict]:
    records = []
    for folder in sorted(p for p in MAN.iterdir() if not p.name.startswith("man")):
        label = language_of(folder.name, known)
        if label is None:
            continue
        for page in sorted(folder.glob("man*/*.gz")):
            english = MAN / page.parent.name / page.name
            try:
                paragraphs = strip_roff(gzip.decompress(page.read_bytes()).decode("utf-8"))
                seen = set(strip_roff(gzip.decompress(english.read_bytes()).decode("utf-8")))
            except (OSError, UnicodeDecodeError):
                continue
            text = "\n".join(p for p in paragraphs if p not in seen)
            if len(text) >= 300:
                rid = f"man/{folder.name}/{page.parent.name}/{page.name}"
                records.append({"id": rid, "text": text, "meta": {"label": label, "source": "man"}})
    return records


def gettext_records(known: set[str], per_locale: int) -> list[dict]:
    records = []
    for folder in sorted(LOCALE.iterdir()):
        label = language_of(folder.name, known)
        if label is None:
            continue
        messages: list[tuple[str, str]] = []
        for mo in sorted((folder / "LC_MESSAGES").glob("*.mo")):
            if mo.name.startswith("iso_"):
                continue
            try:
                with open(mo, "rb") as fh:
                    catalog = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]
            except (OSError, UnicodeDecodeError, LookupError):
                continue
            for key, value in catalog.items():
                msgid = key[0] if isinstance(key, tuple) else key
                if msgid and isinstance(value, str) and value and value != msgid:
                    messages.append((mo.stem, value.replace("\n", " ").strip()))
        short = [m for m in messages if 20 <= len(m[1]) <= 200]
        step = max(1, len(short) // per_locale)
        for i, (catalog, text) in enumerate(short[::step][:per_locale]):
            rid = f"gettext/{folder.name}/{catalog}/{i}"
            records.append({"id": rid, "text": text, "meta": {"label": label, "source": "short"}})
        paras = [messages[i : i + 10] for i in range(0, len(messages) - 9, 10)]
        step = max(1, len(paras) // (per_locale // 3 or 1))
        for i, group in enumerate(paras[::step][: per_locale // 3]):
            text = " ".join(m[1] for m in group)
            rid = f"gettext/{folder.name}/para/{i}"
            records.append({"id": rid, "text": text, "meta": {"label": label, "source": "para"}})
    return records


def model_labels(path: Path) -> set[str]:
    """The languages a fastText model knows, read from its dictionary (fasttext-predict has
    no API for them): after the header (magic, version, 12 int32 and 1 double of arguments),
    the dictionary's sizes, then entries of (name NUL, int64 count, int8 type)."""
    import struct

    data = path.read_bytes()
    at = 8 + 12 * 4 + 8
    size, _nwords, _nlabels = struct.unpack_from("<iii", data, at)
    at += 12 + 16
    labels = set()
    for _ in range(size):
        end = data.index(b"\0", at)
        name = data[at:end].decode("utf-8")
        kind = data[end + 9]
        at = end + 10
        if kind == 1:
            labels.add(name.removeprefix("__label__"))
    return labels


def build(per_locale: int) -> Path:
    DATA.mkdir(exist_ok=True)
    path = DATA / f"langid-{per_locale}.jsonl"
    if path.exists():
        return path
    known = model_labels(shipped_model())
    records = gettext_records(known, per_locale) + man_records(known)
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-locale", type=int, default=150)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    path = build(args.per_locale)
    records = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    started = time.perf_counter()
    out = curate.read(records).langid(overwrite=True).to_list()
    seconds = time.perf_counter() - started
    by_source: dict[str, Counter] = defaultdict(Counter)
    by_language: dict[str, Counter] = defaultdict(Counter)
    confusions: Counter = Counter()
    for record in out:
        meta = record["meta"]
        ok = meta["natural_language"] == meta["label"]
        by_source[meta["source"]]["ok" if ok else "bad"] += 1
        by_language[meta["label"]]["ok" if ok else "bad"] += 1
        if not ok:
            confusions[(meta["label"], meta["natural_language"])] += 1
    total = Counter()
    print(f"{len(out)} records, {len(by_language)} languages ({path.name})")
    for source, counts in sorted(by_source.items()):
        n = counts["ok"] + counts["bad"]
        total.update(counts)
        print(f"  {source:6s} accuracy {counts['ok'] / n:.3f} of {n}")
    n = total["ok"] + total["bad"]
    macro = sum(c["ok"] / (c["ok"] + c["bad"]) for c in by_language.values()) / len(by_language)
    print(f"  all    accuracy {total['ok'] / n:.3f} of {n}; macro over languages {macro:.3f}")
    worst = sorted(by_language.items(), key=lambda kv: kv[1]["ok"] / (kv[1]["ok"] + kv[1]["bad"]))
    print(
        "  weakest:", ", ".join(f"{k} {v['ok'] / (v['ok'] + v['bad']):.2f}" for k, v in worst[:8])
    )
    major = ["de", "es", "fr", "it", "pt", "nl", "pl", "ru", "uk", "cs", "sv", "tr", "ja", "zh"]
    shown = [m for m in major if m in by_language]
    print(
        "  major:",
        ", ".join(f"{m} {by_language[m]['ok'] / sum(by_language[m].values()):.2f}" for m in shown),
    )
    print(
        "  top confusions:", ", ".join(f"{a}->{b} {c}" for (a, b), c in confusions.most_common(8))
    )
    print(f"  in-process: {len(out) / seconds:,.0f} records/s on one core (incl. reading)")
    # per core, through the pipe, against `curate cat` of the same file
    exe = shutil.which("curate") or str(Path(sys.executable).parent / "curate")
    big = DATA / "langid-x20.jsonl"
    if not big.exists():
        big.write_bytes(path.read_bytes() * 20)
    cat = lang = float("inf")
    for _ in range(args.repeat):
        cat = min(cat, measure(["sh", "-c", f"{exe} cat {big} > /dev/null"])[0])
        lang = min(lang, measure(["sh", "-c", f"{exe} langid {big} > /dev/null"])[0])
    n_big = len(out) * 20
    mb = big.stat().st_size / 1e6
    print(
        f"  pipe on {n_big:,} records ({mb:.0f} MB): cat {cat:.2f} s, langid {lang:.2f} s = "
        f"{n_big / lang:,.0f} records/s ({cat / lang:.2f} of cat)"
    )


if __name__ == "__main__":
    main()
