"""Shared test helpers: run the real `curate` command, through real pipes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
