"""The license stage vs scancode alone, on real files from this machine.

Files: standard-library sources, license files and package metadata of the installed Python
packages, and Debian's common licenses. Reported in the same run:
- files/s on one core for the whole `license` stage (index load excluded, then included);
- files/s for scancode's own detection with its default settings (approximate matching), on
  a random sample of the same files (it is far too slow for all of them);
- accuracy on a labelled subset: full license texts named by their file, the CPython LICENSE,
  standard headers prepended to real sources, and SPDX tags.
Target (issue 6): >= 100x scancode's files/s on a code corpus, no loss of accuracy.

    python benchmarks/license.py [--sample 60]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import sysconfig
import time
from pathlib import Path

os.environ.setdefault("SCANCODE_TEMP", "/tmp/curate-scancode")

COMMON = Path("/usr/share/common-licenses")
LABELS = {
    "Apache-2.0": "Apache-2.0",
    "GPL-2": "GPL-2.0-only",
    "GPL-3": "GPL-3.0-only",
    "LGPL-2.1": "LGPL-2.1-only",
    "LGPL-3": "LGPL-3.0-only",
    "MPL-2.0": "MPL-2.0",
    "BSD": "BSD-3-Clause",
    "CC0-1.0": "CC0-1.0",
    "GFDL-1.3": "GFDL-1.3-only",
    "MPL-1.1": "MPL-1.1",
    "LGPL-2": "LGPL-2.0-only",
    "GFDL-1.2": "GFDL-1.2-only",
}
HEADER_APACHE = (
    '# Licensed under the Apache License, Version 2.0 (the "License");\n'
    "# you may not use this file except in compliance with the License.\n"
    "# You may obtain a copy of the License at\n#\n#     http://www.apache.org/licenses/LICENSE-2.0\n"
)
HEADER_GPL = (
    "# This program is free software; you can redistribute it and/or modify\n"
    "# it under the terms of the GNU General Public License as published by\n"
    "# the Free Software Foundation; either version 2 of the License, or\n"
    "# (at your option) any later version.\n"
)


def corpus() -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """(all files as (path, text)), (labelled files as (path, text, expected SPDX))."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files: list[tuple[str, str]] = []
    for path in sorted(stdlib.rglob("*.py")):
        if "site-packages" in path.parts:
            continue
        try:
            files.append((str(path), path.read_text("utf-8")))
        except (UnicodeDecodeError, OSError):
            continue
    site = Path(sysconfig.get_paths()["purelib"])
    for path in sorted(site.rglob("*.py"))[:3000]:  # installed packages: many carry headers
        try:
            files.append((str(path), path.read_text("utf-8")))
        except (UnicodeDecodeError, OSError):
            continue
    for path in sorted(site.glob("*.dist-info/*")):
        if (
            path.name.upper().startswith(("LICENSE", "LICENCE", "COPYING", "METADATA"))
            and path.is_file()
        ):
            files.append((str(path), path.read_text("utf-8", "replace")))
    labelled: list[tuple[str, str, str]] = []
    for name, spdx in LABELS.items():
        if (COMMON / name).exists():
            text = (COMMON / name).read_text("utf-8", "replace")
            files.append((str(COMMON / name), text))
            labelled.append((str(COMMON / name), text, spdx))
    labelled.append(("LICENSE.txt", (stdlib / "LICENSE.txt").read_text(), "Python-2.0"))
    rng = random.Random(3)
    sample = rng.sample([f for f in files if f[0].endswith(".py")], 40)
    for i, (path, text) in enumerate(sample):
        header, spdx = (HEADER_APACHE, "Apache-2.0") if i % 2 else (HEADER_GPL, "GPL-2.0-or-later")
        labelled.append((path + ":header", header + text, spdx))
        tag = ["MIT", "BSD-2-Clause", "Apache-2.0 OR MIT", "ISC"][i % 4]
        labelled.append((path + ":tag", f"# SPDX-License-Identifier: {tag}\n" + text, tag))
    return files, labelled


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=60)
    args = ap.parse_args()
    files, labelled = corpus()
    sys.setrecursionlimit(10000)

    from curate.core.fields import Fields
    from curate.io.policy import ErrorPolicy
    from curate.io.reader import Batch
    from curate.stages.base import Context, StageStats
    from curate.stages.license import LicenseConfig, LicenseStage

    started = time.perf_counter()
    stage = LicenseStage(LicenseConfig(metadata=[]), Fields())
    load = time.perf_counter() - started
    records = [{"id": p, "text": t, "meta": {"path": p}} for p, t in files]
    started = time.perf_counter()
    ctx = Context(ErrorPolicy(), keep_rejects=True)
    stage.process(
        Batch("bench", records, list(range(len(records))), [b""] * len(records)), ctx, StageStats()
    )
    run = time.perf_counter() - started
    curate_rate = len(files) / run

    from licensedcode.cache import get_index
    from licensedcode.detection import detect_licenses

    index = get_index()
    rng = random.Random(11)
    sample = rng.sample(files, min(args.sample, len(files)))
    started = time.perf_counter()
    for _path, text in sample:
        list(detect_licenses(index=index, query_string=text))  # scancode's defaults: approximate
    scancode_rate = len(sample) / (time.perf_counter() - started)

    def expression_of(record: dict) -> str | None:
        info = record["meta"].get("license") or {}
        return info.get("expression")

    lrecords = [{"id": p, "text": t, "meta": {"path": p}} for p, t, _ in labelled]
    ctx = Context(ErrorPolicy(), keep_rejects=True)
    kept = stage.process(
        Batch("lab", lrecords, list(range(len(lrecords))), [b""] * len(lrecords)), ctx, StageStats()
    ).records
    got = {r["id"]: expression_of(r) for r in kept + ctx.rejects}

    # a file may carry two licenses (a real source with a header put in front): the expected one
    # must be in the answer
    def has(expression: str | None, spdx: str) -> bool:
        return expression is not None and (
            expression == spdx or f"({spdx})" in expression or spdx in expression.split(" AND ")
        )

    curate_ok = sum(has(got.get(p), spdx) for p, _, spdx in labelled)
    scan_ok = 0
    for _path, text, spdx in labelled:
        detections = list(detect_licenses(index=index, query_string=text))
        expressions = [d.license_expression_spdx for d in detections if d.license_expression_spdx]
        scan_ok += any(has(e, spdx) for e in expressions)
    print(
        f"files: {len(files):,} (standard library, installed packages' sources, license files and metadata, common licenses)"
    )
    print(
        f"curate license stage: {curate_rate:,.0f} files/s on one core "
        f"({len(files) / (run + load):,.0f} with the {load:.1f} s index load); "
        f"scancode cache {stage.detector.hits:,} hits / {stage.detector.misses:,} scans"
    )
    print(
        f"scancode alone, default settings, {len(sample)} sampled files: {scancode_rate:,.1f} files/s"
    )
    print(f"speed-up: {curate_rate / scancode_rate:,.0f}x (target >= 100x)")
    print(
        f"labelled accuracy ({len(labelled)} files): curate {curate_ok / len(labelled):.3f}, "
        f"scancode alone (any detection) {scan_ok / len(labelled):.3f}"
    )


if __name__ == "__main__":
    main()
