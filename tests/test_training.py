"""Model architectures, the shard input pipeline, resuming, and the same training code under JAX."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, write_params
from pitchpipe.config import featurize_config, prepare_config, render_config
from pitchpipe.data.featurize import run_featurize
from pitchpipe.data.prepare import run_prepare
from pitchpipe.data.render import run_render


@pytest.fixture(scope="module")
def features(tmp_path_factory, default_params):
    from conftest import tiny_params

    params = tiny_params(default_params)
    folder = tmp_path_factory.mktemp("features")
    run_render(render_config(params), folder / "rendered", workers=2)
    run_prepare(prepare_config(params), folder / "rendered", folder / "clips", workers=2)
    run_featurize(featurize_config(params), [folder / "clips"], folder / "features", workers=2)
    return folder, params


def test_original_architecture_is_the_blogs():
    import keras

    from pitchpipe.model.model import build

    model = build("original", (513, 90), "hz", 1, 0.0, 1.0, 0.25)
    kinds = [layer.__class__.__name__ for layer in model.layers]
    assert kinds[:4] == ["InputLayer", "Normalization", "Reshape", "Dropout"]  # dropout on the input
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [64, 128, 128, 256]
    for conv in convs:  # each convolution is followed by max-pooling
        assert isinstance(model.layers[model.layers.index(conv) + 1], keras.layers.MaxPooling2D)
    assert sum(isinstance(layer, keras.layers.Dense) for layer in model.layers) == 3  # two dense + linear output
    assert 11e6 < model.count_params() < 13e6
    assert model.output_shape == (None, 1)


def test_compact_bins_model_outputs_one_activation_per_bin():
    from pitchpipe.model.model import build

    model = build("compact", (513, 90), "bins", 366, 0.0, 1.0, 0.25)
    out = model.predict(np.zeros((2, 513, 90), np.float32), verbose=0)
    assert out.shape == (2, 366) and np.all((out >= 0) & (out <= 1))
    assert model.count_params() < 3e6


def test_streamed_batches_hold_the_same_rows_as_in_memory(features):
    from pitchpipe.model.dataset import ShardBatches

    folder, _ = features
    encode = lambda f0: f0[:, None].astype(np.float32)  # noqa: E731
    memory = ShardBatches(folder / "features/train", 8, encode, seed=3, in_memory=True)
    stream = ShardBatches(folder / "features/train", 8, encode, seed=3, in_memory=False)
    again = ShardBatches(folder / "features/train", 8, encode, seed=3, in_memory=False)

    def epoch(batches):
        xs, ys = zip(*(batches[i] for i in range(len(batches))))
        return np.concatenate(xs), np.concatenate(ys)

    memory_x, memory_y = epoch(memory)
    stream_x, stream_y = epoch(stream)
    assert memory_x.shape == stream_x.shape == (72, 366, 12) and memory_x.dtype == np.float32  # harmonic features
    assert sorted(memory_y.ravel()) == sorted(stream_y.ravel())
    np.testing.assert_array_equal(epoch(again)[1], stream_y)  # seeded: same order for the same seed
    stream.on_epoch_end()
    assert not np.array_equal(epoch(stream)[1], stream_y)  # a new shuffle every epoch
    # every streamed batch comes from one shard, so only one shard is ever held in memory
    assert all(shard is not None for shard, _ in stream.batches)
    # for data-parallel training every batch splits evenly: short batches lose their odd rows, nothing else changes
    for in_memory in (True, False):
        plain = ShardBatches(folder / "features/train", 8, encode, seed=3, in_memory=in_memory)
        even = ShardBatches(folder / "features/train", 8, encode, seed=3, in_memory=in_memory, multiple=3)
        assert all(len(rows) % 3 == 0 and len(rows) for _, rows in even.batches)
        kept = [(shard, rows[:len(rows) // 3 * 3]) for shard, rows in plain.batches if len(rows) >= 3]
        assert [(shard, list(rows)) for shard, rows in kept] == [(shard, list(rows)) for shard, rows in even.batches]


def run_train(folder, params, epochs, backend, out=None, env_extra=None):
    """The train stage on `folder`'s features, writing its model, log and checkpoints under `out` (default `folder`)."""
    out = out or folder
    out.mkdir(exist_ok=True)
    params = json.loads(json.dumps(params))
    params["train"].update(epochs=epochs, batch_size=16)
    write_params(params, out / "params.yaml")
    env = dict(os.environ, KERAS_BACKEND=backend, CI="1", **(env_extra or {}))
    return subprocess.run([sys.executable, str(ROOT / "stages/train.py"), "--params", str(out / "params.yaml"),
                           "--features", str(folder / "features"), "--models", str(out / "models"),
                           "--live", str(out / "live"), "--checkpoints", str(out / "checkpoints")],
                          cwd=out, env=env, capture_output=True, text=True, timeout=600)


