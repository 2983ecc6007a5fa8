"""Which record fields hold the id and the text; configurable per dataset (`content` in The Stack)."""

from __future__ import annotations

from dataclasses import dataclass, field

from curate.core.errors import RecordError
from curate.core.records import get_path, split_path

_MISSING = object()


@dataclass(frozen=True)
class Fields:
    id: str = "id"
    text: str = "text"
    id_parts: tuple[str, ...] = field(init=False, repr=False, compare=False)
    text_parts: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id_parts", split_path(self.id))
        object.__setattr__(self, "text_parts", split_path(self.text))

    def text_of(self, record: dict) -> str:
        """The record's text; a missing or non-string text is a `RecordError`."""
        parts = self.text_parts
        value = (
            record.get(parts[0], _MISSING) if len(parts) == 1 else get_path(record, parts, _MISSING)
        )
        if type(value) is str:
            return value
        if value is _MISSING:
            raise RecordError(f"missing text field {self.text!r}")
        raise RecordError(f"text field {self.text!r} is not a string")
