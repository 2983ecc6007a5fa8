"""End-to-end tests of cat, head, count, stats and write through the real command and pipes."""

from __future__ import annotations

import gzip

import orjson
import pytest
import zstandard

from tests.conftest import FIXTURES, run_curate, run_shell

BROKEN = FIXTURES / "broken"


def lines_of(data: bytes) -> list[dict]:
    return [orjson.loads(line) for line in data.splitlines()]


def test_pipe_cat_head_count_prints_5():
    result = run_shell("curate cat fixtures/stdlib.jsonl.zst | curate head -n 5 | curate count")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"5\n"
    assert result.stderr == b""


def test_count_of_every_fixture_format():
    result = run_curate(
        "count", "fixtures/stdlib.jsonl.zst", "fixtures/licenses.jsonl.gz", "fixtures/docs.jsonl"
    )
    assert result.stdout == b"358\n"


def test_glob_and_folder_inputs_are_sorted(tmp_path):
    (tmp_path / "b.jsonl").write_bytes(b'{"id": "b"}\n')
    (tmp_path / "a.jsonl").write_bytes(b'{"id": "a"}\n')
    (tmp_path / "rejects").mkdir()
    (tmp_path / "rejects" / "r.jsonl").write_bytes(b'{"id": "rejected"}\n')
    by_folder = run_curate("cat", str(tmp_path))
    by_glob = run_curate("cat", str(tmp_path / "*.jsonl"))
    assert [r["id"] for r in lines_of(by_folder.stdout)] == ["a", "b"]
    assert by_glob.stdout == by_folder.stdout


def test_cat_passes_records_through_unchanged_and_decompresses():
    plain = (FIXTURES / "docs.jsonl").read_bytes()
    packed = zstandard.ZstdCompressor().compress(plain)
    result = run_curate("cat", input=packed)
    assert result.stdout == plain


def test_cat_compress_zstd_round_trips():
    plain = (FIXTURES / "docs.jsonl").read_bytes()
    result = run_curate("cat", "--compress", "zstd", "fixtures/docs.jsonl")
    assert result.stdout[:4] == b"\x28\xb5\x2f\xfd"
    back = run_curate("cat", input=result.stdout)
    assert back.stdout == plain


def test_multiframe_zstd_from_zstdcat_style_concatenation(tmp_path):
    cctx = zstandard.ZstdCompressor()
    joined = cctx.compress(b'{"id": "1"}\n') + cctx.compress(b'{"id": "2"}\n{"id": "3"}\n')
    (tmp_path / "c.jsonl.zst").write_bytes(joined)
    assert run_curate("count", str(tmp_path / "c.jsonl.zst")).stdout == b"3\n"


def test_compression_is_detected_from_bytes_not_extension(tmp_path):
    path = tmp_path / "misnamed.jsonl"
    path.write_bytes(gzip.compress(b'{"id": "x", "text": "y"}\n'))
    assert lines_of(run_curate("cat", str(path)).stdout) == [{"id": "x", "text": "y"}]


@pytest.mark.parametrize(
    "name, message",
    [
        ("bad_json.jsonl", "bad_json.jsonl:3: invalid JSON: unexpected end of data at column 35"),
        ("not_object.jsonl", "not_object.jsonl:2: expected a JSON object, got an array"),
        ("bad_utf8.jsonl", "bad_utf8.jsonl:2: invalid UTF-8 at byte 26"),
        (
            "truncated.jsonl.zst",
            "truncated.jsonl.zst:994: truncated zstd stream (ends inside a frame)",
        ),
        ("corrupt.jsonl.gz", "corrupt.jsonl.gz:1: corrupt gzip stream"),
    ],
)
def test_bad_input_gives_one_line_and_exit_1(name, message):
    result = run_curate("cat", f"fixtures/broken/{name}")
    assert result.returncode == 1
    err = result.stderr.decode()
    assert err.count("\n") == 1, err
    assert err.startswith(f"curate: error: fixtures/broken/{message}"), err
    assert "Traceback" not in err


def test_bad_input_on_stdin_is_named_stdin():
    result = run_curate("count", input=(BROKEN / "not_object.jsonl").read_bytes())
    assert result.returncode == 1
    assert result.stderr == b"curate: error: <stdin>:2: expected a JSON object, got an array\n"