def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(features, tmp_path):
    """Dropout masks, shuffles and optimizer state all continue where they stopped: bit-identical weights."""
    import keras

    folder, params = features
    params = json.loads(json.dumps(params))
    params["train"]["dropout"] = 0.5  # masks that matter
    straight = run_train(folder, params, 3, "tensorflow", out=tmp_path / "straight")
    assert straight.returncode == 0, straight.stderr[-3000:]
    for epochs in (1, 3):
        resumed = run_train(folder, params, epochs, "tensorflow", out=tmp_path / "resumed")
        assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Epoch 2/3" in resumed.stdout and "Epoch 1/3" not in resumed.stdout
    weights = {run: keras.saving.load_model(tmp_path / run / "models/model.keras").get_weights()
               for run in ("straight", "resumed")}
    assert len(weights["straight"]) == len(weights["resumed"]) > 4
    for a, b in zip(weights["straight"], weights["resumed"]):
        np.testing.assert_array_equal(a, b)


def test_the_saved_model_is_the_moving_average_of_an_unchanged_training(features, tmp_path):
    """ema_momentum changes what is saved at the end, not the steps: the same epoch checkpoints and validation
    scores as without it, and a saved model that differs from the last step's weights."""
    import keras

    folder, params = features
    runs = {}
    for momentum in (0.0, 0.9):
        changed = json.loads(json.dumps(params))
        changed["train"]["ema_momentum"] = momentum
        run = run_train(folder, changed, 2, "tensorflow", out=tmp_path / str(momentum))
        assert run.returncode == 0, run.stderr[-3000:]
        out = tmp_path / str(momentum)
        runs[momentum] = {name: keras.saving.load_model(out / path).get_weights()
                          for name, path in (("saved", "models/model.keras"), ("last_step", "checkpoints/checkpoint.keras"))}
        runs[momentum]["scores"] = (out / "live/plots/metrics/eval/rpa50.tsv").read_text()
    assert runs[0.0]["scores"] == runs[0.9]["scores"]
    for plain, averaged in zip(runs[0.0]["last_step"], runs[0.9]["last_step"]):
        np.testing.assert_array_equal(plain, averaged)
    for plain_saved, plain_last in zip(runs[0.0]["saved"], runs[0.0]["last_step"]):
        np.testing.assert_array_equal(plain_saved, plain_last)
    kernels = [(saved, last) for saved, last in zip(runs[0.9]["saved"], runs[0.9]["last_step"]) if saved.ndim == 3]
    assert kernels and all(np.abs(saved - last).max() > 1e-4 for saved, last in kernels)


