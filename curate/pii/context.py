"""Secrets found by where they stand rather than by their shape.

Entropy finds random strings; a password such as `Summer2024!` or a key assigned in a `.env`
file is found by its context instead: the name it is assigned to, the connection string,
command-line flag, login call, Kubernetes `Secret` or HTTP header it sits in. Each rule is
named (`rules/pii.yaml`, `context:` switches them) and yields spans of the value alone, of
one of the detector types; the stage's allowlist and placeholder rules still apply to them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from curate.pii.emails import allowed_email
from curate.pii.spans import Span

# the specific rules first: a span found twice keeps the kind found first (merge)
RULES = (
    "openai_keys",
    "url_credentials",
    "auth_headers",
    "k8s_secrets",
    "connection_strings",
    "cli_flags",
    "login_args",
    "assignments",
    "obfuscated_emails",
)

PASSWORD_WORDS = {"pass", "passwd", "password", "passphrase", "pwd", "pword"}
SECRET_WORDS = {"secret", "token", "apikey", "secretkey", "credential", "credentials"}
# `..._key` is a secret after these words (`signing_key`), not after others (`public_key`)
KEY_QUALIFIERS = {
    "api",
    "signing",
    "encryption",
    "private",
    "secret",
    "access",
    "auth",
    "master",
    "client",
    "app",
    "session",
    "hmac",
    "jwt",
    "webhook",
    "crypt",
}
SYMBOLS = set("!@#$%^&*+/=~?")
IDENTIFIER_PATH = re.compile(r"[A-Za-z_][\w\[\]-]*(?:\.[A-Za-z_][\w\[\]-]*)+")
# lines worth matching assignments in: they hold one of the names' words
NAME_HINT = re.compile(r"(?i)pass|pwd|pword|secret|token|key|credential")
TYPE_WORDS = {  # values that name a type or a default, not a secret (schemas, docs)
    "string",
    "str",
    "bytes",
    "text",
    "int",
    "bool",
    "boolean",
    "true",
    "false",
    "null",
    "none",
    "nil",
    "undefined",
    "required",
    "optional",
    "yes",
    "no",
    "on",
    "off",
}

# the last word of a name whose value describes passwords or secrets instead of holding one
# (`password_encryption`, `min_password_length`, `secret_file`, `token_expiry`)
SECRET_META = {
    "encryption",
    "hash",
    "hashing",
    "algorithm",
    "policy",
    "length",
    "len",
    "min",
    "max",
    "file",
    "path",
    "prompt",
    "reset",
    "expiry",
    "expires",
    "expiration",
    "age",
    "ttl",
    "rules",
    "strength",
    "complexity",
    "scheme",
    "field",
    "label",
    "hint",
    "regex",
    "pattern",
    "validation",
    "type",
    "format",
    "mode",
    "enabled",
    "required",
}
# values that say where a secret is rather than what it is: a file path (`~/deploy.pem`,
# `/run/secrets/db`), a template or an expression computing it (`${...}`, `{{ ... }}`,
# `[parameters('adminPass')]`, `Buffer.from(...)`)
SECRET_PATH = re.compile(
    r"(?:~|\.{1,2})/[\w.@%+-]+(?:/[\w.@%+-]*)*"  # ~/x, ./x, ../x
    r"|(?:/[a-z0-9_.@%-]+)+/?"  # /run/secrets/db: lowercase segments (a key's base64 is not)
    r"|(?:[\w.@%+-]*/)*[\w.-]+\.(?:pem|key|p12|pfx|crt|cer|der|jks|keystore|ppk|asc|gpg)"
)
EXPRESSION = re.compile(
    r"\$\{|\{\{|^\[[A-Za-z_][\w.]*\(.*\)\]$|^[A-Za-z_][\w.]*\(.*\)$|[A-Za-z_]\w*\.[A-Za-z_]\w*\("
)

NAME_CHARS = re.compile(r"[\w.-]{0,80}")
AFTER_NAME = re.compile(
    r"""["']?\s*(?P<op>:=|=>|==?|:)[ \t]*"""
    r"""(?P<value>"[^"\n]{1,300}"|'[^'\n]{1,300}'|`[^`\n]{1,300}`|[^\s"'`,;#)\]}][^\s"'`,;)\]}]{0,299})"""
)
ASSIGNMENT = re.compile(r"(?P<name>[A-Za-z_][\w.-]{0,80})" + AFTER_NAME.pattern)
CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
REFERENCE = re.compile(
    r"^(?:\$|%|\{\{|<|env:|vault:|secret:|ref:|os\.|process\.env|getenv|config\.|settings\.|self\.)",
    re.I,
)
AWS_SECRET = re.compile(r"[A-Za-z0-9/+]{40}")
# `Password=` as one of a connection string's `;`-separated pairs (another pair on its line)
CONNECTION = re.compile(
    r"(?i)(?:^|;|[\"'])[ \t]*(?:password|pwd)[ \t]*=[ \t]*(?P<value>[^;'\"\s]{1,128})[ \t]*(?=;|$|[\"'])",
    re.M,
)
QUERY_PASSWORD = re.compile(r"(?i)[?&](?:password|passwd|pwd|pass)=(?P<value>[^&\s'\"#]{1,128})")
FLAG = re.compile(
    r"(?i)(?<![\w-])--(?:[\w-]*-)?(?:password|passwd|pass)(?:=|[ \t]+)"
    r"(?P<q>['\"]?)(?P<value>[^\s'\"]{3,128})(?P=q)"
)
MYSQL_P = re.compile(
    r"\bmysql(?:dump|admin|import|sh)?\b[^\n]*?[ \t]-p(?P<q>['\"]?)(?P<value>[^\s'\"]{3,128})(?P=q)"
)
LOGIN_CALL = re.compile(
    r"\b(?:login|authenticate|auth|sign_?in|log_?in|set_?password)\(\s*[^,()\n]{1,80},\s*"
    r"(?P<q>['\"])(?P<value>[^'\"\n]{3,128})(?P=q)\s*[,)]"
)
K8S_SECRET = re.compile(r"(?m)^kind:\s*Secret\s*$")
K8S_DATA = re.compile(r"(?m)^(?P<indent>[ \t]*)(?:data|stringData):[ \t]*$")
K8S_ENTRY = re.compile(
    r"[ \t]+[\w.-]+:[ \t]*(?P<q>['\"]?)(?P<value>[^\s'\"#][^'\"#\n]*?)(?P=q)[ \t]*$"
)
BASIC_HEADER = re.compile(
    r"(?i)\bauthorization[\"']?\s*[:=]\s*[\"']?basic\s+(?P<value>[A-Za-z0-9+/]{8,}={0,2})"
)
BEARER = re.compile(r"(?i)\bbearer\s+(?P<value>[A-Za-z0-9\-._~+/]{20,}=*)")
URL_CREDENTIALS = re.compile(
    r"\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@'\"]{1,64}:(?P<value>[^\s/@'\"]{1,128})@[\w.-]+"
)
OPENAI_LEGACY = re.compile(r"\bsk-[A-Za-z0-9]{48}\b")
_AT = r"(?:[ \t]*[\[\(\{][ \t]*at[ \t]*[\]\)\}][ \t]*|%40|&#0*64;|&#x0*40;)"
_DOT = r"(?:[ \t]*[\[\(\{][ \t]*dot[ \t]*[\]\)\}][ \t]*|\.)"
OBFUSCATED_EMAIL = re.compile(
    rf"(?i)(?<![\w.+%-])[a-z0-9][\w.+-]{{0,63}}{_AT}[a-z0-9-]{{1,63}}(?:{_DOT}[a-z0-9-]{{1,63}})*"
    rf"{_DOT}[a-z]{{2,24}}(?![\w-])"
)
DEOBFUSCATE = [
    (re.compile(_AT, re.I), "@"),
    (re.compile(r"[ \t]*[\[\(\{][ \t]*dot[ \t]*[\]\)\}][ \t]*", re.I), "."),
]


