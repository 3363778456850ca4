"""Spectrogram shards → batches for Keras, in memory when they fit, streamed shard by shard when not."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import keras

from pitchpipe.errors import DataError
from pitchpipe.featurize import FEATURE_COLUMN
from pitchpipe.seeding import rng
from pitchpipe.shards import column_shape, list_shards, read_array, read_shard, shard_rows, shard_schema

MEMORY_BUDGET_ENV = "PITCHPIPE_MEMORY_BUDGET_MB"


def feature_shape(folder: str | Path) -> tuple[int, ...]:
    shards = list_shards(folder)
    if not shards:
        raise DataError(f"{folder}: no feature shards")
    return column_shape(shard_schema(shards[0]), FEATURE_COLUMN)


def kept_rows(table: pa.Table, exclude: dict[str, str] | None) -> np.ndarray:
    """Indices of the rows whose columns match none of `exclude` ({column: value to leave out})."""
    keep = np.ones(table.num_rows, dtype=bool)
    for column, value in (exclude or {}).items():
        keep &= table.column(column).to_numpy(zero_copy_only=False) != value
    return np.flatnonzero(keep)


def load_split(folder: str | Path, columns=("f0_hz",), exclude: dict[str, str] | None = None
               ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """All spectrograms of a split (float16 as stored) and the requested label columns, less `exclude`d rows."""
    tables = []
    for path in list_shards(folder):
        table = read_shard(path, columns=list(dict.fromkeys([FEATURE_COLUMN, *columns, *(exclude or {})])))
        tables.append(table.take(kept_rows(table, exclude)))
    tables = [t for t in tables if t.num_rows]
    if not tables:
        raise DataError(f"{folder}: no rows" + (f" left after excluding {exclude}" if exclude else ""))
    features = np.concatenate([read_array(t, FEATURE_COLUMN) for t in tables])
    labels = {c: np.concatenate([t.column(c).to_numpy(zero_copy_only=False) for t in tables]) for c in columns}
    return features, labels


def fits_in_memory(folder: str | Path) -> bool:
    budget = float(os.environ.get(MEMORY_BUDGET_ENV, 8192)) * 2 ** 20
    shards = list_shards(folder)
    rows = sum(shard_rows(p) for p in shards)
    bytes_per_row = 2 * int(np.prod(feature_shape(folder)))
    return rows * bytes_per_row <= budget


class ShardBatches(keras.utils.PyDataset):
    """Seeded shuffled batches of (spectrogram, target) from a split folder.

    In memory: rows are shuffled across the whole split every epoch. Streamed: shard order and the
    rows inside each shard are shuffled every epoch, and only one shard is held at a time.
    """

    def __init__(self, folder: str | Path, batch_size: int, encode: Callable[[np.ndarray], np.ndarray], seed: int,
                 shuffle: bool = True, in_memory: bool | None = None, first_epoch: int = 0,
                 exclude: dict[str, str] | None = None):
        super().__init__()
        self.folder, self.batch_size, self.encode, self.seed, self.shuffle = Path(folder), batch_size, encode, seed, shuffle
        self.exclude = exclude
        self.rows = {path: kept_rows(read_shard(path, columns=list(exclude)), exclude) if exclude
                     else np.arange(shard_rows(path)) for path in list_shards(folder)}
        self.shards = [path for path, rows in self.rows.items() if len(rows)]
        self.in_memory = fits_in_memory(folder) if in_memory is None else in_memory
        self.epoch = first_epoch  # a resumed run shuffles its epochs as the uninterrupted run would have
        if self.in_memory:
            self.features, labels = load_split(folder, exclude=exclude)
            self.targets = encode(labels["f0_hz"])
        self._cached: tuple[Path, np.ndarray, np.ndarray] | None = None
        self._plan()

    def _plan(self) -> None:
        """The batches of this epoch: (shard or None, row indices)."""
        order = rng(self.seed, "batches", self.epoch)
        self.batches: list[tuple[Path | None, np.ndarray]] = []
        if self.in_memory:
            rows = order.permutation(len(self.features)) if self.shuffle else np.arange(len(self.features))
            self.batches = [(None, rows[i:i + self.batch_size]) for i in range(0, len(rows), self.batch_size)]
            return
        shards = [self.shards[i] for i in (order.permutation(len(self.shards)) if self.shuffle else range(len(self.shards)))]
        for shard in shards:
            count = len(self.rows[shard])
            rows = order.permutation(count) if self.shuffle else np.arange(count)
            self.batches += [(shard, rows[i:i + self.batch_size]) for i in range(0, count, self.batch_size)]

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int):
        shard, rows = self.batches[index]
        if shard is None:
            return self.features[rows].astype(np.float32), self.targets[rows]
        if self._cached is None or self._cached[0] != shard:
            table = read_shard(shard, columns=[FEATURE_COLUMN, "f0_hz"]).take(self.rows[shard])
            self._cached = (shard, read_array(table, FEATURE_COLUMN), self.encode(table.column("f0_hz").to_numpy()))
        return self._cached[1][rows].astype(np.float32), self._cached[2][rows]

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._plan()
