"""Every record stage survives odd records: values of any JSON type where strings are
expected, missing or null objects. A bad record is a bad line (counted under --on-error
skip), never a traceback, and every record that comes out is written as itself."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.core.fields import Fields
from curate.executors.stream import process_batches
from curate.io.policy import ErrorPolicy
from curate.io.reader import parse_lines
from curate.stages import get_stage_class
from curate.stages.base import Context, StageStats
from tests.conftest import FIXTURES

_SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=12)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
_META_VALUES = {
    "path": st.sampled_from(["a.h", "Makefile", "x/LICENSE", "src/k.py"]),
    "repo": st.sampled_from(["Octo/Private-Stuff", "a/b", "octo"]),
    "url": st.sampled_from(["https://example.com/x", "http"]),
    "email": st.sampled_from(["Someone@Example.com", "x@y"]),
    "language": st.sampled_from(["Python", "C"]),
    "subset": st.sampled_from(["code", "docs"]),
}
_META = st.fixed_dictionaries(
    {}, optional={key: values | _JSON for key, values in _META_VALUES.items()}
)
_RECORDS = st.fixed_dictionaries(
    {},
    optional={
        "id": _JSON | st.text(max_size=6),
        "text": _JSON | st.sampled_from(["hello world", "a@b.co 10.0.0.1", "#!/bin/sh\n"]),
        "meta": _META | _JSON,
    },
)
STAGES = [
    (
        "filter",
        {"min_chars": 3, "where": ["meta.subset=code"], "where_not": ["meta.path~(^|/)test_"]},
    ),
    ("optout", {"registry": str(FIXTURES / "registry" / "optout.jsonl")}),
    ("tag", {}),
    ("redact", {}),
    ("license", {}),
    ("dedup_exact", {}),
    ("dedup_near", {"threshold": 0.5}),
]


def _stage(name: str, config: dict):
    cls = get_stage_class(name)
    stage = cls(cls.Config(**config), Fields())
    stage.setup()
    return stage


_BUILT = {name: _stage(name, config) for name, config in STAGES}


@settings(max_examples=120, deadline=None)
@given(st.lists(_RECORDS, min_size=1, max_size=10), st.sampled_from([n for n, _ in STAGES]))
def test_record_stages_survive_odd_records(records, name):
    policy = ErrorPolicy("skip")
    batch = parse_lines("in", 1, [orjson.dumps(r) for r in records], policy)
    stats = StageStats()
    stage = _BUILT[name] if name not in ("dedup_exact", "dedup_near") else _stage(name, {})
    outs = list(process_batches([stage], [batch], Context(policy), [stats]))
    kept = [r for out in outs for r in out.records]
    assert stats.records_in == len(records)
    assert stats.records_out == len(kept)
    assert stats.records_out + stats.errors + sum(stats.dropped.values()) == len(records)
    written = b"".join(out.to_bytes() for out in outs)
    assert [orjson.loads(line) for line in written.splitlines()] == kept
    if name == "tag":  # every tagged record holds its tags in a meta object
        assert all(
            isinstance(record["meta"], dict) and "subset" in record["meta"] for record in kept
        )
