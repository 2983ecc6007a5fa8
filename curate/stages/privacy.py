"""The privacy promises of a run, applied to every file it writes besides the output.

An opt-out stage screens quarantined lines (a matching line is withheld, only its proof is
kept); a redact stage scrubs rejects of the stages before it and every quarantined line. The
stages themselves decide; this module only finds them and hands their screens to the places
that write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from curate.io.policy import ErrorPolicy
from curate.stages.base import Context, Stage


@dataclass
class PrivacyScreens:
    """The screens of a pipeline's stages; `redact_at` is the first redact stage's position."""

    screen_line: Callable[[bytes], dict | None] | None = None
    scrub_line: Callable[[bytes], bytes] | None = None
    scrub_record: Callable[[dict], dict] | None = None
    redact_at: int | None = None

    @classmethod
    def of(cls, stages: list[Stage]) -> PrivacyScreens:
        screens = cls()
        for position, stage in enumerate(stages):
            if stage.name == "optout" and screens.screen_line is None:
                screens.screen_line = stage.screen_line  # type: ignore[attr-defined]
            if stage.name == "redact" and screens.redact_at is None:
                screens.redact_at = position
                screens.scrub_line = stage.scrub_line  # type: ignore[attr-defined]
                screens.scrub_record = stage.scrub_record  # type: ignore[attr-defined]
        return screens

    def install(self, policy: ErrorPolicy) -> ErrorPolicy:
        """Quarantined lines go through the screens."""
        policy.screen = self.screen_line
        policy.scrub = self.scrub_line
        return policy

    def before_stage(self, ctx: Context, position: int | None) -> None:
        """Rejects of a stage that runs before redaction are redacted before they are kept;
        `position` None: a stage after every redact (or applying a global decision later)."""
        unredacted = (
            self.redact_at is not None and position is not None and position < self.redact_at
        )
        ctx.scrub = self.scrub_record if unredacted else None
