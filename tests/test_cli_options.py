"""Stage commands are generated from the config models: every key an option, same defaults."""

from __future__ import annotations

import click
import pytest

from curate.cli import app
from curate.cli.lazy_group import DedupGroup, RootGroup
from curate.cli.stage_options import build_command, config_keys, option_name
from curate.stages import get_stage_class, stage_names
from tests.conftest import run_curate

COMMANDS = {**RootGroup.lazy, **{f"dedup {k}": v for k, v in DedupGroup.lazy.items()}}
COMMON = {"inputs", "text_field", "id_field", "compress", "on_error", "quarantine", "verbose"}


def test_every_stage_has_a_command():
    assert sorted(spec.stage for spec in COMMANDS.values()) == stage_names()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_config_key_is_an_option_with_its_default(command):
    spec = COMMANDS[command]
    model = get_stage_class(spec.stage).Config
    cmd = build_command(spec)
    options = {p.opts[0]: p for p in cmd.params if isinstance(p, click.Option) and p.opts}
    keys = config_keys(model)
    own = {p.name for p in cmd.params} - {k.replace(".", "__") for k in keys} - COMMON
    # every key is an option named after it...
    for key, default in keys.items():
        name = option_name(tuple(key.split(".")))
        assert name in options, f"{command}: no {name} for config key {key}"
        param = options[name]
        shown = param.default
        if param.multiple:
            required = default is None  # a list the stage cannot do without (decontaminate's)
            assert not shown and (
                default == [] or required or param.show_default == ", ".join(default)
            )
        elif isinstance(default, dict) or key.endswith("keep"):
            assert shown is None and param.show_default  # a YAML value, default shown
        elif isinstance(default, tuple):
            assert tuple(shown) == default
        else:
            assert shown == default, f"{command} {name}: {shown!r} != {default!r}"
        assert param.help, f"{command} {name} has no help"
    # ...and every other option is the command's own (not a stage setting)
    assert own <= {"log", "rewrite", "out", "dataset_version"}, own


def test_option_errors_name_the_option():
    result = run_curate("redact", "--drop-min-secrets", "-1", input=b"")
    assert result.returncode == 2
    assert result.stderr == b"curate: error: redact: --drop-if-min-secrets: must be >= 1\n"
    result = run_curate("dedup", "near", "--num-perm", "4", input=b"")
    assert result.stderr == b"curate: error: dedup_near: --num-perm: must be >= 8\n"


def test_keys_only_yaml_had_reach_the_command_line(tmp_path):
    data = b'{"id": "1", "text": "Hello there"}\n{"id": "2", "text": "hello there"}\n'
    result = run_curate("dedup", "exact", "--keep", "first", "--normalize", "lower", input=data)
    assert result.stdout == b'{"id": "1", "text": "Hello there"}\n'
    result = run_curate(
        "tag", "--no-detect-language", input=b'{"id":"1","text":"x","meta":{"path":"a.py"}}\n'
    )
    assert result.returncode == 0, result.stderr
    assert b'"language"' not in result.stdout
    bad = run_curate("dedup", "exact", "--keep", "{prefer: [", input=data)
    assert bad.returncode == 2
    assert bad.stderr.startswith(b"curate: error: Invalid value for '--keep': not YAML")


def test_typos_get_one_suggestion():
    result = run_curate("tagg")
    assert (
        result.stderr
        == b"curate: error: No such command 'tagg'. Did you mean 'tag'? (see 'curate --help')\n"
    )
    result = run_curate("dedup")
    assert result.returncode == 2
    assert (
        result.stderr.splitlines()[-1]
        == b"curate: error: missing command (see 'curate dedup --help')"
    )


def test_yaml_key_typos_get_the_closest_key(tmp_path):
    (tmp_path / "p.yaml").write_text(
        "name: t\nversion: '1'\ninputs: [x.jsonl]\nstages:\n  - filter: {min_char: 3}\n"
        "output: {dir: out}\n"
    )
    (tmp_path / "x.jsonl").write_text("")
    result = run_curate("validate", "p.yaml", cwd=tmp_path)
    assert result.stderr == (
        b"curate: error: p.yaml:5: stages[0].filter.min_char: unknown key "
        b"(did you mean 'min_chars'?)\n"
    )


def test_help_lists_choices_and_stage_names():
    assert b"[none|zstd]" in run_curate("cat", "--help").stdout
    text = run_curate("run", "--help").stdout.decode()
    for name in stage_names():
        assert name in text, name
    assert app


def test_starting_the_cli_imports_no_stage():
    """Stage commands are built on first use: `curate cat` does not pay for detect-secrets,
    numpy or scancode."""
    import subprocess
    import sys

    code = (
        "import sys; from curate.cli import app; "
        "print(sorted(m for m in sys.modules if m.startswith('curate.stages')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
