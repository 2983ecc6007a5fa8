"""Shared test helpers: run the real `curate` command, through real pipes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Ray on loopback only: with this, Ray resolves "this node" to 127.0.0.1 instead of the
# machine's interface address (a Linux cluster's default), for the test clusters and every
# driver the tests start
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
BIN = Path(sys.executable).parent


def curate_env() -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("SOURCE_DATE_EPOCH", None)
    return env


def run_curate(
    *args: str,
    input: bytes | None = None,
    cwd: Path | None = None,
    env: dict | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    """Run `curate ARGS` as a user would; returns the completed process (bytes out/err)."""
    return subprocess.run(
        [str(BIN / "curate"), *args],
        input=input,
        capture_output=True,
        cwd=cwd or ROOT,
        env=env or curate_env(),
        timeout=timeout,
    )


def run_shell(
    command: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run a shell pipeline (bash, pipefail) with the test environment's `curate` on PATH."""
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        capture_output=True,
        cwd=cwd or ROOT,
        env=env or curate_env(),
        timeout=timeout,
    )


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def ray_address() -> str:
    """One local Ray (2 CPUs, loopback only) shared by every test that needs one: its GCS
    address, for `curate run --executor ray --address ...` in a subprocess."""
    import logging

    os.environ.setdefault("RAY_AUTH_MODE", "token")  # read when Ray is imported
    import ray

    context = ray.init(
        num_cpus=2,
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=False,
        object_store_memory=128 << 20,
        _node_ip_address="127.0.0.1",
    )
    yield context.address_info["gcs_address"]
    ray.shutdown()
