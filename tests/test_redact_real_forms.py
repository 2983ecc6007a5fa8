"""Look-alikes found in the machine's own documentation, configuration and package files
(benchmarks/redact_real.py), generalised to their kinds, next to the secrets of the same
shapes that must still be found: exact output text."""

from __future__ import annotations

import pytest

import curate

KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"

SURVIVE = [
    # a name that is about passwords, not holding one (postgresql.conf)
    "#password_encryption = scram-sha-256\t# scram-sha-256 or md5\n",
    "min_password_length: 12\n",
    # nsswitch's passwd database, and prose quoting it
    "passwd:         files systemd\n",
    'please add them to the "passwd:" and "group:" lines in /etc/nsswitch.conf',
    # where a secret is, not what it is: key files, secret mounts, templates, expressions
    "ssh_private_key: ~/ray-bootstrap-key.pem\n",
    "db_password: /run/secrets/db_password\n",
    "token: `Basic ${Buffer.from('username:password').toString('base64')}`",
    '"adminPassword": "[parameters(\'adminPass\')]",',
    # stand-ins made of placeholder words
    "headers: { 'X-TOKEN-SECRET': 'SuperSecretToken' },",
    'const GoogleCredentialPassword = "something-secret-here";',
    "password = not-a-real-secret\n",
    'Proxy "socks5h://apt:pass@127.0.0.1:9050";',
    # a documented key with no key material in it
    'key="-----BEGIN PRIVATE KEY-----\\nXXXX\\nXXXX\\n-----END PRIVATE KEY-----"',
    # versions after a version specifier's operator
    "Requires-Dist: typing-extensions>=3.10.0.0; extra == 'test'",
    "rpm_inspector_rpm==4.16.1.3",
    # versions and section numbers in prose (Debian's and dpkg's documentation, RFCs)
    "- GCC 2.95 and GCC 2.7.2.3 were removed for the release of Lenny.",
    "Supports long filenames in deb(5) archives (since dpkg 1.4.1.17).",
    "HTTP pipelining (RFC 2616 section 8.1.2.2) can help on high-latency links",
    "prerelease and build parts: for example, `1.2.3.4-rc.1+rev.2`",
    "1.5.0.1 (2019-01-08)\n",
    # a line a person marked with detect-secrets' pragma, and the line after a nextline one
    "API_KEY = 'Zx81kq9LmP20wQ7v4Ne'  # pragma: allowlist secret",
    "# pragma: allowlist nextline secret\nAPI_KEY = 'Zx81kq9LmP20wQ7v4Ne'\n",
]

FOUND = [
    ("passwd: Xk9#mQ2!vL\n", "passwd: <PASSWORD>\n", {"password": 1}),
    (
        'password = "correct horse battery staple"',
        'password = "<PASSWORD>"',
        {"password": 1},
    ),
    ("db_password: Sup3rS3cret!2024\n", "db_password: <PASSWORD>\n", {"password": 1}),
    ("SECRET_TOKEN = 'tok_9fK2mQ7xL1pZ8wR4'", "SECRET_TOKEN = '<KEY>'", {"generic_secret": 1}),
    (
        "Proxy: http://apt:Wq9!zr7Kp@proxy.corp.example:3128",
        "Proxy: http://apt:<PASSWORD>@proxy.corp.example:3128",
        {"basic_auth": 1},
    ),
    (
        f"-----BEGIN PRIVATE KEY-----\n{KEY_BODY}\n-----END PRIVATE KEY-----",
        "<KEY>",
        {"private_key": 1},
    ),
    ("server 93.184.216.34 port 80", "server <IP_ADDRESS> port 80", {"ip_address": 1}),
    # a line about versions that says the quad is an address is still an address
    (
        "client 3.120.45.9 upgraded to version 2.4",
        "client <IP_ADDRESS> upgraded to version 2.4",
        {"ip_address": 1},
    ),
    # the pragma keeps secrets, not personal data
    (
        "owner = jane.doe@acme-corp.de  # pragma: allowlist secret",
        "owner = <EMAIL>  # pragma: allowlist secret",
        {"email": 1},
    ),
    # the line after a nextline pragma is kept; the one after that is not
    (
        "# pragma: allowlist nextline secret\nA_KEY = 'Zx81kq9LmP20wQ7v4Ne'\n"
        "API_SECRET = 'Qp72mZ0vLk81xWw3Rt'\n",
        "# pragma: allowlist nextline secret\nA_KEY = 'Zx81kq9LmP20wQ7v4Ne'\n"
        "API_SECRET = '<KEY>'\n",
        {"generic_secret": 1},
    ),
]


def _redact(text: str) -> dict:
    (out,) = curate.read([{"id": "1", "text": text}]).redact().to_list()
    return out


@pytest.mark.parametrize("text", SURVIVE)
def test_look_alikes_from_real_files_survive(text):
    assert _redact(text) == {"id": "1", "text": text}


@pytest.mark.parametrize(("text", "expected", "counts"), FOUND, ids=range(len(FOUND)))
def test_secrets_of_the_same_shapes_are_still_found(text, expected, counts):
    out = _redact(text)
    assert out["text"] == expected
    assert out["meta"]["pii"] == counts
