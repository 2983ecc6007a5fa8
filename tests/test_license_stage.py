"""License stage: real license texts, SPDX tags, standard headers, no license, repositories."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from curate.core.fields import Fields
from curate.io.policy import ErrorPolicy
from curate.io.reader import Batch
from curate.stages.base import Context, StageStats
from curate.stages.license import LicenseConfig, LicenseStage
from tests.conftest import curate_env, run_curate
from tests.test_run import read_dataset, write_pipeline

COMMON = Path("/usr/share/common-licenses")
PYTHON_LICENSE = Path(__import__("sysconfig").get_paths()["stdlib"]) / "LICENSE.txt"

HEADERS = {
    "Apache-2.0": '# Copyright 2024 Example Corp.\n#\n# Licensed under the Apache License, Version 2.0 (the "License");\n'
    "# you may not use this file except in compliance with the License.\n"
    "# You may obtain a copy of the License at\n#\n#     http://www.apache.org/licenses/LICENSE-2.0\n"
    "#\n# Unless required by applicable law or agreed to in writing, software\n"
    '# distributed under the License is distributed on an "AS IS" BASIS,\n'
    "# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.\n"
    "# See the License for the specific language governing permissions and\n"
    "# limitations under the License.\n\nimport os\n",
    "MIT": "/*\n * Copyright (c) 2023 Jane Doe\n *\n * Permission is hereby granted, free of charge, to any person obtaining a copy\n"
    ' * of this software and associated documentation files (the "Software"), to deal\n'
    " * in the Software without restriction, including without limitation the rights\n"
    " * to use, copy, modify, merge, publish, distribute, sublicense, and/or sell\n"
    " * copies of the Software, and to permit persons to whom the Software is\n"
    " * furnished to do so, subject to the following conditions:\n *\n"
    " * The above copyright notice and this permission notice shall be included in all\n"
    " * copies or substantial portions of the Software.\n *\n"
    ' * THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR\n'
    " * IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,\n"
    " * FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE\n"
    " * AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER\n"
    " * LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,\n"
    " * OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE\n"
    " * SOFTWARE.\n */\nint main(void) { return 0; }\n",
    "BSD-3-Clause": (COMMON / "BSD").read_text() if (COMMON / "BSD").exists() else "",
    "GPL-2.0-or-later": "# This program is free software; you can redistribute it and/or modify\n"
    "# it under the terms of the GNU General Public License as published by\n"
    "# the Free Software Foundation; either version 2 of the License, or\n"
    "# (at your option) any later version.\n#\n"
    "# This program is distributed in the hope that it will be useful,\n"
    "# but WITHOUT ANY WARRANTY; without even the implied warranty of\n"
    "# MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the\n"
    "# GNU General Public License for more details.\n\nx = 1\n",
}


@pytest.fixture(scope="module")
def stage():
    return LicenseStage(LicenseConfig(), Fields())


def annotate(stage, records):
    ctx = Context(ErrorPolicy(), keep_rejects=True)
    out = stage.process(
        Batch("t", records, list(range(1, len(records) + 1)), [b""] * len(records)),
        ctx,
        StageStats(),
    )
    return out.records, ctx.rejects


@pytest.mark.parametrize(
    "name, expression, allowed",
    [
        ("Apache-2.0", "Apache-2.0", True),
        ("GPL-3", "GPL-3.0-only", False),
        ("GPL-2", "GPL-2.0-only", False),
        ("LGPL-2.1", "LGPL-2.1-only", False),
        ("MPL-2.0", "MPL-2.0", False),
        ("BSD", "BSD-3-Clause", True),
        ("CC0-1.0", "CC0-1.0", True),
    ],
)
def test_full_license_texts_from_the_machine(stage, name, expression, allowed):
    record = {"id": name, "text": (COMMON / name).read_text()}
    kept, rejects = annotate(stage, [record])
    info = (kept or rejects)[0]["meta"].get("license") or rejects[0]["meta"]["license"]
    assert (info["expression"], info["source"], info["allowed"]) == (
        expression,
        "scancode",
        allowed,
    )


def test_python_license_is_python_not_gpl(stage):
    kept, _ = annotate(stage, [{"id": "py", "text": PYTHON_LICENSE.read_text()}])
    assert kept[0]["meta"]["license"]["expression"] == "Python-2.0"


@pytest.mark.parametrize("expected", list(HEADERS))
def test_standard_headers(stage, expected):
    kept, rejects = annotate(stage, [{"id": "h", "text": HEADERS[expected]}])
    rec = (kept or rejects)[0]
    assert rec["meta"]["license"]["expression"] == expected


@pytest.mark.parametrize(
    "text, expression, allowed",
    [
        ("// SPDX-License-Identifier: MIT\nint x;", "MIT", True),
        (
            "# SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only\n",
            "Apache-2.0 OR GPL-2.0-only",
            True,
        ),
        (
            "/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */\n",
            "GPL-2.0-only WITH Linux-syscall-note",
            False,
        ),
        ("<!-- SPDX-License-Identifier: BSD-2-Clause -->\n<p>", "BSD-2-Clause", True),
    ],
)
def test_spdx_tags(stage, text, expression, allowed):
    kept, rejects = annotate(stage, [{"id": "t", "text": text}])
    rec = (kept or rejects)[0]
    assert (rec["meta"]["license"]["expression"], rec["meta"]["license"]["source"]) == (
        expression,
        "spdx_tag",
    )
    assert bool(kept) is allowed


def test_metadata_names_are_normalised(stage):
    records = [
        {"id": "1", "text": "x", "meta": {"license": "Apache 2.0"}},
        {"id": "2", "text": "x", "meta": {"license": "MIT License"}},
        {"id": "3", "text": "x", "meta": {"detected_licenses": ["mit", "bsd-new"]}},
        {"id": "4", "text": "x", "license": "apache-2.0"},
        {"id": "5", "text": "x", "meta": {"license": "Some Custom Thing"}},
    ]
    kept, rejects = annotate(stage, records)
    assert [r["meta"]["license"]["expression"] for r in kept] == [
        "Apache-2.0",
        "MIT",
        "MIT AND BSD-3-Clause",
        "Apache-2.0",
    ]
    assert rejects[0]["meta"]["rejected"]["reason"] == "license_unknown"
    assert rejects[0]["meta"]["license"] == {
        "expression": None,
        "source": "metadata",
        "allowed": None,
        "raw": "Some Custom Thing",
    }


def test_no_license_is_unknown_and_the_cache_persists(tmp_path):
    cache = tmp_path / "cache.jsonl"
    stage = LicenseStage(LicenseConfig(cache=str(cache)), Fields())
    kept, rejects = annotate(
        stage,
        [
            {"id": "n", "text": "def f():\n    return 1\n"},
            {"id": "a", "text": (COMMON / "Apache-2.0").read_text()},
        ],
    )
    assert [r["id"] for r in rejects] == ["n"]
    assert rejects[0]["meta"]["rejected"]["reason"] == "license_unknown"
    saved = [orjson.loads(x) for x in cache.read_bytes().splitlines()]
    assert [e["expression"] for e in saved] == ["Apache-2.0"]
    again = LicenseStage(LicenseConfig(cache=str(cache)), Fields())
    annotate(again, [{"id": "a", "text": (COMMON / "Apache-2.0").read_text()}])
    assert (again.detector.hits, again.detector.misses) == (1, 0)


def test_repository_licenses_in_a_run(tmp_path):
    records = [
        {
            "id": "a/LICENSE",
            "text": (COMMON / "Apache-2.0").read_text(),
            "meta": {"repo": "a/x", "path": "LICENSE"},
        },
        {"id": "a/m.py", "text": "print(1)\n", "meta": {"repo": "a/x", "path": "src/m.py"}},
        {
            "id": "b/COPYING",
            "text": (COMMON / "GPL-3").read_text(),
            "meta": {"repo": "b/y", "path": "COPYING"},
        },
        {"id": "b/m.py", "text": "print(2)\n", "meta": {"repo": "b/y", "path": "m.py"}},
        {
            "id": "b/mit.py",
            "text": "# SPDX-License-Identifier: MIT\n",
            "meta": {"repo": "b/y", "path": "mit.py"},
        },
        {"id": "c/m.py", "text": "print(3)\n", "meta": {"repo": "c/z", "path": "m.py"}},
    ]
    (tmp_path / "d.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    write_pipeline(tmp_path, inputs=["d.jsonl"], stages="  - license: {by_repo: meta.repo}\n")
    result = run_curate("run", "pipeline.yaml", "-q", "-w", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    kept = {
        orjson.loads(x)["id"]: orjson.loads(x)["meta"]["license"]
        for x in read_dataset(tmp_path / "out")
    }
    assert kept == {
        "a/LICENSE": {"expression": "Apache-2.0", "source": "scancode", "allowed": True},
        "a/m.py": {"expression": "Apache-2.0", "source": "repository", "allowed": True},
        "b/mit.py": {"expression": "MIT", "source": "spdx_tag", "allowed": True},
    }
    rejected = {
        orjson.loads(x)["id"]: orjson.loads(x)["meta"]["rejected"]["reason"]
        for x in read_dataset(tmp_path / "out", "rejects")
    }
    assert rejected == {
        "b/COPYING": "license_denied",
        "b/m.py": "license_denied",
        "c/m.py": "license_unknown",
    }
    manifest = orjson.loads((tmp_path / "out" / "manifest.json").read_bytes())
    assert manifest["composition"]["license"]["Apache-2.0"]["records"] == 2


def test_unknown_keep_policy_through_the_cli(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("unknown: keep\nallow: [MIT]\ndeny: [GPL-3.0-only]\n")
    data = (
        b'{"id": "1", "text": "no license here"}\n'
        b'{"id": "2", "text": "// SPDX-License-Identifier: GPL-3.0-only"}\n'
    )
    result = run_curate("license", "--policy", str(policy), "--no-scancode", "-v", input=data)
    assert result.returncode == 0, result.stderr
    out = [orjson.loads(x) for x in result.stdout.splitlines()]
    assert [(r["id"], r["meta"]["license"]["allowed"]) for r in out] == [("1", None)]
    assert b"dropped: license_denied=1" in result.stderr


def run_without_scancode(tmp_path: Path, *args: str, input: bytes):
    """`curate ARGS` on a Python whose scancode-toolkit cannot be imported, as after
    `pip install curate`."""
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nsys.modules['licensedcode'] = None\nsys.modules['scancode'] = None\n"
    )
    return run_curate(*args, input=input, env={**curate_env(), "PYTHONPATH": str(tmp_path)})


def test_metadata_and_tags_need_no_scancode(tmp_path):
    records = [
        {"id": "a", "text": "x = 1\n", "meta": {"license": "MIT License"}},
        {"id": "b", "text": "x = 1\n", "meta": {"license": "Apache 2.0"}},
        {"id": "c", "text": "// SPDX-License-Identifier: BSD-3-Clause\nint x;\n"},
        {"id": "d", "text": "# GNU General Public License v3\nx = 1\n"},
        {"id": "e", "text": "x = 1\n", "meta": {"license": "GPL-3.0-only"}},
    ]
    lines = b"".join(orjson.dumps(r) + b"\n" for r in records)
    result = run_without_scancode(
        tmp_path, "license", "--no-scancode", "--unknown", "keep", input=lines
    )
    assert result.returncode == 0, result.stderr
    out = {r["id"]: r["meta"]["license"] for r in map(orjson.loads, result.stdout.splitlines())}
    assert out == {
        "a": {"expression": "MIT", "source": "metadata", "allowed": True},
        "b": {"expression": "Apache-2.0", "source": "metadata", "allowed": True},
        "c": {"expression": "BSD-3-Clause", "source": "spdx_tag", "allowed": True},
        "d": {"expression": None, "source": None, "allowed": None},
    }
    # the policy's default drops the unknown one
    result = run_without_scancode(tmp_path, "license", "--no-scancode", input=lines)
    assert [orjson.loads(x)["id"] for x in result.stdout.splitlines()] == ["a", "b", "c"]


def test_text_detection_without_scancode_is_a_one_line_error(tmp_path):
    result = run_without_scancode(tmp_path, "license", input=b'{"id": "a", "text": "x"}\n')
    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.decode() == (
        "curate: error: license: detecting licenses in the text (scancode: true) needs "
        "scancode-toolkit, an optional dependency: pip install 'curate[license]'; or set "
        "scancode: false (--no-scancode) to use metadata and SPDX-License-Identifier tags only\n"
    )


def test_shipped_name_table_matches_scancode_database():
    """The table metadata is normalised with is the one scancode's database gives today
    (rebuild it with `python -m curate.licenses.build_names` after upgrading scancode)."""
    from curate.licenses.build_names import NAMES, build

    assert orjson.loads(NAMES.read_bytes()) == build()


DEP5 = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: foo
Source: https://example.org/foo

Files: *
Copyright: 2001-2024 Foo Authors
License: {license}

Files: debian/*
Copyright: 2024 Debian Maintainer
License: GPL-2+

License: GPL-2+
 This program is free software; you can redistribute it and/or modify
 it under the terms of the GNU General Public License as published by
 the Free Software Foundation; either version 2 of the License, or
 (at your option) any later version.
"""


