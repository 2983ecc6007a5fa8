"""License policy: expression evaluation over AND / OR / WITH, odd names, bad input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.licenses.policy import load_policy

POLICY = load_policy()

CASES = [
    ("MIT", "MIT", True),
    ("mit", "MIT", True),
    ("Apache-2.0", "Apache-2.0", True),
    ("apache-2.0", "Apache-2.0", True),
    ("BSD-3-Clause", "BSD-3-Clause", True),
    ("GPL-3.0-only", "GPL-3.0-only", False),
    ("GPL-2.0-or-later", "GPL-2.0-or-later", False),
    ("AGPL-3.0-or-later", "AGPL-3.0-or-later", False),
    ("LGPL-2.1-only", "LGPL-2.1-only", False),
    ("MPL-2.0", "MPL-2.0", False),
    ("MIT OR GPL-3.0-only", "MIT OR GPL-3.0-only", True),
    ("GPL-3.0-only OR MIT", "GPL-3.0-only OR MIT", True),
    ("GPL-3.0-only OR AGPL-3.0-only", "GPL-3.0-only OR AGPL-3.0-only", False),
    ("MIT AND Apache-2.0", "MIT AND Apache-2.0", True),
    ("MIT AND GPL-2.0-only", "MIT AND GPL-2.0-only", False),
    (
        "MIT AND (BSD-3-Clause OR GPL-2.0-or-later)",
        "MIT AND (BSD-3-Clause OR GPL-2.0-or-later)",
        True,
    ),
    (
        "(MIT OR GPL-2.0-only) AND (Apache-2.0 OR GPL-3.0-only)",
        "(MIT OR GPL-2.0-only) AND (Apache-2.0 OR GPL-3.0-only)",
        True,
    ),
    ("(GPL-2.0-only OR LGPL-3.0-only) AND MIT", "(GPL-2.0-only OR LGPL-3.0-only) AND MIT", False),
    ("Apache-2.0 WITH LLVM-exception", "Apache-2.0 WITH LLVM-exception", True),
    (
        "GPL-2.0-only WITH Classpath-exception-2.0",
        "GPL-2.0-only WITH Classpath-exception-2.0",
        False,
    ),
    (
        "GPL-2.0-or-later WITH Classpath-exception-2.0 OR MIT",
        "GPL-2.0-or-later WITH Classpath-exception-2.0 OR MIT",
        True,
    ),
    ("MIT AND Apache-2.0 WITH LLVM-exception", "MIT AND Apache-2.0 WITH LLVM-exception", True),
    ("ISC", "ISC", True),
    ("Unlicense", "Unlicense", True),
    ("CC0-1.0", "CC0-1.0", True),
    ("CC-BY-NC-4.0", "CC-BY-NC-4.0", False),
    ("Zlib OR MIT-0", "Zlib OR MIT-0", True),
    ("LicenseRef-scancode-proprietary-license", "LicenseRef-scancode-proprietary-license", False),
    ("LicenseRef-my-own", "LicenseRef-my-own", False),
    ("NOASSERTION", "NOASSERTION", False),
    ("  MIT  ", "MIT", True),
    ("PSF-2.0 AND Python-2.0", "PSF-2.0 AND Python-2.0", True),
]

UNPARSABLE = ["MIT License", "Apache 2.0", "(((", "MIT AND", "OR", "GPL v3", "BSD-style license"]


@pytest.mark.parametrize("text, expression, allowed", CASES)
def test_expressions(text, expression, allowed):
    verdict = POLICY.judge(text)
    assert (verdict.expression, verdict.allowed) == (expression, allowed)


@pytest.mark.parametrize("text", UNPARSABLE)
def test_unparsable_is_unknown_with_raw_text_kept(text):
    verdict = POLICY.judge(text)
    assert (verdict.expression, verdict.allowed, verdict.raw) == (None, None, text)


def test_absent_license():
    assert POLICY.judge(None).allowed is None
    assert POLICY.judge("   ").expression is None


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_any_text_never_crashes(text):
    verdict = POLICY.judge(text)
    assert verdict.allowed in (True, False, None)


def test_policy_file_errors(tmp_path):
    from curate.core.errors import ConfigError
    from curate.licenses.policy import load_policy as load

    bad = tmp_path / "p.yaml"
    bad.write_text("allow: [MIT]\ndeny: [MIT]\n")
    with pytest.raises(ConfigError, match=r"p.yaml:2: deny: MIT is both allowed and denied"):
        load(bad)
    bad.write_text("allow: [MIT]\nunknown: maybe\n")
    with pytest.raises(ConfigError, match=r"p.yaml:2: unknown: expected one of drop, keep"):
        load(bad)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "allow: [MIT, Apache2.0]\n",
            "p.yaml:1: allow[1]: 'Apache2.0' is not an SPDX license or exception id "
            "(did you mean Apache-2.0?)",
        ),
        (
            "allow: [MIT]\ndeny: [MIT OR GPL-3.0-only]\n",
            "p.yaml:2: deny[0]: 'MIT OR GPL-3.0-only' is an expression: list one SPDX id an entry",
        ),
        ("allow: [GPL-2.0-only]\ndeny: [gpl-2.0]\n", "p.yaml:2: deny: GPL-2.0-only is both"),
    ],
)
def test_policy_entries_must_be_ids_records_can_match(tmp_path, text, message):
    from curate.core.errors import ConfigError
    from curate.licenses.policy import load_policy as load

    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load(path)
    assert err.value.message.startswith(f"{path.parent}/{message}"), err.value.message


def test_policy_entries_are_normalised_like_records(tmp_path):
    from curate.licenses.policy import load_policy as load

    path = tmp_path / "p.yaml"
    # a deprecated id, another case, one of the user's own ids
    path.write_text("allow: [GPL-2.0, mit, LicenseRef-acme-internal]\n")
    policy = load(path)
    assert policy.allow == {"GPL-2.0-only", "MIT", "LicenseRef-acme-internal"}
    for text in ("GPL-2.0", "GPL-2.0-only", "MIT", "LicenseRef-acme-internal"):
        assert policy.judge(text).allowed is True, text
    assert policy.judge("GPL-2.0-or-later").allowed is False
