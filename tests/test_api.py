"""The Python API, in-process: the same records as the CLI pipe, the same bytes as `curate run`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import orjson
import pytest
import yaml

import curate
from tests.conftest import FIXTURES, ROOT, curate_env, run_curate

DOCS = str(FIXTURES / "docs.jsonl")
STDLIB = str(FIXTURES / "stdlib.jsonl.zst")
REGISTRY = str(FIXTURES / "registry" / "optout.jsonl")

# each stage as an API call and as the CLI command of the same configuration
STAGES = [
    ({"filter": {"min_chars": 2000}}, ["filter", "--min-chars", "2000"]),
    ({"optout": {"registry": REGISTRY}}, ["optout", "--registry", REGISTRY]),
    ({"tag": {}}, ["tag"]),
    ({"redact": {}}, ["redact"]),
    (
        {"license": {"scancode": False, "unknown": "keep"}},
        ["license", "--no-scancode", "--unknown", "keep"],
    ),
    ({"dedup_exact": {"normalize": "whitespace"}}, ["dedup", "exact", "--normalize", "whitespace"]),
    ({"dedup_near": {"threshold": 0.8}}, ["dedup", "near", "--threshold", "0.8"]),
]


def lines_of(records) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


@pytest.mark.parametrize(("api", "cli"), STAGES, ids=[next(iter(a)) for a, _ in STAGES])
def test_every_stage_gives_the_records_of_the_cli_pipe(api, cli):
    ((name, options),) = api.items()
    records = getattr(curate.read([DOCS, STDLIB]), name)(**options)
    got = lines_of(records)
    result = run_curate(*cli, DOCS, STDLIB)
    assert result.returncode == 0, result.stderr
    assert got == result.stdout
    assert got  # the comparison saw records
    assert [s["stage"] for s in records.stats] == [name]
    assert records.stats[0]["records_out"] == got.count(b"\n")


def test_a_chain_gives_the_records_of_the_piped_commands():
    recs = curate.read(STDLIB).filter(min_chars=200).tag().redact().dedup_exact()
    shell = (
        f"curate filter --min-chars 200 {STDLIB} | curate tag | curate redact | curate dedup exact"
    )
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", shell], capture_output=True, env=curate_env()
    )
    assert result.returncode == 0, result.stderr
    assert lines_of(recs) == result.stdout
    assert [s["stage"] for s in recs.stats] == ["filter", "tag", "redact", "dedup_exact"]


def test_a_stage_on_a_plain_list_of_dicts():
    docs = [
        {"id": "1", "text": "Contact me at jane.doe@corp-mail.net please"},
        {"id": "2", "text": "short"},
        {"id": "3", "text": "Contact me at jane.doe@corp-mail.net please"},
    ]
    out = curate.read(docs).filter(min_chars=10).redact().dedup_exact().to_list()
    assert out == [
        {
            "id": "1",
            "text": "Contact me at <EMAIL> please",
            "meta": {"pii": {"email": 1}},
        }
    ]
    assert docs[0]["text"] == "Contact me at jane.doe@corp-mail.net please"  # inputs untouched


def test_the_text_field_and_bad_records_in_memory():
    docs = [{"key": "a", "content": "x" * 30}, {"key": "b"}]
    recs = curate.read(docs, text_field="content", id_field="key").filter(min_chars=20)
    with pytest.raises(curate.CurateError, match=r"<records>:2: missing text field 'content'"):
        recs.to_list()
    skipped = curate.read(docs, text_field="content", on_error="skip").filter(min_chars=20)
    assert [r["key"] for r in skipped] == ["a"]
    assert skipped.errors == 1


def test_bad_input_in_a_file_raises_with_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"id": "1", "text": "fine text here"}\n{"id": 2, "text": \n')
    with pytest.raises(curate.InputError) as info:
        curate.read(path).to_list()
    assert str(info.value) == f"{path}:2: invalid JSON: unexpected end of data at column 19"


def test_bad_options_fail_at_the_call():
    with pytest.raises(curate.ConfigError, match="^filter: min_char: unknown key"):
        curate.read(DOCS).filter(min_char=3)
    with pytest.raises(curate.UsageError, match="unknown stage 'dedupe'"):
        curate.read(DOCS).apply("dedupe")


def test_write_from_files_equals_curate_run(tmp_path, monkeypatch):
    """Records read from files are written by `curate run` of the same pipeline."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.chdir(tmp_path)
    version = (
        curate.read(DOCS)
        .filter(min_chars=200)
        .tag()
        .write("api-out", shard_records=20, name="docs", version="1")
    )
    assert version.records_out == version.manifest["totals"]["records_out"] > 0
    assert [s["stage"] for s in version.manifest["stages"]] == ["filter", "tag"]
    (tmp_path / "p.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "docs",
                "version": "1",
                "inputs": [DOCS],
                "stages": [{"filter": {"min_chars": 200}}, {"tag": {}}],
                "output": {"dir": "cli-out", "shard_records": 20},
            }
        )
    )
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    result = run_curate("run", "-q", "p.yaml", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert shards(tmp_path / "api-out") == shards(tmp_path / "cli-out")
    assert curate.verify("api-out")["ok"]
    assert [r["id"] for r in version.read()] == [
        orjson.loads(x)["id"]
        for x in run_curate("cat", "cli-out", cwd=tmp_path).stdout.splitlines()
    ]


def test_write_from_memory_is_a_verifiable_version(tmp_path):
    docs = [{"id": str(i), "text": "w " * i} for i in range(50)]  # 2i characters
    version = curate.read(docs).filter(max_chars=60).write(tmp_path / "v", name="mem")
    assert version.manifest["totals"] == {
        "records_in": 50,
        "records_out": 31,
        "rejected": 19,
        "errors": 0,
        "empty_lines": 0,
    }
    assert version.manifest["stages"] == [
        {
            "stage": "filter",
            "records_in": 50,
            "records_out": 31,
            "dropped": {"too_long": 19},
            "errors": 0,
        }
    ]
    assert curate.verify(tmp_path / "v")["checked"] >= 2
    assert [r["id"] for r in version.read()] == [str(i) for i in range(31)]
    result = run_curate("verify", str(tmp_path / "v"))
    assert result.returncode == 0, result.stderr


def test_run_of_a_dict_equals_the_yaml_run_byte_for_byte(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.chdir(tmp_path)
    config = yaml.safe_load((ROOT / "pipeline.yaml").read_text())
    config["inputs"] = [str(FIXTURES / "*.jsonl*")]
    config["stages"][1]["optout"]["registry"] = REGISTRY
    config["output"]["dir"] = "out"
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    assert run_curate("run", "-q", "p.yaml", cwd=tmp_path, env=env).returncode == 0
    from_yaml = files_of(tmp_path / "out")
    run = curate.run(config, overwrite=True)
    assert run.path == tmp_path / "out"
    assert run.violations == []
    # opt-out runs first, whatever its place in the list (nothing sees opted-out records)
    assert [s["stage"] for s in run.stats] == [
        "optout",
        "filter",
        "tag",
        "langid",
        "license",
        "redact",
        "dedup_exact",
        "dedup_near",
    ]
    assert files_of(tmp_path / "out") == from_yaml
    assert len(from_yaml) > 5


def test_verify_and_diff(tmp_path):
    docs = [{"id": str(i), "text": f"text {i} " * 10} for i in range(30)]
    a = curate.read(docs).write(tmp_path / "a")
    b = curate.read(docs).filter(max_chars=60).write(tmp_path / "b")
    changes = curate.diff(a.path, b.path, ids=True)
    assert changes["records"]["removed"] == 30 - b.records_out
    shard = next((tmp_path / "a").glob("part-*.jsonl.zst"))
    shard.write_bytes(shard.read_bytes() + b"x")
    with pytest.raises(curate.CurateError, match=r"altered: part-00000\.jsonl\.zst"):
        curate.verify(tmp_path / "a")
    assert curate.verify(tmp_path / "a", check=False)["ok"] is False


def test_the_api_is_listed_and_documented():
    assert set(dir(curate)) >= {"read", "run", "verify", "diff", "Records", "Version"}
    assert set(curate.stage_names()) <= set(dir(curate.Records))
    for name in curate.stage_names():
        assert getattr(curate.Records, name).__doc__
    assert "curate.read(" in curate.__doc__


def shards(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("part-*"))
    }


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file of a version but the timings (run.json) and the page built from them."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in ("run.json", "report.html")
    }