def name_words(name: str) -> list[str]:
    """`DB_PASS` -> [db, pass]; `authToken` -> [auth, token]; `db.password` -> [db, password]."""
    return [w.lower() for part in re.split(r"[_.\-\s]+", name) for w in CAMEL.findall(part)]


def name_kind(name: str) -> str | None:
    """The kind of secret a name holds: password, generic_secret, or None."""
    words = name_words(name)
    if not words:
        return None
    last = words[-1]
    if last in PASSWORD_WORDS:
        return "password"
    if last in SECRET_WORDS:
        return "generic_secret"
    if last == "key" and len(words) > 1 and words[-2] in KEY_QUALIFIERS:
        return "generic_secret"
    return None


def describes_secret(name: str) -> bool:
    """`password_encryption`, `secret_file`: a name about a secret, not holding one."""
    words = name_words(name)
    return (
        len(words) > 1
        and words[-1] in SECRET_META
        and any(w in PASSWORD_WORDS or w in SECRET_WORDS or w == "key" for w in words[:-1])
    )


def points_elsewhere(value: str) -> bool:
    """A file path, template or expression where a secret would be: not the secret."""
    return SECRET_PATH.fullmatch(value) is not None or EXPRESSION.search(value) is not None


def plausible(value: str, kind: str) -> bool:
    """Whether an assigned value can be a secret rather than a type, reference or switch."""
    if len(value) < 4 or value.lower() in TYPE_WORDS or REFERENCE.match(value):
        return False
    if value != value.strip():  # `"passwd:" and "group:"`: the text between two quotes
        return False
    if value.startswith("-----BEGIN"):  # a PEM block: the private_key detector's
        return False
    if value.endswith(")") and "(" in value:  # a call: the secret comes from elsewhere
        return False
    if points_elsewhere(value):
        return False
    if value.replace(".", "").replace("-", "").isdigit():
        return False
    if kind == "generic_secret":
        # tokens and keys mix letters and digits, or carry symbols; identifiers such as
        # `NextToken` or `DistributionList.NextMarker` (paginator names) do neither
        if len(value) < 8:
            return False
        if "." in value and IDENTIFIER_PATH.fullmatch(value):  # `Stream.Shards[-1].ShardId`
            return False
        letters = any(c.isalpha() for c in value)
        digits = any(c.isdigit() for c in value)
        return (letters and digits) or (len(value) >= 16 and any(c in SYMBOLS for c in value))
    return True


