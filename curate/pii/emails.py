"""E-mail addresses that identify no one: documentation domains and no-reply senders."""

from __future__ import annotations

import re

SAFE_EMAIL_DOMAINS = (
    "example.com",
    "example.org",
    "example.net",
    "localhost",
    "invalid",
    "test",
    "example",
)
NOREPLY = re.compile(r"^(no-?reply|do-?not-?reply|noreply\+[\w.-]*)@", re.I)


def allowed_email(address: str) -> bool:
    domain = address.rsplit("@", 1)[-1].lower()
    if NOREPLY.match(address):
        return True
    return any(domain == d or domain.endswith("." + d) for d in SAFE_EMAIL_DOMAINS)
