"""What a hostile review attacked: resume, leaks, duplicated keys, names, paths, globs, hangs.

Each test runs the real `curate` command as a careless user or a hostile input would.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from curate.io.decompress import decompress_all
from tests.conftest import BIN, FIXTURES, ROOT, curate_env, run_curate, run_shell
from tests.test_run import shard_bytes, write_pipeline


def _one_line_error(result: subprocess.CompletedProcess, code: int = 1) -> str:
    err = result.stderr.decode()
    assert result.returncode == code, err
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("curate: error: "), err
    return err


def _corpus(path: Path, n: int = 400, repo_every: int = 7) -> None:
    """Records of a few repositories, with exact duplicates, in one plain file."""
    with open(path, "wb") as fh:
        for i in range(n):
            repo = "victim/repo" if i % repo_every == 0 else f"owner{i % 5}/proj"
            text = f"record {i % 150} " + "lorem ipsum dolor sit amet " * 8
            meta = {"repo": repo, "path": f"src/m{i}.py"}
            fh.write(orjson.dumps({"id": f"r{i}", "text": text, "meta": meta}) + b"\n")


# ---- 1. resume verifies what it reuses ------------------------------------------------------


def _killed_run(tmp_path: Path, stages: str, point: str) -> subprocess.CompletedProcess:
    env = curate_env() | {"CURATE_KILL_AT": point, "SOURCE_DATE_EPOCH": "0"}
    return run_curate("run", "pipeline.yaml", "-q", "-w", "2", cwd=tmp_path, env=env)


def test_resume_refuses_a_changed_input_and_a_changed_registry(tmp_path):
    data = tmp_path / "data.jsonl"
    _corpus(data, 2000)
    registry = tmp_path / "optout.jsonl"
    registry.write_text('{"kind":"repo","value":"victim/other","added":"2026-11-01"}\n')
    stages = f"  - optout: {{registry: {registry}}}\n  - dedup_exact: {{}}\n"
    write_pipeline(tmp_path, inputs=[str(data)], stages=stages, chunk="16KB")
    killed = _killed_run(tmp_path, stages, "unit:3")
    assert killed.returncode == -9

    # a registry entry added between the kill and the resume
    registry.write_text(
        '{"kind":"repo","value":"victim/other","added":"2026-11-01"}\n'
        '{"kind":"repo","value":"victim/repo","added":"2026-11-02"}\n'
    )
    again = run_curate("run", "pipeline.yaml", "-q", "--resume", cwd=tmp_path)
    err = _one_line_error(again, 2)
    assert "cannot resume: optout.jsonl changed since the interrupted run" in err
    assert "--overwrite" in err

    # an input rewritten in place, same size and modification time
    registry.write_text('{"kind":"repo","value":"victim/other","added":"2026-11-01"}\n')
    stat = data.stat()
    original = data.read_bytes()
    data.write_bytes(original.replace(b"record 1 ", b"record 9 ", 1))
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = run_curate("run", "pipeline.yaml", "-q", "--resume", cwd=tmp_path)
    err = _one_line_error(again, 2)
    assert f"cannot resume: input {data} changed since the interrupted run" in err

    # --overwrite starts again and gives the uninterrupted bytes
    data.write_bytes(original)
    fresh = run_curate("run", "pipeline.yaml", "-q", "--overwrite", cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    assert run_curate("verify", str(tmp_path / "out")).returncode == 0


@pytest.mark.parametrize(
    "point",
    ["unit:1", "unit:4", "unit:9", "assembled", "manifest", "cleanup", "cleanup-file:3"],
)
def test_sigkill_anywhere_then_resume_gives_the_uninterrupted_bytes(tmp_path, point):
    data = tmp_path / "data.jsonl"
    _corpus(data, 1500)
    stages = "  - filter: {min_chars: 10}\n  - dedup_exact: {}\n  - tag: {}\n"
    write_pipeline(tmp_path, inputs=[str(data)], stages=stages, chunk="16KB")
    env = curate_env() | {"SOURCE_DATE_EPOCH": "0"}
    reference = run_curate("run", "pipeline.yaml", "-q", cwd=tmp_path, env=env)
    assert reference.returncode == 0, reference.stderr
    expected = shard_bytes(tmp_path / "out")
    manifest = (tmp_path / "out" / "manifest.json").read_bytes()
    (tmp_path / "out").rename(tmp_path / "reference")

    killed = _killed_run(tmp_path, stages, point)
    assert killed.returncode == -9
    resumed = run_curate("run", "pipeline.yaml", "-q", "--resume", cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stderr
    if point.startswith("cleanup"):
        assert resumed.stderr.decode() == (
            f"curate: {tmp_path / 'out'}: the dataset is complete; nothing to resume\n"
        )
    assert shard_bytes(tmp_path / "out") == expected
    assert (tmp_path / "out" / "manifest.json").read_bytes() == manifest
    verify = run_curate("verify", str(tmp_path / "out"))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")) == []


# ---- 2 and 3. nothing leaks: opted-out content and redacted values -------------------------

OPT_TOKENS = [f"optsecret{i:03d}zq" for i in range(12)]
PII_EMAILS = [f"leaky.person{i:03d}@mailcorp.org" for i in range(12)]
PII_KEYS = [f"AKIA{i:04d}QWERTZLEAKXY" for i in range(12)]


def _leaky_corpus(path: Path) -> None:
    lines = []
    for i in range(120):
        repo = "victim/repo" if i % 10 == 0 else f"owner{i % 4}/proj"
        k = i // 10
        body = "the quick brown fox jumps over the lazy dog " * 3
        if repo == "victim/repo":  # opted out: short ones, duplicates, all carry a token
            text = f"{OPT_TOKENS[k]} " + ("tiny" if k % 2 else body)
        elif i % 10 == 3:  # PII in the text and in another field
            text = f"contact {PII_EMAILS[k]} key {PII_KEYS[k]} " + ("x" if k % 2 else body)
        else:
            text = f"doc {i % 30} " + body
        meta = {"repo": repo, "path": f"src/f{i}.py"}
        if i % 10 == 3:
            meta["author_email"] = PII_EMAILS[k]
        lines.append(orjson.dumps({"id": f"r{i}", "text": text, "meta": meta}))
    # bad lines: an unparsable one of the opted-out repository, a parsable one missing its
    # text, with PII, a duplicated key hiding PII
    lines.append(
        b'{"id": "bad1", "meta": {"repo": "victim/repo"}, "text": "' + OPT_TOKENS[11].encode()
    )
    lines.append(b'{"id":"bad2","body":"mail ' + PII_EMAILS[11].encode() + b'"}')
    lines.append(
        b'{"id":"bad3","text":"' + PII_EMAILS[10].encode() + b'","text":"harmless","meta":{}}'
    )
    lines.append(
        b'{"id":"bad4","meta":{"repo":"victim/repo"},"body":"' + OPT_TOKENS[10].encode() + b'"}'
    )
    path.write_bytes(b"\n".join(lines) + b"\n")


def _all_bytes(folder: Path) -> list[tuple[Path, bytes]]:
    """Every file below a folder, decompressed where it is zstd or gzip."""
    out = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if data[:4] == b"\x28\xb5\x2f\xfd":
            data = decompress_all(data)
        elif data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        out.append((path, data))
    return out


ORDERS = {
    "filter first": ["filter", "optout", "redact", "dedup_exact", "dedup_near"],
    "optout last": ["filter", "redact", "dedup_exact", "dedup_near", "optout"],
    "dedup before optout": ["redact", "dedup_exact", "optout", "filter"],
    "redact then filter": ["redact", "filter", "optout", "dedup_near"],
    "optout between dedups": ["filter", "redact", "dedup_exact", "optout", "dedup_near"],
}


@pytest.mark.parametrize("on_error", ["quarantine", "skip", "fail"])
@pytest.mark.parametrize("order", sorted(ORDERS))
def test_no_file_a_run_writes_holds_opted_out_content_or_redacted_values(tmp_path, order, on_error):
    data = tmp_path / "data.jsonl"
    _leaky_corpus(data)
    registry = tmp_path / "optout.jsonl"
    registry.write_text('{"kind":"repo","value":"victim/repo","added":"2026-11-01"}\n')
    options = {
        "filter": "filter: {min_chars: 60}",
        "optout": f"optout: {{registry: {registry}}}",
        "redact": "redact: {fields: [meta.author_email]}",
        "dedup_exact": "dedup_exact: {}",
        "dedup_near": "dedup_near: {threshold: 0.7}",
    }
    stages = "".join(f"  - {options[name]}\n" for name in ORDERS[order])
    extra = f"on_error: {on_error}\n"
    if on_error == "quarantine":
        extra += f"quarantine: {tmp_path / 'q' / 'bad.jsonl'}\n"
        (tmp_path / "q").mkdir()
    write_pipeline(tmp_path, inputs=[str(data)], stages=stages, extra=extra, chunk="4KB")
    result = run_curate("run", "pipeline.yaml", "-q", cwd=tmp_path)
    if on_error == "fail":  # the first bad line fails the run after some units were written
        _one_line_error(result, 1)
    else:
        assert result.returncode == 0, result.stderr
    files = _all_bytes(tmp_path / "out") + (
        _all_bytes(tmp_path / "q") if on_error == "quarantine" else []
    )
    assert files
    tokens = [*OPT_TOKENS, *PII_EMAILS, *PII_KEYS, "person0", "QWERTZLEAK"]
    hits = [(p.name, t) for p, data in files for t in tokens if t.encode() in data]
    assert hits == []
    if on_error != "fail":
        log = [
            orjson.loads(x)
            for x in (tmp_path / "out" / "optout-log.jsonl").read_bytes().splitlines()
        ]
        assert {e["kind"] for e in log} == {"repo"}
        assert len([e for e in log if e["id"] and e["id"].startswith("r")]) == 12
        # bad4 lacks a text but is opted out before any stage needs one
        assert [e for e in log if e["id"] == "bad4"] == [
            {"id": "bad4", "kind": "repo", "ref": None}
        ]
        manifest = orjson.loads((tmp_path / "out" / "manifest.json").read_bytes())
        assert manifest["totals"]["errors"] == 3
        assert [s["dropped"] for s in manifest["stages"] if s["stage"] == "optout"] == [
            {"opted_out": 13}
        ]
        if on_error == "quarantine":  # the broken line of that repository: its proof only
            assert [e for e in log if e["id"] is None] == [
                {"id": None, "kind": "repo", "ref": None, "source": str(data), "line": 121}
            ]
    if on_error == "quarantine":
        kept = (tmp_path / "q" / "bad.jsonl").read_bytes().splitlines()
        assert len(kept) == 2  # bad2 and bad3, redacted; bad1 is withheld
        assert all(b"<EMAIL>" in line for line in kept)


def test_redact_after_a_global_stage_is_refused_at_load(tmp_path):
    stages = "  - dedup_exact: {}\n  - redact: {}\n"
    write_pipeline(tmp_path, inputs=[str(FIXTURES / "docs.jsonl")], stages=stages)
    err = _one_line_error(run_curate("validate", "pipeline.yaml", cwd=tmp_path), 2)
    assert err == (
        "curate: error: pipeline.yaml:6: stages[1].redact: must come before "
        "dedup_exact (stages[0]): a run stores records between passes, and none may be stored "
        "unredacted\n"
    )
    assert not (tmp_path / "out").exists()


def test_optout_runs_first_wherever_it_is_listed(tmp_path):
    registry = tmp_path / "optout.jsonl"
    registry.write_text('{"kind":"repo","value":"victim/repo","added":"2026-11-01"}\n')
    stages = f"  - filter: {{min_chars: 1}}\n  - optout: {{registry: {registry}}}\n"
    write_pipeline(tmp_path, inputs=[str(FIXTURES / "docs.jsonl")], stages=stages)
    result = run_curate("validate", "pipeline.yaml", cwd=tmp_path)
    assert result.stderr.decode().endswith("ok (2 stages: optout, filter)\n")


# ---- 3 and 13. one canonical reading of every line ------------------------------------------


def test_a_duplicated_key_is_a_located_error_or_canonicalised_on_request(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_bytes(
        b'{"id":"a","text":"fine","meta":{}}\n'
        b'{"id":"b","text":"mail me: someone@example.org","text":"harmless","meta":{}}\n'
    )
    err = _one_line_error(run_shell(f"cat {data} | curate redact"), 1)
    assert err == "curate: error: <stdin>:2: duplicate key 'text' in an object\n"
    canon = run_shell(f"curate cat --duplicate-keys last {data} | curate redact")
    assert canon.returncode == 0, canon.stderr
    assert canon.stdout.splitlines()[1] == b'{"id":"b","text":"harmless","meta":{}}'
    # the key spelled with an escape is the same key
    data.write_bytes(b'{"text":"x@corp.org","\\u0074ext":"y"}\n')
    err = _one_line_error(run_curate("count", str(data)), 1)
    assert err == f"curate: error: {data}:1: duplicate key 'text' in an object\n"


def test_integers_past_64_bits_survive_a_stage_that_edits_records(tmp_path):
    line = b'{"id":"a","text":"int main() { return 0; }","n":18446744073709551616,"f":0.10000000000000000001,"m":-9223372036854775809,"meta":{"path":"a.c"}}'
    out = subprocess.run(
        [str(BIN / "curate"), "tag"], input=line + b"\n", capture_output=True, env=curate_env()
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        b'{"id":"a","text":"int main() { return 0; }","n":18446744073709551616,'
        b'"f":0.10000000000000000001,"m":-9223372036854775809,'
        b'"meta":{"path":"a.c","language":"C","subset":"code"}}\n'
    )


# ---- 4. the card's configs load the manifest's records --------------------------------------


def test_the_readme_main_job_loads_with_datasets_and_pyarrow(tmp_path):
    import datasets
    import pyarrow.json as pj

    for name in ("pipeline.yaml",):
        (tmp_path / name).write_text((ROOT / name).read_text())
    (tmp_path / "fixtures").symlink_to(FIXTURES)
    result = run_curate("run", "pipeline.yaml", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out" / "tiny-corpus" / "2026.11.0"
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    total = manifest["totals"]["records_out"]
    assert list((out / "rejects").glob("part-*"))  # there is something to exclude
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    ds = datasets.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "hf"))
    assert ds.num_rows == total
    by_folder: dict[str, int] = {}
    for shard in manifest["shards"]:
        folder = shard["path"].split("/")[0]
        by_folder[folder] = by_folder.get(folder, 0) + shard["records"]
    for folder, count in by_folder.items():
        part = datasets.load_dataset(
            str(out), folder, split="train", cache_dir=str(tmp_path / "hf")
        )
        assert part.num_rows == count
    rows = sum(pj.read_json(out / s["path"]).num_rows for s in manifest["shards"])
    assert rows == total


def _readme_python_block(marker: str) -> str:
    text = (ROOT / "README.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    (block,) = [b for b in blocks if marker in b]
    return block


def test_the_readme_loading_snippet_runs_as_written_on_the_main_jobs_output(tmp_path):
    (tmp_path / "pipeline.yaml").write_text((ROOT / "pipeline.yaml").read_text())
    (tmp_path / "fixtures").symlink_to(FIXTURES)
    result = run_curate("run", "pipeline.yaml", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = orjson.loads(
        (tmp_path / "out" / "tiny-corpus" / "2026.11.0" / "manifest.json").read_bytes()
    )
    code = _readme_python_block("datasets.load_dataset")
    env = {"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    script = (
        "import os\n"
        f"os.environ.update({env!r})\n"
        f"{code}\n"
        "import json as _j\n"
        "print(_j.dumps([train.num_rows, code.num_rows, sum(t.num_rows for t in tables)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, env=curate_env()
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    total = manifest["totals"]["records_out"]
    in_code = sum(s["records"] for s in manifest["shards"] if s["path"].startswith("code/"))
    assert orjson.loads(done.stdout.splitlines()[-1]) == [total, in_code, total]


# ---- 5. split names ---------------------------------------------------------------------------


def test_split_values_never_take_reserved_folders_or_each_others(tmp_path):
    values = ["rejects", "indexes", "quarantine", "a/b", None, 1, "1", "code"]
    lines = [
        orjson.dumps({"id": f"r{i}", "text": "t", "meta": {"s": v}}) for i, v in enumerate(values)
    ]
    lines.insert(4, orjson.dumps({"id": "lit", "text": "t", "meta": {"s": "a_b-c14cddc0"}}))
    data = tmp_path / "d.jsonl"
    data.write_bytes(b"\n".join(lines) + b"\n")
    write = run_curate("write", str(tmp_path / "v"), str(data), "--split-by", "meta.s")
    assert write.returncode == 0, write.stderr
    folders = sorted(p.name for p in (tmp_path / "v").iterdir() if p.is_dir())
    assert folders == [
        "1",
        "1-8087455f",
        "__missing__",
        "a_b-c14cddc0",
        "a_b-c14cddc0-10ed7bd6",
        "code",
        "indexes-8729ca25",
        "quarantine-c2d66755",
        "rejects-22f56333",
    ]
    assert run_curate("verify", str(tmp_path / "v")).returncode == 0


# ---- 7. globs are linear ------------------------------------------------------------------------


def test_a_pathological_glob_does_not_stall_the_pipeline(tmp_path):
    registry = tmp_path / "optout.jsonl"
    glob = "victim/repo:" + "**/" * 8 + "*.zz"
    registry.write_bytes(
        orjson.dumps({"kind": "path_glob", "value": glob, "added": "2026-11-01"}) + b"\n"
    )
    deep = "/".join(["d"] * 80) + "/file.zy"
    lines = [
        orjson.dumps({"id": f"r{i}", "text": "t", "meta": {"repo": "victim/repo", "path": deep}})
        for i in range(300)
    ]
    lines.append(
        orjson.dumps(
            {"id": "hit", "text": "t", "meta": {"repo": "victim/repo", "path": "a/b/c.zz"}}
        )
    )
    data = tmp_path / "d.jsonl"
    data.write_bytes(b"\n".join(lines) + b"\n")
    started = time.monotonic()
    out = run_curate("optout", "--registry", str(registry), str(data), timeout=60)
    assert time.monotonic() - started < 20
    assert out.returncode == 0, out.stderr
    assert out.stdout.count(b"\n") == 300
    rules = tmp_path / "subsets.yaml"
    rules.write_text(
        "default: other\nsubsets:\n  - name: zz\n    when: {field: meta.path, glob: '"
        + "**/" * 8
        + "*.zz'}\n"
    )
    started = time.monotonic()
    tagged = run_curate("tag", "--rules", str(rules), str(data), timeout=60)
    assert time.monotonic() - started < 20
    assert tagged.returncode == 0, tagged.stderr
    assert tagged.stdout.count(b'"subset":"zz"') == 1


# ---- 8. manifests do not depend on where the project sits ---------------------------------------


def test_rebuilds_in_another_folder_give_the_same_manifest(tmp_path):
    manifests = []
    for where in ("a", "b/c/d"):
        folder = tmp_path / where
        folder.mkdir(parents=True)
        (folder / "data.jsonl").write_bytes((FIXTURES / "docs.jsonl").read_bytes())
        write_pipeline(folder, inputs=["data.jsonl"], stages="  - tag: {}\n  - redact: {}\n")
        env = curate_env() | {"SOURCE_DATE_EPOCH": "0"}
        assert run_curate("run", "pipeline.yaml", "-q", cwd=folder, env=env).returncode == 0
        manifests.append((folder / "out" / "manifest.json").read_bytes())
    assert manifests[0] == manifests[1]
    paths = [r["path"] for r in orjson.loads(manifests[0])["resources"]]
    assert paths == [
        "curate:rules/languages.yaml",
        "curate:rules/pii.yaml",
        "curate:rules/subsets.yaml",
    ]


# ---- 9. argument mistakes never destroy data ------------------------------------------------------


def test_writes_never_destroy_their_inputs_or_unrelated_files(tmp_path):
    data = tmp_path / "data.jsonl"
    data.write_bytes((FIXTURES / "docs.jsonl").read_bytes())
    before = data.read_bytes()
    v1 = tmp_path / "v1"
    assert run_curate("write", str(v1), str(data)).returncode == 0
    shards = shard_bytes(v1)
    err = _one_line_error(run_curate("write", str(v1), "--overwrite", str(v1)), 2)
    assert err.startswith(f"curate: error: input {v1}/part-00000.jsonl.zst is inside the output")
    assert shard_bytes(v1) == shards
    err = _one_line_error(
        run_curate("cat", "--on-error", "quarantine", "--quarantine", str(data), str(data)), 2
    )
    assert err == f"curate: error: --quarantine {data}: is also an input\n"
    assert data.read_bytes() == before
    other = tmp_path / "photos"
    other.mkdir()
    (other / "holiday.jpg").write_bytes(b"\xff\xd8")
    err = _one_line_error(run_curate("write", str(other), "--overwrite", str(data)), 2)
    assert "holds files but no curate dataset (manifest.json); refusing to delete them" in err
    assert (other / "holiday.jpg").read_bytes() == b"\xff\xd8"


# ---- 10. escapes and exhaustion ----------------------------------------------------------------------


def _pipeline(folder: Path, head: str, tail: str = "") -> Path:
    text = head + f"inputs: [{FIXTURES / 'docs.jsonl'}]\n" + (tail or "output: {dir: out}\n")
    path = folder / "p.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("head", "tail", "expected"),
    [
        ('name: "../../x"\nversion: "1"\n', "", "p.yaml:1: name: must be a folder name"),
        ('name: x\nversion: "a/../../b"\n', "", "p.yaml:2: version: must be a folder name"),
        (
            'name: x\nversion: "1"\n',
            "output: {dir: 'o/{nam}'}\n",
            "p.yaml:4: output.dir: invalid placeholder ('nam')",
        ),
        (
            'name: x\nversion: "1"\n',
            "output: {dir: 'o/{0}'}\n",
            "p.yaml:4: output.dir: invalid placeholder",
        ),
        (
            'name: x\nversion: "1"\n',
            'output: {dir: "o/\\0"}\n',
            "p.yaml:4: output.dir: contains a NUL",
        ),
        (
            'name: x\nversion: "1"\n',
            "output: {dir: o}\nexecutor: {workers: 100000}\n",
            "p.yaml:5: executor.workers: ",
        ),
    ],
)
def test_names_paths_and_worker_counts_are_checked_at_load(tmp_path, head, tail, expected):
    path = _pipeline(tmp_path, head, tail)
    err = _one_line_error(run_curate("validate", str(path), cwd=tmp_path), 2)
    assert f"curate: error: {tmp_path}/{expected}" in err


def test_yaml_aliases_are_bounded(tmp_path):
    levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i, name in enumerate("bcdefgh"):
        prev = "abcdefg"[i]
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    laugh = tmp_path / "laugh.yaml"
    laugh.write_text("\n".join(levels) + "\n")
    started = time.monotonic()
    err = _one_line_error(run_curate("validate", str(laugh)), 2)
    assert time.monotonic() - started < 10
    assert (
        err
        == f"curate: error: {laugh}:1: invalid YAML: expands to more than 200,000 values (aliases?)\n"
    )
    rec = tmp_path / "rec.yaml"
    rec.write_text("a: &a\n  b: *a\n")
    err = _one_line_error(run_curate("validate", str(rec)), 2)
    assert err == f"curate: error: {rec}:1: invalid YAML: an alias refers to itself\n"


def test_a_manifest_cannot_point_outside_its_dataset(tmp_path):
    v = tmp_path / "v"
    assert run_curate("write", str(v), str(FIXTURES / "docs.jsonl")).returncode == 0
    secret = tmp_path / "secret.jsonl"
    secret.write_text('{"id":"s","text":"outside"}\n')
    manifest = orjson.loads((v / "manifest.json").read_bytes())
    manifest["shards"][0]["path"] = "../secret.jsonl"
    (v / "manifest.json").write_bytes(orjson.dumps(manifest))
    for command in (["cat", str(v)], ["verify", str(v)], ["diff", str(v), str(v)]):
        result = run_curate(*command)
        err = _one_line_error(result, 1)
        assert "file path '../secret.jsonl' is outside the dataset folder" in err
        assert b"outside" not in result.stdout


def test_a_symlink_loop_under_a_glob_reads_each_file_once(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.jsonl").write_bytes(b'{"id":"a","text":"x"}\n')
    (tmp_path / "d" / "loop").symlink_to(tmp_path / "d")
    out = run_curate("count", str(tmp_path / "d" / "**" / "*.jsonl"))
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"1\n"


# ---- 11. one-line errors instead of tracebacks ---------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("curate count <&-", "curate: error: <stdin>: standard input is closed\n"),
        (
            f"curate cat {FIXTURES}/docs.jsonl >&-",
            "curate: error: standard output is closed (redirect it to a file or a pipe)\n",
        ),
        (
            f"curate cat {FIXTURES}/docs.jsonl > /dev/full",
            "curate: error: <stdout>: write failed (No space left on device)\n",
        ),
        (
            "ln -sf loop loop && curate cat loop",
            "curate: error: loop: Too many levels of symbolic links\n",
        ),
        (
            "mkdir -p rules.d && curate tag --rules rules.d </dev/null",
            "curate: error: rules.d: is a folder, not a file\n",
        ),
        (
            f"curate cat --on-error quarantine --quarantine nowhere/bad.jsonl {FIXTURES}/docs.jsonl",
            "curate: error: --quarantine nowhere/bad.jsonl: folder nowhere does not exist\n",
        ),
    ],
)
def test_stream_and_path_mistakes_are_one_line_errors(tmp_path, command, expected):
    result = run_shell(command, cwd=tmp_path)
    assert "Traceback" not in result.stderr.decode()
    assert result.stderr.decode() == expected
    assert result.returncode in (1, 2)


def test_deep_nesting_is_a_located_error_and_stats_survive_deep_meta(tmp_path):
    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"id":"a","text":"x","meta":' + '{"a":' * 400 + "1" + "}" * 400 + "}\n")
    err = _one_line_error(run_curate("stats", str(deep)), 1)
    assert err == f"curate: error: {deep}:1: JSON nested deeper than 254 levels\n"
    ok = tmp_path / "ok.jsonl"
    ok.write_text('{"id":"a","text":"x","meta":' + '{"a":' * 200 + "1" + "}" * 200 + "}\n")
    assert run_curate("stats", "--json", str(ok)).returncode == 0


def test_two_runs_on_one_output_folder_one_is_refused(tmp_path):
    data = tmp_path / "data.jsonl"
    _corpus(data, 30000)
    write_pipeline(tmp_path, inputs=[str(data)], stages="  - dedup_near: {}\n", chunk="16KB")
    first = subprocess.Popen(
        [str(BIN / "curate"), "run", "pipeline.yaml", "-q"],
        cwd=tmp_path,
        env=curate_env(),
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "out" / ".curate-work").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    second = run_curate("run", "pipeline.yaml", "-q", "--resume", cwd=tmp_path)
    assert first.wait(120) == 0, first.stderr.read()
    err = _one_line_error(second, 2)
    assert (
        err
        == f"curate: error: {tmp_path / 'out'}: another curate process is writing this folder (wait for it to end)\n"
    )
    assert run_curate("verify", str(tmp_path / "out")).returncode == 0


def test_optout_rewrite_of_a_manifest_without_pipeline(tmp_path):
    v1 = tmp_path / "v1"
    assert run_curate("write", str(v1), str(FIXTURES / "stdlib.jsonl.zst")).returncode == 0
    manifest = orjson.loads((v1 / "manifest.json").read_bytes())
    del manifest["pipeline"]
    (v1 / "manifest.json").write_bytes(orjson.dumps(manifest))
    registry = FIXTURES / "registry" / "optout.jsonl"
    result = run_curate(
        "optout", "--registry", str(registry), "--rewrite", str(v1), "--out", str(tmp_path / "v2")
    )
    assert result.returncode == 0, result.stderr
    assert run_curate("verify", str(tmp_path / "v2")).returncode == 0


# ---- 12. a closed pipe ends near dedup promptly, under load --------------------------------------


def test_a_closed_pipe_ends_near_dedup_promptly_under_cpu_load(tmp_path):
    data = tmp_path / "big.jsonl"
    _corpus(data, 20000)
    burners = [subprocess.Popen(["python3", "-c", "while True: pass"]) for _ in range(2)]
    try:
        for _ in range(5):
            started = time.monotonic()
            result = run_shell(f"curate cat {data} | curate dedup near | head -n 1", timeout=60)
            assert result.returncode == 0, result.stderr
            assert result.stdout.count(b"\n") == 1
            assert b"Traceback" not in result.stderr
            assert time.monotonic() - started < 45
    finally:
        for burner in burners:
            burner.kill()


def test_redact_covers_other_fields_and_pipes_screen_their_quarantine(tmp_path):
    line = b'{"id":"a","text":"x","meta":{"author_email":"jane.doe@corp-mail.org"}}\n'
    out = subprocess.run(
        [str(BIN / "curate"), "redact", "--field", "meta.author_email"],
        input=line,
        capture_output=True,
        env=curate_env(),
    )
    assert out.stdout == (
        b'{"id":"a","text":"x","meta":{"author_email":"<EMAIL>","pii":{"email":1}}}\n'
    )
    registry = tmp_path / "optout.jsonl"
    registry.write_text('{"kind":"repo","value":"victim/repo","added":"2026-11-01"}\n')
    data = tmp_path / "d.jsonl"
    data.write_bytes(
        b'{"id":"a","text":"ok","meta":{"repo":"x/y"}}\n'
        b'{"id":"b","meta":{"repo":"victim/repo"},"text":"cut off\n'
        b'{"id":"c","text":"mail jane.doe@corp-mail.org", "text": "dup"}\n'
    )
    q = tmp_path / "q.jsonl"
    log = tmp_path / "log.jsonl"
    result = run_curate(
        "optout",
        "--registry",
        str(registry),
        "--log",
        str(log),
        "--on-error",
        "quarantine",
        "--quarantine",
        str(q),
        str(data),
    )
    assert result.returncode == 0, result.stderr
    assert q.read_bytes() == b'{"id":"c","text":"mail jane.doe@corp-mail.org", "text": "dup"}\n'
    assert orjson.loads(log.read_bytes()) == {
        "id": None,
        "kind": "repo",
        "ref": None,
        "source": str(data),
        "line": 2,
    }
    result = run_curate("redact", "--on-error", "quarantine", "--quarantine", str(q), str(data))
    assert result.returncode == 0, result.stderr
    assert q.read_bytes() == (
        b'{"id":"b","meta":{"repo":"victim/repo"},"text":"cut off\n'
        b'{"id":"c","text":"mail <EMAIL>","text":"dup"}\n'
    )
