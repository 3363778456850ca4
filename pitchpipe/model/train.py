"""The train stage's library: fit a model on the feature shards, log with DVCLive, resume from checkpoints."""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

from pitchpipe.config import TrainConfig
from pitchpipe.model.dataset import ShardBatches
from pitchpipe.data.feature_shards import feature_shape, kept_rows, load_split
from pitchpipe.errors import DataError
from pitchpipe.data.featurize import FEATURE_COLUMN
from pitchpipe.scores.metrics import pitch_metrics, rounded
from pitchpipe.model.saved_model import PitchCodec, save_pitch_model
from pitchpipe.shards import list_shards, read_array, read_shard, shard_schema

def configure_devices() -> str:
    """Mixed precision on a GPU; returns a word for the log. CPU/GPU is a runtime matter, never a param."""
    import keras

    backend = keras.backend.backend()
    gpus = 0
    if backend == "tensorflow":
        import tensorflow as tf
        devices = tf.config.list_physical_devices("GPU")
        for gpu in devices:  # take memory as needed: processes may share a GPU
            tf.config.experimental.set_memory_growth(gpu, True)
        gpus = len(devices)
        if not gpus:
            tf.config.experimental.enable_op_determinism()  # same seed, same metrics on CPU
    elif backend == "jax":
        import jax
        gpus = sum(d.platform == "gpu" for d in jax.devices())
    elif backend == "torch":
        import torch
        gpus = torch.cuda.device_count()
    if gpus and os.environ.get("PITCHPIPE_MIXED_PRECISION", "1") == "1":
        keras.mixed_precision.set_global_policy("mixed_float16")
    return f"{backend}, {gpus} GPU(s)"


# glibc mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MALLOC_THRESHOLD_BYTES = 32 * 1024 * 1024  # glibc's largest mmap threshold on 64-bit


def restore_malloc_thresholds() -> None:
    """Undo TensorFlow's "memory patch" for generator datasets (a `PyDataset` is one), which sets glibc's trim
    threshold to 128 KB and so also freezes the mmap threshold there: every activation buffer was then mapped
    and unmapped at each step, and page faults (system time) took as much CPU as the training itself. With
    both thresholds at 32 MB an epoch of the harmonic model takes about half the time on 2 cores."""
    if sys.platform != "linux":
        return
    import ctypes
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    if hasattr(libc, "mallopt"):  # glibc; other C libraries have their own allocators
        libc.mallopt(M_MMAP_THRESHOLD, MALLOC_THRESHOLD_BYTES)
        libc.mallopt(M_TRIM_THRESHOLD, MALLOC_THRESHOLD_BYTES)


DATA_PARALLEL_ENV = "PITCHPIPE_DATA_PARALLEL"


def data_parallel() -> int:
    """Under JAX with more than one device (GPUs, or CPU devices made by XLA_FLAGS), spread every batch over all
    of them with Keras's DataParallel: the same global batch, so the same steps as on one device. Returns the
    device count (1: not distributed). PITCHPIPE_DATA_PARALLEL=0 keeps one device: a runtime knob, not a param."""
    import keras

    if keras.backend.backend() != "jax" or os.environ.get(DATA_PARALLEL_ENV, "1") == "0":
        return 1
    devices = keras.distribution.list_devices()
    if len(devices) < 2:
        return 1
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    return len(devices)


