"""Run per-shard work on all cores with a progress line; results never depend on the worker count."""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Iterable, Sequence

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
               workers: int | None = None, initializer: Callable | None = None, initargs: Iterable = ()) -> list:
    """Apply `function` to each task on a process pool; results come back in task order.

    `count(result)` says how many items a finished task contributes to the progress line.
    """
    workers = min(workers or default_workers(), max(1, len(tasks)))
    results: list = [None] * len(tasks)
    if workers == 1:
        if initializer:
            initializer(*initargs)
        for index, task in enumerate(tasks):
            results[index] = function(task)
            progress.advance(count(results[index]))
        return results
    with ProcessPoolExecutor(max_workers=workers, initializer=initializer, initargs=tuple(initargs)) as pool:
        futures = {pool.submit(function, task): index for index, task in enumerate(tasks)}
        for future in as_completed(futures):
            index = futures[future]
            results[index] = future.result()
            progress.advance(count(results[index]))
    return results