@pytest.mark.parametrize(
    ("short_name", "expected"),
    [
        ("Expat", "MIT"),
        ("GPL-2+", "GPL-2.0-or-later"),
        ("GPL-2", "GPL-2.0-only"),
        ("LGPL-2.1+", "LGPL-2.1-or-later"),
        ("Artistic or GPL-1+", "Artistic-1.0-Perl OR GPL-1.0-or-later"),
        ("BSD-3-clause", "BSD-3-Clause"),
        ("LGPL-2+ and LGPL-2.1+ and Expat", "LGPL-2.0-or-later AND LGPL-2.1-or-later AND MIT"),
        ("GPL-2+ with OpenSSL exception", "GPL-2.0-or-later WITH OpenSSL-exception"),
        ("Apache-2.0", "Apache-2.0"),
        # SPDX ids in another case are written as the SPDX list spells them
        ("BSD-1-clause", "BSD-1-Clause"),
        ("Tcl", "TCL"),
        ("zlib", "Zlib"),
    ],
)
def test_debian_copyright_files_give_the_license_of_files_star(short_name, expected):
    """The `Files: *` paragraph decides, in SPDX names; the GPL text quoted for `debian/*`
    (which scancode would AND in) does not."""
    stage = LicenseStage(LicenseConfig(scancode=False), Fields())
    record = {"id": "d", "meta": {"path": "debian/copyright"}}
    text = DEP5.format(license=short_name)
    assert stage.own_license(record, text) == (expected, "debian_copyright", None)


