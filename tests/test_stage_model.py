"""The stage base class owns the per-batch plumbing: a new per-record stage is one class."""

from __future__ import annotations

import orjson
import pytest

import curate
from curate.stages import base
from curate.stages.base import EDITED, OptedOut, RecordStage, StageConfig, Verdict


class ShoutConfig(StageConfig):
    min_chars: int = 0


class ShoutStage(RecordStage):
    """Upper-cases texts (an edit it states), drops short ones, withholds one id, and rejects
    records without text as bad lines: every kind of verdict."""

    name = "shout"
    Config = ShoutConfig

    def apply(self, record: dict) -> Verdict:
        text = self.fields.text_of(record)
        if record.get("id") == "secret":
            return OptedOut("repo", "REQ-1")
        if len(text) < self.config.min_chars:
            return "too_short", {"chars": len(text)}
        if text.isupper():
            return None
        record["text"] = text.upper()
        self.meta(record)["shouted"] = True
        return EDITED


@pytest.fixture
def shout(monkeypatch):
    from curate import stages

    monkeypatch.setitem(stages._REGISTRY, "shout", f"{__name__}:ShoutStage")


def test_a_new_stage_is_one_class_and_a_registry_line(shout):
    docs = [
        {"id": "1", "text": "hello"},
        {"id": "2", "text": "hi"},
        {"id": "3", "text": "ALREADY"},
        {"id": "secret", "text": "private text"},
        {"id": "4"},
    ]
    recs = curate.read(docs, on_error="skip").apply("shout", min_chars=3)
    out = recs.to_list()
    assert out == [
        {"id": "1", "text": "HELLO", "meta": {"shouted": True}},
        {"id": "3", "text": "ALREADY"},
    ]
    assert recs.stats == [
        {
            "stage": "shout",
            "records_in": 5,
            "records_out": 2,
            "dropped": {"opted_out": 1, "too_short": 1},
            "errors": 1,
        }
    ]


def test_edits_are_written_and_untouched_lines_pass_byte_for_byte(shout, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id": "1",   "text": "hello"}\n{"id":"3","text":"SAME"}\n')
    batches = list(curate.read(path).apply("shout").batches())
    lines = [raw for batch in batches for raw in batch.raws]
    assert lines == [
        orjson.dumps({"id": "1", "text": "HELLO", "meta": {"shouted": True}}),
        b'{"id":"3","text":"SAME"}',
    ]


def test_rejects_keep_content_but_opted_out_records_leave_only_proof(shout):
    from curate.core.fields import Fields
    from curate.io.policy import ErrorPolicy
    from curate.io.reader import parse_lines
    from curate.stages.base import Context, StageStats

    stage = ShoutStage(ShoutConfig(min_chars=3), Fields())
    ctx = Context(ErrorPolicy(), keep_rejects=True)
    lines = [
        orjson.dumps(r) for r in ({"id": "2", "text": "hi"}, {"id": "secret", "text": "x" * 9})
    ]
    out = stage.process(parse_lines("t", 1, lines, ctx.policy), ctx, StageStats())
    assert out.records == []
    assert ctx.rejects == [
        {
            "id": "2",
            "text": "hi",
            "meta": {"rejected": {"stage": "shout", "reason": "too_short", "chars": 2}},
        }
    ]
    assert ctx.optout_log == [{"id": "secret", "kind": "repo", "ref": "REQ-1"}]


def test_a_stage_without_apply_says_what_to_implement():
    class Empty(RecordStage):
        name = "empty"
        Config = StageConfig

    with pytest.raises(NotImplementedError, match="empty: implement apply"):
        Empty(StageConfig()).apply({})
    assert not hasattr(base.Stage, "modifies_records")


def test_a_registered_stage_gets_a_command(shout, capfdbinary, monkeypatch):
    """The command line too: `curate shout --min-chars 3`, options from its config model."""
    import io
    import sys

    from curate.cli import main

    data = b'{"id":"1","text":"hello"}\n{"id":"2","text":"hi"}\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    with pytest.raises(SystemExit) as info:
        main(["shout", "--min-chars", "3"])
    assert info.value.code == 0
    out = capfdbinary.readouterr().out
    assert out == b'{"id":"1","text":"HELLO","meta":{"shouted":true}}\n'
