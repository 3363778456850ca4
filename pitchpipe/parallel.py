"""Run per-shard work on all cores, or on a Dask cluster, with a progress line; results never depend on the worker
count or the engine."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import partial
from typing import Callable, Sequence

from pitchpipe.errors import DataError

WORKERS_ENV = "PITCHPIPE_WORKERS"


def default_workers() -> int:
    """Worker processes: $PITCHPIPE_WORKERS if set, else every core (a runtime knob, never a param)."""
    value = os.environ.get(WORKERS_ENV)
    if value is None:
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise DataError(f"{WORKERS_ENV}={value!r}: expected a positive integer")
    return int(value)


class Progress:
    """Counts items done: a tqdm bar (count, rate, ETA) on a terminal; in logs, where DVC captures the output, one
    summary line at the end and nothing else."""

    def __init__(self, label: str, total: int, unit: str = "clips", stream=None):
        from tqdm import tqdm

        self.label, self.unit, self.done = label, unit, 0
        self.stream = stream or sys.stderr
        live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.bar = tqdm(total=total, desc=label, unit=f" {unit}", file=self.stream, disable=not live, leave=False,
                        mininterval=0.2, dynamic_ncols=True)
        self.start = time.monotonic()

    def advance(self, count: int) -> None:
        self.done += count
        self.bar.update(count)

    def finish(self, extra: str = "") -> None:
        self.bar.close()
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        self.stream.write(f"{self.label}: {self.done} {self.unit} in {elapsed:.1f} s ({rate:.0f}/s){extra}\n")
        self.stream.flush()


def map_shards(function: Callable, tasks: Sequence, progress: Progress, count: Callable = len,
               workers: int | None = None) -> list:
    """Apply `function` to each task, results in task order: on a process pool of this machine, or on the Dask
    cluster that $PITCHPIPE_DASK_SCHEDULER names (`dask_map`). Either way the same bytes come out.

    `count(result)` says how many items a finished task contributes to the progress line.
    """
    address = os.environ.get(SCHEDULER_ENV)
    if address:
        return dask_map(address, function, tasks, progress, count)
    workers = min(workers or default_workers(), max(1, len(tasks)))
    results: list = [None] * len(tasks)
    if workers == 1:
        for index, task in enumerate(tasks):
            results[index] = function(task)
            progress.advance(count(results[index]))
        return results
    # forkserver, not fork: a forked worker inherits every lock of this process as it stood, and one held by another
    # thread (FluidSynth's, TensorFlow's, a logging handler's) deadlocks it for good
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        futures = {pool.submit(function, task): index for index, task in enumerate(tasks)}
        for future in as_completed(futures):
            index = futures[future]
            results[index] = future.result()
            progress.advance(count(results[index]))
    return results


SCHEDULER_ENV = "PITCHPIPE_DASK_SCHEDULER"
CONNECT_SECONDS = 10


def dask_client(address: str):
    """A Dask client for `address`: a running scheduler (`tcp://host:8786`), or `local:N` for a LocalCluster of N
    single-threaded worker processes on this machine, closed with the client. An unreachable scheduler is a
    DataError naming the address."""
    from distributed import Client, LocalCluster

    if address.startswith("local:"):
        size = address.split(":", 1)[1]
        if not size.isdigit() or int(size) < 1:
            raise DataError(f"{SCHEDULER_ENV}={address!r}: expected local:N with N worker processes, or a scheduler address")
        cluster = LocalCluster(n_workers=int(size), threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster, set_as_default=False)
    try:
        return Client(address, timeout=f"{CONNECT_SECONDS}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise DataError(f"{SCHEDULER_ENV}={address}: no Dask scheduler answers there ({type(error).__name__}: "
                        f"{str(error).splitlines()[0] if str(error) else 'no reply'})") from None


def _run_in(workspace: str, function: Callable, task):
    """A task on a Dask worker, in the client's working folder: the stages' paths are relative to it."""
    os.chdir(workspace)
    return function(task)


def check_engine() -> None:
    """Fail before any work when $PITCHPIPE_DASK_SCHEDULER names a scheduler that does not answer: a stage then
    stops before it clears its output folders."""
    address = os.environ.get(SCHEDULER_ENV)
    if address and not address.startswith("local:"):
        dask_client(address).close()


def dask_map(address: str, function: Callable, tasks: Sequence, progress: Progress, count: Callable) -> list:
    """`map_shards` on a Dask cluster. Workers write their shards themselves, straight into the stage's output
    folder, so they need this workspace on a shared file system (checked first): shards are tens of MB, and
    sending each back through the client would pass every byte through one process. A task whose worker dies
    is run again elsewhere (Dask's own retry); its shard names and seeds are its own, so the bytes do not change,
    and the retry clears the dead attempt's temporary file (`shards.write_atomic`)."""
    from distributed import as_completed as finished

    client = dask_client(address)
    try:
        workspace = os.getcwd()
        blind = [worker for worker, sees in client.run(os.path.isdir, workspace).items() if not sees]
        if blind:
            raise DataError(f"{SCHEDULER_ENV}={address}: worker {blind[0]} does not see {workspace}: Dask workers "
                            "write the shards, so they need the workspace on a shared file system")
        futures = client.map(partial(_run_in, workspace, function), list(tasks), pure=False)
        index_of = {future.key: index for index, future in enumerate(futures)}
        results: list = [None] * len(futures)
        for future in finished(futures, loop=client.loop):
            index = index_of[future.key]
            results[index] = future.result()
            progress.advance(count(results[index]))
        return results
    finally:
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()
