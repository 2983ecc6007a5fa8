"""The scale-out run: units planned from cheap boundaries, read and written by workers,
global stages reduced partition by partition. Same bytes for any worker count and memory."""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import zstandard

from curate.executors.plan import plan_units, read_unit
from curate.io.sources import Source
from tests.conftest import curate_env, run_curate, run_shell

WORDS = [f"w{i}" for i in range(3000)]


def _corpus(path: Path, seed: int = 7, docs: int = 240) -> None:
    """Distinct texts, exact copies, near copies and chains A~B~C, shuffled."""
    rng = random.Random(seed)
    texts = []
    for _ in range(docs):
        words = [rng.choice(WORDS) for _ in range(100)]
        texts.append(" ".join(words))
        roll = rng.random()
        if roll < 0.2:
            texts.append(" ".join(words))
        elif roll < 0.45:
            b = list(words)
            b[rng.randrange(100)] = "near"
            c = list(b)
            c[rng.randrange(100)] = "chain"
            texts += [" ".join(b), " ".join(c)]
    rng.shuffle(texts)
    path.write_bytes(
        b"".join(orjson.dumps({"id": f"d{i}", "text": t}) + b"\n" for i, t in enumerate(texts))
    )


def _pipeline(tmp: Path, name: str, workers: int, memory: str) -> Path:
    config = tmp / name / "p.yaml"
    config.parent.mkdir()
    config.write_text(
        f"""name: scale
version: v1
inputs: [{tmp / "in.jsonl"}]
stages:
  - dedup_exact: {{}}
  - dedup_near: {{}}
output: {{dir: out, rejects: true}}
executor: {{workers: {workers}, chunk_size: 8KB, memory: {memory}}}
"""
    )
    return config


def _dataset_files(out: Path) -> dict[str, bytes]:
    """Every file but run.json and report.html (timings, the worker count)."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name not in ("run.json", "report.html")
    }


def test_same_bytes_for_pipe_one_and_three_workers_and_a_tiny_memory_budget(tmp_path):
    _corpus(tmp_path / "in.jsonl")
    outputs = {}
    for name, workers, memory in [("one", 1, "512MB"), ("three", 3, "512MB"), ("tiny", 3, "2KB")]:
        config = _pipeline(tmp_path, name, workers, memory)
        env = {**curate_env(), "SOURCE_DATE_EPOCH": "1767225600"}  # the manifest's date
        done = run_curate("run", str(config), "--quiet", env=env)
        assert done.returncode == 0, done.stderr.decode()
        outputs[name] = _dataset_files(config.parent / "out")
    assert outputs["one"] == outputs["three"] == outputs["tiny"]
    assert sum(name.startswith("part-") for name in outputs["one"]) > 3  # many units
    piped = run_shell(
        f"curate cat {tmp_path / 'in.jsonl'} | curate dedup exact | curate dedup near",
        cwd=tmp_path,
    )
    assert piped.returncode == 0, piped.stderr.decode()
    run_records = run_curate("cat", str(tmp_path / "one" / "out")).stdout
    assert run_records == piped.stdout
    lines = (tmp_path / "in.jsonl").read_bytes().count(b"\n")
    assert 0 < run_records.count(b"\n") < lines - 50  # exact and near copies went


def test_units_across_plain_ranges_and_zstd_frames_hold_the_file_lines(tmp_path):
    _corpus(tmp_path / "in.jsonl", seed=3, docs=60)
    data = (tmp_path / "in.jsonl").read_bytes()
    lines = data.split(b"\n")[:-1]
    frames = tmp_path / "in.jsonl.zst"
    cctx = zstandard.ZstdCompressor()

    joined = b"\n".join(lines) + b"\n"
    step = max(len(joined) // 7, 1)
    blob = b"".join(cctx.compress(joined[i : i + step]) for i in range(0, len(joined), step))
    frames.write_bytes(blob)
    for path in (tmp_path / "in.jsonl", frames):
        for chunk in (300, 1000, 4096, 1 << 20):
            units, _inputs = plan_units([Source(path.name, str(path))], chunk)
            got = [line for unit in units for line in read_unit(unit).lines]
            assert got == lines, (path.name, chunk, len(units))
        assert len(plan_units([Source(path.name, str(path))], 300)[0]) > 1


def _sized_corpus(path: Path, docs: int) -> None:
    """`docs` records of ~1.2 KB of distinct words, every tenth an exact copy of an earlier one."""
    rng = random.Random(docs)
    text = ""
    with open(path, "wb") as fh:
        for i in range(docs):
            if i % 10 != 9:  # else: the record before it again
                text = " ".join(rng.choice(WORDS) for _ in range(200))
            fh.write(orjson.dumps({"id": f"d{i}", "text": text}) + b"\n")


def _driver_peak(tmp: Path, name: str, docs: int, *run_args: str) -> tuple[int, int]:
    folder = tmp / name
    folder.mkdir()
    _sized_corpus(folder / "in.jsonl", docs)
    (folder / "p.yaml").write_text(
        """name: grow
version: v1
inputs: [in.jsonl]
stages:
  - filter: {min_chars: 20}
  - dedup_exact: {}
  - dedup_near: {}
output: {dir: out, rejects: true}
executor: {workers: 2, chunk_size: 1MB}
"""
    )
    done = run_curate("run", str(folder / "p.yaml"), "--quiet", *run_args, timeout=600)
    assert done.returncode == 0, done.stderr.decode()
    info = orjson.loads((folder / "out" / "run.json").read_bytes())
    return info["driver_peak_rss_bytes"], (folder / "in.jsonl").stat().st_size


def test_the_drivers_peak_memory_stays_flat_when_the_input_grows_four_times(tmp_path):
    small_peak, small_bytes = _driver_peak(tmp_path, "small", 12_000)
    large_peak, large_bytes = _driver_peak(tmp_path, "large", 48_000)
    grown = large_bytes - small_bytes
    assert grown > 32 << 20  # the input grew by tens of MB...
    # ...and the driver, which never holds texts or keys, by a small fraction of that
    assert large_peak - small_peak < grown // 4, (small_peak, large_peak, grown)


def test_a_shard_curate_writes_is_framed_so_a_later_run_splits_it(tmp_path):
    from curate.executors.plan import zstd_frames
    from curate.io.writer import FRAME_BYTES

    rng = random.Random(1)
    lines = [
        orjson.dumps({"id": f"d{i}", "text": " ".join(rng.choice(WORDS) for _ in range(300))})
        for i in range(int(2.5 * FRAME_BYTES) // 1700)
    ]
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    done = run_curate("write", str(tmp_path / "v"), str(tmp_path / "in.jsonl"))
    assert done.returncode == 0, done.stderr
    shard = tmp_path / "v" / "part-00000.jsonl.zst"
    assert len(zstd_frames(str(shard), shard.stat().st_size)) == 3  # one shard, three frames
    units, _ = plan_units([Source(shard.name, str(shard))], FRAME_BYTES // 2)
    assert len(units) >= 2
    assert [line for unit in units for line in read_unit(unit).lines] == lines
