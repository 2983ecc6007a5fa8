"""`curate validate`: every invalid pipeline gives `file:line: key.path: problem` and exit 2."""

from __future__ import annotations

import textwrap

import pytest

from curate.stages import stage_names
from tests.conftest import run_curate

GOOD = """\
name: t
version: "1"
inputs: [data.jsonl]
stages:
  - filter: {min_chars: 20}
output:
  dir: out
"""


def check(tmp_path, text: str) -> tuple[int, str]:
    path = tmp_path / "pipeline.yaml"
    path.write_text(textwrap.dedent(text))
    (tmp_path / "data.jsonl").write_text('{"id":"a","text":"x"}\n')
    result = run_curate("validate", "pipeline.yaml", cwd=tmp_path)
    return result.returncode, result.stderr.decode()


def test_valid_pipeline(tmp_path):
    code, err = check(tmp_path, GOOD)
    assert (code, err) == (0, "pipeline.yaml: ok (1 stage: filter)\n")


@pytest.mark.parametrize(
    "text, message",
    [
        (
            GOOD.replace("  - filter: {min_chars: 20}", "  - filter: {min_chars: [20"),
            "pipeline.yaml:6: invalid YAML: ",
        ),
        (
            GOOD.replace("filter: {min_chars: 20}", "nope: {}"),
            f"pipeline.yaml:5: stages[0].nope: unknown stage 'nope' (known: {', '.join(stage_names())})",
        ),
        (
            GOOD.replace("min_chars: 20", "min_chars: -1"),
            "pipeline.yaml:5: stages[0].filter.min_chars: must be >= 0",
        ),
        (
            GOOD.replace("min_chars: 20", "min_char: 20"),
            "pipeline.yaml:5: stages[0].filter.min_char: unknown key",
        ),
        (
            GOOD.replace("min_chars: 20", "where: ['text~(unclosed']"),
            "pipeline.yaml:5: stages[0].filter.where: invalid regex '(unclosed': missing ) at position 9",
        ),
        (
            GOOD.replace("  - filter: {min_chars: 20}", "  - filter"),
            "pipeline.yaml:5: stages[0]: expected a mapping with one stage name, e.g. '- filter: {min_chars: 20}'",
        ),
        (
            GOOD.replace("output:\n  dir: out\n", ""),
            "pipeline.yaml:1: output: required key is missing",
        ),
        (
            GOOD + "executor: {workers: two}\n",
            "pipeline.yaml:8: executor.workers: expected an integer",
        ),
        (
            GOOD + "executor: {type: spark}\n",
            "pipeline.yaml:8: executor.type: expected one of local",
        ),
        (
            GOOD + "on_error: explode\n",
            "pipeline.yaml:8: on_error: expected one of fail, skip, quarantine",
        ),
        (
            GOOD + "  shard_size: lots\n",
            "pipeline.yaml:8: output.shard_size: invalid size 'lots' (expected e.g. 64MB, 1GB, 512MiB)",
        ),
        (GOOD + "colour: blue\n", "pipeline.yaml:8: colour: unknown key"),
        (
            GOOD.replace("inputs: [data.jsonl]", "inputs: []"),
            "pipeline.yaml:3: inputs: must have at least 1 item(s)",
        ),
        (
            GOOD + "expect:\n  max_drop_rate: {filtre: 0.1}\n",
            "pipeline.yaml:9: expect.max_drop_rate.filtre: no stage 'filtre' in this pipeline (stages: filter)",
        ),
        (
            GOOD + "expect:\n  max_drop_rate: {filter: 5}\n",
            "pipeline.yaml:9: expect.max_drop_rate.filter: expected a share from 0 to 1",
        ),
        (
            "- just\n- a list\n",
            "pipeline.yaml:1: expected a mapping at the top level (name, version, inputs, stages, output)",
        ),
    ],
)
def test_invalid_pipeline_messages(tmp_path, text, message):
    code, err = check(tmp_path, text)
    assert code == 2
    assert err.startswith(f"curate: error: {message}"), err
    assert err.count("\n") == 1


def test_missing_pipeline_file(tmp_path):
    result = run_curate("validate", "nope.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == b"curate: error: nope.yaml: no such file\n"


def test_yaml_is_loaded_safely(tmp_path):
    code, err = check(tmp_path, GOOD + "x: !!python/object/apply:os.system ['echo hacked']\n")
    assert code == 2
    assert (
        err
        == "curate: error: pipeline.yaml:8: invalid YAML: unsupported tag tag:yaml.org,2002:python/object/apply:os.system\n"
    )


@pytest.mark.parametrize(
    "change, message",
    [
        (
            ("inputs: [data.jsonl]", "inputs: [data.jsonl, 'raw/*.jsonl.zst']"),
            "pipeline.yaml:3: inputs[1]: no input file matches",
        ),
        (
            ("inputs: [data.jsonl]", "inputs: [missing.jsonl]"),
            "pipeline.yaml:3: inputs[0]: no such file: missing.jsonl",
        ),
        (
            ("inputs: [data.jsonl]", "parent: old/v1\ninputs: [data.jsonl]"),
            "pipeline.yaml:3: parent: old/v1: not a curate dataset (no manifest.json)",
        ),
    ],
)
def test_run_time_mistakes_are_found_at_load(tmp_path, change, message):
    code, err = check(tmp_path, GOOD.replace(*change))
    assert code == 2
    assert err.startswith(f"curate: error: {message}"), err


def test_progress_names_what_each_pass_runs(tmp_path):
    from curate.config.pipeline import load_pipeline
    from curate.executors.local import describe_pass
    from curate.executors.units import plan_segments

    text = GOOD.replace(
        "  - filter: {min_chars: 20}",
        "  - filter: {min_chars: 20}\n  - dedup_exact: {}\n  - tag: {}\n  - dedup_near: {}",
    )
    check(tmp_path, text)
    segments = plan_segments(load_pipeline(tmp_path / "pipeline.yaml").stages)
    assert [describe_pass(segments, k) for k in range(len(segments))] == [
        "pass 1/3: filter, dedup_exact keys",
        "pass 2/3: dedup_exact decisions, tag, dedup_near keys",
        "pass 3/3: dedup_near decisions",
    ]
