"""The featurize stage's library: clip shards → model-input shards with every label column kept."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pyarrow as pa

from pitchpipe.config import FeaturizeConfig
from pitchpipe.parallel import Progress, map_shards
from pitchpipe.shards import SPLITS, array_column, list_shards, read_array, read_shard, reset_folder, shard_rows, with_shape, write_atomic
from pitchpipe.sound.spectrogram import feature_axes, features

FEATURE_COLUMN = "features"  # the model input, whatever the representation: harmonic spectra, an STFT or audio


def featurize_table(clips: pa.Table, config: FeaturizeConfig) -> pa.Table:
    """Replace the audio column by the model input, (bins, frames) or (bins, harmonics); the schema records
    its shape and the featurize config."""
    audio = read_array(clips, "audio")
    values = features(audio, config)
    bin_hz, second = feature_axes(audio.shape[1], config)
    labels = clips.drop_columns(["audio"])
    column = array_column(values) if len(values) else pa.array([], pa.list_(pa.from_numpy_dtype(values.dtype), len(bin_hz) * second))
    table = labels.append_column(pa.field(FEATURE_COLUMN, column.type), column)
    schema = with_shape(table.schema, FEATURE_COLUMN, (len(bin_hz), second))
    metadata = {**schema.metadata, b"featurize": json.dumps(config.model_dump(), sort_keys=True).encode(),
                b"max_bin_hz": str(float(bin_hz[-1])).encode(),
                b"clip_samples": str(audio.shape[1]).encode()}
    return table.replace_schema_metadata(metadata)


def _featurize_task(config: FeaturizeConfig, out_dir: Path, task: tuple[str, Path]) -> int:
    split, source = task
    table = featurize_table(read_shard(source), config)
    write_atomic(table, out_dir / split / source.name)
    return table.num_rows


def run_featurize(config: FeaturizeConfig, clip_dirs: list[str | Path], out_dir: str | Path,
                  workers: int | None = None) -> int:
    """Feature shards for every clip shard of every folder in `clip_dirs` (soundfont clips, synthetic clips),
    same split folders and shard names; a folder may lack a split (synthetic clips have no test split)."""
    out_dir = Path(out_dir)
    tasks = [(split, source) for split in SPLITS for folder in map(Path, clip_dirs) if (folder / split).is_dir()
             for source in list_shards(folder / split)]
    total = sum(shard_rows(source) for _, source in tasks)
    for split in SPLITS:
        reset_folder(out_dir / split)
    progress = Progress("featurize", total, "clips")
    map_shards(partial(_featurize_task, config, out_dir), tasks, progress, count=int, workers=workers)
    progress.finish(f", {len(tasks)} shards")
    return total