def predict_in_multiples(model, x: np.ndarray, multiple: int, batch_size: int = 256) -> np.ndarray:
    """model.predict with every batch a multiple of `multiple` rows, as data-parallel sharding needs: the rows are
    padded with zeros to a multiple and the padding's outputs dropped."""
    pad = -len(x) % multiple
    padded = np.concatenate([x, np.zeros((pad, *x.shape[1:]), x.dtype)]) if pad else x
    return model.predict(padded, batch_size=max(multiple, batch_size // multiple * multiple), verbose=0)[:len(x)]


def distribution_scope():
    """MirroredStrategy over several GPUs with the TensorFlow backend; otherwise nothing to do."""
    import contextlib

    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if len(tf.config.list_physical_devices("GPU")) > 1:
            return tf.distribute.MirroredStrategy().scope()
    return contextlib.nullcontext()


def feature_statistics(folder: Path, exclude: dict[str, str] | None = None) -> tuple[float, float]:
    """Mean and variance of the stored spectrogram values over the whole train split (after `exclude`),
    one shard at a time: the first rows alone would be the lowest notes only."""
    total = total_square = count = 0.0
    for path in list_shards(folder):
        table = read_shard(path, columns=[FEATURE_COLUMN, *(exclude or {})])
        values = read_array(table, FEATURE_COLUMN)[kept_rows(table, exclude)].astype(np.float64)
        total, total_square, count = total + values.sum(), total_square + np.square(values).sum(), count + values.size
    mean = total / count
    return float(mean), float(total_square / count - mean * mean)


def data_identity(*folders: Path) -> str:
    """SHA-256 over the names and bytes of every shard of `folders`: what a checkpoint was trained on."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in list_shards(folder):
            digest.update(path.name.encode())
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 22), b""):
                    digest.update(block)
    return digest.hexdigest()


def _dropout_streams(model) -> list:
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


def random_state(model) -> dict:
    """The random state a resumed run needs to draw what an uninterrupted one would, which Keras keeps outside a
    saved model: each dropout layer's stream (a loaded model starts new ones) and Python's `random` (from which
    `fit` shuffles the order of the batches every epoch)."""
    version, internal, gauss = random.getstate()
    return {"dropout": [np.asarray(v.numpy()).tolist() for v in _dropout_streams(model)],
            "python": [version, list(internal), gauss]}


def restore_random_state(model, saved: dict) -> None:
    for variable, stream in zip(_dropout_streams(model), saved["dropout"], strict=True):
        variable.assign(np.asarray(stream, dtype=variable.dtype))
    version, internal, gauss = saved["python"]
    random.setstate((version, tuple(internal), gauss))


def codec_for(config: TrainConfig, featurize: dict) -> PitchCodec:
    """The output codec: the harmonic model's bins are its input bins; the others span the rendered range."""
    if config.architecture == "tracker":
        return PitchCodec("bins", featurize["midi_low"], featurize["midi_high"], 100.0 / featurize["bins_per_semitone"],
                          config.blur_cents)
    if config.architecture == "harmonic":
        if featurize.get("representation") != "harmonic":
            raise DataError(f"the harmonic architecture needs harmonic features, these are {featurize.get('representation', 'stft')!r}")
        return PitchCodec("bins", featurize["midi_low"], featurize["midi_high"], 100.0 / featurize["bins_per_semitone"],
                          config.blur_cents)
    return PitchCodec(config.head, config.pitch_low_midi, config.pitch_high_midi, config.bin_cents, config.blur_cents)


def train(config: TrainConfig, features_dir: str | Path, models_dir: str | Path, live_dir: str | Path,
          checkpoint_dir: str | Path, exclude: dict[str, str] | None = None, label: str | None = None) -> dict:
    """Fit and save a model on the train split (rows matching `exclude`, e.g. {"soundfont": "TimGM6mb"},
    left out of train and validation); returns the last epoch's logs. With a `label`, one line per epoch that
    starts with it replaces Keras's progress output (runs side by side stay legible)."""
    import keras
    from dvclive import Live
    from dvclive.keras import DVCLiveCallback

    features_dir, models_dir, checkpoint_dir = Path(features_dir), Path(models_dir), Path(checkpoint_dir)
    keras.utils.set_random_seed(config.seed)
    device = configure_devices()
    replicas = data_parallel()
    if replicas > 1:
        device += f", data parallel over {replicas} devices"
    schema_metadata = shard_schema(list_shards(features_dir / "train")[0]).metadata
    featurize = json.loads(schema_metadata[b"featurize"])
    codec = codec_for(config, featurize)
    if config.head != "bins":  # a regression head has no way to say "no pitch": train it on pitched clips only
        exclude = {**(exclude or {}), "voiced": False}
    shape = feature_shape(features_dir / "train")
    val_features, val_labels = load_split(features_dir / "val", exclude=exclude)
    val_x, val_y = val_features.astype(np.float32), codec.encode(val_labels["f0_hz"])
    val_voiced = val_labels["f0_hz"] > 0

    # Everything but the epoch count, and the data: raising `epochs` continues from the last checkpoint, exactly
    # as an interrupted run does (shuffles are keyed by epoch; the optimizer and random state are in the checkpoint).
    fingerprint = json.dumps({**{k: v for k, v in config.model_dump().items() if k != "epochs"}, "exclude": exclude,
                              "data": data_identity(features_dir / "train", features_dir / "val")}, sort_keys=True)
    checkpoint, state_file = checkpoint_dir / "checkpoint.keras", checkpoint_dir / "state.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    resume = checkpoint.exists() and state.get("config") == fingerprint and state.get("epoch", 0) < config.epochs \
        and "random_state" in state  # older checkpoints lack it: start afresh rather than resume inexactly
    loss = "binary_crossentropy" if config.head == "bins" else "mse"
    with distribution_scope():
        if resume:
            model = keras.saving.load_model(checkpoint)
            initial_epoch = state["epoch"]
        else:
            from pitchpipe.model.model import build

            mean, variance = feature_statistics(features_dir / "train", exclude)
            model = build(config.architecture, shape, config.head, codec.n_outputs, mean, variance, config.dropout,
                          config.frontend, bins_per_semitone=featurize.get("bins_per_semitone", 5),
                          filters=config.filters)
            # with ema_momentum, fit ends by putting the moving average of the weights in place of the last step's
            averaging = dict(use_ema=True, ema_momentum=config.ema_momentum) if config.ema_momentum else {}
            model.compile(optimizer=keras.optimizers.Adam(config.learning_rate, **averaging), loss=loss,
                          metrics=[] if config.head == "bins" else ["mae"])
            initial_epoch = 0
    train_batches = ShardBatches(features_dir / "train", config.batch_size, codec.encode, config.seed,
                                 first_epoch=initial_epoch, exclude=exclude, multiple=replicas)

    class PitchMetrics(keras.callbacks.Callback):
        """Validation accuracy in musical terms after each epoch, a checkpoint to resume from, and glibc's malloc
        thresholds put back once TensorFlow has patched them."""

        def on_train_batch_end(self, batch, logs=None):
            if batch == 0:  # TensorFlow patches malloc when the first epoch's batches start flowing
                restore_malloc_thresholds()

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.monotonic()

        def on_epoch_end(self, epoch, logs=None):
            # one pass over the validation set gives the loss and the musical scores (a second, Keras's own
            # validation_data pass at the training batch size, cost about 2 s an epoch)
            outputs = predict_in_multiples(self.model, val_x, replicas)
            hz, _ = codec.decode(outputs)
            scores = pitch_metrics(hz[val_voiced], val_labels["f0_hz"][val_voiced])
            logs.update(val_loss=float(keras.ops.mean(keras.losses.get(loss)(val_y, outputs))), val_mae_hz=scores["mae_hz"],
                        val_rpa50=scores["rpa_50c"], val_median_cents=scores["median_abs_cents"])
            logs.update(rounded({key: float(value) for key, value in logs.items()}))
            checkpoint_dir.mkdir(parents=True, exist_ok=True)
            self.model.save(checkpoint)
            state_file.write_text(json.dumps({"config": fingerprint, "epoch": epoch + 1,
                                              "random_state": random_state(self.model)}))
            if label:
                print(f"{label}: epoch {epoch + 1}/{config.epochs} - {time.monotonic() - self.started:.0f}s - "
                      f"loss: {logs['loss']:.4g} - val_loss: {logs['val_loss']:.4g} - val_rpa50: {logs['val_rpa50']:.4f}",
                      flush=True)

    with Live(str(live_dir), dvcyaml=False, save_dvc_exp=False, resume=resume) as live:
        live.step = initial_epoch  # DVCLive cannot tell "one epoch done" from "none" on resume
        live.log_param("device", device)
        if resume:  # last: nothing may draw from Python's `random` between this and `fit`
            restore_random_state(model, state["random_state"])
        history = model.fit(train_batches, epochs=config.epochs,
                            initial_epoch=initial_epoch, verbose=0 if label else 1 if sys.stdout.isatty() else 2,  # bars only on a terminal
                            callbacks=[PitchMetrics(), DVCLiveCallback(live=live)])
    meta = {"codec": codec.to_json(), "featurize": featurize,
            "input_shape": list(shape), "clip_samples": int(schema_metadata.get(b"clip_samples", 0)),
            "architecture": config.architecture, "parameters": int(model.count_params()), "excluded": exclude}
    save_pitch_model(model, meta, models_dir)
    return {key: float(values[-1]) for key, values in history.history.items()} if history.history else {}