def test_jax_backend_trains_resumes_and_its_model_serves_under_tensorflow(features):
    folder, params = features
    first = run_train(folder, params, 1, "jax")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "jax" in (folder / "live/params.yaml").read_text()
    second = run_train(folder, params, 2, "jax")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Epoch 2/2" in second.stdout and "Epoch 1/2" not in second.stdout  # resumed after epoch 1
    assert json.loads((folder / "checkpoints/state.json").read_text())["epoch"] == 2
    steps = (folder / "live/plots/metrics/eval/rpa50.tsv").read_text().strip().splitlines()[1:]
    assert [int(line.split("\t")[0]) for line in steps] == [0, 1]

    from pitchpipe.data.feature_shards import load_split
    from pitchpipe.model.saved_model import load_pitch_model

    model = load_pitch_model(folder / "models")  # this process runs the TensorFlow backend
    test_features, labels = load_split(folder / "features/test")
    hz, confidence = model.predict_features(test_features)
    assert hz.shape == labels["f0_hz"].shape and np.all(np.isfinite(hz) & (hz > 0))
    assert np.all((confidence >= 0) & (confidence <= 1))


def test_left_out_soundfont_never_reaches_training(features):
    from pitchpipe.model.dataset import ShardBatches
    from pitchpipe.data.feature_shards import load_split

    folder, _ = features
    _, everything = load_split(folder / "features/train", ("soundfont", "f0_hz"))
    assert set(everything["soundfont"]) == {"FluidR3_GM", "TimGM6mb"}
    _, kept = load_split(folder / "features/train", ("soundfont", "f0_hz"), exclude={"soundfont": "TimGM6mb"})
    assert set(kept["soundfont"]) == {"FluidR3_GM"}
    fluid_f0 = sorted(everything["f0_hz"][everything["soundfont"] == "FluidR3_GM"])
    for in_memory in (True, False):
        batches = ShardBatches(folder / "features/train", 8, lambda f0: f0[:, None], seed=1, in_memory=in_memory,
                               exclude={"soundfont": "TimGM6mb"})
        assert sorted(np.concatenate([batches[i][1] for i in range(len(batches))]).ravel()) == fluid_f0


