"""`redact`: replace PII and secrets by placeholders; count what was found in `meta.pii`.

Only the secret value becomes a placeholder, not the code around it; PEM blocks go whole.
A detected value is never written anywhere else: records dropped by `drop_if` go to rejects
already redacted, and nothing logs a value.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from curate.core.records import get_path, set_path, split_path
from curate.core.rules_path import shipped_rules
from curate.core.yamlconf import load_yaml
from curate.pii.context import RULES as CONTEXT_RULES
from curate.pii.detect import DETECTOR_TYPES, SecretScanner, is_placeholder
from curate.pii.redact import apply_spans
from curate.stages.base import EDITED, RecordStage, StageConfig, Verdict

NOT_SECRETS = {"email", "ip_address"}
log = logging.getLogger("curate.redact")


class DropIf(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_secrets: int = Field(ge=1, description="drop records with at least this many secrets")


class RedactConfig(StageConfig):
    path_fields: ClassVar[tuple[str, ...]] = ("rules",)

    rules: str | None = Field(None, description="PII rules (default: the shipped rules/pii.yaml)")
    path_field: str = Field("meta.path", description="dotted field holding the file path")
    fields: list[str] = Field(
        default_factory=list,
        description="more dotted fields to redact besides the text, e.g. meta.author_email",
    )
    drop_if: DropIf | None = Field(None, description="drop records past these counts")


RULE_KEYS = ("placeholders", "entropy", "disabled", "allowlist", "keep_placeholders", "context")


def load_pii_rules(path: Path) -> dict:
    doc = load_yaml(path)
    data = doc.data or {}
    if not isinstance(data, dict):
        raise doc.error((), f"expected a mapping ({', '.join(RULE_KEYS)})")
    for key in data:
        if key not in RULE_KEYS:
            raise doc.error((key,), f"unknown key (keys: {', '.join(RULE_KEYS)})")
    keep_placeholders = data.get("keep_placeholders", True)
    if not isinstance(keep_placeholders, bool):
        raise doc.error(("keep_placeholders",), "expected true or false")
    known = ", ".join(DETECTOR_TYPES)
    placeholders = data.get("placeholders") or {}
    if not isinstance(placeholders, dict) or not all(
        isinstance(v, str) for v in placeholders.values()
    ):
        raise doc.error(("placeholders",), "expected a mapping of type: placeholder text")
    for kind in placeholders:
        if kind != "default" and kind not in DETECTOR_TYPES:
            raise doc.error(("placeholders", kind), f"unknown type (types: default, {known})")
    entropy = data.get("entropy") or {}
    if not isinstance(entropy, dict):
        raise doc.error(("entropy",), "expected a mapping {base64: N, hex: N}")
    for key, value in entropy.items():
        if key not in ("base64", "hex"):
            raise doc.error(("entropy", key), "unknown key (keys: base64, hex)")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 8:
            raise doc.error(("entropy", key), "expected a number from 0 to 8")
    for key in ("disabled", "allowlist"):
        value = data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise doc.error((key,), "expected a list of strings")
    for i, kind in enumerate(data.get("disabled") or []):
        if kind not in DETECTOR_TYPES:
            raise doc.error(("disabled", i), f"unknown type {kind!r} (types: {known})")
    context = data.get("context") or {}
    if not isinstance(context, dict):
        raise doc.error(("context",), "expected a mapping of rule: true or false")
    for rule, on in context.items():
        if rule not in CONTEXT_RULES:
            raise doc.error(("context", rule), f"unknown rule (rules: {', '.join(CONTEXT_RULES)})")
        if not isinstance(on, bool):
            raise doc.error(("context", rule), "expected true or false")
    return {
        "context": {r for r in CONTEXT_RULES if context.get(r, True)},
        "placeholders": placeholders,
        "entropy": entropy,
        "disabled": set(data.get("disabled") or []),
        "allowlist": set(data.get("allowlist") or []),
        "keep_placeholders": keep_placeholders,
        "entries": len(placeholders) + len(data.get("allowlist") or []),
    }


class RedactStage(RecordStage):
    name = "redact"
    Config = RedactConfig

    def setup(self) -> None:
        cfg: RedactConfig = self.config
        self.rules_path = Path(cfg.rules) if cfg.rules else shipped_rules("pii.yaml")
        self.rules = load_pii_rules(self.rules_path)
        self._min_secrets = cfg.drop_if.min_secrets if cfg.drop_if else None
        placeholders = dict(self.rules["placeholders"])
        default = placeholders.pop("default", "<KEY>")
        self.placeholders = placeholders
        self.default_placeholder = default
        entropy = self.rules["entropy"]
        # Disabled types are never detected (not dropped after the fact: overlapping spans of
        # two types merge, and dropping the merged one would un-redact the enabled type's).
        disabled = self.rules["disabled"]
        enabled = set(DETECTOR_TYPES) - disabled if disabled else None
        self.scanner = SecretScanner(
            entropy.get("base64", 4.5), entropy.get("hex", 3.0), enabled, self.rules["context"]
        )
        self.allowlist = self.rules["allowlist"]
        self.keep_placeholders = self.rules["keep_placeholders"]
        self.path_parts = split_path(cfg.path_field)
        self.field_parts = [split_path(f) for f in cfg.fields]

    def resources(self, base_dir: Path | None = None) -> list[dict]:
        return [self.resource("pii_rules", self.rules_path, self.rules["entries"], base_dir)]

    def _kept(self, kind: str, value: str) -> bool:
        """Allowlisted values, and (unless switched off) placeholders standing in for a
        secret: `changeme`, `<password>`, `YOUR_API_KEY_HERE`, `********`, `sk-...`."""
        if value in self.allowlist:
            return True
        return (
            self.keep_placeholders
            and kind not in ("email", "ip_address")
            and (is_placeholder(value))
        )

    def _redact_text(self, text: str, path: str | None) -> tuple[str, Counter]:
        spans = self.scanner.scan(text, path)
        if spans:
            spans = [s for s in spans if not self._kept(s.kind, text[s.start : s.end])]
        if not spans:
            return text, Counter()
        return apply_spans(text, spans, self.placeholders, self.default_placeholder)

    def _redact_value(self, value: Any, path: str | None, counts: Counter) -> Any:
        """A field's value with every string in it redacted (lists and objects walked)."""
        kind = type(value)
        if kind is str:
            redacted, found = self._redact_text(value, path)
            counts.update(found)
            return redacted
        if kind is list:
            return [self._redact_value(v, path, counts) for v in value]
        if kind is dict:
            return {k: self._redact_value(v, path, counts) for k, v in value.items()}
        return value

    def redact_record(self, record: dict, text: str | None) -> Counter:
        """Redact the text (when given) and the configured `fields` in place; the counts."""
        path = get_path(record, self.path_parts)
        path = path if isinstance(path, str) else None
        counts: Counter = Counter()
        if text is not None:
            redacted, counts = self._redact_text(text, path)
            if counts:
                set_path(record, self.fields.text_parts, redacted)
        for parts in self.field_parts:
            value = get_path(record, parts, _MISSING)
            if value is _MISSING:
                continue
            found: Counter = Counter()
            redacted = self._redact_value(value, path, found)
            if found:
                set_path(record, parts, redacted)
                counts.update(found)
        if counts:
            meta = record.get("meta")
            if not isinstance(meta, dict):
                meta = {}
                record["meta"] = meta
            meta["pii"] = dict(sorted(counts.items()))
        return counts

    def scrub_record(self, record: dict) -> dict:
        """A record about to be written anywhere but the output (rejects): redacted like an
        output record, whatever stage dropped it."""
        text = get_path(record, self.fields.text_parts)
        self.redact_record(record, text if isinstance(text, str) else None)
        return record

    def _redact_pairs(self, value: Any) -> Any:
        kind = type(value)
        if kind is _Pairs:
            return _Pairs((k, self._redact_pairs(v)) for k, v in value)
        if kind is list:
            return [self._redact_pairs(v) for v in value]
        if kind is str:
            return self._redact_text(value, None)[0]
        return value

    def scrub_line(self, raw: bytes) -> bytes:
        """A bad input line about to be quarantined, redacted: field by field when it parses,
        else as text (so that no file a run writes holds a value redaction replaces)."""
        try:  # every key kept, duplicates too: the quarantine shows the line as it came
            record = json.loads(raw.decode("utf-8"), object_pairs_hook=_Pairs)
        except (ValueError, RecursionError):
            record = None
        if type(record) is _Pairs:
            return _dump_pairs(self._redact_pairs(record)).encode("utf-8", "surrogatepass")
        text = raw.decode("utf-8", "surrogateescape")
        redacted, counts = self._redact_text(text, None)
        return redacted.encode("utf-8", "surrogateescape") if counts else raw

    def apply(self, record: dict) -> Verdict:
        counts = self.redact_record(record, self.fields.text_of(record))
        if not counts:
            return None
        secrets = sum(n for k, n in counts.items() if k not in NOT_SECRETS)
        if self._min_secrets is not None and secrets >= self._min_secrets:
            return "too_many_secrets", {"secrets": secrets}
        self.count(counts)
        return EDITED


class _Pairs(list):
    """A JSON object as its (key, value) pairs, duplicated keys included."""


def _dump_pairs(value: Any) -> str:
    if type(value) is _Pairs:
        return (
            "{"
            + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_dump_pairs(v)}" for k, v in value)
            + "}"
        )
    if type(value) is list:
        return "[" + ",".join(_dump_pairs(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


_MISSING = object()
