"""The package's layers (README, Architecture) import one way only: checked by import-linter."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LINT = [
    sys.executable,
    "-c",
    "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
]


def lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [*LINT, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=300,
    )


def test_the_layers_hold():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Layers: each imports only the ones below it KEPT" in result.stdout


def test_a_wrong_way_import_breaks_the_check(tmp_path):
    shutil.copytree(
        ROOT / "curate", tmp_path / "curate", ignore=shutil.ignore_patterns("*.so", "__pycache__")
    )
    errors = tmp_path / "curate" / "core" / "errors.py"
    errors.write_text(errors.read_text() + "\nfrom curate.versions.manifest import build  # noqa\n")
    result = lint(tmp_path)
    assert result.returncode == 1
    assert "curate.core is not allowed to import curate.versions" in result.stdout
