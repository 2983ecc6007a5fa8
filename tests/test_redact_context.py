"""Secrets found by their context (assignment names, connection strings, flags, calls, k8s
Secrets, headers, URLs) and look-alikes that must survive: exact output text."""

from __future__ import annotations

import orjson
import pytest

from tests.conftest import run_curate

AWS_SECRET = "Abcdefghij0123456789Abcdefghij0123456789"
OPENAI = "sk-" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1V2w3X4"

FOUND = [
    # passwords: keyword arguments, connection strings, env names, flags, login calls
    (
        'psycopg2.connect(host="db", user="app", password="Summer2024!")',
        'psycopg2.connect(host="db", user="app", password="<PASSWORD>")',
        {"password": 1},
    ),
    (
        "Server=tcp:db.corp.net;Database=app;User Id=sa;Password=Winter#2023;",
        "Server=tcp:db.corp.net;Database=app;User Id=sa;Password=<PASSWORD>;",
        {"password": 1},
    ),
    (
        "jdbc:mysql://db:3306/app?user=app&password=Tr0ub4dor3",
        "jdbc:mysql://db:3306/app?user=app&password=<PASSWORD>",
        {"password": 1},
    ),
    (
        'ok = server.login(user, "hunter2pass")',
        'ok = server.login(user, "<PASSWORD>")',
        {"password": 1},
    ),
    ("DB_PASS=correcthorse9\n", "DB_PASS=<PASSWORD>\n", {"password": 1}),
    ("db_pass: Autumn#77\n", "db_pass: <PASSWORD>\n", {"password": 1}),
    ("SMTP_PASSWD=mailpass42\n", "SMTP_PASSWD=<PASSWORD>\n", {"password": 1}),
    ("mysql -u root -p'S3cretPw!' app", "mysql -u root -p'<PASSWORD>' app", {"password": 1}),
    (
        "pg_restore --password Hunter22 dump",
        "pg_restore --password <PASSWORD> dump",
        {"password": 1},
    ),
    # generic secrets: names in .env, YAML, Go, JS; Django keys; k8s Secrets; Basic auth
    ("AUTH_TOKEN=9f8e7d6c5b4a39281706\n", "AUTH_TOKEN=<KEY>\n", {"generic_secret": 1}),
    ("SIGNING_KEY=Q2xvdWRTaWduMjAyNA\n", "SIGNING_KEY=<KEY>\n", {"generic_secret": 1}),
    (
        'const authToken = "abc123XYZ789defGHI";',
        'const authToken = "<KEY>";',
        {"generic_secret": 1},
    ),
    ('SessionSecret: "s3ss10n-S3cret-value",', 'SessionSecret: "<KEY>",', {"generic_secret": 1}),
    (
        "SECRET_KEY = 'django-insecure-7f#k2!x@9q$w3e&r5t*y8u(i0o)p'",
        "SECRET_KEY = '<KEY>'",
        {"generic_secret": 1},
    ),
    (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  user: YWRtaW4xMjM=\n"
        "  pass: MWYyZDFlMmU2N2Rm\n",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  user: <KEY>\n"
        "  pass: <PASSWORD>\n",
        {"generic_secret": 1, "password": 1},  # a key named pass holds a password
    ),
    (
        "Authorization: Basic dXNlcjpwYXNzd29yZA==",
        "Authorization: Basic <PASSWORD>",
        {"basic_auth": 1},
    ),
    # AWS secret keys by name, OpenAI keys under any name, URL passwords with punctuation
    (f"secret_access_key: {AWS_SECRET}\n", "secret_access_key: <KEY>\n", {"aws_key": 1}),
    (f"ARG AWS_SECRET_KEY={AWS_SECRET}\n", "ARG AWS_SECRET_KEY=<KEY>\n", {"aws_key": 1}),
    (f"LLM_API_KEY={OPENAI}\n", "LLM_API_KEY=<KEY>\n", {"openai_key": 1}),
    (
        'url = "postgres://admin:p~ss!w_rd@db.corp.net/app"',
        'url = "postgres://admin:<PASSWORD>@db.corp.net/app"',
        {"basic_auth": 1},
    ),
    # obfuscated e-mail addresses
    (
        "write to jane [at] acme [dot] io, jane%40acme.io or jane&#64;acme.io",
        "write to <EMAIL>, <EMAIL> or <EMAIL>",
        {"email": 3},
    ),
]

