"""License detection on the license files of packages and on whole DEP-5 copyright files, as
the license stage sees them: content only, no metadata in the record.

Labelled set, from the machine (label policy):
- `npm`: the LICENSE/LICENCE/COPYING file of every package under /usr/lib/node_modules (npm's
  own dependencies included) whose package.json `license` is one SPDX id;
- `dist-info`: the license files of every installed Python distribution (this venv's and the
  system's) whose METADATA gives one SPDX id (`License-Expression`, or a `License` field that
  is an SPDX id or a common alias of one: `MIT License`, `BSD 3-Clause`, `Apache 2.0`);
- `dep5`: every machine-readable /usr/share/doc/*/copyright file whose `Files: *` paragraph
  names one license (Debian short names mapped to SPDX);
- labels come from the package's own metadata, then checked by hand where the stage
  disagreed: `CORRECTIONS` below records each label the file's text contradicts (a package
  whose LICENSE is another license than its metadata says), with the reason; files that hold
  several licenses (bundled dependencies' notices) are left out (`MIXED`).

Reported: exact-match accuracy by kind and by license, and files/s.

    python benchmarks/license_packages.py [--show-errors]
"""

from __future__ import annotations

import argparse
import glob
import re
import sys
import sysconfig
import time
from collections import Counter
from email.parser import HeaderParser
from pathlib import Path

import orjson
from license_debian import dep5_files

from curate.licenses.dep5 import debian_to_spdx
from curate.stages import configure, get_stage_class

LICENSE_FILE = re.compile(
    r"^(LICEN[CS]E|COPYING|COPYRIGHT)([.-][A-Za-z0-9]+)?(\.(md|txt|rst))?$", re.I
)
ALIASES = {
    "mit": "MIT",
    "mit license": "MIT",
    "the mit license": "MIT",
    "mit-0": "MIT-0",
    "bsd": None,  # which BSD is not said
    "bsd license": None,
    "bsd-2-clause": "BSD-2-Clause",
    "bsd 2-clause": "BSD-2-Clause",
    "bsd-3-clause": "BSD-3-Clause",
    "bsd 3-clause": "BSD-3-Clause",
    "bsd 3-clause license": "BSD-3-Clause",
    "new bsd": "BSD-3-Clause",
    "new bsd license": "BSD-3-Clause",
    "apache 2.0": "Apache-2.0",
    "apache-2.0": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache license, version 2.0": "Apache-2.0",
    "apache software license 2.0": "Apache-2.0",
    "isc": "ISC",
    "isc license": "ISC",
    "mpl-2.0": "MPL-2.0",
    "mpl 2.0": "MPL-2.0",
    "psf-2.0": "PSF-2.0",
    "psf": "PSF-2.0",
    "python software foundation license": "PSF-2.0",
    "lgpl-2.1-or-later": "LGPL-2.1-or-later",
    "lgpl-3.0-or-later": "LGPL-3.0-or-later",
    "gpl-2.0-or-later": "GPL-2.0-or-later",
    "gpl-3.0-or-later": "GPL-3.0-or-later",
    "unlicense": "Unlicense",
    "0bsd": "0BSD",
    "blueoak-1.0.0": "BlueOak-1.0.0",
    "cc0-1.0": "CC0-1.0",
    "zlib": "Zlib",
}
# (kind, path suffix) -> (label, why): the file's text contradicts its package's metadata
CORRECTIONS: dict[tuple[str, str], tuple[str | None, str]] = {
    ("npm", "/@npmcli/redact/LICENSE"): ("MIT", "package.json says ISC; the file is the MIT text"),
    ("npm", "/abbrev/LICENSE"): (
        "ISC OR MIT",
        "'dual-licensed under the ISC and MIT licenses ... EITHER', then both texts",
    ),
    ("dist-info", "/intbitset-4.1.2.dist-info/licenses/LICENSE"): (
        "LGPL-3.0-only",
        "the LGPL v3 text alone: the 'or later' of the metadata is in the sources' headers",
    ),
    ("dist-info", "/python_dateutil-4.0.0.dist-info/licenses/LICENSE"): (
        "Apache-2.0 AND BSD-3-Clause",
        "Apache-2.0 for contributions after 2017-12-01, BSD-3-Clause for the rest: both texts",
    ),
    ("dist-info", "/typing_extensions-4.16.0.dist-info/licenses/LICENSE"): (
        "Python-2.0",
        "the whole Python license stack (PSF, BeOpen, CNRI, CWI): SPDX's Python-2.0",
    ),
}
# files holding several licenses (a package's own plus its bundled dependencies'): left out
MIXED: set[tuple[str, str]] = {
    ("dist-info", "/pyarrow-26.0.1.dist-info/licenses/LICENSE.txt"),  # + 3rd-party notices
}


