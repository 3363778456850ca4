"""Feature shards → batches for Keras, streamed shard by shard (pitchpipe.data.feature_shards reads them whole)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import keras

from pitchpipe.data.feature_shards import fits_in_memory, kept_rows, load_split
from pitchpipe.data.featurize import FEATURE_COLUMN
from pitchpipe.seeding import rng
from pitchpipe.shards import list_shards, read_array, read_shard, shard_rows

class ShardBatches(keras.utils.PyDataset):
    """Seeded shuffled batches of (spectrogram, target) from a split folder.

    In memory: rows are shuffled across the whole split every epoch. Streamed: shard order and the
    rows inside each shard are shuffled every epoch, and only one shard is held at a time.
    """

    def __init__(self, folder: str | Path, batch_size: int, encode: Callable[[np.ndarray], np.ndarray], seed: int,
                 shuffle: bool = True, in_memory: bool | None = None, first_epoch: int = 0,
                 exclude: dict[str, str] | None = None, multiple: int = 1):
        super().__init__()
        self.folder, self.batch_size, self.encode, self.seed, self.shuffle = Path(folder), batch_size, encode, seed, shuffle
        self.multiple = multiple  # data-parallel training splits each batch evenly over this many devices
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
        else:
            self._plan_shards(order)
        if self.multiple > 1:  # a short last batch loses its odd rows; one under `multiple` rows goes
            self.batches = [(shard, rows[:len(rows) // self.multiple * self.multiple]) for shard, rows in self.batches
                            if len(rows) >= self.multiple]

    def _plan_shards(self, order) -> None:
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
