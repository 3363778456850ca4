"""Throughput of render + prepare + featurize on one data set with each engine: the local process pool at 1 and
2 workers and a Dask LocalCluster at 1 and 2 workers; the engine's overhead per shard (cluster against pool at
the same worker count, start-up included and not); bytes moved per shard; and an estimate, from those figures,
of a 100x data set on a 64-worker cluster.

    .venv/bin/python benchmarks/scaling.py [--notes-per-octave 4] [--notes-per-shard 8]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pitchpipe.config import featurize_config, prepare_config, render_config  # noqa: E402
from pitchpipe.data.featurize import run_featurize  # noqa: E402
from pitchpipe.data.prepare import run_prepare  # noqa: E402
from pitchpipe.data.render import run_render  # noqa: E402
from pitchpipe.parallel import SCHEDULER_ENV  # noqa: E402


def params_for(programs_per_octave: int, notes_per_shard: int) -> dict:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params = copy.deepcopy(params)
    params["render"].update(programs_per_octave=programs_per_octave, detunes_per_note=1, notes_per_shard=notes_per_shard)
    return params


def three_stages(params: dict, out: Path, workers: int) -> dict[str, float]:
    """Seconds of each stage, in order."""
    seconds = {}
    for name, run in (("render", lambda: run_render(render_config(params), out / "rendered", workers=workers)),
                      ("prepare", lambda: run_prepare(prepare_config(params), out / "rendered", out / "clips", workers=workers)),
                      ("featurize", lambda: run_featurize(featurize_config(params), [out / "clips"], out / "features",
                                                          workers=workers))):
        start = time.perf_counter()
        run()
        seconds[name] = time.perf_counter() - start
    return seconds


def digest(folder: Path) -> str:
    sha = hashlib.sha256()
    for path in sorted(folder.rglob("*.parquet")):
        sha.update(path.name.encode() + path.read_bytes())
    return sha.hexdigest()


def cluster_start_seconds(workers: int) -> float:
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            client.run(os.getpid)
            return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes-per-octave", type=int, default=4, help="GM programs per octave (render)")
    parser.add_argument("--notes-per-shard", type=int, default=8)
    args = parser.parse_args()
    params = params_for(args.notes_per_octave, args.notes_per_shard)
    notes = len(render_config(params).velocities) * 12 * 6 * args.notes_per_octave
    shards = -(-notes // args.notes_per_shard)
    print(f"{notes} notes in {shards} render shards of {args.notes_per_shard}; {os.cpu_count()} cores")
    rows, digests = {}, set()
    with tempfile.TemporaryDirectory() as work:
        for engine, workers in (("pool", 1), ("pool", 2), ("dask", 1), ("dask", 2)):
            out = Path(work) / f"{engine}-{workers}"
            if engine == "dask":
                os.environ[SCHEDULER_ENV] = f"local:{workers}"
            else:
                os.environ.pop(SCHEDULER_ENV, None)
            start = time.perf_counter()
            stages = three_stages(params, out, workers)
            rows[(engine, workers)] = (time.perf_counter() - start, stages)
            digests.add(tuple(digest(out / name) for name in ("rendered", "clips", "features")))
            shard_bytes = sum(p.stat().st_size for p in (out / "rendered").glob("*.parquet")) / shards
        os.environ.pop(SCHEDULER_ENV, None)
        start_up = {workers: cluster_start_seconds(workers) for workers in (1, 2)}
    print(f"\n{'engine':<8}{'workers':>8}{'seconds':>10}{'notes/s':>10}   render / prepare / featurize (s)")
    for (engine, workers), (total, stages) in rows.items():
        print(f"{engine:<8}{workers:>8}{total:>10.1f}{notes / total:>10.1f}   "
              + " / ".join(f"{seconds:.1f}" for seconds in stages.values()))
    print(f"\nsame bytes from every engine and worker count: {len(digests) == 1}")
    tasks = 3 * shards  # one task per shard per stage (prepare and featurize: one per render shard, per split)
    for workers in (1, 2):
        extra = rows[("dask", workers)][0] - rows[("pool", workers)][0]
        per_shard = 1000 * (extra - 3 * start_up[workers]) / tasks
        print(f"dask at {workers} worker(s): {extra:+.1f} s against the pool, of which cluster start-up "
              f"{start_up[workers]:.1f} s per stage; {per_shard:+.0f} ms per task beyond it")
    seconds_per_task = rows[("pool", 1)][0] / tasks
    overhead = max(0.0, (rows[("dask", 2)][0] - rows[("pool", 2)][0] - 3 * start_up[2]) / tasks * 2)  # per task, per worker
    print(f"\nper task on one core: {1000 * seconds_per_task:.0f} ms; a rendered shard is {shard_bytes / 2**20:.2f} MiB, "
          "written by the worker to the shared workspace, never moved through the client")
    hundred = 100 * tasks
    estimate = hundred * (seconds_per_task + overhead) / 64 + 3 * start_up[2]
    print(f"estimate, 100x these notes on 64 single-core workers: {hundred:,} tasks of {1000 * seconds_per_task:.0f} ms "
          f"+ {1000 * overhead:.0f} ms engine overhead each, about {estimate / 60:.1f} min for the three stages, if the "
          f"shared file system takes {64 * shard_bytes / (seconds_per_task + overhead) / 2**20:.0f} MiB/s of render "
          "output; larger shards (render.notes_per_shard) shrink the overhead's share")

if __name__ == "__main__":
    main()
