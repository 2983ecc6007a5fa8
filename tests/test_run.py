"""`curate run`: determinism across worker counts, resume after SIGKILL, rejects, invariants."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import orjson
import pytest

from curate.io.decompress import decompress_all
from tests.conftest import BIN, FIXTURES, curate_env, run_curate, run_shell


def write_pipeline(
    folder: Path,
    *,
    inputs: list[str],
    stages: str,
    extra: str = "",
    chunk: str = "64KB",
    rejects: bool = True,
    out: str = "out",
) -> Path:
    text = f"""\
name: t
version: "1"
inputs: {orjson.dumps(inputs).decode()}
stages:
{stages}
output:
  dir: {out}
  rejects: {str(rejects).lower()}
  shard_records: 150
executor: {{workers: 1, chunk_size: {chunk}}}
{extra}"""
    path = folder / "pipeline.yaml"
    path.write_text(text)
    return path


def read_dataset(folder: Path, sub: str = "") -> list[bytes]:
    lines: list[bytes] = []
    base = folder / sub if sub else folder
    for shard in sorted(base.glob("part-*.jsonl.zst")):
        data = decompress_all(shard.read_bytes())
        lines.extend(data.splitlines())
    return lines


def shard_bytes(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*.jsonl.zst"))
    }


FIXTURE_INPUTS = [str(FIXTURES / "*.jsonl*")]
STAGES = "  - filter: {min_chars: 200}\n  - filter: {where_not: ['meta.source=mirror']}\n"


def test_one_and_two_workers_give_identical_bytes(tmp_path):
    write_pipeline(tmp_path, inputs=FIXTURE_INPUTS, stages=STAGES, chunk="16KB")
    one = run_curate("run", "pipeline.yaml", "--workers", "1", "--quiet", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    first = shard_bytes(tmp_path / "out")
    (tmp_path / "out").rename(tmp_path / "out1")
    two = run_curate("run", "pipeline.yaml", "--workers", "2", "--quiet", cwd=tmp_path)
    assert two.returncode == 0, two.stderr
    second = shard_bytes(tmp_path / "out")
    assert first == second
    assert len([k for k in first if not k.startswith("rejects/")]) >= 2  # really several shards


def test_records_in_equal_out_plus_rejects_plus_errors(tmp_path):
    inputs = FIXTURE_INPUTS + [
        str(FIXTURES / "broken" / n)
        for n in ("bad_json.jsonl", "not_object.jsonl", "missing_text.jsonl")
    ]
    write_pipeline(tmp_path, inputs=inputs, stages=STAGES, extra="on_error: skip\n")
    result = run_curate("run", "pipeline.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = read_dataset(tmp_path / "out")
    rejects = read_dataset(tmp_path / "out", "rejects")
    input_lines = 358 + 4 + 3 + 3
    errors = 3  # one bad JSON line, one array, one record without text
    assert len(out) + len(rejects) + errors == input_lines
    reasons = sorted(
        {
            (r["meta"]["rejected"]["stage"], r["meta"]["rejected"]["reason"])
            for r in map(orjson.loads, rejects)
        }
    )
    assert reasons == [("filter", "too_short"), ("filter", "where_not:meta.source")]
    summary = result.stderr.decode()
    assert f"{input_lines} records in, {len(out)} out" in summary
    assert "3 bad lines" in summary


def test_pipe_and_yaml_filter_give_identical_output(tmp_path):
    write_pipeline(
        tmp_path, inputs=FIXTURE_INPUTS, stages="  - filter: {min_chars: 20}\n", rejects=False
    )
    assert run_curate("run", "pipeline.yaml", "-q", cwd=tmp_path).returncode == 0
    piped = run_shell("curate cat fixtures/*.jsonl* | curate filter --min-chars 20")
    assert piped.returncode == 0
    assert b"\n".join(read_dataset(tmp_path / "out")) + b"\n" == piped.stdout


def test_quarantine_in_run(tmp_path):
    inputs = [
        str(FIXTURES / "broken" / "bad_json.jsonl"),
        str(FIXTURES / "broken" / "bad_utf8.jsonl"),
    ]
    write_pipeline(
        tmp_path,
        inputs=inputs,
        stages="  - filter: {min_chars: 1}\n",
        extra="on_error: quarantine\n",
    )
    result = run_curate("run", "pipeline.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    bad = (tmp_path / "out" / "quarantine" / "bad-lines.jsonl").read_bytes().splitlines()
    assert bad == [b'{"id": "r3", "text": "unterminated', b'{"id": "r2", "text": "caf\xe9"}']
    assert len(read_dataset(tmp_path / "out")) == 5


def test_fail_policy_stops_with_file_and_line(tmp_path):
    inputs = FIXTURE_INPUTS + [str(FIXTURES / "broken" / "not_object.jsonl")]
    write_pipeline(tmp_path, inputs=inputs, stages=STAGES)
    result = run_curate("run", "pipeline.yaml", "--workers", "2", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.decode().endswith(
        "not_object.jsonl:2: expected a JSON object, got an array\n"
    )


def test_non_empty_output_needs_resume(tmp_path):
    write_pipeline(tmp_path, inputs=FIXTURE_INPUTS, stages=STAGES)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "something").write_text("x")
    result = run_curate("run", "pipeline.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.decode() == (
        f"curate: error: {tmp_path / 'out'}: output folder is not empty "
        "(remove it, choose another output.dir, or --overwrite a curate dataset)\n"
    )


def _slow_corpus(path: Path, n: int = 6000) -> None:
    rng = random.Random(5)
    words = [f"w{i}" for i in range(400)]
    with open(path, "wb") as fh:
        for i in range(n):
            text = " ".join(rng.choice(words) for _ in range(300))
            fh.write(orjson.dumps({"id": f"d{i}", "text": text}) + b"\n")


@pytest.mark.parametrize("kill_in_pass", [0, 1])
def test_sigkill_then_resume_equals_uninterrupted_run(tmp_path, kill_in_pass):
    data = tmp_path / "data.jsonl"
    _slow_corpus(data)
    # a backtracking-heavy condition keeps each unit busy long enough to be killed mid-way;
    # with a global stage in between, the run has two passes, and the kill lands in either
    slow = "  - filter: {where_not: ['text~(\\\\w+) (\\\\w+) \\\\2 \\\\1 zz']}\n"
    stages = slow + "  - dedup_exact: {}\n" + slow + "  - filter: {min_chars: 1700}\n"
    write_pipeline(tmp_path, inputs=[str(data)], stages=stages, chunk="32KB")
    reference = run_curate(
        "run", "pipeline.yaml", "-q", "--workers", "2", cwd=tmp_path, timeout=600
    )
    assert reference.returncode == 0, reference.stderr
    expected = shard_bytes(tmp_path / "out")
    (tmp_path / "out").rename(tmp_path / "reference")

    proc = subprocess.Popen(
        [str(BIN / "curate"), "run", "pipeline.yaml", "-q", "--workers", "2"],
        cwd=tmp_path,
        env=curate_env(),
        stderr=subprocess.PIPE,
    )
    seg = tmp_path / "out" / ".curate-work" / f"seg{kill_in_pass}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = list(seg.glob("*.done.json")) if seg.exists() else []
        if len(done) >= 5:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL  # killed, not finished
    finished_before = len(list(seg.glob("*.done.json")))
    assert finished_before >= 5
    assert not (tmp_path / "out" / "manifest.json").exists()

    again = run_curate("run", "pipeline.yaml", "-q", cwd=tmp_path)
    assert again.returncode == 2
    assert b"add --resume to finish it" in again.stderr

    resumed = run_curate(
        "run", "pipeline.yaml", "--resume", "--workers", "2", cwd=tmp_path, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr
    assert b"resumed (" in resumed.stderr
    assert shard_bytes(tmp_path / "out") == expected
    assert not (tmp_path / "out" / ".curate-work").exists()


CHAINS = {
    "shipped order": [
        ("filter: {min_chars: 200}", "filter --min-chars 200"),
        ("optout: {registry: REGISTRY}", "optout --registry REGISTRY"),
        ("tag: {}", "tag"),
        ("redact: {}", "redact"),
        ("dedup_exact: {}", "dedup exact"),
        ("dedup_near: {}", "dedup near"),
    ],
    "global stages first": [
        ("dedup_near: {}", "dedup near"),
        ("dedup_exact: {normalize: whitespace}", "dedup exact --normalize whitespace"),
        ("tag: {}", "tag"),
    ],
    "stages after a dedup": [
        ("tag: {}", "tag"),
        ("dedup_near: {threshold: 0.7}", "dedup near --threshold 0.7"),
        ("filter: {min_chars: 200}", "filter --min-chars 200"),
        ("filter: {where_not: ['meta.subset=license']}", "filter --where-not meta.subset=license"),
    ],
}


@pytest.mark.parametrize("chain", sorted(CHAINS))
def test_a_chain_of_stages_gives_the_same_records_piped_and_run(tmp_path, chain):
    registry = str(FIXTURES / "registry" / "optout.jsonl")
    stages = "".join(f"  - {yaml.replace('REGISTRY', registry)}\n" for yaml, _ in CHAINS[chain])
    pipe = " | ".join(
        ["curate cat fixtures/*.jsonl*"]
        + [f"curate {cli.replace('REGISTRY', registry)}" for _, cli in CHAINS[chain]]
    )
    piped = run_shell(pipe)
    assert piped.returncode == 0, piped.stderr
    outputs = []
    for workers in ("1", "2"):
        out = f"out{workers}"
        write_pipeline(
            tmp_path, inputs=FIXTURE_INPUTS, stages=stages, chunk="64KB", rejects=False, out=out
        )
        run = run_curate("run", "pipeline.yaml", "-q", "-w", workers, cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        lines = read_dataset(tmp_path / out)
        assert 0 < len(lines) < 358  # the chain kept some records and dropped others
        assert b"\n".join(lines) + b"\n" == piped.stdout  # same records, same bytes, same order
        manifest = orjson.loads((tmp_path / out / "manifest.json").read_bytes())
        assert manifest["composition"]["records"] == len(lines)
        outputs.append(shard_bytes(tmp_path / out))
    assert outputs[0] == outputs[1]
