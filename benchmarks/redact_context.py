"""Redaction of the kinds a held-out evaluation found weak, on a labelled set built here.

Real files of the machine (standard-library sources, Debian docs) are the filler; into them go,
line by line, planted secrets of the weak kinds in the forms the evaluation names (passwords in
keyword arguments, connection strings, env names, CLI flags and login calls; generic secrets
under secret-like names in .env, properties, YAML, Go and JS; k8s Secret data; Basic auth
headers; AWS secret keys by name; OpenAI keys under any name; URL passwords with punctuation;
obfuscated e-mail addresses) and harmless look-alikes (version numbers after version keys,
placeholders, public resolvers, MongoDB ids, labelled test vectors, secret references, AWS's
documented example keys, type names and paginator fields).

Label policy: a planted value is found (strict) when no character run of it survives, i.e. the
value is absent from the output; a look-alike is destroyed when its line changes. Values are
random (seeded), so a detector cannot have seen them; the forms are the ones listed above, so
the set shows coverage of those forms, not performance on secrets in the wild.

    python benchmarks/redact_context.py [--files 1500]
"""

from __future__ import annotations

import argparse
import base64
import random
import string
import time
from collections import Counter, defaultdict

from _corpus import stdlib_texts
from redact import run_curate

ALNUM = string.ascii_letters + string.digits
WORDS = ["summer", "dragon", "monkey", "sunshine", "football", "shadow", "master", "harbor"]


def rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def weak_password(rng: random.Random) -> str:
    """Dictionary word + digits + symbol: what entropy cannot find."""
    word = rng.choice(WORDS)
    return word.capitalize() + str(rng.randrange(10, 9999)) + rng.choice("!#%&*?")


def token(rng: random.Random, n: int = 24) -> str:
    return rand(rng, ALNUM, n - 4) + str(rng.randrange(1000, 9999))


# kind -> forms: each takes the rng and returns (line, planted value)
FORMS = {
    "password": [
        lambda r, v: (f'conn = psycopg2.connect(host="db", user="app", password="{v}")', v),
        lambda r, v: (
            f"Server=tcp:db{r.randrange(9)}.corp.net;Database=app;User Id=sa;Password={v};",
            v,
        ),
        lambda r, v: (f"DB_PASS={v}", v),
        lambda r, v: (f"db_pass: {v}", v),
        lambda r, v: (f"SMTP_PASSWD={v}", v),
        lambda r, v: (f"mysql -u root -p'{v}' app", v),
        lambda r, v: (f"pg_restore --password {v} dump.sql", v),
        lambda r, v: (f'ok = server.login(user, "{v}")', v),
        lambda r, v: (f"jdbc:mysql://db:3306/app?user=app&password={v}", v),
    ],
    "generic_secret": [
        lambda r, v: (f"AUTH_TOKEN={v}", v),
        lambda r, v: (f"signing.key={v}", v),
        lambda r, v: (f"API_SECRET: {v}", v),
        lambda r, v: (f'\tSessionSecret: "{v}",', v),
        lambda r, v: (f'const authToken = "{v}";', v),
        lambda r, v: (f"ENCRYPTION_KEY='{v}'", v),
        lambda r, v: (f"SECRET_KEY = 'django-insecure-{v}#x!'", f"django-insecure-{v}#x!"),
        lambda r, v: (
            f"kind: Secret\ndata:\n  token: {base64.b64encode(v.encode()).decode()}",
            base64.b64encode(v.encode()).decode(),
        ),
        lambda r, v: (
            f"Authorization: Basic {base64.b64encode(f'svc:{v}'.encode()).decode()}",
            base64.b64encode(f"svc:{v}".encode()).decode(),
        ),
    ],
    "aws_secret": [
        lambda r, v: (f"secret_access_key: {v}", v),
        lambda r, v: (f"AWS_SECRET_KEY={v}", v),
        lambda r, v: (f"ARG SECRET_ACCESS_KEY={v}", v),
    ],
    "openai_key": [
        lambda r, v: (f"LLM_API_KEY={v}", v),
        lambda r, v: (f'client = OpenAI(api_key="{v}")', v),
    ],
    "url_credentials": [
        lambda r, v: (f'DATABASE_URL = "postgres://app:{v}@db.prod.internal:5432/main"', v),
        lambda r, v: (f"amqp://guest:{v}@mq.corp.net:5672/", v),
    ],
    "obfuscated_email": [
        lambda r, v: (f"Contact: {v}", v),
    ],
}


