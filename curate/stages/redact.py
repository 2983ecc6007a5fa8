"""`redact`: replace PII and secrets by placeholders; count what was found in `meta.pii`.

Only the secret value becomes a placeholder, not the code around it; PEM blocks go whole.
A detected value is never written anywhere else: records dropped by `drop_if` go to rejects
already redacted, and nothing logs a value.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import ClassVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

from curate.errors import RecordError
from curate.io.reader import Batch
from curate.pii.detect import DETECTOR_TYPES, SecretScanner
from curate.pii.redact import apply_spans
from curate.records import get_path, set_path, split_path
from curate.rules_path import shipped_rules
from curate.stages.base import Context, RecordStage, StageConfig, StageStats
from curate.yamlconf import load_yaml

NOT_SECRETS = {"email", "ip_address"}
log = logging.getLogger("curate.redact")


class DropIf(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_secrets: int = Field(ge=1, description="drop records with at least this many secrets")


class RedactConfig(StageConfig):
    path_fields: ClassVar[tuple[str, ...]] = ("rules",)

    rules: str | None = Field(None, description="PII rules (default: the shipped rules/pii.yaml)")
    path_field: str = "meta.path"
    drop_if: DropIf | None = None


def load_pii_rules(path: Path) -> dict:
    doc = load_yaml(path)
    data = doc.data or {}
    if not isinstance(data, dict):
        raise doc.error((), "expected a mapping (placeholders, entropy, disabled, allowlist)")
    for key in data:
        if key not in ("placeholders", "entropy", "disabled", "allowlist"):
            raise doc.error(
                (key,), "unknown key (keys: placeholders, entropy, disabled, allowlist)"
            )
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
    return {
        "placeholders": placeholders,
        "entropy": entropy,
        "disabled": set(data.get("disabled") or []),
        "allowlist": set(data.get("allowlist") or []),
        "entries": len(placeholders) + len(data.get("allowlist") or []),
    }


class RedactStage(RecordStage):
    name = "redact"
    Config = RedactConfig
    modifies_records = False  # records it changes get new raw bytes of their own

    def setup(self) -> None:
        cfg: RedactConfig = self.config
        self.rules_path = Path(cfg.rules) if cfg.rules else shipped_rules("pii.yaml")
        self.rules = load_pii_rules(self.rules_path)
        placeholders = dict(self.rules["placeholders"])
        default = placeholders.pop("default", "<KEY>")
        self.placeholders = placeholders
        self.default_placeholder = default
        entropy = self.rules["entropy"]
        # Disabled types are never detected (not dropped after the fact: overlapping spans of
        # two types merge, and dropping the merged one would un-redact the enabled type's).
        disabled = self.rules["disabled"]
        enabled = set(DETECTOR_TYPES) - disabled if disabled else None
        self.scanner = SecretScanner(entropy.get("base64", 4.5), entropy.get("hex", 3.0), enabled)
        self.allowlist = self.rules["allowlist"]
        self.path_parts = split_path(cfg.path_field)

    def resources(self, base_dir: Path | None = None) -> list[dict]:
        return [self.resource("pii_rules", self.rules_path, self.rules["entries"], base_dir)]

    def process(self, batch: Batch, ctx: Context, stats: StageStats) -> Batch:
        started = time.perf_counter()
        records, linenos, raws = [], [], []
        text_of = self.fields.text_of
        min_secrets = self.config.drop_if.min_secrets if self.config.drop_if else None
        for record, lineno, raw in zip(batch.records, batch.linenos, batch.raws):
            try:
                text = text_of(record)
            except RecordError as exc:
                stats.errors += 1
                ctx.policy.bad_line(batch.source, lineno, exc.problem, raw)
                continue
            path = get_path(record, self.path_parts)
            spans = self.scanner.scan(text, path if isinstance(path, str) else None)
            if spans:
                spans = [s for s in spans if text[s.start : s.end] not in self.allowlist]
            if spans:
                redacted, counts = apply_spans(
                    text, spans, self.placeholders, self.default_placeholder
                )
                set_path(record, self.fields.text_parts, redacted)
                meta = record.get("meta")
                if not isinstance(meta, dict):
                    meta = {}
                    record["meta"] = meta
                meta["pii"] = dict(sorted(counts.items()))
                raw = orjson.dumps(record)
                secrets = sum(n for k, n in counts.items() if k not in NOT_SECRETS)
                if min_secrets is not None and secrets >= min_secrets:
                    stats.dropped["too_many_secrets"] += 1
                    ctx.reject(record, self.name, "too_many_secrets", {"secrets": secrets})
                    continue
            records.append(record)
            linenos.append(lineno)
            raws.append(raw)
        stats.records_in += len(batch.records)
        stats.records_out += len(records)
        stats.seconds += time.perf_counter() - started
        # counts only: a detected value is never logged
        log.debug("%s: %d records, %d kept", batch.source, len(batch.records), len(records))
        return Batch(batch.source, records, linenos, raws, batch.modified)