def test_missing_text_field_where_the_command_needs_it():
    result = run_curate("filter", "--min-chars", "1", "fixtures/broken/missing_text.jsonl")
    assert result.returncode == 1
    assert result.stderr == (
        b"curate: error: fixtures/broken/missing_text.jsonl:2: missing text field 'text'\n"
    )
    # a command that does not need the text does not complain
    assert run_curate("count", "fixtures/broken/missing_text.jsonl").stdout == b"3\n"


def test_custom_text_field_name(tmp_path):
    path = tmp_path / "stack.jsonl"
    path.write_bytes(b'{"id": "1", "content": "short"}\n{"id": "2", "content": "long enough"}\n')
    result = run_curate("filter", "--text-field", "content", "--min-chars", "6", str(path))
    assert [r["id"] for r in lines_of(result.stdout)] == ["2"]


def test_bom_is_accepted():
    result = run_curate("cat", "fixtures/broken/bom.jsonl")
    assert result.returncode == 0
    assert [r["id"] for r in lines_of(result.stdout)] == ["r1", "r2", "r3"]


def test_blank_lines_are_skipped_not_errors():
    result = run_curate("stats", "--json", "fixtures/broken/blank_lines.jsonl")
    assert result.returncode == 0
    stats = orjson.loads(result.stdout)
    assert (stats["records"], stats["empty_lines"], stats["errors"]) == (2, 3, 0)


def test_usage_error_exits_2_in_one_line():
    result = run_curate("head", "-n", "x")
    assert result.returncode == 2
    assert result.stderr.decode().startswith("curate: error: Invalid value for '-n'")
    assert result.stderr.count(b"\n") == 1


def test_missing_file_and_empty_glob():
    result = run_curate("cat", "nope.jsonl")
    assert (result.returncode, result.stderr) == (1, b"curate: error: nope.jsonl: no such file\n")
    result = run_curate("cat", "nothing/*.jsonl")
    assert result.returncode == 1  # as a missing file: both are input problems
    assert result.stderr == b"curate: error: no input file matches 'nothing/*.jsonl'\n"


BAD_LINE_FILES = ["bad_json.jsonl", "not_object.jsonl", "bad_utf8.jsonl", "missing_text.jsonl"]


def test_skip_counts_and_reports():
    files = [f"fixtures/broken/{n}" for n in BAD_LINE_FILES]
    result = run_curate("filter", "--min-chars", "1", "--on-error", "skip", *files)
    assert result.returncode == 0
    assert len(lines_of(result.stdout)) == 9
    assert result.stderr.decode() == (
        "curate: skipped 4 bad lines (first: fixtures/broken/bad_json.jsonl:3: "
        "invalid JSON: unexpected end of data at column 35)\n"
    )


def test_quarantine_loses_nothing(tmp_path):
    files = [BROKEN / n for n in BAD_LINE_FILES]
    qpath = tmp_path / "quarantine.jsonl"
    result = run_curate(
        "filter",
        "--min-chars",
        "1",
        "--on-error",
        "quarantine",
        "--quarantine",
        str(qpath),
        *map(str, files),
    )
    assert result.returncode == 0
    good = result.stdout.splitlines()
    quarantined = qpath.read_bytes().splitlines()
    input_lines = [line for f in files for line in f.read_bytes().splitlines()]
    assert len(good) + len(quarantined) == len(input_lines)
    # quarantined lines are the raw input lines, byte for byte
    assert sorted(quarantined) == sorted(set(input_lines) - set(good))
    assert b'{"id": "r2", "text": "caf\xe9"}' in quarantined


def test_head_stops_reading_early_and_broken_pipe_is_quiet():
    result = run_shell(
        "curate cat fixtures/docs.jsonl fixtures/docs.jsonl | head -c 100 > /dev/null"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    result = run_shell("curate head -n 2 fixtures/docs.jsonl | curate count")
    assert result.stdout == b"2\n"


def test_stats_json_exact():
    result = run_curate("stats", "--json", "fixtures/broken/bom.jsonl")
    stats = orjson.loads(result.stdout)
    assert stats["records"] == 3
    assert stats["fields"] == {"id": 3, "text": 3}
    assert stats["text_chars"] == {"min": 15, "median": 15, "max": 15}


def test_stats_human_readable():
    result = run_curate("stats", "fixtures/docs.jsonl")
    out = result.stdout.decode()
    assert "records  79" in out
    assert "meta.repo" in out


def test_version_and_help_examples():
    assert run_curate("--version").stdout.decode().startswith("curate ")
    for command in ["cat", "head", "count", "stats", "write", "filter"]:
        result = run_curate(command, "--help")
        assert result.returncode == 0
        assert b"Example: curate" in result.stdout, command
