"""Redaction: speed on real source files, and accuracy on a labelled corpus of planted secrets.

1. MB/s per core of the `redact` stage over the standard-library sources (target >= 5).
2. A seeded generator writes realistic files (configs, .env, source, logs, READMEs) with planted
   secrets of every type and planted traps (commit hashes, UUIDs, lock-file checksums, CSS
   colours, data URIs, long identifiers, crypto test vectors). Truth: the planted spans.
   Reported: recall per type (the value is gone from the output), trap false-positive rate
   (a trap altered), characters changed outside true spans; and, in the same run,
   detect-secrets alone with its default settings on the same files written to disk.
   Targets: recall >= 0.95 on every type, trap FP <= 2%, at least detect-secrets' recall.

    python benchmarks/redact.py
"""

from __future__ import annotations

import base64
import random
import string
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

from _corpus import stdlib_texts


def rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


def secret_of(kind: str, rng: random.Random) -> str:
    return {
        "aws_key": "AKIA" + rand(rng, string.ascii_uppercase + "234567", 16),
        "github_token": "ghp_" + rand(rng, ALNUM, 36),
        "gitlab_token": "glpat-" + rand(rng, ALNUM + "_-", 20),
        "slack_token": "xoxb-"
        + rand(rng, string.digits, 12)
        + "-"
        + rand(rng, string.digits, 12)
        + "-"
        + rand(rng, ALNUM, 24),
        "stripe_key": "sk_live_" + rand(rng, ALNUM, 24),
        "twilio_key": "SK" + rand(rng, HEX, 32),
        "jwt": "eyJhbGciOiJIUzI1NiJ9."
        + base64.urlsafe_b64encode(f'{{"sub":"{rng.randrange(10**9)}"}}'.encode())
        .decode()
        .rstrip("=")
        + "."
        + rand(rng, ALNUM + "_-", 43),
        "google_api_key": "AIza" + rand(rng, ALNUM + "_-", 35),
        "openai_key": "sk-proj-" + rand(rng, ALNUM, 48),
        "npm_token": "npm_" + rand(rng, ALNUM, 36),
        "pypi_token": "pypi-AgEIcHlwaS5vcmc" + rand(rng, ALNUM + "_-", 60),
        "password": rand(rng, ALNUM, 10) + rng.choice("!#%&") + rand(rng, ALNUM, 5),
        "basic_auth": rand(rng, ALNUM, 14),
        "email": f"{rand(rng, string.ascii_lowercase, 6)}.{rand(rng, string.ascii_lowercase, 5)}@{rand(rng, string.ascii_lowercase, 7)}.io",
        "ip_address": f"{rng.choice([34, 52, 54, 98, 104, 151, 185])}.{rng.randrange(1, 255)}.{rng.randrange(1, 255)}.{rng.randrange(1, 255)}",
        "private_key": "-----BEGIN RSA PRIVATE KEY-----\n"
        + "\n".join(rand(rng, ALNUM + "+/", 64) for _ in range(6))
        + "\n-----END RSA PRIVATE KEY-----",
        "high_entropy_base64": rand(rng, ALNUM, 36),
    }[kind]


CONTEXT = {
    "aws_key": 'AWS_ACCESS_KEY_ID = "{}"',
    "github_token": 'GITHUB_TOKEN = "{}"',
    "gitlab_token": 'gitlab_token: "{}"',
    "slack_token": 'slack_bot = "{}"',
    "stripe_key": 'stripe.api_key = "{}"',
    "twilio_key": 'TWILIO_API_KEY = "{}"',
    "jwt": "Authorization: Bearer {}",
    "google_api_key": 'maps_key = "{}"',
    "openai_key": "OPENAI_API_KEY={}",
    "npm_token": "//registry.npmjs.org/:_authToken={}",
    "pypi_token": "password = {}",
    "password": 'db_password = "{}"',
    "basic_auth": 'DATABASE_URL = "postgres://app:{}@db.prod.internal:5432/main"',
    "email": "Maintainer: {}",
    "ip_address": "upstream backend {}:8080;",
    "private_key": "{}",
    "high_entropy_base64": 'session_secret = "{}"',
}


