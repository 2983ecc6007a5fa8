"""The Ray executor against the local one on the 1M-record scale corpus, with a projection.

For near dedup and the shipped pipeline (`pipeline.yaml`'s stages, minus the license stage),
on the corpus `scale.py` builds: `curate run` with the local executor (2 forked workers), then
the same run on a Ray cluster started for it on this machine (`ray start --head --num-cpus 2`,
loopback only; the cluster's start is not timed: a cluster is up before runs are submitted).
Reports wall time, CPU, peak RSS of the largest process (driver, workers, Ray's daemons) and
the driver's own peak (`run.json`), each step's wall and task seconds, whether the outputs
are byte-identical (every file but `run.json`), and the Ray overhead.

Then a projection of throughput against node count, from the Ray run's steps: a step of
tasks takes max(task seconds / cores, its longest task) on `nodes x 2` cores; driver steps
(planning, assembling) and single-task steps (near dedup's components, the index) do not
shrink. It says which steps stay serial.

    python benchmarks/ray.py [--records 1000000] [--only near,pipeline]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
from _tree import TreeUsage, run_tree
from scale import STAGES, build

CURATE = [sys.executable, "-m", "curate"]
RAY = str(Path(sys.executable).parent / "ray")
PORT = 6391
CORES_PER_NODE = 2


def _files(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name not in ("run.json", "report.html")
    }


def _raylets() -> list[int]:
    found = subprocess.run(["pgrep", "-f", "raylet|gcs_server"], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def _start_ray(env: dict) -> None:
    subprocess.run(
        [RAY, "start", "--head", f"--port={PORT}", f"--num-cpus={CORES_PER_NODE}"]
        + ["--node-ip-address=127.0.0.1", "--include-dashboard=false", "--disable-usage-stats"],
        env=env,
        check=True,
        capture_output=True,
        cwd="/",
    )


def _stop_ray(env: dict) -> None:
    subprocess.run([RAY, "stop", "--force"], env=env, capture_output=True, cwd="/")


def _row(name: str, u: TreeUsage, info: dict, records: int) -> str:
    driver = info["driver_peak_rss_bytes"] / 2**20
    return (
        f"| {name} | {u.seconds:.1f} s | {u.cpu_percent:.0f}% | {u.peak_rss_mb:.0f} MB "
        f"| {driver:.0f} MB | {records / u.seconds:,.0f} |"
    )


def _steps(info: dict) -> list[str]:
    rows = []
    for s in info["steps"]:
        tasks = s.get("tasks")
        rows.append(
            f"| {s['step']} | {s['wall']:.2f} s | {tasks if tasks is not None else '-'} "
            f"| {s.get('task_seconds', s['wall']):.2f} s | {s.get('longest_task', s['wall']):.2f} s |"
        )
    return rows


def project(info: dict, records: int) -> list[str]:
    """Projected wall time and records/s for 1..64 nodes of CORES_PER_NODE cores."""
    rows = []
    for nodes in (1, 2, 4, 8, 16, 32, 64):
        cores = nodes * CORES_PER_NODE
        total = 0.0
        for s in info["steps"]:
            if "tasks" not in s:  # the driver's own work
                total += s["wall"]
            else:
                total += max(s["task_seconds"] / cores, s["longest_task"])
        rows.append(f"| {nodes} | {cores} | {total:.1f} s | {records / total:,.0f} |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--only", default="near,pipeline")
    args = ap.parse_args()
    root = Path(__file__).resolve().parent.parent
    paths = build(args.records)
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0",  # Ray on loopback only
        RAY_AUTH_MODE="token",
        SOURCE_DATE_EPOCH="1767225600",  # the manifest's date: equal runs, equal bytes
    )
    work = Path(tempfile.mkdtemp(prefix="curate-ray-"))
    try:
        for job in args.only.split(","):
            outs, infos, usage = {}, {}, {}
            for executor in ("local", "ray"):
                # the same pipeline file in two folders: only the executor differs
                folder = work / f"{job}-{executor}"
                folder.mkdir()
                out = folder / "out"
                yaml = folder / "pipeline.yaml"
                yaml.write_text(
                    f"name: scale-{job}\nversion: '1'\ninputs: [{', '.join(map(str, paths))}]\n"
                    f"stages:\n{STAGES[job].replace('%(root)s', str(root))}"
                    "output: {dir: out}\nexecutor: {type: local, workers: 2}\n"
                )
                cmd = [*CURATE, "run", str(yaml), "-q"]
                if executor == "ray":
                    _start_ray(env)
                    cmd += ["--executor", "ray", "--address", f"127.0.0.1:{PORT}"]
                try:
                    # from the repository root: run from benchmarks/, `python -m` would take
                    # this file for the ray package
                    usage[executor] = run_tree(cmd, cwd=str(root), env=env, extra_roots=_raylets())
                finally:
                    if executor == "ray":
                        _stop_ray(env)
                infos[executor] = orjson.loads((out / "run.json").read_bytes())
                outs[executor] = out
            files = {e: _files(o) for e, o in outs.items()}
            same = files["local"] == files["ray"]
            if not same:
                names = set(files["local"]) | set(files["ray"])
                differ = sorted(n for n in names if files["local"].get(n) != files["ray"].get(n))
                print(f"files that differ: {differ[:20]}")
            print(f"\n### {job}: {args.records:,} records\n")
            print("| executor | wall | CPU | peak RSS (largest) | driver peak | records/s |")
            print("|---|---:|---:|---:|---:|---:|")
            for executor in ("local", "ray"):
                print(_row(executor, usage[executor], infos[executor], args.records))
            overhead = usage["ray"].seconds / usage["local"].seconds - 1
            print(f"\nRay overhead: **{overhead:+.0%}**; byte-identical output: **{same}**\n")
            for executor in ("local", "ray"):
                print(f"{executor} steps:\n")
                print("| step | wall | tasks | task seconds | longest task |")
                print("|---|---:|---:|---:|---:|")
                print("\n".join(_steps(infos[executor])) + "\n")
            print(f"Projection from the Ray run ({CORES_PER_NODE} cores a node):\n")
            print("| nodes | cores | wall | records/s |")
            print("|---:|---:|---:|---:|")
            print("\n".join(project(infos["ray"], args.records)), flush=True)
            for out in outs.values():
                shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
