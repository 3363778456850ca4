"""Reading feature shards without Keras: a split's features and labels, their shape, whether they fit in memory.
Evaluation and reports read shards through this; only training (pitchpipe.model.dataset) needs Keras."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa

from pitchpipe.errors import DataError
from pitchpipe.data.featurize import FEATURE_COLUMN
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
