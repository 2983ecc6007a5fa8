"""Finding PII and secrets in a text, as character spans.

Two layers:
- curate's own regexes for what detect-secrets does not cover or cannot locate: emails, IPv4 and
  IPv6 addresses (with allowlists), whole PEM private-key blocks, and token formats such as
  Google API keys, OpenAI keys, `github_pat_`, npm and PyPI tokens;
- detect-secrets' plugin classes, used as a library on single lines (AWS, GitHub, GitLab,
  Slack, Stripe, Twilio, JWT, basic auth in URLs, keyword assignments, high-entropy base64 and
  hex strings), with its heuristic filters. Plugins report values, not columns: the value is
  located in its line here.

A cheap combined pre-filter picks the lines worth showing to the plugins; most lines of code
and prose never reach them. Values are never logged: callers only see spans and types.
"""

from __future__ import annotations

import ipaddress
import re

from detect_secrets.filters import heuristic
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.high_entropy_strings import (
    Base64HighEntropyString,
    HexHighEntropyString,
)
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.keyword import (
    QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP,
    REGEX_BY_FILETYPE,
    KeywordDetector,
)
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector
from detect_secrets.util.filetype import determine_file_type

from curate.pii.context import (
    ASSIGNMENT,
    ContextScanner,
    describes_secret,
    name_kind,
    name_words,
    points_elsewhere,
)
from curate.pii.emails import allowed_email
from curate.pii.spans import Span, merge

EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][\w.+-]{0,63}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}(?![\w-])"
)
IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w.]|\.\d)"
)
IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
# a dotted quad right after a version word or key (`version 4.2.1.8`, `agent_version =
# "7.15.6.79"`, `"Version": "1.16.34.216"`, `appVersion: '4.2.1.8'`) is a version, not an
# address; `Server: ...` is not a version word
VERSION_BEFORE = re.compile(
    r"(?:(?<![A-Za-z])(?i:v|version|ver\.?|release|rev|build)|(?<=[a-z])(?:Version|Release|Build))"
    r"['\"]?\s*(?::|=|=>)?\s*['\"]?$"
    # or a version specifier's operator (`typing-extensions>=3.10.0.0`, `rpm==4.16.1.3`)
    r"|(?:[<>!=~]=|~>|\^)\s*$"
    # or a numbering word: a section of a document (`RFC 2616 section 8.1.2.2`)
    r"|(?<![A-Za-z])(?i:section|sec\.|chapter|clause|§)\s*$"
    # or a package's version since which something holds (`since dpkg 1.4.1.17`)
    r"|(?<![A-Za-z])(?i:since|until)\s+[A-Za-z][\w.+-]*\s+$"
)
# a version's pre-release or build part right after it (`1.2.3.4-rc.1`, `2.0.1.3+build`)
# or a release date (a changelog's `1.5.0.1 (2019-01-08)`)
VERSION_AFTER = re.compile(
    r"[-+~](?i:rc|alpha|beta|dev|pre|post|build|snapshot)|\+|[ \t]+\(?\d{4}-\d\d-\d\d\b"
)
# a line about versions or releases, where a dotted quad starting 1-9 is a version number
# (`GCC 2.7.2.3 were removed for the release of Lenny`, `since dpkg 1.4.0.7`) unless the
# line says it is an address
VERSION_LINE = re.compile(r"(?i)\b(?:versions?|releases?|released|upgrade|changelog)\b")
ADDRESS_LINE = re.compile(
    r"(?i)\b(?:ip|ipv4|address|addresses|addr|host|hosts|server|client|peer|proxy|dns|route)\b"
)
# a PEM block is a key only with key material in it (`\nXXXX\n` stands in for one in docs)
PEM_MATERIAL = re.compile(r"[A-Za-z0-9+/]{16,}")
PEM_FRAME = re.compile(r"-----(?:BEGIN|END)[A-Z ]*-----")
# detect-secrets' own marker for a line a person checked: "not a secret"
ALLOWLIST_PRAGMA = re.compile(r"pragma:\s*allowlist\s+(?P<next>nextline\s+)?secret")
PEM = re.compile(
    r"-----BEGIN[A-Z ]*PRIVATE KEY( BLOCK)?-----.*?(?:-----END[A-Z ]*PRIVATE KEY( BLOCK)?-----|\Z)",
    re.S,
)
# Every kind of span the scanner reports (what `placeholders` and `disabled` may name).
DETECTOR_TYPES = (
    "email",
    "ip_address",
    "private_key",
    "password",
    "basic_auth",
    "aws_key",
    "github_token",
    "gitlab_token",
    "slack_token",
    "stripe_key",
    "twilio_key",
    "jwt",
    "google_api_key",
    "openai_key",
    "npm_token",
    "pypi_token",
    "high_entropy_base64",
    "high_entropy_hex",
    "generic_secret",
)
TOKENS = {
    "google_api_key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    "openai_key": re.compile(
        r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{20,}\b|\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,}\b"
    ),
    "github_token": re.compile(r"\bgithub_pat_[0-9A-Za-z_]{60,}\b|\bgh[pousr]_[0-9A-Za-z]{36,}\b"),
    "npm_token": re.compile(r"\bnpm_[0-9A-Za-z]{36}\b"),
    "pypi_token": re.compile(r"\bpypi-AgEIcHlwaS5vcmc[0-9A-Za-z_\-]{50,}\b"),
    "slack_token": re.compile(r"\bxox[abposr]-[0-9A-Za-z-]{10,}\b"),
    "gitlab_token": re.compile(r"\bglpat-[0-9A-Za-z_\-]{20,}(?![\w-])"),
    # whole header.payload.signature (detect-secrets reports only part of it)
    "jwt": re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}"),
}
# anything a plugin could react to; lines without a hit never reach the plugins
# what a plugin could react to, as cheap separate passes; lines without a hit skip the plugins
PREFILTER_WORDS = re.compile(  # on the lowercased text
    r"secret|passw|pwd|token|api.?key|auth|credential|private|akia|asia|aws|xox|eyj|_live_"
    r"|gh[pousr]_|github_pat|glpat|npm_|pypi-|hooks\.slack"
)
PREFILTER_QUOTED = re.compile(r"['\"][A-Za-z0-9+/=_\-]{20,}['\"]")
PREFILTER_URL_AUTH = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
PREFILTER_TWILIO = re.compile(r"(?:AC|SK)[0-9a-f]{32}")
# literals every match of a token pattern contains: a text without any skips the regex
TOKEN_HINTS = {
    "google_api_key": ("AIza",),
    "openai_key": ("sk-",),
    "github_token": ("github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    "npm_token": ("npm_",),
    "pypi_token": ("pypi-",),
    "slack_token": ("xox",),
    "gitlab_token": ("glpat-",),
    "jwt": ("eyJ",),
}
# Cheap supersets of the address patterns, which start with a lookbehind and so are tried at
# every position (~4x slower): every IPv4 match holds `d.d{1,3}.d{1,3}.d`, and every IPv6
# match with three groups holds a group's last digit, a colon, a group and a colon.
MAYBE_IPV4 = re.compile(r"\d\.\d{1,3}\.\d{1,3}\.\d")
MAYBE_IPV6 = re.compile(r"[0-9A-Fa-f]:[0-9A-Fa-f]{0,4}:")
PUBLIC_RESOLVERS = {
    "8.8.8.8",
    "8.8.4.4",
    "1.1.1.1",
    "1.0.0.1",
    "9.9.9.9",
    "149.112.112.112",
    "208.67.222.222",
    "208.67.220.220",
    "2001:4860:4860::8888",
    "2001:4860:4860::8844",
    "2606:4700:4700::1111",
    "2606:4700:4700::1001",
    "2620:fe::fe",
    "2620:fe::9",
    "94.140.14.14",  # AdGuard
    "94.140.15.15",
    "2a10:50c0::ad1:ff",
    "2a10:50c0::ad2:ff",
    "76.76.2.0",  # Control D
    "76.76.10.0",
    "185.228.168.9",  # CleanBrowsing
    "185.228.169.9",
    "8.26.56.26",  # Comodo
    "8.20.247.20",
    "64.6.64.6",  # Verisign
    "64.6.65.6",
    "2620:119:35::35",  # OpenDNS
    "2620:119:53::53",
}
HASH_LENGTHS = {24, 32, 40, 56, 64, 96, 128}  # object ids and digests
SECRET_WORDS = re.compile(r"secret|passw|pwd|token|api[_-]?key|private|credential|auth", re.I)
TRAP_LINE = re.compile(
    r"--hash=|integrity|sha\d{3}-|data:[\w/+.-]+;base64,|\bcommit\b|\bsha\d*\b|checksum|digest|\buuid\b"
    r"|test[ _-]?vectors?|known[ _-]?answer|\bkat\b|\bexpected\b|object[ _-]?id|\boid\b",
    re.I,
)
# detect-secrets' indirect-reference heuristic (`secret = get_secret()`, `key = cfg["k"]`)
# without its leading `([^\v=!:]*)\s*`: that group may match nothing, so dropping it finds the
# same lines, and it made each search quadratic in the line (~270 us a line of prose here)
INDIRECT_REFERENCE = re.compile(r"(?::=?|[!=]{1,3})\s*[\w.-]+[\[\(][^\v]*[\]\)]")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


class SecretScanner:
    """Per-process detector set; detect-secrets' settings are global, so configure once."""

    def __init__(
        self,
        base64_limit: float = 4.5,
        hex_limit: float = 3.0,
        enabled: set[str] | None = None,
        context_rules: set[str] | None = None,
    ):
        self.enabled = enabled
        self.context = ContextScanner(context_rules, self.on)
        self.plugins = [
            ("aws_key", AWSKeyDetector()),
            ("github_token", GitHubTokenDetector()),
            ("gitlab_token", GitLabTokenDetector()),
            ("slack_token", SlackDetector()),
            ("stripe_key", StripeDetector()),
            ("twilio_key", TwilioKeyDetector()),
            ("jwt", JwtTokenDetector()),
            ("basic_auth", BasicAuthDetector()),
        ]
        self.keyword = KeywordDetector()
        self.b64 = Base64HighEntropyString(limit=base64_limit)
        self.hex = HexHighEntropyString(limit=hex_limit)

    def on(self, kind: str) -> bool:
        return self.enabled is None or kind in self.enabled

    # ---- the text as a whole -----------------------------------------------------------------

    def scan(self, text: str, path: str | None = None) -> list[Span]:
        spans: list[Span] = []
        if "PRIVATE KEY" in text and self.on("private_key"):
            spans.extend(
                Span(m.start(), m.end(), "private_key")
                for m in PEM.finditer(text)
                if PEM_MATERIAL.search(PEM_FRAME.sub("", m.group()))
            )
        if "@" in text and self.on("email"):
            for m in EMAIL.finditer(text):
                # `user:password@host` in a URL is a credential, not an address
                if m.start() and (text[m.start() - 1] == ":" or _in_url_userinfo(text, m.start())):
                    continue
                if not allowed_email(m.group()):
                    spans.append(Span(m.start(), m.end(), "email"))
        if self.on("ip_address"):
            for m in IPV4.finditer(text) if MAYBE_IPV4.search(text) else ():
                if _public_ip(m.group()) and not _a_version(text, m):
                    spans.append(Span(m.start(), m.end(), "ip_address"))
            if MAYBE_IPV6.search(text):
                for m in IPV6.finditer(text):
                    groups = [g for g in m.group().split(":") if g]
                    if len(groups) >= 3 and _public_ip(m.group()):
                        spans.append(Span(m.start(), m.end(), "ip_address"))
        for kind, pattern in TOKENS.items():
            if self.on(kind) and any(hint in text for hint in TOKEN_HINTS[kind]):
                spans.extend(Span(m.start(), m.end(), kind) for m in pattern.finditer(text))
        lowered = text.lower()  # shared by the context rules and the plugins' pre-filter
        spans.extend(self.context.scan(text, lowered))
        spans.extend(self._plugin_spans(text, path, lowered))
        if "allowlist" in lowered:
            spans = _without_allowlisted(text, spans)
        return merge(spans)

    # ---- detect-secrets on the lines that might hold something ---------------------------------

    def _plugin_spans(self, text: str, path: str | None, lowered: str) -> list[Span]:
        out: list[Span] = []
        filetype = determine_file_type(path or "")
        keyword_regexes = REGEX_BY_FILETYPE.get(filetype, QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP)
        lock_file = bool(path) and heuristic.is_lock_file(path)
        test_file = bool(path) and re.search(
            r"(^|/)(tests?|testdata|fixtures?)/|(^|/)test_|_test\.", path or ""
        )
        offset = 0
        hits = {m.start() for m in PREFILTER_WORDS.finditer(lowered)}
        hits.update(m.start() for m in PREFILTER_QUOTED.finditer(text))
        if "://" in text:
            hits.update(m.start() for m in PREFILTER_URL_AUTH.finditer(text))
        if "AC" in text or "SK" in text:
            hits.update(m.start() for m in PREFILTER_TWILIO.finditer(text))
        if not hits:
            return out
        line_starts = []
        for line in text.split("\n"):
            line_starts.append((offset, line))
            offset += len(line) + 1
        import bisect

        starts = [s for s, _ in line_starts]
        candidate_lines = sorted({bisect.bisect_right(starts, h) - 1 for h in hits})
        for index in candidate_lines:
            start, line = line_starts[index]
            if len(line) > 4000:  # minified blobs: regex-only
                continue
            found: list[tuple[str, str]] = []
            for kind, plugin in self.plugins:
                if self.on(kind):
                    found.extend((kind, v) for v in plugin.analyze_string(line))
            if (self.on("password") or self.on("generic_secret")) and not is_indirect_reference(
                line
            ):
                for value in self.keyword.analyze_string(
                    line, denylist_regex_to_group=keyword_regexes
                ):
                    if (
                        value
                        and not heuristic.is_templated_secret(value)
                        and not heuristic.is_prefixed_with_dollar_sign(value)
                        and len(value) >= 4
                        and not _prose_value(value)
                        and not points_elsewhere(value)
                    ):
                        kind = keyword_kind(line, value)
                        if kind is not None and self.on(kind):
                            found.append((kind, value))
            if not lock_file and not TRAP_LINE.search(line):
                keyword_line = bool(SECRET_WORDS.search(line))
                if self.on("high_entropy_base64"):
                    for value in self.b64.analyze_string(line):
                        if self._entropy_ok(self.b64, value, line, keyword_line):
                            found.append(("high_entropy_base64", value))
                if self.on("high_entropy_hex") and not (test_file and not keyword_line):
                    for value in self.hex.analyze_string(line):
                        if self._entropy_ok(self.hex, value, line, keyword_line) and (
                            keyword_line or len(value) not in HASH_LENGTHS
                        ):
                            found.append(("high_entropy_hex", value))
            for kind, value in found:
                at = line.find(value)
                while at >= 0:
                    out.append(Span(start + at, start + at + len(value), kind))
                    at = line.find(value, at + len(value))
        return out

    @staticmethod
    def _entropy_ok(plugin, value: str, line: str, keyword_line: bool) -> bool:
        if plugin.calculate_shannon_entropy(value) <= plugin.entropy_limit:
            return False
        if UUID.match(value) or heuristic.is_sequential_string(value):
            return False
        if heuristic.is_likely_id_string(value, line) or heuristic.is_templated_secret(value):
            return False
        if not keyword_line:
            # an identifier or a word: needs digits and letters of both cases to look random
            if not (re.search(r"\d", value) and re.search(r"[a-z]", value)):
                return False
            if value.startswith(("data:", "http", "/")):
                return False
        return True


# values that stand in for a secret rather than being one: they identify no one
PLACEHOLDER = re.compile(
    r"<[^<>\s]{1,40}>|\*{3,}|[xX]{4,}|\.{3}|…"
    r"|(?i:(?:your|my|insert|enter|replace|put|add)[-_ ]?[\w-]{0,30}?"
    r"(?:key|secret|token|password|pass|pwd|value|here))"
    r"|(?i:change[-_]?me|placeholder|example|dummy|redacted|secret|password|passwd|pass|none|null"
    r"|todo|tbd|fixme|test|testing|s3cr3t)"
    r"|(?i:[a-z]{1,8}[-_](?:\.{3}|x{3,}|\*{3,}|…))"
    r"|\$\{[^}]{1,60}\}|\$[A-Z_][A-Z0-9_]{0,60}|\{\{[^}]{1,60}\}\}|%\([a-z_]{1,40}\)s"
    r"|(?i:env:[A-Z0-9_]{1,60})"
)


# words that make up a stand-in value (`SuperSecretToken`, `not-a-real-secret`,
# `something-secret-here`); a value of these alone, naming a secret, is a placeholder
PLACEHOLDER_WORDS = {
    "your", "my", "our", "the", "a", "an", "not", "real", "fake", "dummy", "example",
    "sample", "test", "testing", "demo", "mock", "some", "something", "super", "top", "very",
    "secret", "secrets", "token", "password", "pass", "key", "api", "apikey", "here", "value",
    "foo", "bar", "baz", "this", "is", "goes", "put", "insert", "enter", "replace", "change",
    "me", "placeholder", "default", "xxx",
}  # fmt: skip
SECRET_NOUNS = {"secret", "secrets", "token", "password", "pass", "key", "apikey", "value"}


def is_placeholder(value: str) -> bool:
    value = value.strip("'\"")
    if PLACEHOLDER.fullmatch(value) is not None:
        return True
    if not value.replace("-", "").replace("_", "").replace(".", "").replace(" ", "").isalpha():
        return False
    words = set(name_words(value))
    return len(words) >= 2 and words <= PLACEHOLDER_WORDS and bool(words & SECRET_NOUNS)


def _public_ip(text: str) -> bool:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    return ip.is_global and not ip.is_multicast and str(ip) not in PUBLIC_RESOLVERS


def is_indirect_reference(line: str) -> bool:
    """detect-secrets' `heuristic.is_indirect_reference`, in linear time (same answers)."""
    return len(line) <= 1000 and INDIRECT_REFERENCE.search(line) is not None


def _in_url_userinfo(text: str, at: int) -> bool:
    """Whether `at` lies in the `user:password@` part of a URL (`scheme://...` before it in
    the same token)."""
    start = max(text.rfind(c, 0, at) for c in " \t\n\"'<>(")
    head = text[start + 1 : at]
    return "://" in head and ":" in head.split("://", 1)[1]


def keyword_kind(line: str, value: str) -> str | None:
    """The kind of a value detect-secrets' keyword plugin found, from the name it is assigned
    to (`SECRET_KEY` holds a generic secret, `db_password` a password); None for a name that
    describes one (`password_encryption`)."""
    at = line.find(value)
    named = NAME_BEFORE.search(line, 0, at) if at > 0 else None
    if named is not None:
        if describes_secret(named.group("name")):
            return None
        return name_kind(named.group("name")) or "password"
    for m in ASSIGNMENT.finditer(line):
        if value in m.group("value"):
            if describes_secret(m.group("name")):
                return None
            return name_kind(m.group("name")) or "password"
    return "password"


# the name a value is assigned to, right before it: `password_encryption = ` + value
NAME_BEFORE = re.compile(r"(?P<name>[A-Za-z_][\w.-]{0,80})[\"']?\s*(?::=|=>|==?|:)\s*[\"'`]?$")


def _a_version(text: str, m: re.Match) -> bool:
    """A dotted quad that its context shows to be a version or a section number."""
    if VERSION_BEFORE.search(text[max(0, m.start() - 24) : m.start()]):
        return True
    if VERSION_AFTER.match(text, m.end()):
        return True
    if m.group()[0] != "0" and m.group().index(".") == 1:  # starts 1-9: a version's shape
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        line = text[start : end if end >= 0 else len(text)]
        return bool(VERSION_LINE.search(line)) and not ADDRESS_LINE.search(line)
    return False


def _prose_value(value: str) -> bool:
    """Padded with spaces, or plain lowercase words (`files systemd` after nsswitch's
    `passwd:`, ` and ` between two quoted names): text, not a password."""
    return value != value.strip() or (
        " " in value and all(w.isalpha() and w.islower() for w in value.split())
    )


def _without_allowlisted(text: str, spans: list[Span]) -> list[Span]:
    """Secrets on a line marked `pragma: allowlist secret` (or below `pragma: allowlist
    nextline secret`) are left as they are; addresses are still personal data."""
    marked: set[int] = set()  # line starts
    for m in ALLOWLIST_PRAGMA.finditer(text):
        start = text.rfind("\n", 0, m.start()) + 1
        if m.group("next"):
            end = text.find("\n", m.end())
            if end < 0:
                continue
            start = end + 1
        marked.add(start)
    if not marked:
        return spans
    return [
        s
        for s in spans
        if s.kind in ("email", "ip_address") or text.rfind("\n", 0, s.start) + 1 not in marked
    ]