def test_leave_one_soundfont_out_runs_do_not_depend_on_the_worker_count(features, tmp_path):
    """Both runs side by side (2 workers) or one after the other (1 worker, in the stage's own process): the same
    scores and bit-identical models, because every run is single-threaded either way."""
    import keras

    folder, params = features
    params = json.loads(json.dumps(params))
    params["train"]["batch_size"] = 16
    write_params(params, tmp_path / "params.yaml")
    for workers in (1, 2):
        out = tmp_path / str(workers)
        run = subprocess.run([sys.executable, str(ROOT / "stages/loso.py"), "--params", str(tmp_path / "params.yaml"),
                              "--workers", str(workers), "--features", str(folder / "features"),
                              "--clips", str(folder / "clips"), "--out", str(out / "loso"),
                              "--metrics", str(out / "loso.json"), "--checkpoints", str(out / "checkpoints")],
                             cwd=tmp_path, env=dict(os.environ, CI="1"), capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
        assert all(f"{font} left out: epoch 1/1" in run.stdout for font in ("TimGM6mb", "FluidR3_GM")), run.stdout
    assert (tmp_path / "1/loso.json").read_text() == (tmp_path / "2/loso.json").read_text()
    for font in ("TimGM6mb", "FluidR3_GM"):
        one, two = (keras.saving.load_model(tmp_path / str(w) / "loso" / font / "model/model.keras").get_weights()
                    for w in (1, 2))
        assert len(one) == len(two) > 4
        for a, b in zip(one, two):
            np.testing.assert_array_equal(a, b)


def test_loso_config_takes_its_epochs_and_checks_the_soundfont(default_params):
    from pitchpipe.config import ParamsError, loso_config

    config = loso_config(default_params, "TimGM6mb")
    assert config.epochs == default_params["loso"]["epochs"] and config.head == default_params["train"]["head"]
    with pytest.raises(ParamsError, match=r"loso\.held_out: 'GeneralUser' is not listed"):
        loso_config(default_params, "GeneralUser")
    params = json.loads(json.dumps(default_params))
    params["loso"]["held_out"] = ["Nope"]
    with pytest.raises(ParamsError, match=r"loso\.held_out: 'Nope' is not one of the render\.soundfonts"):
        loso_config(params, "Nope")


def test_a_checkpoint_is_not_resumed_onto_other_features(features, tmp_path):
    from pitchpipe.model.train import data_identity

    folder, _ = features
    before = data_identity(folder / "features/train", folder / "features/val")
    copy = tmp_path / "train"
    copy.mkdir()
    for shard in sorted((folder / "features/train").glob("*.parquet")):
        (copy / shard.name).write_bytes(shard.read_bytes())
    assert data_identity(copy, folder / "features/val") == before
    last = sorted(copy.glob("*.parquet"))[-1]
    last.write_bytes(last.read_bytes()[:-1] + b"\0")
    assert data_identity(copy, folder / "features/val") != before


def test_harmonic_model_is_equivariant_to_a_pitch_shift():
    """Moving the input k bins up moves the output k bins up (where the receptive field does not reach an edge):
    a pitch change is a shift."""
    from pitchpipe.model.model import build

    model = build("harmonic", (366, 10), "bins", 366, 0.5, 0.1, 0.25)
    x = np.zeros((1, 366, 10), np.float32)
    x[0, 150:220] = np.random.default_rng(0).random((70, 10))
    shifted = np.roll(x, 17, axis=1)
    out, out_shifted = model.predict(np.concatenate([x, shifted]), verbose=0)
    reach = 2 + 2 + 10 + 30 + 60 + 2  # the receptive field's half-width in bins: away from the edges by that
    np.testing.assert_allclose(np.roll(out, 17)[reach + 17:366 - reach - 17], out_shifted[reach + 17:366 - reach - 17],
                               atol=1e-5)
    assert model.count_params() < 50_000
    with pytest.raises(ValueError, match="one output per input bin"):
        build("harmonic", (366, 10), "hz", 1, 0.5, 0.1, 0.25)


def test_learned_front_ends_start_as_a_dft_or_noise_and_only_the_fixed_one_stays(tmp_path):
    """The raw-audio model's first layer: a fixed DFT, a DFT that trains, or noise that trains; equal otherwise."""
    import keras

    from pitchpipe.model.model import FRONTEND_BINS, FRONTEND_WINDOW, build
    from pitchpipe.sound.spectrogram import stft_basis

    rate, samples = 16000, 5280
    t = np.arange(samples) / rate
    rng = np.random.default_rng(0)
    f0 = 440.0 * 2 ** ((rng.uniform(45, 80, 64) - 69) / 12)
    audio = (np.sin(2 * np.pi * f0[:, None] * t) * rng.uniform(0.01, 1.0, (64, 1))).astype(np.float32)[:, :, None]
    basis = stft_basis(FRONTEND_WINDOW, 2 * (FRONTEND_BINS - 1))
    dft = np.concatenate([basis.real, basis.imag], axis=1)
    sizes, outputs = set(), {}
    for mode in ("fixed", "dft_init", "random"):
        keras.utils.set_random_seed(1)
        model = build("frontend", (samples, 1), "bins", 300, 0.0, 1.0, 0.25, mode)
        sizes.add(model.count_params())
        first = model.get_layer("frontend")
        start = first.get_weights()[0][:, 0, :]
        assert np.allclose(start, dft, atol=1e-6) == (mode != "random")
        assert first.trainable == (mode != "fixed")
        model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
        model.fit(audio, rng.random((64, 300)).astype(np.float32), batch_size=16, epochs=1, verbose=0)
        moved = np.abs(first.get_weights()[0][:, 0, :] - start).max()
        assert (moved == 0) == (mode == "fixed"), (mode, moved)
        outputs[mode] = model.predict(audio[:2], verbose=0)
    assert len(sizes) == 1  # the same network in all three
    from pitchpipe.evaluation.report import frontend
    from pitchpipe.model.saved_model import save_pitch_model

    save_pitch_model(model, {"architecture": "frontend", "featurize": {"sample_rate": rate}}, tmp_path / "random")
    section = frontend(tmp_path / "random")  # the report shows what the trainable filters became
    assert section["name"] == "frontend_random" and section["figure"].count("<svg") == 1
    assert "frequency response" in section["figure"]
    save_pitch_model(model, {"architecture": "harmonic", "featurize": {"sample_rate": rate}}, tmp_path / "other")
    assert frontend(tmp_path / "other") is None
    # the level does not matter to the model: log power is relative to the clip's loudest bin
    fixed = build("frontend", (samples, 1), "bins", 300, 0.0, 1.0, 0.25, "fixed")
    np.testing.assert_allclose(*fixed.predict(np.concatenate([audio[:1], audio[:1] * 0.01]), verbose=0), atol=1e-4)


TWO_CPU_DEVICES = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
DATA_PARALLEL_RUN = """
import json, sys
import keras, numpy as np
from pitchpipe.model.dataset import ShardBatches
from pitchpipe.model.model import build
from pitchpipe.model.train import data_parallel, predict_in_multiples
folder, mode = sys.argv[1], sys.argv[2]
replicas = data_parallel() if mode == "parallel" else 1
keras.utils.set_random_seed(7)
batches = ShardBatches(folder + "/train", 16, lambda f0: (f0[:, None] > 0).astype("float32") * np.ones((1, 366), "float32"),
                       seed=7, multiple=2)  # the same even batches in both runs
model = build("harmonic", (366, 12), "bins", 366, 0.0, 1.0, 0.25)
model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
history = model.fit(batches, epochs=2, verbose=0).history["loss"]
x = batches[0][0][:5]  # an odd count: padded to the device count and trimmed back
print(json.dumps({"replicas": replicas, "devices": len(keras.distribution.list_devices()), "loss": history,
                  "predicted": predict_in_multiples(model, x, replicas).tolist()}))
"""


def test_data_parallel_over_two_devices_follows_the_one_device_loss_curve(features, tmp_path):
    """Keras 3's DataParallel under JAX on two (virtual CPU) devices: the same global batches give the same loss
    curve as one device, within 1e-4 relative (the devices sum their halves' gradients in another order)."""
    folder, params = features
    env = dict(os.environ, KERAS_BACKEND="jax", **TWO_CPU_DEVICES)
    runs = {}
    for mode in ("single", "parallel"):
        result = subprocess.run([sys.executable, "-c", DATA_PARALLEL_RUN, str(folder / "features"), mode], env=env,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        runs[mode] = json.loads(result.stdout.strip().splitlines()[-1])
    assert runs["single"]["devices"] == runs["parallel"]["devices"] == 2
    assert (runs["single"]["replicas"], runs["parallel"]["replicas"]) == (1, 2)
    np.testing.assert_allclose(runs["parallel"]["loss"], runs["single"]["loss"], rtol=1e-4)
    assert len(runs["parallel"]["predicted"]) == 5
    np.testing.assert_allclose(runs["parallel"]["predicted"], runs["single"]["predicted"], rtol=1e-3, atol=1e-5)
    # the train stage picks it up by itself, and PITCHPIPE_DATA_PARALLEL=0 turns it off
    staged = run_train(folder, params, 1, "jax", out=tmp_path / "parallel", env_extra=TWO_CPU_DEVICES)
    assert staged.returncode == 0, staged.stderr[-3000:]
    assert "data parallel over 2 devices" in (tmp_path / "parallel/live/params.yaml").read_text()
    single = run_train(folder, params, 1, "jax", out=tmp_path / "single",
                       env_extra={**TWO_CPU_DEVICES, "PITCHPIPE_DATA_PARALLEL": "0"})
    assert single.returncode == 0 and "data parallel" not in (tmp_path / "single/live/params.yaml").read_text()
