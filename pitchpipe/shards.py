"""Parquet shards: fixed names, atomic writes, and array columns with their shape in the schema."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pitchpipe.errors import DataError

COMPRESSION = "zstd"
SPLITS = ("train", "val", "test")  # the split folders every data stage writes


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.parquet"


def list_shards(folder: str | Path) -> list[Path]:
    """Shards of a folder in name (= row) order; a missing folder is an error, an empty one is not."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder (has the stage that writes it run?)")
    return sorted(folder.glob("shard-*.parquet"))


def stage_writing(path: Path, dvc_yaml: Path = Path("dvc.yaml")) -> tuple[str, str] | None:
    """(stage, output) of the dvc.yaml stage (read from the current folder) whose output holds `path`, or None."""
    import yaml

    try:
        stages = yaml.safe_load(dvc_yaml.read_text()).get("stages", {})
    except (OSError, yaml.YAMLError, AttributeError):
        return None
    target = Path(os.path.abspath(path))
    for name, stage in stages.items():
        for out in stage.get("outs", []) if isinstance(stage, dict) else []:
            out = next(iter(out)) if isinstance(out, dict) else out
            out_path = Path(os.path.abspath(out))
            if target == out_path or out_path in target.parents:
                return name, out
    return None


def unreadable(path: Path, error: Exception) -> DataError:
    """A corrupt or truncated shard, named, with the two ways back: restore it from the DVC cache or rebuild it."""
    found = stage_writing(path)
    remedy = (f"restore it with `dvc checkout -f {found[1]}` or rebuild it with `dvc repro -f {found[0]}`" if found else
              "restore it with `dvc checkout -f`, or rebuild it with `dvc repro -f` and the stage that writes it")
    reason = (str(error).splitlines() or [type(error).__name__])[0]
    reason = reason.split("': ", 1)[-1].split(". ")[0]  # pyarrow repeats the path, then adds a second sentence
    return DataError(f"{path}: corrupt or truncated Parquet shard ({reason}); {remedy}")


def read_shard(path: str | Path, columns: list[str] | None = None) -> pa.Table:
    """pq.read_table, with a damaged file or one without the columns asked for (written by other code) reported as a
    DataError that names it. The schema is only read again once reading has failed, off the common path."""
    try:
        return pq.read_table(path, columns=columns)
    except (pa.ArrowException, OSError) as error:
        missing = [name for name in columns or [] if name not in shard_schema(path).names]  # unreadable: raises
        if not missing:
            raise unreadable(Path(path), error) from None
    found = stage_writing(Path(path))
    rebuild = f"`dvc repro -f {found[0]}`" if found else "`dvc repro -f` and the stage that writes it"
    raise DataError(f"{path}: no column {', '.join(map(repr, missing))} (written by other code?); rebuild it with {rebuild}")


def shard_rows(path: str | Path) -> int:
    try:
        return pq.read_metadata(path).num_rows
    except (pa.ArrowException, OSError) as error:
        raise unreadable(Path(path), error) from None


def shard_schema(path: str | Path) -> pa.Schema:
    try:
        return pq.read_schema(path)
    except (pa.ArrowException, OSError) as error:
        raise unreadable(Path(path), error) from None


def write_atomic(table: pa.Table, path: str | Path) -> None:
    """Write under a temporary name in the same folder, then rename: readers never see half a shard."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # an attempt killed mid-write (a task retried elsewhere)
        stale.unlink(missing_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, temporary, compression=COMPRESSION, use_dictionary=False, write_statistics=False)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def array_column(values: np.ndarray) -> pa.FixedSizeListArray:
    """A (rows, ...) array as a fixed-size list column of its flattened rows."""
    values = np.ascontiguousarray(values)
    flat = pa.array(values.reshape(-1))
    return pa.FixedSizeListArray.from_arrays(flat, int(np.prod(values.shape[1:], dtype=np.int64)))


def with_shape(schema: pa.Schema, column: str, shape: tuple[int, ...]) -> pa.Schema:
    """Record the per-row shape of an array column in the schema metadata."""
    metadata = dict(schema.metadata or {})
    metadata[f"{column}.shape".encode()] = json.dumps(list(shape)).encode()
    return schema.with_metadata(metadata)


def column_shape(schema: pa.Schema, column: str) -> tuple[int, ...]:
    raw = (schema.metadata or {}).get(f"{column}.shape".encode())
    if raw is None:
        raise KeyError(f"schema has no shape recorded for column {column!r}")
    return tuple(json.loads(raw))


def read_array(table: pa.Table, column: str) -> np.ndarray:
    """The fixed-size list column `column` as a (rows, *shape) numpy array."""
    shape = column_shape(table.schema, column)
    chunked = table.column(column)
    flat = np.concatenate([chunk.flatten().to_numpy(zero_copy_only=False) for chunk in chunked.chunks]) \
        if chunked.num_chunks else np.zeros(0)
    return flat.reshape((table.num_rows, *shape))


def reset_folder(folder: str | Path) -> Path:
    """An empty output folder: stale shards from an earlier, larger run must not survive, nor the temporary file
    of a run that was killed mid-write."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in [*folder.glob("*.parquet"), *folder.glob(".*.parquet.*.tmp")]:
        stale.unlink()
    return folder
