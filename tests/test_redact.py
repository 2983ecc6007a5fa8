"""Redaction: each detector, the traps that must survive, placeholders, PEM blocks, no leaks."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.io.decompress import decompress_all
from curate.pii.detect import SecretScanner
from tests.conftest import run_curate
from tests.test_run import write_pipeline

SCANNER = SecretScanner()


def found(text: str, path: str = "app/config.py") -> list[tuple[str, str]]:
    return [(s.kind, text[s.start : s.end]) for s in SCANNER.scan(text, path)]


POSITIVES = [
    ("write to jane.roe@corp.io today", [("email", "jane.roe@corp.io")]),
    ("server at 52.14.33.201:8080", [("ip_address", "52.14.33.201")]),
    ('server_ip = "52.14.33.201"', [("ip_address", "52.14.33.201")]),
    ("previous: 52.14.33.201", [("ip_address", "52.14.33.201")]),
    ("Server: 52.14.33.201", [("ip_address", "52.14.33.201")]),
    ("dial 2607:f8b0:4005:80a::200e now", [("ip_address", "2607:f8b0:4005:80a::200e")]),
    ('AWS_ACCESS_KEY_ID = "AKIAZ7Q3LOKR5EXWFD2N"', [("aws_key", "AKIAZ7Q3LOKR5EXWFD2N")]),
    (
        'token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"',
        [("github_token", "ghp_abcdefghijklmnopqrstuvwxyz0123456789")],
    ),
    (
        "pat github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV0123",
        [
            (
                "github_token",
                "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV0123",
            )
        ],
    ),
    ('GITLAB = "glpat-abcdefghij0123456789"', [("gitlab_token", "glpat-abcdefghij0123456789")]),
    (
        "hook xoxb-123456789012-123456789012-abcdefghijklmnopqrstuvwx",
        [("slack_token", "xoxb-123456789012-123456789012-abcdefghijklmnopqrstuvwx")],
    ),
    (
        'stripe.api_key = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"',
        [("stripe_key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc")],
    ),
    (
        "twilio SK0123456789abcdef0123456789abcdef x",
        [("twilio_key", "SK0123456789abcdef0123456789abcdef")],
    ),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        [
            (
                "jwt",
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            )
        ],
    ),
    ('db = "postgres://admin:Sup3rS3cret@db.corp.io/app"', [("basic_auth", "Sup3rS3cret")]),
    ('password = "correct-horse-battery"', [("password", "correct-horse-battery")]),
    ('API_KEY: "Zx81kLm20Qp7Rt5Vw3Yb"', [("generic_secret", "Zx81kLm20Qp7Rt5Vw3Yb")]),
    (
        'maps = "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"',
        [("google_api_key", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY")],
    ),
    ("OPENAI=sk-proj-" + "a1B2c3D4e5" * 5, [("openai_key", "sk-proj-" + "a1B2c3D4e5" * 5)]),
    (
        "//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789",
        [("npm_token", "npm_abcdefghijklmnopqrstuvwxyz0123456789")],
    ),
    (
        "pypi-AgEIcHlwaS5vcmc" + "Ab1_" * 15,
        [("pypi_token", "pypi-AgEIcHlwaS5vcmc" + "Ab1_" * 15)],
    ),
    (
        'blob = "q8W3zR7tY1uI9oP2aS5dF6gH4jK0lZ"',
        [("high_entropy_base64", "q8W3zR7tY1uI9oP2aS5dF6gH4jK0lZ")],
    ),
]


@pytest.mark.parametrize("text, expected", POSITIVES)
def test_detectors_find_positives(text, expected):
    assert found(text) == expected


# With its own type off, these values are still found by another detector, which is what
# a user gets: switching off a type never switches off the others.
STILL_FOUND = {
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789": "high_entropy_base64",
    "glpat-abcdefghij0123456789": "high_entropy_base64",
    "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY": "high_entropy_base64",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc": "high_entropy_base64",
}


@pytest.mark.parametrize("text, expected", POSITIVES)
def test_each_type_can_be_disabled_by_name(tmp_path, text, expected):
    from curate.core.fields import Fields
    from curate.io.policy import ErrorPolicy
    from curate.io.reader import Batch
    from curate.pii.detect import DETECTOR_TYPES
    from curate.stages.base import Context, StageStats
    from curate.stages.redact import RedactConfig, RedactStage

    [(kind, value)] = expected
    assert kind in DETECTOR_TYPES  # the list the rules file is checked against
    rules = tmp_path / "pii.yaml"
    rules.write_text(f"disabled: [{kind}]\n")
    stage = RedactStage(RedactConfig(rules=str(rules)), Fields())
    record = {"id": "1", "text": text, "meta": {"path": "app/config.py"}}
    batch = Batch("t", [record], [1], [orjson.dumps(record)])
    [out] = stage.process(batch, Context(ErrorPolicy()), StageStats()).records
    other = STILL_FOUND.get(value)
    if other is None:
        assert out["text"] == text
        assert "pii" not in out["meta"]
    else:
        assert value not in out["text"]
        assert out["meta"]["pii"] == {other: 1}


@pytest.mark.parametrize(
    "rules, message",
    [
        ("disabled: [emails]\n", "pii.yaml:1: disabled[0]: unknown type 'emails' (types: email,"),
        ("placeholders: {emial: X}\n", "pii.yaml:1: placeholders.emial: unknown type (types:"),
        (
            "entropy: {enabled: no}\n",
            "pii.yaml:1: entropy.enabled: unknown key (keys: base64, hex)",
        ),
        ("entropy: [1]\n", "pii.yaml:1: entropy: expected a mapping {base64: N, hex: N}"),
        ("entropy: {hex: true}\n", "pii.yaml:1: entropy.hex: expected a number from 0 to 8"),
    ],
)
def test_invalid_rules_name_the_line_and_the_problem(tmp_path, rules, message):
    (tmp_path / "pii.yaml").write_text(rules)
    result = run_curate("redact", "--rules", str(tmp_path / "pii.yaml"), input=b"")
    assert result.returncode == 2
    [line] = result.stderr.decode().splitlines()
    assert line.startswith(f"curate: error: {tmp_path}/{message}"), line


@pytest.mark.parametrize(
    "text, path",
    [
        ('commit = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"', "tools/release.py"),
        ('rev = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"', "deps.py"),
        ('id = "123e4567-e89b-12d3-a456-426614174000"', "models.py"),
        (
            "requests==2.31.0 --hash=sha256:58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f",
            "requirements.txt",
        ),
        (
            '"integrity": "sha512-8f7ajXy0T3Pk3eD4hYxkM4qnY0Zxg9eTbs4lR3Dz+qA6kVpLK3U2jS8Z1n5v7x9y0a2b4c6d8e0f1g3h5j7k9l1=="',
            "package-lock.json",
        ),
        ("color: #ff00aa; background: #FFF;", "style.css"),
        (
            'src = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="',
            "page.html",
        ),
        ('name = "AbstractSingletonProxyFactoryBeanConfigurationManager"', "Factory.java"),
        (
            'expected = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"',
            "tests/test_hash.py",
        ),
        ('vector = "000102030405060708090a0b0c0d0e0f"', "tests/crypto_vectors.py"),
        ("contact admin@example.com or noreply@github.com", "README.md"),
        ("listen on 127.0.0.1, 10.0.0.8, 192.168.1.20, 8.8.8.8 and ::1, 2001:db8::1", "notes.txt"),
        ("requires version 1.2.3.4 or v2.10.3.1", "CHANGES.txt"),
        ('agent_version = "7.15.6.79"', "agent.py"),
        ('{"Version": "1.16.34.216", "build": "52.14.33.201"}', "meta.json"),
        ("AppVersion: '4.2.1.8'", "Chart.yaml"),
        ("std::vector<int> a; ns::value::type x;", "main.cpp"),
        ('password = "${DB_PASSWORD}"', "settings.py"),
    ],
)
def test_traps_survive(text, path):
    assert found(text, path) == []


def test_placeholders_replace_only_the_value_and_pem_blocks_whole():
    text = (
        'key = "AKIAZ7Q3LOKR5EXWFD2N"  # prod\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n'
        "q8W3zR7tY1uI9oP2aS5dF6\n-----END RSA PRIVATE KEY-----\nmail jane.roe@corp.io\n"
    )
    record = {"id": "1", "text": text, "meta": {"path": "deploy.py"}}
    out = orjson.loads(run_curate("redact", input=orjson.dumps(record) + b"\n").stdout)
    assert out["text"] == 'key = "<KEY>"  # prod\n<KEY>\nmail <EMAIL>\n'
    assert out["meta"]["pii"] == {"aws_key": 1, "email": 1, "private_key": 1}


def test_custom_placeholders_and_drop_if(tmp_path):
    rules = tmp_path / "pii.yaml"
    rules.write_text("placeholders: {email: '[email]', default: '[secret]'}\n")
    records = [
        {"id": "a", "text": "x jane.roe@corp.io"},
        {
            "id": "b",
            "text": 'k1 = "AKIAZ7Q3LOKR5EXWFD2N"\nk2 = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"',
        },
    ]
    data = b"".join(orjson.dumps(r) + b"\n" for r in records)
    out = run_curate("redact", "--rules", str(rules), input=data).stdout.splitlines()
    assert orjson.loads(out[0])["text"] == "x [email]"
    assert orjson.loads(out[1])["text"] == 'k1 = "[secret]"\nk2 = "[secret]"'
    dropped = run_curate("redact", "--drop-min-secrets", "2", "-v", input=data)
    assert [orjson.loads(x)["id"] for x in dropped.stdout.splitlines()] == ["a"]
    assert b"too_many_secrets=1" in dropped.stderr


PLANTED = {
    "aws": "AKIAQWERTYUIOPASDFGH",
    "gh": "ghp_Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8",
    "pw": "Tr0ub4dor&3-horse-staple",
    "mail": "leaky.person@internal-corp.io",
    "ip": "34.201.17.99",
}


def test_no_planted_value_is_written_anywhere(tmp_path):
    text = (
        f'aws_key = "{PLANTED["aws"]}"\ngithub = "{PLANTED["gh"]}"\npassword = "{PLANTED["pw"]}"\n'
        f"owner: {PLANTED['mail']}\nhost {PLANTED['ip']}\n"
    )
    records = [
        {"id": "s1", "text": text, "meta": {"path": "conf.py"}},
        {"id": "s2", "text": "short", "meta": {"path": "x.py"}},
        {"id": "s3", "text": text * 2, "meta": {"path": "conf2.py"}},
    ]
    (tmp_path / "data.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    stages = "  - redact: {drop_if: {min_secrets: 6}}\n  - filter: {min_chars: 10}\n"
    write_pipeline(tmp_path, inputs=["data.jsonl"], stages=stages, extra="on_error: skip\n")
    from tests.conftest import curate_env

    env = curate_env()
    env["CURATE_LOG_LEVEL"] = "debug"
    result = run_curate("run", "pipeline.yaml", cwd=tmp_path, env=env)
    assert b"curate DEBUG curate.run: unit 0 pass 0 done" in result.stderr
    assert result.returncode == 0, result.stderr
    written = result.stdout + result.stderr
    out = tmp_path / "out"
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.name.endswith(".zst"):
                data = decompress_all(data)
            written += data
    assert b"<KEY>" in written and b"<PASSWORD>" in written and b"too_many_secrets" in written
    for value in PLANTED.values():
        assert value.encode() not in written, value
    # the pipe too, with verbose output
    piped = run_curate("redact", "-v", input=(tmp_path / "data.jsonl").read_bytes())
    for value in PLANTED.values():
        assert value.encode() not in piped.stdout + piped.stderr


def test_disabling_one_type_keeps_what_another_type_finds_in_the_same_place(tmp_path):
    # the keyword detector (password) and the entropy detector find the same quoted value;
    # switching off `password` must leave the value redacted as a high-entropy string
    rules = tmp_path / "pii.yaml"
    rules.write_text("disabled: [password]\n")
    record = {
        "id": "1",
        "text": 'password = "q8W3zR7tY1uI9oP2aS5dF6gH4jK0lZ"',
        "meta": {"path": "app/config.py"},
    }
    result = run_curate("redact", "--rules", str(rules), input=orjson.dumps(record) + b"\n")
    assert result.returncode == 0, result.stderr
    out = orjson.loads(result.stdout)
    assert out["text"] == 'password = "<KEY>"'
    assert out["meta"]["pii"] == {"high_entropy_base64": 1}


PLACEHOLDER_TRAPS = [
    'password = "changeme"',
    'API_KEY = "YOUR_API_KEY_HERE"',
    'SECRET_KEY = "your-secret-key"',
    'db_password: "<password>"',
    "PASSWORD=********",
    'OPENAI_API_KEY = "sk-..."',
    'token = "xxxxxxxxxxxxxxxx"',
    "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
]


def test_placeholders_and_documented_examples_survive_redaction():
    lines = [
        orjson.dumps({"id": str(i), "text": t, "meta": {"path": "config.py"}})
        for i, t in enumerate(PLACEHOLDER_TRAPS)
    ]
    done = run_curate("redact", input=b"\n".join(lines) + b"\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == lines  # every record as it came


def test_keep_placeholders_false_redacts_them(tmp_path):
    rules = tmp_path / "pii.yaml"
    rules.write_text("keep_placeholders: false\n")
    record = {"id": "1", "text": 'password = "changeme"', "meta": {"path": "config.py"}}
    done = run_curate("redact", "--rules", str(rules), input=orjson.dumps(record) + b"\n")
    out = orjson.loads(done.stdout)
    assert out["text"] == 'password = "<KEY>"'  # a rules file of its own: default placeholder
    assert out["meta"]["pii"] == {"password": 1}


LINE_PIECES = ["key", "a.b", "_x", "-", " ", "\t", "=", "==", "!=", "!", ":", ":=", "(", ")"]
LINE_PIECES += ["[", "]", "\v", "'k'", "é", "1"]
PIECES = st.lists(st.sampled_from(LINE_PIECES), max_size=4).map("".join)
# key, operator, value, bracket, anything, bracket: each part drawn from pieces or varied
REFERENCE_LIKE = st.tuples(
    PIECES,
    st.sampled_from(["=", "==", "===", "!=", "!==", ":", ":=", "!", "=>", ""]),
    st.sampled_from(["", " ", "\t", "\v"]),
    st.sampled_from(["a.b", "get_secret", "x-y", "é", "", "'k'"]),
    st.sampled_from(["(", "[", ""]),
    PIECES,
    st.sampled_from([")", "]", "", "\v)"]),
    PIECES,
).map("".join)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(PIECES, REFERENCE_LIKE))
def test_indirect_reference_heuristic_answers_as_detect_secrets_does(line):
    from detect_secrets.filters import heuristic

    from curate.pii.detect import is_indirect_reference

    assert is_indirect_reference(line) == heuristic.is_indirect_reference(line)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="0123456789abcdefABCDEF.: x_-", max_size=50))
def test_address_guards_never_hide_an_address(text):
    """The cheap guards before the address patterns are supersets: any address the full
    pattern finds (IPv6: with three groups, as reported) passes its guard."""
    from curate.pii.detect import IPV4, IPV6, MAYBE_IPV4, MAYBE_IPV6

    if IPV4.search(text):
        assert MAYBE_IPV4.search(text)
    if any(len([g for g in m.group().split(":") if g]) >= 3 for m in IPV6.finditer(text)):
        assert MAYBE_IPV6.search(text)


def test_token_hints_cover_every_token_pattern():
    from curate.pii.detect import TOKEN_HINTS, TOKENS

    samples = {
        "github_token": ["ghp_" + "a" * 36, "gho_" + "b" * 36, "github_pat_" + "c" * 60],
        "npm_token": ["npm_" + "d" * 36],
        "gitlab_token": ["glpat-" + "e" * 20],
    }
    assert set(TOKEN_HINTS) == set(TOKENS)
    for kind, values in samples.items():
        for value in values:
            assert TOKENS[kind].search(value)
            assert any(hint in value for hint in TOKEN_HINTS[kind])
