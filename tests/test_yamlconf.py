"""The located YAML loader gives what `yaml.safe_load` gives, plus the line of every key."""

from __future__ import annotations

import datetime as dt

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.core.yamlconf import load_yaml

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["yes", "no", "on", "off", "1e3", "0x1f", "null", "~", "2026-11-23", "12:30"]),
    st.dates(min_value=dt.date(1900, 1, 1)),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(documents, st.sampled_from([None, "'", '"']))
def test_located_loader_equals_safe_load(tmp_path_factory, data, quote):
    text = yaml.safe_dump({"doc": data}, default_style=quote, allow_unicode=True)
    path = tmp_path_factory.mktemp("y") / "doc.yaml"
    path.write_text(text, "utf-8")
    assert load_yaml(path).data == yaml.safe_load(text)


def test_explicit_tags_and_plain_scalars(tmp_path):
    text = "a: !!str 5\nb: 5\nc: '5'\nd: !!float 1\ne: [on, off, ~]\nf: 2026-11-23\n"
    path = tmp_path / "t.yaml"
    path.write_text(text)
    got = load_yaml(path).data
    assert got == yaml.safe_load(text)
    assert got == {
        "a": "5",
        "b": 5,
        "c": "5",
        "d": 1.0,
        "e": [True, False, None],
        "f": dt.date(2026, 11, 23),
    }
