"""`license`: know each record's license as an SPDX expression and keep what the policy allows.

Sources, first hit wins, each switchable: metadata fields (names normalised to SPDX with
scancode's license database), an `SPDX-License-Identifier:` tag, scancode detection of license
texts and notices. Each record gets `meta.license = {expression, source, allowed}`; dropped
records get reason `license_denied` or `license_unknown`.

With `by_repo: meta.repo` the stage is global: the map finds each repository's license files
(LICENSE, COPYING, LICENCE, ...) and detects their license; the reduce gives that license to
every file of the repository that has none of its own.
"""

from __future__ import annotations

import os
import re
import time
import zlib
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from curate.core.errors import ConfigError, RecordError
from curate.core.records import get_path, split_path
from curate.core.rules_path import shipped_rules
from curate.io.reader import Batch
from curate.io.sections import read_sections, write_sections
from curate.licenses.dep5 import dep5_expression
from curate.licenses.manifests import is_manifest, manifest_license
from curate.licenses.policy import Policy, load_policy
from curate.licenses.policy import Verdict as PolicyVerdict
from curate.licenses.sources import Detector, could_hold_license, normalize, spdx_name, spdx_tag
from curate.stages.base import (
    ANNOTATE,
    EDITED,
    FINE_PARTS,
    Context,
    GlobalStage,
    ReduceInfo,
    StageConfig,
    StageStats,
    Verdict,
)

LICENSE_FILE = re.compile(r"(^|/)(LICEN[CS]E|COPYING|COPYRIGHT|UNLICENSE)([.\-_][^/]*)?$", re.I)


class LicenseConfig(StageConfig):
    path_fields: ClassVar[tuple[str, ...]] = ("policy", "cache")

    policy: str | None = Field(None, description="allow/deny policy (default: rules/licenses.yaml)")
    metadata: list[str] = Field(
        default_factory=lambda: ["meta.license", "meta.detected_licenses", "license"],
        description="metadata fields holding a license, first hit wins",
    )
    spdx_tags: bool = Field(True, description="read SPDX-License-Identifier tags")
    scancode: bool = Field(True, description="detect licenses in the text (scancode-toolkit)")
    unknown: Literal["drop", "keep"] | None = Field(
        None, description="records of no known license: the policy's `unknown` unless set"
    )
    cache: str | None = Field(None, description="file to keep scancode results between runs")
    by_repo: str | None = Field(None, description="repository field: files inherit its license")
    path_field: str = Field("meta.path", description="dotted field holding the file path")


def license_file_name(path: str, text: str) -> str | None:
    """A LICENSE file whose whole text is a license's name (`Apache 2.0`): that license, when
    the name is a known SPDX id or alias."""
    if len(text) > 100 or "\n" in text.strip() or not LICENSE_FILE.search(path):
        return None
    return spdx_name(text.strip().strip("."))