class ContextScanner:
    """The context rules that are switched on, run over a whole text."""

    def __init__(self, enabled: set[str] | None = None, on: Callable[[str], bool] = bool):
        self.enabled = set(RULES) if enabled is None else enabled
        self.on = on  # whether a detector type is switched on

    def scan(self, text: str, lowered: str | None = None) -> list[Span]:
        """Every enabled rule's spans; `lowered` is `text.lower()` when the caller has it."""
        lowered = text.lower() if lowered is None else lowered
        spans: list[Span] = []
        for rule in RULES:
            if rule in self.enabled:
                found = getattr(self, "_" + rule)(text, lowered)
                spans.extend(s for s in found if self.on(s.kind))
        return spans

    @staticmethod
    def _value(match: re.Match, kind: str, group: str = "value") -> Span:
        return Span(match.start(group), match.end(group), kind)

    def _assignments(self, text: str, lowered: str) -> Iterator[Span]:
        if "=" not in text and ":" not in text:
            return
        seen = -1
        for hint_start, hint_end in _hints(text, lowered):
            # the whole name around the hint, then what follows it: `NAME = value`
            name_start = hint_start
            floor = max(0, name_start - 80)
            while name_start > floor and (
                text[name_start - 1].isalnum() or text[name_start - 1] in "_.-"
            ):
                name_start -= 1
            name_end = NAME_CHARS.match(text, hint_end).end()
            if name_end <= seen:
                continue
            seen = name_end
            m = AFTER_NAME.match(text, name_end)
            if m is None or m.group("op") == "==":
                continue
            name = text[name_start:name_end].lstrip(".-")
            kind = name_kind(name)
            if kind is None:
                continue
            raw = m.group("value")
            quoted = raw[:1] in "\"'`"
            value = raw[1:-1] if quoted else raw
            if not quoted:  # an unquoted value is a secret only in env/properties/YAML lines
                if not _line_start(
                    text,
                    name_start
                    - (1 if text[name_start - 1 : name_start] in "\"'" and name_start else 0),
                ):
                    continue
                eol = text.find("\n", m.end())
                rest = text[m.end() : eol if eol >= 0 else len(text)]
                if rest.strip() and not rest.lstrip().startswith("#"):
                    continue
            if not plausible(value, kind):
                continue
            words = name_words(name)
            if AWS_SECRET.fullmatch(value) and ("aws" in words or "access" in words):
                kind = "aws_key"
            start = m.start("value") + (1 if quoted else 0)
            yield Span(start, start + len(value), kind)

    def _connection_strings(self, text: str, lowered: str) -> Iterator[Span]:
        for start, end in _lines_with(text, lowered, ("pwd", "pass")):
            if ";" in text[start:end]:  # `password = x` alone is the assignment rule's
                for m in CONNECTION.finditer(text, start, end):
                    if plausible(m.group("value"), "password"):
                        yield self._value(m, "password")
            for m in QUERY_PASSWORD.finditer(text, start, end):
                if plausible(m.group("value"), "password"):
                    yield self._value(m, "password")

    def _cli_flags(self, text: str, lowered: str) -> Iterator[Span]:
        for start, end in _lines_with(text, lowered, ("pass",)):
            for m in FLAG.finditer(text, start, end):
                if plausible(m.group("value"), "password"):
                    yield self._value(m, "password")
        for start, end in _lines_with(text, lowered, ("mysql",)):
            for m in MYSQL_P.finditer(text, start, end):
                if plausible(m.group("value"), "password"):
                    yield self._value(m, "password")

    def _login_args(self, text: str, lowered: str) -> Iterator[Span]:
        words = ("login", "log_in", "auth", "signin", "sign_in", "set_password")
        for start, end in _lines_with(text, lowered, words):
            for m in LOGIN_CALL.finditer(text, start, end):
                if plausible(m.group("value"), "password"):
                    yield self._value(m, "password")

    def _k8s_secrets(self, text: str, lowered: str) -> Iterator[Span]:
        if "Secret" not in text or not K8S_SECRET.search(text):
            return
        for block in K8S_DATA.finditer(text):
            indent = len(block.group("indent").expandtabs())
            at = block.end() + 1
            while at < len(text):
                end = text.find("\n", at)
                end = len(text) if end < 0 else end
                line = text[at:end]
                if line.strip():
                    if len(line) - len(line.lstrip()) <= indent:
                        break
                    m = K8S_ENTRY.match(line)
                    if m and len(m.group("value")) >= 4:
                        yield Span(at + m.start("value"), at + m.end("value"), "generic_secret")
                at = end + 1

    def _auth_headers(self, text: str, lowered: str) -> Iterator[Span]:
        if "basic" in lowered:
            yield from (self._value(m, "basic_auth") for m in BASIC_HEADER.finditer(text))
        if "bearer" in lowered:
            for m in BEARER.finditer(text):
                if plausible(m.group("value"), "generic_secret"):
                    yield self._value(m, "generic_secret")

    def _url_credentials(self, text: str, lowered: str) -> Iterator[Span]:
        if "://" not in text:
            return
        for start, end in _lines_with(text, lowered, ("@",)):
            for m in URL_CREDENTIALS.finditer(text, start, end):
                if plausible(m.group("value"), "password"):
                    yield self._value(m, "basic_auth")

    def _openai_keys(self, text: str, lowered: str) -> Iterator[Span]:
        if "sk-" in text:
            yield from (
                Span(m.start(), m.end(), "openai_key") for m in OPENAI_LEGACY.finditer(text)
            )

    def _obfuscated_emails(self, text: str, lowered: str) -> Iterator[Span]:
        if not any(h in lowered for h in ("at]", "at)", "at}", "%40", "&#")):
            return
        for m in OBFUSCATED_EMAIL.finditer(text):
            address = m.group()
            for pattern, plain in DEOBFUSCATE:
                address = pattern.sub(plain, address)
            if "@" in address and not allowed_email(address):
                yield Span(m.start(), m.end(), "email")