def trap_of(kind: str, rng: random.Random) -> str:
    return {
        "commit": f'commit = "{rand(rng, HEX, 40)}"',
        "uuid": f'request_id = "{uuid.UUID(int=rng.getrandbits(128))}"',
        "pip_hash": f"requests==2.31.0 --hash=sha256:{rand(rng, HEX, 64)}",
        "npm_integrity": f'"integrity": "sha512-{base64.b64encode(rng.randbytes(64)).decode()}",',
        "css": f"  color: #{rand(rng, HEX, 6)}; border-color: #{rand(rng, HEX, 3)};",
        "data_uri": f'<img src="data:image/png;base64,{base64.b64encode(rng.randbytes(60)).decode()}">',
        "identifier": f'handler = "{rng.choice(["AbstractSingletonProxyFactoryBean", "HttpServletRequestWrapperFactory", "DefaultAuthenticationEventPublisher"])}{rng.choice(["Impl", "Adapter", "Registry"])}"',
        "test_vector": f'    ("{rand(rng, HEX, 32)}", "{rand(rng, HEX, 64)}"),',
        "version": f"Requires version {rng.randrange(1, 9)}.{rng.randrange(0, 20)}.{rng.randrange(0, 20)}.{rng.randrange(0, 99)}",
        "local_ip": f'bind = "{rng.choice(["127.0.0.1", "10.1.2.3", "192.168.0.10", "0.0.0.0"])}"',
    }[kind]


FILE_KINDS = [
    ("app/settings.py", "python"),
    (".env", "env"),
    ("src/client.js", "js"),
    ("logs/server.log", "log"),
    ("README.md", "md"),
    ("deploy/config.yaml", "yaml"),
]


def generate(n_files: int, seed: int = 17):
    rng = random.Random(seed)
    filler = [t for _, t in stdlib_texts()[:400]]
    docs = []
    kinds = list(CONTEXT)
    traps = [
        "commit",
        "uuid",
        "pip_hash",
        "npm_integrity",
        "css",
        "data_uri",
        "identifier",
        "test_vector",
        "version",
        "local_ip",
    ]
    for i in range(n_files):
        path, _ = rng.choice(FILE_KINDS)
        path = f"repo{i}/{path}" if "test_vector" else path
        lines: list[str] = []
        planted: list[tuple[str, str]] = []
        trapped: list[tuple[str, str]] = []
        source = rng.choice(filler)
        start = rng.randrange(max(1, len(source) - 3000))
        body = source[start : start + 3000].split("\n")
        for line in body:
            lines.append(line)
            r = rng.random()
            if r < 0.06:
                kind = rng.choice(kinds)
                value = secret_of(kind, rng)
                lines.append(CONTEXT[kind].format(value))
                planted.append((kind, value))
            elif r < 0.12:
                kind = rng.choice(traps)
                text = trap_of(kind, rng)
                lines.append(text)
                trapped.append((kind, text))
        docs.append(
            {"path": f"r{i}/{path}", "text": "\n".join(lines), "planted": planted, "traps": trapped}
        )
    return docs


def run_curate(docs):
    from curate.core.fields import Fields
    from curate.io.policy import ErrorPolicy
    from curate.io.reader import Batch
    from curate.stages.base import Context, StageStats
    from curate.stages.redact import RedactConfig, RedactStage

    stage = RedactStage(RedactConfig(), Fields())
    records = [
        {"id": str(i), "text": d["text"], "meta": {"path": d["path"]}} for i, d in enumerate(docs)
    ]
    out = stage.process(
        Batch("bench", records, list(range(len(records))), [b""] * len(records)),
        Context(ErrorPolicy()),
        StageStats(),
    )
    return [r["text"] for r in out.records]


