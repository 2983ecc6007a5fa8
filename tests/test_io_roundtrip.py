"""Property tests: any list of JSON objects survives plain, gzip and zstd, via files and stdin."""

from __future__ import annotations

import contextlib
import gzip
import io
import sys

import orjson
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.io.decompress import decompress_all
from curate.io.policy import ErrorPolicy
from curate.io.reader import read_batches
from curate.io.sources import STDIN_NAME, Source
from curate.io.writer import ShardWriter, StdoutSink
from tests.conftest import run_curate

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
records_strategy = st.lists(st.dictionaries(text, values, max_size=6), max_size=20)


def encode(records: list[dict], fmt: str) -> bytes:
    plain = b"".join(orjson.dumps(r) + b"\n" for r in records)
    if fmt == "gzip":
        return gzip.compress(plain)
    if fmt == "zstd":
        return zstandard.ZstdCompressor().compress(plain)
    if fmt == "zstd-multiframe":
        half = len(plain) // 2
        cut = plain.rfind(b"\n", 0, half) + 1
        cctx = zstandard.ZstdCompressor()
        return cctx.compress(plain[:cut]) + cctx.compress(plain[cut:])
    if fmt == "gzip-multimember":
        return gzip.compress(plain[: len(plain) // 2]) + gzip.compress(plain[len(plain) // 2 :])
    return plain


def read_all(sources: list[Source]) -> list[dict]:
    out: list[dict] = []
    for batch in read_batches(sources, ErrorPolicy()):
        out.extend(batch.records)
    return out


FORMATS = ["plain", "gzip", "zstd", "zstd-multiframe", "gzip-multimember"]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=records_strategy, fmt=st.sampled_from(FORMATS))
def test_roundtrip_through_files(tmp_path_factory, records, fmt):
    path = tmp_path_factory.mktemp("rt") / "data.jsonl"
    path.write_bytes(encode(records, fmt))
    assert read_all([Source(str(path), str(path))]) == records


@settings(max_examples=60)
@given(records=records_strategy, fmt=st.sampled_from(FORMATS))
def test_roundtrip_through_stdin(records, fmt):
    with fake_stdin(encode(records, fmt)):
        assert read_all([Source(STDIN_NAME)]) == records


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=records_strategy, shard_records=st.integers(1, 7))
def test_roundtrip_through_shard_writer(tmp_path_factory, records, shard_records):
    out = tmp_path_factory.mktemp("shards")
    writer = ShardWriter(out, shard_records=shard_records)
    writer.write(records)
    shards = writer.close()
    assert sum(s.records for s in shards) == len(records)
    sources = [Source(str(out / s.path), str(out / s.path)) for s in shards]
    assert read_all(sources) == records


@settings(max_examples=40)
@given(records=records_strategy)
def test_roundtrip_through_zstd_stdout_sink(records):
    buf = io.BytesIO()
    sink = StdoutSink("zstd", stream=buf)
    sink.write(records)
    sink.close()
    data = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(buf.getvalue())).read()
    assert [orjson.loads(line) for line in data.splitlines()] == records


@settings(max_examples=8, deadline=None)
@given(records=records_strategy, fmt=st.sampled_from(FORMATS))
def test_roundtrip_through_real_stdin_of_the_command(records, fmt):
    result = run_curate("cat", input=encode(records, fmt))
    assert result.returncode == 0, result.stderr
    assert [orjson.loads(line) for line in result.stdout.splitlines()] == records


class _FakeStdin:
    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


@contextlib.contextmanager
def fake_stdin(data: bytes):
    original = sys.stdin
    sys.stdin = _FakeStdin(data)
    try:
        yield
    finally:
        sys.stdin = original


def test_shards_do_not_depend_on_write_sizes_or_thread_count(tmp_path):
    """Reproducible shards rely on this: the writer hands zstd blocks of any size, and
    machines have any number of cores. Multi-threaded zstd (any count) gives one set of bytes,
    single-threaded (0, the split writer's) another; 20 MB makes several zstd jobs."""
    import random

    line = b'{"id": "x", "text": "' + b"lorem ipsum dolor " * 40 + b'"}\n'
    data = b"".join(line.replace(b'"x"', b'"%d"' % i) for i in range(28_000))
    digests: dict[bool, set[str]] = {False: set(), True: set()}
    for threads, seed in [(0, 0), (0, 1), (1, 0), (2, 1), (4, 2)]:
        rng = random.Random(seed)
        folder = tmp_path / f"{threads}-{seed}"
        writer = ShardWriter(folder, threads=threads)
        pos = 0
        while pos < len(data):
            step = rng.choice([1, 4096, 1 << 16, 1 << 20, 1 << 23])
            end = data.find(b"\n", pos + step) + 1 or len(data)
            writer.write_block(data[pos:end])
            pos = end
        [shard] = writer.close()
        digests[threads > 0].add(shard.sha256)
        written = (folder / shard.path).read_bytes()
        assert decompress_all(written) == data
    assert len(digests[False]) == 1 and len(digests[True]) == 1
    assert digests[False] != digests[True]  # both modes were exercised


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    records=records_strategy,
    shard_records=st.integers(1, 5),
    shard_bytes=st.integers(1, 400),
    split=st.integers(1, 7),
)
def test_block_writes_roll_over_like_line_writes(
    tmp_path_factory, records, shard_records, shard_bytes, split
):
    lines = [orjson.dumps(r) + b"\n" for r in records]
    one = ShardWriter(
        tmp_path_factory.mktemp("a"), shard_records=shard_records, shard_bytes=shard_bytes
    )
    for line in lines:
        one.write_block(line)
    blocks = ShardWriter(
        tmp_path_factory.mktemp("b"), shard_records=shard_records, shard_bytes=shard_bytes
    )
    for i in range(0, len(lines), split):
        blocks.write_block(b"".join(lines[i : i + split]))
    assert [s.to_dict() for s in one.close()] == [s.to_dict() for s in blocks.close()]


def test_a_flipped_byte_in_a_shard_is_an_error_when_read(tmp_path):
    from tests.conftest import FIXTURES, run_curate

    out = tmp_path / "v"
    assert run_curate("write", str(out), str(FIXTURES / "docs.jsonl")).returncode == 0
    shard = out / "part-00000.jsonl.zst"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    result = run_curate("count", str(shard))
    assert result.returncode == 1
    # zstd names what it found (a checksum mismatch, or corrupt block data, depending on
    # where the flipped byte lands): one line naming the file and the line reached
    message = result.stderr.decode()
    assert message.startswith(
        f"curate: error: {shard}:1: corrupt zstd stream (zstd decompressor error: "
    ), message
    assert message.count("\n") == 1 and message.endswith(")\n")
