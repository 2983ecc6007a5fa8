"""A `curate write` killed mid-shard leaves no file under a final shard name that is incomplete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import orjson
import zstandard

from tests.conftest import BIN, curate_env

PRODUCER = r"""
import sys, time
i = 0
while True:
    sys.stdout.write('{"id": "r%d", "text": "%s"}\n' % (i, "x" * 200))
    i += 1
    if i % 100 == 0:
        sys.stdout.flush()
        time.sleep(0.01)
"""


def test_kill_mid_shard_leaves_only_complete_shards(tmp_path):
    out = tmp_path / "out"
    producer = subprocess.Popen([sys.executable, "-c", PRODUCER], stdout=subprocess.PIPE)
    writer = subprocess.Popen(
        [str(BIN / "curate"), "write", str(out), "--shard-records", "1000"],
        stdin=producer.stdout,
        env=curate_env(),
        stderr=subprocess.PIPE,
    )
    producer.stdout.close()
    try:
        deadline = time.monotonic() + 60
        # wait until two shards are final and a third is being written
        while time.monotonic() < deadline:
            names = os.listdir(out) if out.exists() else []
            finals = [n for n in names if n.startswith("part-")]
            temps = [n for n in names if n.endswith(".tmp")]
            if len(finals) >= 2 and temps:
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"writer made no progress: {names}")
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    finally:
        producer.kill()
        producer.wait()
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == -signal.SIGKILL
    finals = sorted(n for n in os.listdir(out) if n.startswith("part-"))
    assert len(finals) >= 2
    expected_first = 0
    for name in finals:
        data = (out / name).read_bytes()
        # a final shard is one complete zstd frame holding exactly 1000 whole records
        dobj = zstandard.ZstdDecompressor().decompressobj()
        plain = dobj.decompress(data)
        assert dobj.eof, name
        records = [orjson.loads(line) for line in plain.splitlines()]
        assert len(records) == 1000
        assert records[0]["id"] == f"r{expected_first}"
        expected_first += 1000
    # whatever was in flight is only under a hidden temporary name
    assert all(n.startswith(".") and n.endswith(".tmp") for n in os.listdir(out) if n not in finals)