def test_a_debian_copyright_file_through_the_command_line():
    record = {"id": "d", "text": DEP5.format(license="Expat"), "meta": {"path": "debian/copyright"}}
    result = run_curate("license", "--no-scancode", input=orjson.dumps(record) + b"\n")
    assert result.returncode == 0, result.stderr
    info = orjson.loads(result.stdout)["meta"]["license"]
    assert info == {"expression": "MIT", "source": "debian_copyright", "allowed": True}


def test_an_unknown_debian_name_leaves_the_file_to_other_sources():
    from curate.licenses.dep5 import dep5_expression

    assert dep5_expression(DEP5.format(license="Tcl-BSDish-variant")) is None
    assert dep5_expression("Files: *\nLicense: MIT\n") is None  # no DEP-5 header


def test_one_gnu_notice_is_one_license():
    """`or later` subsumes the version alone; an unversioned mention yields to a version."""
    from curate.licenses.sources import one_notice

    assert one_notice(["gpl-2.0", "gpl-2.0-plus"]) == ["gpl-2.0-plus"]
    assert one_notice(["gpl-3.0-plus", "gpl-1.0-plus"]) == ["gpl-3.0-plus"]
    assert one_notice(["gpl-2.0", "gpl-2.0-plus", "gpl-1.0-plus"]) == ["gpl-2.0-plus"]
    assert one_notice(["lgpl-2.1-plus", "lgpl-2.0-plus"]) == ["lgpl-2.1-plus"]
    assert one_notice(["lgpl-2.0-plus"]) == ["lgpl-2.0-plus"]  # alone it is the license
    assert one_notice(["mit", "gpl-2.0"]) == ["mit", "gpl-2.0"]  # two licenses stay two