class LicenseStage(GlobalStage):
    name = "license"
    Config = LicenseConfig

    def setup(self) -> None:
        cfg: LicenseConfig = self.config
        if cfg.scancode:  # metadata and tags need only the shipped name table
            try:
                import licensedcode  # noqa: F401, PLC0415
            except ImportError:
                raise ConfigError(
                    "license: detecting licenses in the text (scancode: true) needs "
                    "scancode-toolkit, an optional dependency: pip install 'curate[license]'; "
                    "or set scancode: false (--no-scancode) to use metadata and "
                    "SPDX-License-Identifier tags only"
                ) from None
            os.environ.setdefault(
                "SCANCODE_TEMP", str(Path(os.environ.get("TMPDIR", "/tmp")) / "curate-scancode")
            )
        self.policy_path = Path(cfg.policy) if cfg.policy else shipped_rules("licenses.yaml")
        self.policy: Policy = load_policy(self.policy_path)
        self.drop_unknown = (cfg.unknown or self.policy.unknown) == "drop"
        self.detector = Detector(Path(cfg.cache) if cfg.cache else None) if cfg.scancode else None
        self.meta_parts = [split_path(f) for f in cfg.metadata]
        self.path_parts = split_path(cfg.path_field)
        self.repo_parts = split_path(cfg.by_repo) if cfg.by_repo else None
        self.is_global = cfg.by_repo is not None  # per-record unless licenses flow per repository

    def resources(self, base_dir: Path | None = None) -> list[dict]:
        return [self.resource("license_policy", self.policy_path, self.policy.entries, base_dir)]

    def own_license(self, record: dict, text: str) -> tuple[str | None, str | None, str | None]:
        """(expression, source, raw unparsable value) from the record itself."""
        for parts in self.meta_parts:
            value = get_path(record, parts)
            if isinstance(value, dict):
                value = value.get("expression")
            if isinstance(value, list):
                items = [normalize(str(v)) for v in value if v]
                items = [f"({i})" if " " in i else i for i in items if i]
                if items:
                    return " AND ".join(dict.fromkeys(items)), "metadata", None
                continue
            if isinstance(value, str) and value.strip():
                normalized = normalize(value)
                if normalized:
                    return normalized, "metadata", None
                return None, "metadata", value
        if self.config.spdx_tags:
            tag = spdx_tag(text)
            if tag:
                return tag, "spdx_tag", None
        dep5 = dep5_expression(text) if text.startswith(("Format:", "\ufeffFormat:")) else None
        if dep5:
            return dep5, "debian_copyright", None
        path = get_path(record, self.path_parts)
        if isinstance(path, str):
            named = license_file_name(path, text)
            if named:
                return named, "license_name", None
            if is_manifest(path):
                declared = manifest_license(path, text)
                if declared:
                    return declared, "package_manifest", None
        if self.detector is not None and could_hold_license(text):
            found = self.detector.detect(text)
            if found:
                return found, "scancode", None
        return None, None, None

    def _judge(
        self, expression: str | None, source: str | None, raw: str | None
    ) -> tuple[dict[str, Any], str | None]:
        """The `meta.license` value for a record, and the reason to drop it (None: keep)."""
        verdict = self.policy.judge(expression) if expression else PolicyVerdict(None, None, raw)
        info: dict[str, Any] = {
            "expression": verdict.expression,
            "source": source,
            "allowed": verdict.allowed,
        }
        if verdict.raw is not None:
            info["raw"] = verdict.raw
        if verdict.allowed is True:
            return info, None
        if verdict.allowed is False:
            return info, "license_denied"
        return info, "license_unknown" if self.drop_unknown else None

    def _decide(
        self, record: dict, expression: str | None, source: str | None, raw: str | None
    ) -> str | None:
        """Annotate the record; return a drop reason or None."""
        info, reason = self._judge(expression, source, raw)
        self.meta(record)["license"] = info
        return reason

    # ---- per-record form -----------------------------------------------------------------------

    def apply(self, record: dict) -> Verdict:
        text = self.fields.text_of(record)
        expression, source, unparsable = self.own_license(record, text)
        reason = self._decide(record, expression, source, unparsable)
        return EDITED if reason is None else reason

    def after_batch(self) -> None:
        if self.detector is not None:
            self.detector.save()

    def stream(self, batches, ctx: Context, stats: StageStats):
        if self.is_global:
            raise ConfigError("license: by_repo needs the whole input at once: use `curate run`")
        for batch in batches:
            if batch.records:
                batch = self.process(batch, ctx, stats)
            if batch.records:
                yield batch

    # ---- by repository (curate run) -------------------------------------------------------------

    def map_keys(self, batch: Batch, ctx: Context, stats: StageStats) -> tuple[Batch, Any]:
        started = time.perf_counter()
        keep_rows, own, repo_files, manifests, repos = [], [], [], [], []
        for i, record in enumerate(batch.records):
            try:
                text = self.fields.text_of(record)
            except RecordError as exc:
                stats.errors += 1
                ctx.policy.bad_line(batch.source, batch.linenos[i], exc.problem, batch.raws[i])
                continue
            repo = get_path(record, self.repo_parts)
            path = get_path(record, self.path_parts)
            expression, source, unparsable = self.own_license(record, text)
            is_license_file = isinstance(path, str) and bool(LICENSE_FILE.search(path))
            keep_rows.append(i)
            repos.append(None if repo is None else str(repo))
            own.append((expression, source, unparsable))
            repo_files.append(
                str(repo) if repo is not None and is_license_file and expression else None
            )
            declares = source == "package_manifest" and repo is not None
            manifests.append(str(repo) if declares else None)
        batch = batch.select(keep_rows)
        stats.seconds += time.perf_counter() - started
        if self.detector is not None:
            self.detector.save()
        return batch, {
            "own": own,
            "repo_license": repo_files,
            "manifests": manifests,
            "repos": repos,
        }

    def shuffle(self, keys: Any, unit: int, folder: Path) -> dict[int, Any]:
        """Partition by repository: a partition holds every file of its repositories."""
        sections: dict[int, tuple[list, list, list, list, list]] = {}
        for i, (own, repo_file, manifest, repo) in enumerate(
            zip(keys["own"], keys["repo_license"], keys["manifests"], keys["repos"])
        ):
            p = (
                0
                if repo is None
                else zlib.crc32(repo.encode("utf-8", "surrogatepass")) % FINE_PARTS
            )
            rows, owns, files, declared, repos = sections.setdefault(p, ([], [], [], [], []))
            rows.append(i)
            owns.append(own)
            files.append(repo_file)
            declared.append(manifest)
            repos.append(repo)
        return sections

    def reduce_run(self, engine: Any, info: ReduceInfo) -> list[str]:
        jobs = [(info, job, lo, hi) for job, (lo, hi) in enumerate(info.groups)]
        for _ in engine.map(_license_job, jobs):
            pass
        return []

    def resolve(self, info: ReduceInfo, job: int, lo: int, hi: int) -> None:
        """Each repository's license: its license files' expressions, AND-ed, sorted (or,
        when no license file gives one, its package manifests'); then each file's verdict."""
        parts = [
            (u, part) for u in info.units for _p, part in read_sections(info.unit_file(u), lo, hi)
        ]
        found: dict[str, list[str]] = {}
        declared: dict[str, list[str]] = {}
        for _u, (_rows, owns, files, manifests, _repos) in parts:
            for (expression, _source, _raw), repo, manifest in zip(owns, files, manifests):
                if repo is not None and expression not in found.setdefault(repo, []):
                    found[repo].append(expression)
                if manifest is not None and expression not in declared.setdefault(manifest, []):
                    declared[manifest].append(expression)
        for repo, expressions in declared.items():
            if expressions and not found.get(repo):
                found[repo] = expressions
        by_repo = {
            repo: " AND ".join(sorted(f"({e})" if " " in e else e for e in exprs))
            for repo, exprs in found.items()
            if exprs
        }
        decisions: dict[int, dict[int, tuple[str, dict]]] = {}
        for u, (rows, owns, _files, _manifests, repos) in parts:
            unit = decisions.setdefault(u, {})
            for i, (expression, source, raw), repo in zip(rows, owns, repos):
                if expression is None and repo in by_repo:
                    expression, source, raw = by_repo[repo], "repository", None
                verdict, reason = self._judge(expression, source, raw)
                if reason is None:
                    unit[i] = (ANNOTATE, {"meta.license": verdict})
                else:
                    unit[i] = (reason, {"license": verdict})
        write_sections(info.decision_file(job), decisions)


def _license_job(info: ReduceInfo, job: int, lo: int, hi: int) -> None:
    info.stage().resolve(info, job, lo, hi)