def spdx_of(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().strip("()")
    if value.lower() in ALIASES:
        return ALIASES[value.lower()]
    if re.fullmatch(r"[A-Za-z0-9.+-]+", value) and value in ALIASES.values():
        return value
    return None


def npm_samples() -> list[tuple[str, str, str]]:
    out = []
    for manifest in sorted(glob.glob("/usr/lib/node_modules/**/package.json", recursive=True)):
        folder = Path(manifest).parent
        try:
            data = orjson.loads(Path(manifest).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        license_ = data.get("license") if isinstance(data, dict) else None
        label = spdx_of(license_) if isinstance(license_, str) else None
        if label is None:
            continue
        for file in sorted(folder.iterdir()):
            if file.is_file() and LICENSE_FILE.match(file.name):
                out.append(("npm", str(file), label))
                break
    return out


def dist_info_samples() -> list[tuple[str, str, str]]:
    out = []
    roots = {sysconfig.get_paths()["purelib"], "/usr/lib/python3/dist-packages"}
    for root in sorted(roots):
        for info in sorted(Path(root).glob("*.dist-info")):
            meta_path = info / "METADATA"
            if not meta_path.is_file():
                continue
            meta = HeaderParser().parsestr(meta_path.read_text(errors="replace"))
            label = spdx_of(meta.get("License-Expression")) or spdx_of(meta.get("License"))
            if label is None:
                continue
            files = [
                p for p in sorted(info.rglob("*")) if p.is_file() and LICENSE_FILE.match(p.name)
            ]
            if files:
                out.append(("dist-info", str(files[0]), label))
    return out


def dep5_samples() -> list[tuple[str, str, str]]:
    out = []
    for path, paragraphs in dep5_files():
        for para in paragraphs:
            fields = dict(
                (line.split(":", 1)[0], line.split(":", 1)[1].strip())
                for line in para.split("\n")
                if ":" in line and not line.startswith((" ", "\t"))
            )
            if fields.get("Files") == "*" and "License" in fields:
                spdx = debian_to_spdx(fields["License"])
                if spdx and " " not in spdx:
                    out.append(("dep5", path, spdx))
                break
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--show-errors", action="store_true")
    args = ap.parse_args()
    samples = npm_samples() + dist_info_samples() + dep5_samples()
    labelled = []
    for kind, path, label in samples:
        key = next(((k, s) for k, s in CORRECTIONS if k == kind and path.endswith(s)), None)
        if any(k == kind and path.endswith(s) for k, s in MIXED):
            continue
        if key is not None:
            label = CORRECTIONS[key][0]
        labelled.append((kind, path, label))
    texts = {path: Path(path).read_text(errors="replace") for _, path, _ in labelled}
    # the stage's own answer for a record's content (its policy, which would drop denied
    # licenses, is not what is measured here)
    stage = get_stage_class("license")(configure("license", {"metadata": []}))
    started = time.perf_counter()
    found = {
        path: stage.own_license(
            {"id": path, "text": text, "meta": {"path": Path(path).name}}, text
        )[0]
        for path, text in texts.items()
    }
    seconds = time.perf_counter() - started
    ok: Counter = Counter()
    total: Counter = Counter()
    by_license_ok: Counter = Counter()
    by_license: Counter = Counter()
    errors = []
    for kind, path, label in labelled:
        hit = found.get(path) == label
        total[kind] += 1
        ok[kind] += hit
        by_license[label] += 1
        by_license_ok[label] += hit
        if not hit:
            errors.append((kind, path, label, found.get(path)))
    n = sum(total.values())
    distinct = len(set(texts.values()))
    print(f"{n} labelled files, {distinct} distinct texts; {len(texts) / seconds:.0f} files/s")
    for kind in sorted(total):
        print(f"  {kind:10s} {ok[kind] / total[kind]:.3f} of {total[kind]}")
    print(f"  all        {sum(ok.values()) / n:.3f}")
    for label, count in by_license.most_common(12):
        print(f"    {label:20s} {by_license_ok[label] / count:.3f} of {count}")
    if args.show_errors:
        for error in errors:
            print("   ", *error, file=sys.stderr)


if __name__ == "__main__":
    main()