def _line_start(text: str, at: int) -> bool:
    """Whether only an env/YAML/Dockerfile prefix stands between the line's start and `at`."""
    start = text.rfind("\n", 0, at) + 1
    head = text[start:at]
    return (
        re.fullmatch(r"[ \t]*(?:export[ \t]+|ARG[ \t]+|ENV[ \t]+|set[ \t]+|-[ \t]+)?[\"']?", head)
        is not None
    )


HINT_WORDS = ("pass", "pwd", "pword", "secret", "token", "key", "credential")


def _hints(text: str, lowered: str) -> list[tuple[int, int]]:
    """Where the names' words occur, in order: `str.find` on the lowercased text (~20x a
    case-insensitive regex alternation), or the regex when lowercasing changes the length."""
    if len(lowered) != len(text):
        return [m.span() for m in NAME_HINT.finditer(text)]
    found = []
    for word in HINT_WORDS:
        at = lowered.find(word)
        while at >= 0:
            found.append((at, at + len(word)))
            at = lowered.find(word, at + 1)
    found.sort()
    return found


def _lines_with(text: str, lowered: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    """(start, end) of each line holding one of `words` (any case), in order: the rules'
    regexes run on those lines only."""
    if len(lowered) != len(text):
        lowered = text  # lowercasing moved offsets: look for the words as written
    starts: set[int] = set()
    for word in words:
        at = lowered.find(word)
        while at >= 0:
            starts.add(text.rfind("\n", 0, at) + 1)
            end = text.find("\n", at)
            if end < 0:
                break
            at = lowered.find(word, end)
    out = []
    for start in sorted(starts):
        end = text.find("\n", start)
        out.append((start, len(text) if end < 0 else end))
    return out
