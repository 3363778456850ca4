"""The featurize_frames stage's library: phrase shards → one row per kept frame (the tracker's input with its
context, the frame's f0 and flags), in the feature-shard format the training reads.

Neighbouring frames are near-copies, so each phrase keeps every `train_frame_stride`-th frame from a
seeded offset; frames right at an onset or a release (neither clearly sounding nor silent) are left out of the
training split. The evaluation runs whole phrases through `pitchpipe.model.tracking` instead.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa

from pitchpipe.config import FramesConfig
from pitchpipe.data.featurize import FEATURE_COLUMN
from pitchpipe.sound.frames import FrameAnalysis, model_input
from pitchpipe.data.melody import BOUNDARY
from pitchpipe.parallel import Progress, map_shards
from pitchpipe.seeding import rng
from pitchpipe.shards import SPLITS, array_column, list_shards, read_array, read_shard, reset_folder, shard_rows, with_shape, write_atomic

_analyses: dict[FramesConfig, FrameAnalysis] = {}


def analysis_for(config: FramesConfig) -> FrameAnalysis:
    """One FrameAnalysis per config and process (its sampling tables take a moment to build)."""
    if config not in _analyses:
        _analyses[config] = FrameAnalysis(config)
    return _analyses[config]


def kept_frames(phrase_id: int, flags: np.ndarray, config: FramesConfig, seed: int, split: str) -> np.ndarray:
    offset = int(rng(seed, "frame-offset", phrase_id).integers(config.train_frame_stride))
    frames = np.arange(offset, len(flags), config.train_frame_stride)
    return frames[(flags[frames] & BOUNDARY) == 0] if split == "train" else frames


def frame_table(phrases: pa.Table, config: FramesConfig, seed: int, split: str) -> pa.Table:
    audio, f0, flags = (read_array(phrases, column) for column in ("audio", "f0_hz", "flags"))
    ids, sources = phrases.column("phrase_id").to_pylist(), phrases.column("source").to_pylist()
    analysis = analysis_for(config)
    values, rows = [], {"phrase_id": [], "source": [], "frame": [], "f0_hz": [], "voiced": [], "flags": []}
    for index, phrase_id in enumerate(ids):
        frames = kept_frames(phrase_id, flags[index], config, seed, split)
        values.append(model_input(audio[index], config, analysis)[frames])
        rows["phrase_id"] += [phrase_id] * len(frames)
        rows["source"] += [sources[index]] * len(frames)
        rows["frame"] += frames.tolist()
        rows["f0_hz"] += f0[index, frames].astype(float).tolist()
        rows["voiced"] += (f0[index, frames] > 0).tolist()
        rows["flags"] += flags[index, frames].tolist()
    shape = (len(analysis.bins), len(config.harmonics) * len(config.context))
    stacked = np.concatenate(values) if values else np.zeros((0, *shape), config.dtype)
    table = pa.table({"phrase_id": pa.array(rows["phrase_id"], pa.int32()), "source": pa.array(rows["source"], pa.string()),
                      "frame": pa.array(rows["frame"], pa.int32()), "f0_hz": pa.array(rows["f0_hz"], pa.float64()),
                      "voiced": pa.array(rows["voiced"], pa.bool_()), "flags": pa.array(rows["flags"], pa.uint8()),
                      FEATURE_COLUMN: array_column(stacked) if len(stacked) else
                      pa.array([], pa.list_(pa.from_numpy_dtype(np.dtype(config.dtype)), int(np.prod(shape))))})
    schema = with_shape(table.schema, FEATURE_COLUMN, shape)
    return table.replace_schema_metadata({**schema.metadata, b"featurize": json.dumps(config.model_dump()).encode()})


def _frames_task(config: FramesConfig, seed: int, out_dir: Path, task: tuple[str, Path]) -> int:
    split, source = task
    table = frame_table(read_shard(source), config, seed, split)
    write_atomic(table, out_dir / split / source.name)
    return shard_rows(source)


def run_featurize_frames(config: FramesConfig, seed: int, phrases_dir: str | Path, out_dir: str | Path,
                         workers: int | None = None) -> int:
    """Frame rows for every phrase shard of every split, under the same shard names; returns the phrase count."""
    phrases_dir, out_dir = Path(phrases_dir), Path(out_dir)
    tasks = [(split, source) for split in SPLITS for source in list_shards(phrases_dir / split)]
    total = sum(shard_rows(source) for _, source in tasks)
    for split in SPLITS:
        reset_folder(out_dir / split)
    progress = Progress("featurize_frames", total, "phrases")
    map_shards(partial(_frames_task, config, seed, out_dir), tasks, progress, count=int, workers=workers)
    progress.finish(f", {len(tasks)} shards")
    return total