def value_of(kind: str, rng: random.Random) -> str:
    if kind == "password":
        return weak_password(rng)
    if kind == "generic_secret":
        return token(rng, rng.choice([16, 24, 32]))
    if kind == "aws_secret":
        return rand(rng, ALNUM + "/+", 36) + str(rng.randrange(1000, 9999))
    if kind == "openai_key":
        return "sk-" + rand(rng, ALNUM, 44) + str(rng.randrange(1000, 9999))
    if kind == "url_credentials":
        return rand(rng, ALNUM, 6) + rng.choice("~!_") + rand(rng, ALNUM, 5)
    user, domain = rand(rng, string.ascii_lowercase, 6), rand(rng, string.ascii_lowercase, 7)
    return rng.choice(
        [f"{user} [at] {domain} [dot] io", f"{user}%40{domain}.io", f"{user}&#64;{domain}.io"]
    )


LOOKALIKES = {
    "version": lambda r: (
        f'agent_version = "{r.randrange(1, 9)}.{r.randrange(20)}.{r.randrange(9)}.{r.randrange(99)}"'
    ),
    "placeholder": lambda r: r.choice(
        [
            "SECRET_KEY = 'your-secret-key'",
            "password: <password>",
            "API_KEY=YOUR_API_KEY_HERE",
            "DB_PASS=********",
            "token: changeme",
            'OPENAI_API_KEY="sk-..."',
        ]
    ),
    "resolver": lambda r: (
        f"nameserver {r.choice(['8.8.8.8', '1.1.1.1', '9.9.9.9', '94.140.14.14', '76.76.2.0', '208.67.222.222', '2620:fe::fe'])}"
    ),
    "object_id": lambda r: f'"_id": "{rand(r, "0123456789abcdef", 24)}"',
    "test_vector": lambda r: f"expected digest: {rand(r, '0123456789abcdef', 64)}",
    "reference": lambda r: r.choice(
        [
            "api_key = os.environ['API_KEY']",
            "OPENAI_API_KEY=env:OPENAI_API_KEY",
            "PASSWORD=${DB_PASSWORD}",
            "password = get_password()",
            "token: {{ .Values.token }}",
        ]
    ),
    "aws_example": lambda r: "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "type_name": lambda r: r.choice(
        [
            "password: string",
            "max_tokens: 4096",
            'tokenizer = "bert-base-uncased"',
            '"input_token": "NextToken",',
            "public_key: ssh-ed25519",
        ]
    ),
}


def generate(n_files: int, seed: int = 23):
    rng = random.Random(seed)
    filler = [t for _, t in stdlib_texts()[:400]]
    docs = []
    for i in range(n_files):
        source = rng.choice(filler)
        start = rng.randrange(max(1, len(source) - 2500))
        lines, planted, looks = [], [], []
        for line in source[start : start + 2500].split("\n"):
            lines.append(line)
            r = rng.random()
            if r < 0.05:
                kind = rng.choice(list(FORMS))
                text, value = rng.choice(FORMS[kind])(rng, value_of(kind, rng))
                lines.append(text)
                planted.append((kind, value))
            elif r < 0.12:
                kind = rng.choice(list(LOOKALIKES))
                text = LOOKALIKES[kind](rng)
                lines.append(text)
                looks.append((kind, text))
        docs.append(
            {
                "path": f"r{i}/config/settings.env",
                "text": "\n".join(lines),
                "planted": planted,
                "looks": looks,
            }
        )
    return docs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1500)
    args = ap.parse_args()
    docs = generate(args.files)
    started = time.perf_counter()
    outputs = run_curate(docs)  # the redact stage over the records, as redact.py runs it
    seconds = time.perf_counter() - started
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    destroyed: Counter = Counter()
    total: Counter = Counter()
    for doc, text in zip(docs, outputs):
        for kind, value in doc["planted"]:
            found[kind][1] += 1
            found[kind][0] += value not in text
        for kind, line in doc["looks"]:
            total[kind] += 1
            destroyed[kind] += line not in text
    mb = sum(len(d["text"].encode()) for d in docs) / 1e6
    planted = sum(n for _, n in found.values())
    print(
        f"{len(docs):,} files, {mb:.1f} MB, {planted:,} planted values, {sum(total.values()):,} look-alikes; {mb / seconds:.1f} MB/s"
    )
    print("| kind | planted | strict recall |")
    print("|---|---:|---:|")
    for kind, (hit, n) in sorted(found.items()):
        print(f"| {kind} | {n:,} | {hit / n:.3f} |")
    overall = sum(h for h, _ in found.values()) / planted
    print(f"| **all** | {planted:,} | **{overall:.3f}** |")
    print("| look-alike | lines | destroyed |")
    print("|---|---:|---:|")
    for kind in sorted(total):
        print(f"| {kind} | {total[kind]:,} | {destroyed[kind] / total[kind]:.1%} |")
    print(
        f"| **all** | {sum(total.values()):,} | **{sum(destroyed.values()) / sum(total.values()):.1%}** |"
    )


if __name__ == "__main__":
    main()
