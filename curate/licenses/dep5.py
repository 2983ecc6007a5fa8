"""Debian machine-readable copyright files (DEP-5): the license is the `License:` short name of
the `Files: *` paragraph, in Debian's names (`Expat`, `GPL-2+`, `BSD-3-clause`) mapped to SPDX.

Reading the file as prose (scancode) finds every license text it quotes for some file of the
package and ANDs them; the header paragraph says which one covers the package as a whole.
"""

from __future__ import annotations

import re

from curate.licenses.policy import canonical_id, parse_expression
from curate.licenses.sources import is_spdx, name_aliases

FORMAT = re.compile(r"\AFormat:[ \t]*\S*copyright-format", re.I)
# Debian short names that are not SPDX ids (compared case-insensitively, `+` = "or later")
DEBIAN_NAMES = {
    "expat": "MIT",
    "mit": "MIT",
    "mit/x11": "MIT",
    "x11": "X11",
    "artistic": "Artistic-1.0-Perl",  # Debian's Artistic is Perl's (common-licenses/Artistic)
    "artistic-1": "Artistic-1.0-Perl",
    "apache-2": "Apache-2.0",
    "apache-2.0": "Apache-2.0",
    "bsd-2-clause": "BSD-2-Clause",
    "bsd-3-clause": "BSD-3-Clause",
    "bsd-4-clause": "BSD-4-Clause",
    "psf-2": "PSF-2.0",
    "python": "Python-2.0",
    "public-domain": "LicenseRef-scancode-public-domain",
    "pd": "LicenseRef-scancode-public-domain",
    "zlib": "Zlib",
    "isc": "ISC",
    "curl": "curl",
    "libpng": "Libpng",
    "postgresql": "PostgreSQL",
    "bsl-1.0": "BSL-1.0",
    "mpl-1.1": "MPL-1.1",
    "mpl-2.0": "MPL-2.0",
    "cc0-1.0": "CC0-1.0",
    "openldap-2.8": "OLDAP-2.8",
    "bsd3": "BSD-3-Clause",
    "cc0": "CC0-1.0",
    "apache-2-llvm-exceptions": "Apache-2.0 WITH LLVM-exception",
}
GNU = re.compile(r"^(a|l)?gpl-?(\d(?:\.\d)?)?(\+)?$", re.I)
EXCEPTION = re.compile(r"^(?P<license>.+?),?\s+with\s+(?P<exception>[\w.-]+)\s+exception$", re.I)


def is_dep5(text: str) -> bool:
    return FORMAT.match(text.lstrip("\ufeff")) is not None


def dep5_expression(text: str) -> str | None:
    """The SPDX expression of a DEP-5 file's `Files: *` paragraph, or None (not DEP-5, no
    such paragraph, or a name with no SPDX equivalent: then other sources decide)."""
    if not is_dep5(text):
        return None
    for paragraph in re.split(r"\n[ \t]*\n", text):
        fields = _fields(paragraph)
        if fields.get("files", "").split()[:1] == ["*"] and fields.get("license"):
            return debian_to_spdx(fields["license"].split("\n", 1)[0])
    return None


def _fields(paragraph: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    key = None
    for line in paragraph.split("\n"):
        if line[:1] in (" ", "\t") and key is not None:
            fields[key] += "\n" + line.strip()
            continue
        name, sep, value = line.partition(":")
        if sep and name and " " not in name:
            key = name.strip().lower()
            fields[key] = value.strip()
    return fields


def debian_to_spdx(names: str) -> str | None:
    """`GPL-2+ or Artistic` -> `GPL-2.0-or-later OR Artistic-1.0`; None if a name is unknown.

    Debian's `and`/`or` (and commas before them) are SPDX's AND/OR; `, with X exception`
    becomes `WITH X-exception`."""
    names = names.strip().rstrip(".")
    if not names:
        return None
    out = []
    for token in re.split(r",?\s+(and|or)\s+", names, flags=re.I):
        if token.lower() in ("and", "or"):
            out.append(token.upper())
            continue
        spdx = _one(token.strip().strip(","))
        if spdx is None:
            return None
        out.append(f"({spdx})" if " AND " in spdx or " OR " in spdx else spdx)  # WITH binds first
    expression = " ".join(out)
    return expression if parse_expression(expression) is not None else None


def _one(name: str) -> str | None:
    m = EXCEPTION.match(name)
    if m:
        base = _one(m.group("license"))
        exception = m.group("exception")
        if not exception.lower().endswith("exception"):
            exception += "-exception"
        return None if base is None else f"{base} WITH {exception}"
    known = DEBIAN_NAMES.get(name.lower())
    if known:
        return known
    gnu = GNU.match(name)
    if gnu:
        prefix = {"a": "AGPL", "l": "LGPL", None: "GPL"}[gnu.group(1) and gnu.group(1).lower()]
        version = gnu.group(2) or ("2.0" if prefix == "LGPL" else "1.0")
        if "." not in version:
            version += ".0"
        if gnu.group(2) is None:  # no version: any version
            return f"{prefix}-{version}-or-later"
        return f"{prefix}-{version}-{'or-later' if gnu.group(3) else 'only'}"
    if is_spdx(name):
        return canonical_id(name)
    return name_aliases().get(name.lower())
