"""Property: what a stage sees and what curate writes agree, whatever the JSON spelling.

Lines are generated with duplicated keys, integers past 64 bits, long decimals, escapes and
spacing; read in-process by the reader every command uses.
"""

from __future__ import annotations

import json
from decimal import Decimal

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.core.records import dumps_record
from curate.io.policy import ErrorPolicy, OnError
from curate.io.reader import parse_lines

keys = st.sampled_from(["id", "text", "meta", "n", "a", "\u00e9", 'k"q', "line\nbreak"])
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=25).map(str).map(Decimal),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=12))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.lists(st.tuples(keys, inner), max_size=3)
    ),
    max_leaves=8,
)


def _spell(value, ascii_only: bool, spaced: bool) -> str:
    """JSON text for a value; a list of pairs is an object (duplicates allowed)."""
    colon, comma = (": ", ", ") if spaced else (":", ",")
    if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
        inner = comma.join(
            json.dumps(k, ensure_ascii=ascii_only) + colon + _spell(v, ascii_only, spaced)
            for k, v in value
        )
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + comma.join(_spell(v, ascii_only, spaced) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() and "E" not in str(value) else "0"
    return json.dumps(value, ensure_ascii=ascii_only)


def _has_duplicates(value) -> bool:
    if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
        names = [k for k, _ in value]
        return len(set(names)) != len(names) or any(_has_duplicates(v) for _, v in value)
    if isinstance(value, list):
        return any(_has_duplicates(v) for v in value)
    return False


def _exact(text: str):
    return json.loads(text, parse_float=Decimal, object_pairs_hook=dict)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(keys, values), min_size=1, max_size=5),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_what_stages_see_is_what_is_written(pairs, ascii_only, spaced, keep_last):
    line = _spell(pairs, ascii_only, spaced).encode()
    policy = ErrorPolicy(OnError.skip, keep_last_duplicate=keep_last)
    batch = parse_lines("t.jsonl", 1, [line], policy)
    if _has_duplicates(pairs) and not keep_last:
        assert batch.records == [] and policy.errors == 1
        assert "duplicate key" in policy.first_error
        return
    assert policy.errors == 0
    (record,) = batch.records
    (written,) = batch.raws
    # what the stages see equals the line read exactly (last value of a duplicated key,
    # numbers to the last digit)
    assert _exact(dumps_record(record).decode()) == _exact(line.decode())
    # an untouched record is written as it came, unless its duplicates were collapsed
    if not _has_duplicates(pairs):
        assert written == line
    else:
        assert written == dumps_record(record)
    # and what is written reads back as what the stages saw
    assert _exact(written.decode()) == _exact(dumps_record(record).decode())
    # a stage that edits the record keeps every number's digits
    record["meta_added"] = True
    edited = _exact(dumps_record(record).decode())
    assert {k: v for k, v in edited.items() if k != "meta_added"} == _exact(written.decode())


def test_big_numbers_keep_their_digits_when_a_record_is_rewritten():
    line = b'{"n":18446744073709551616,"f":0.10000000000000000001,"m":-9223372036854775809}'
    batch = parse_lines("t", 1, [line], ErrorPolicy())
    record = batch.records[0]
    assert record["n"] == 2**64 and record["m"] == -(2**63) - 1
    record["x"] = 1
    assert dumps_record(record) == line[:-1] + b',"x":1}'
    assert orjson.loads(batch.raws[0]) is not None