GPL3_NOTICE = """# This file is part of Foo.
#
# Foo is free software: you can redistribute it and/or modify
# it under the terms of the GNU General Public License as published by
# the Free Software Foundation, either version 3 of the License, or
# (at your option) any later version.
#
# Foo is distributed in the hope that it will be useful,
# but WITHOUT ANY WARRANTY; without even the implied warranty of
# MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
# GNU General Public License for more details.
#
# You should have received a copy of the GNU General Public License
# along with Foo.  If not, see <http://www.gnu.org/licenses/>.
"""


def test_a_gpl3_or_later_notice_is_gpl3_or_later(stage):
    """scancode matches the 'for more details' boilerplate as an unversioned GPL too; the
    notice states one license."""
    assert stage.detector._scan(GPL3_NOTICE) == "GPL-3.0-or-later"


BSD3_VARIANT = """Copyright (c) 2002 Kitware, Inc., Insight Consortium
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are
met:

 * Redistributions of source code must retain the above copyright notice,
   this list of conditions and the following disclaimer.

 * Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.

 * The names of Kitware, Inc., the Insight Consortium, or the names of
   any consortium members, or of any contributors, may not be used to
   endorse or promote products derived from this software without
   specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDER AND CONTRIBUTORS ``AS IS''
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE
ARE DISCLAIMED. IN NO EVENT SHALL THE AUTHORS OR CONTRIBUTORS BE LIABLE FOR
ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""


def test_a_reworded_bsd3_text_is_bsd3(stage):
    """Names in place of "the copyright holder" (cmake's copyright, as Debian ships it): no
    rule matches whole, approximate matching of a short permissive text does."""
    assert stage.detector._scan(BSD3_VARIANT) == "BSD-3-Clause"


def test_an_unversioned_gpl_mention_in_an_lgpl_notice_is_not_a_second_license():
    from curate.licenses.sources import one_notice

    assert one_notice(["lgpl-2.1-plus", "gpl-1.0-plus"]) == ["lgpl-2.1-plus"]
    assert one_notice(["gpl-1.0-plus"]) == ["gpl-1.0-plus"]  # alone it is what the text says


MIT_TEXT = """Copyright Isaac Z. Schlueter and Contributors
All rights reserved.

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""
ISC_NAMED = """ISC License

Copyright npm, Inc.

Permission to use, copy, modify, and/or distribute this
software for any purpose with or without fee is hereby
granted, provided that the above copyright notice and this
permission notice appear in all copies.

THE SOFTWARE IS PROVIDED "AS IS" AND NPM DISCLAIMS ALL
WARRANTIES WITH REGARD TO THIS SOFTWARE INCLUDING ALL
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO
EVENT SHALL NPM BE LIABLE FOR ANY SPECIAL, DIRECT,
INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS,
WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER
TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE
USE OR PERFORMANCE OF THIS SOFTWARE.
"""
PKGCONF = """Copyright (c) 2011, 2012, 2013 pkgconf authors (see AUTHORS).

Permission to use, copy, modify, and/or distribute this software for any
purpose with or without fee is hereby granted, provided that the above
copyright notice and this permission notice appear in all copies.

This software is provided 'as is' and without any warranty, express or
implied.  In no event shall the authors be liable for any damages arising
from the use of this software.
"""


def test_an_isc_text_naming_its_author_is_isc_and_pkgconf_stays_pkgconf(stage):
    """npm's ISC LICENSE files say "NPM DISCLAIMS" where ISC says "THE AUTHOR DISCLAIMS": exact
    rules read only the shared grant (pkgconf's); approximate matching reads the whole text.
    pkgconf's own license, the near-identical look-alike, keeps its name."""
    assert stage.detector._scan(ISC_NAMED) == "ISC"
    assert stage.detector._scan(PKGCONF) == "pkgconf"


def test_a_dual_license_statement_with_both_texts_is_the_choice(stage):
    isc = ISC_NAMED.split("\n", 2)[2].replace("NPM", "THE AUTHOR")
    text = (
        "This software is dual-licensed under the ISC and MIT licenses.\n"
        "You may use this software under EITHER of the following licenses.\n\n"
        f"----------\n\n{isc}\n----------\n\n{MIT_TEXT}"
    )
    assert stage.detector._scan(text) == "ISC OR MIT"
    from curate.licenses.sources import alternatives_stated

    assert alternatives_stated(["isc OR mit", "isc", "mit", "apache-2.0"]) == [
        "isc OR mit",
        "apache-2.0",
    ]
    assert alternatives_stated(["mit AND isc", "isc"]) == ["mit AND isc", "isc"]


@pytest.mark.parametrize(
    "path, text, expected",
    [
        ("ray/LICENSE.txt", "Apache 2.0", {"expression": "Apache-2.0", "source": "license_name"}),
        ("pkg/LICENSE", "MIT\n", {"expression": "MIT", "source": "license_name"}),
        ("pkg/COPYING", "BSD", None),  # not one SPDX license: which BSD?
        ("pkg/README.md", "Apache 2.0", None),  # a name, but not a license file
        ("pkg/LICENSE", "See the file COPYING in the top directory", None),
    ],
)
def test_a_license_file_holding_only_a_name(stage, path, text, expected):
    kept, rejected = annotate(stage, [{"id": "1", "text": text, "meta": {"path": path}}])
    if expected is None:  # no license known: dropped by the shipped policy
        assert kept == [] and rejected[0]["meta"]["rejected"]["reason"] == "license_unknown"
        assert rejected[0]["meta"]["license"]["source"] is None
        return
    info = kept[0]["meta"]["license"]
    assert {"expression": info["expression"], "source": info["source"]} == expected


@pytest.mark.parametrize(
    "path, text, expected",
    [
        ("package.json", '{"name": "x", "license": "ISC"}', "ISC"),
        ("web/package.json", '{"license": {"type": "MIT", "url": "http://x"}}', "MIT"),
        ("composer.json", '{"license": ["MIT", "GPL-3.0-or-later"]}', "MIT OR GPL-3.0-or-later"),
        ("Cargo.toml", '[package]\nname = "x"\nlicense = "MIT/Apache-2.0"\n', "MIT OR Apache-2.0"),
        ("pyproject.toml", '[project]\nlicense = {text = "BSD-3-Clause"}\n', "BSD-3-Clause"),
        ("pyproject.toml", '[tool.poetry]\nlicense = "Apache-2.0"\n', "Apache-2.0"),
        ("setup.cfg", "[metadata]\nname = x\nlicense = MIT License\n", "MIT"),
        # look-alikes: no license, a file reference, npm's "not licensed", a broken manifest
        ("package.json", '{"license": "SEE LICENSE IN LICENSE.md"}', None),
        ("package.json", '{"license": "UNLICENSED"}', None),
        ("pyproject.toml", '[project]\nlicense = {file = "LICENSE"}\n', None),
        # not read as manifests (broken, or not a manifest's name): scancode's tag rules
        ("package.json", '{"license": "MIT"', ("MIT", "scancode")),
        ("notes/package.json.txt", '{"license": "MIT"}', ("MIT", "scancode")),
    ],
)
def test_a_package_manifest_is_its_own_files_license(stage, path, text, expected):
    kept, rejected = annotate(stage, [{"id": "1", "text": text, "meta": {"path": path}}])
    if expected is None:
        assert kept == [] and rejected[0]["meta"]["license"]["source"] is None
        return
    info = kept[0]["meta"]["license"] if kept else rejected[0]["meta"]["license"]
    if isinstance(expected, str):
        expected = (expected, "package_manifest")
    assert (info["expression"], info["source"]) == expected


def test_the_manifest_beside_a_license_file_that_names_none_is_the_repositorys(tmp_path):
    records = [
        {
            "id": "a/LICENSE",
            "text": "See package.json.\n",
            "meta": {"repo": "a/x", "path": "LICENSE"},
        },
        {
            "id": "a/pkg",
            "text": '{"license": "MIT"}',
            "meta": {"repo": "a/x", "path": "package.json"},
        },
        {"id": "a/i.js", "text": "module.exports = 1\n", "meta": {"repo": "a/x", "path": "i.js"}},
        # a license file that names its license wins over the manifest beside it
        {
            "id": "b/LICENSE",
            "text": (COMMON / "Apache-2.0").read_text(),
            "meta": {"repo": "b/y", "path": "LICENSE"},
        },
        {
            "id": "b/pkg",
            "text": '{"license": "MIT"}',
            "meta": {"repo": "b/y", "path": "package.json"},
        },
        {"id": "b/i.js", "text": "module.exports = 2\n", "meta": {"repo": "b/y", "path": "i.js"}},
    ]
    (tmp_path / "d.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    write_pipeline(tmp_path, inputs=["d.jsonl"], stages="  - license: {by_repo: meta.repo}\n")
    result = run_curate("run", "pipeline.yaml", "-q", "-w", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    kept = {
        orjson.loads(x)["id"]: (
            orjson.loads(x)["meta"]["license"]["expression"],
            orjson.loads(x)["meta"]["license"]["source"],
        )
        for x in read_dataset(tmp_path / "out")
    }
    assert kept == {
        "a/LICENSE": ("MIT", "repository"),
        "a/pkg": ("MIT", "package_manifest"),
        "a/i.js": ("MIT", "repository"),
        "b/LICENSE": ("Apache-2.0", "scancode"),
        "b/pkg": ("MIT", "package_manifest"),
        "b/i.js": ("Apache-2.0", "repository"),
    }


LGPL2_LATER = (
    "This program is free software; you can redistribute it and/or modify it\n"
    "under the terms of the GNU Library General Public License as published by the\n"
    "Free Software Foundation; version 2 of the License, or (at\n"
    "your option) any later version.\n\n"
    "On Debian systems, the complete text of version 2 of the GNU Library\n"
    "General Public License can be found in `/usr/share/common-licenses/LGPL-2'.\n"
)
LGPL21_ONLY = (
    "This program is free software: you can redistribute it and/or modify\n"
    "it under the terms of the GNU Lesser General Public License as published by\n"
    "the Free Software Foundation, version 2.1 of the License.\n\n"
    "This library is distributed in the hope that it will be useful,\n"
    "but WITHOUT ANY WARRANTY; without even the implied warranty of\n"
    "MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE. See the\n"
    "GNU Lesser General Public License for more details.\n"
)
GPL2_SOME_LATER = (
    'SPDX license expression "GPL-2.0-or-later":\n\n'
    "This license identifier refers to the choice to use code under\n"
    "GPL-2.0-or-later (i.e., GPL-2.0 or some later version), as distinguished\n"
    "from use of code under GPL-2.0-only.\n\n"
    "On Debian systems, the complete text of the GNU General Public License\n"
    'version 2 can be found in "/usr/share/common-licenses/GPL-2.0".\n'
)


@pytest.mark.parametrize(
    "text, expected",
    [
        # the "or later" words decide, however little of the notice's rules they matched
        (LGPL2_LATER, "LGPL-2.0-or-later"),
        (GPL2_SOME_LATER, "GPL-2.0-or-later"),
        # no "later": the version alone, whatever boilerplate rule matched the rest
        (LGPL21_ONLY, "LGPL-2.1-only"),
    ],
)
def test_a_gnu_notice_states_its_version_choice_in_words(stage, text, expected):
    assert stage.detector._scan(text) == expected


def test_a_full_gpl_text_quoting_the_or_later_notice_stays_the_version_alone(stage):
    text = (COMMON / "GPL-2").read_text()
    assert "any later version" in text  # in its "How to Apply" appendix
    assert stage.detector._scan(text) == "GPL-2.0-only"