SURVIVE = [
    "max_tokens: 100\n",
    'tokenizer = "bert-base-uncased"',
    "password: string\n",
    "PASSWORD=${DB_PASSWORD}\n",
    'api_key = os.environ["API_KEY"]',
    'if password == "":',
    "password = get_password()",
    "public_key: ssh-rsa-AAAAB3NzaC1yc2E\n",
    "OPENAI_API_KEY=env:OPENAI_API_KEY\n",
    "token: <your-token>\n",
    "SECRET_KEY = 'your-secret-key'",
    'user_id = "507f1f77bcf86cd799439011"',
    "resolvers 94.140.14.14, 76.76.2.0, 2620:fe::fe and 208.67.222.222",
    "expected digest: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "mail security [at] example [dot] com",
    "Server=db;Database=app;Integrated Security=true;",
]


def redact(text: str) -> dict:
    line = orjson.dumps({"id": "1", "text": text}) + b"\n"
    result = run_curate("redact", input=line)
    assert result.returncode == 0, result.stderr
    return orjson.loads(result.stdout)


@pytest.mark.parametrize(("text", "expected", "counts"), FOUND, ids=range(len(FOUND)))
def test_context_finds_the_value(text, expected, counts):
    out = redact(text)
    assert out["text"] == expected
    assert out["meta"]["pii"] == counts


@pytest.mark.parametrize("text", SURVIVE)
def test_look_alikes_survive(text):
    out = redact(text)
    assert out == {"id": "1", "text": text}


def test_each_context_rule_can_be_switched_off(tmp_path):
    rules = tmp_path / "pii.yaml"
    rules.write_text("context: {assignments: false}\n")
    line = orjson.dumps({"id": "1", "text": "DB_PASS=correcthorse9\n"}) + b"\n"
    result = run_curate("redact", "--rules", str(rules), input=line)
    assert orjson.loads(result.stdout)["text"] == "DB_PASS=correcthorse9\n"
    rules.write_text("context: {assignment: false}\n")
    result = run_curate("redact", "--rules", str(rules), input=line)
    assert result.returncode == 2
    assert b"context.assignment: unknown rule (rules: openai_keys, url_credentials" in result.stderr


def test_redaction_counts_reach_the_summary_manifest_card_and_report(tmp_path):
    """Counts by type over every kept record, in the run's summary, manifest, card and page."""
    from tests.test_run import write_pipeline

    docs = [
        {"id": "1", "text": "DB_PASS=correcthorse9\nmail jane.doe@corp-mail.net"},
        {"id": "2", "text": "AUTH_TOKEN=9f8e7d6c5b4a39281706\nbob.smith@corp-mail.net"},
        {"id": "3", "text": "nothing to see"},
    ]
    (tmp_path / "d.jsonl").write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in docs))
    write_pipeline(tmp_path, inputs=["d.jsonl"], stages="  - redact: {}\n")
    result = run_curate("run", "pipeline.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert b"redact found: email 2, generic_secret 1, password 1" in result.stderr
    manifest = orjson.loads((tmp_path / "out" / "manifest.json").read_bytes())
    [stage] = manifest["stages"]
    assert stage["found"] == {"email": 2, "generic_secret": 1, "password": 1}
    card = (tmp_path / "out" / "README.md").read_text()
    assert "redact found in the records it kept: email 2, generic_secret 1, password 1." in card
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Counted by the redact stage over every record it kept." in page
    assert run_curate("verify", "out", cwd=tmp_path).returncode == 0
