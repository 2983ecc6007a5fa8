"""Build `license_names.json`: license names, short names and keys -> SPDX id.

The license stage normalises metadata values ("MIT License", "Apache 2.0", "gpl-2.0-plus")
with this table; it ships with the package, so metadata and tags need no scancode-toolkit
and give the same answers on every machine. Rebuild it from scancode's license database
when scancode-toolkit is upgraded:

    python -m curate.licenses.build_names
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import orjson

NAMES = Path(__file__).with_name("license_names.json")


def build() -> dict:
    from licensedcode.cache import get_licenses_db

    aliases: dict[str, str] = {}
    for key, lic in sorted(get_licenses_db().items()):
        spdx = lic.spdx_license_key or f"LicenseRef-scancode-{key}"
        for name in (
            key,
            lic.name,
            lic.short_name,
            lic.spdx_license_key,
            *(lic.other_spdx_license_keys or []),
        ):
            if name:
                aliases.setdefault(name.strip().lower(), spdx)
    return {
        "scancode_toolkit": version("scancode-toolkit"),
        "aliases": dict(sorted(aliases.items())),
    }


def main() -> None:
    table = build()
    NAMES.write_bytes(orjson.dumps(table, option=orjson.OPT_INDENT_2) + b"\n")
    print(
        f"{NAMES}: {len(table['aliases'])} names from scancode-toolkit {table['scancode_toolkit']}"
    )


if __name__ == "__main__":
    main()