def evaluate(docs, outputs):
    recall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    trap_hits: Counter = Counter()
    trap_total: Counter = Counter()
    outside = 0
    for doc, out in zip(docs, outputs):
        for kind, value in doc["planted"]:
            recall[kind][1] += 1
            recall[kind][0] += value not in out
        for kind, text in doc["traps"]:
            trap_total[kind] += 1
            trap_hits[kind] += text not in out
        # characters changed outside true spans: remove planted values and placeholders, compare
        a = doc["text"]
        for _, value in doc["planted"]:
            a = a.replace(value, "")
        b = out
        for ph in ("<KEY>", "<PASSWORD>", "<EMAIL>", "<IP_ADDRESS>"):
            b = b.replace(ph, "")
        outside += abs(len(a) - len(b))
    return recall, trap_hits, trap_total, outside


def run_detect_secrets(docs):
    """detect-secrets alone, default settings, on the files written to disk."""
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    found: list[set[str]] = []
    with tempfile.TemporaryDirectory() as tmp, default_settings():
        paths = []
        for i, doc in enumerate(docs):
            path = Path(tmp) / f"f{i}" / doc["path"].split("/", 1)[1]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(doc["text"])
            paths.append(str(path))
        started = time.perf_counter()
        secrets = SecretsCollection()
        for p in paths:
            secrets.scan_file(p)
        seconds = time.perf_counter() - started
        by_file: dict[str, set[str]] = defaultdict(set)
        for filename, secret in secrets:
            if secret.secret_value:
                by_file[filename].add(secret.secret_value)
        for p in paths:
            found.append(by_file.get(p, set()))
    return found, seconds


def main() -> None:
    texts = [t for _, t in stdlib_texts()]
    from curate.core.fields import Fields
    from curate.io.policy import ErrorPolicy
    from curate.io.reader import Batch
    from curate.stages.base import Context, StageStats
    from curate.stages.redact import RedactConfig, RedactStage

    stage = RedactStage(RedactConfig(), Fields())
    records = [
        {"id": str(i), "text": t, "meta": {"path": f"Lib/f{i}.py"}} for i, t in enumerate(texts)
    ]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    started = time.perf_counter()
    stage.process(
        Batch("bench", records, list(range(len(records))), [b""] * len(records)),
        Context(ErrorPolicy()),
        StageStats(),
    )
    seconds = time.perf_counter() - started
    print(
        f"speed: {mb:.0f} MB of standard-library sources in {seconds:.1f} s = {mb / seconds:.1f} MB/s "
        "on one core (target >= 5)"
    )

    docs = generate(1500)
    started = time.perf_counter()
    outputs = run_curate(docs)
    curate_s = time.perf_counter() - started
    recall, trap_hits, trap_total, outside = evaluate(docs, outputs)
    ds_found, ds_s = run_detect_secrets(docs)
    ds_recall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    ds_traps = Counter()
    for doc, values in zip(docs, ds_found):
        for kind, value in doc["planted"]:
            ds_recall[kind][1] += 1
            ds_recall[kind][0] += any(value in v or v in value for v in values)
        for kind, text in doc["traps"]:
            ds_traps[kind] += any(v in text for v in values)
    size = sum(len(d["text"]) for d in docs) / 1e6
    print(
        f"labelled corpus: {len(docs)} files, {size:.1f} MB; curate {curate_s:.1f} s, "
        f"detect-secrets {ds_s:.1f} s"
    )
    print(f"{'type':22s} {'planted':>7s} {'curate':>7s} {'detect-secrets':>15s}")
    for kind in sorted(recall):
        hit, total = recall[kind]
        dh, dt = ds_recall[kind]
        print(f"{kind:22s} {total:7d} {hit / total:7.3f} {dh / dt:15.3f}")
    traps = sum(trap_total.values())
    print(
        f"trap false positives: curate {sum(trap_hits.values())}/{traps} "
        f"({100 * sum(trap_hits.values()) / traps:.1f}%), detect-secrets {sum(ds_traps.values())}/{traps} "
        f"({100 * sum(ds_traps.values()) / traps:.1f}%)"
    )
    for kind in sorted(trap_total):
        if trap_hits[kind] or ds_traps[kind]:
            print(
                f"  {kind}: curate {trap_hits[kind]}/{trap_total[kind]}, detect-secrets {ds_traps[kind]}/{trap_total[kind]}"
            )
    print(f"characters changed outside true spans (curate): {outside}")


if __name__ == "__main__":
    main()
