"""The saved-model format: the Keras file, its JSON description, the output codec, and loading it to serve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np

from pitchpipe.config import featurize_config_from
from pitchpipe.model.heads import PitchBins, decode_regression, encode_regression
from pitchpipe.sound.notes import hz_to_midi
from pitchpipe.model.runtime import load_numpy_network
from pitchpipe.sound.spectrogram import features

MODEL_FILE = "model.keras"
META_FILE = "model.json"
VOICING_THRESHOLD = 0.5  # a bins-head peak activation below this says "no pitch here"


class PitchCodec:
    """Targets for training and decoding of outputs, for the configured head; saved beside the model."""

    def __init__(self, head: str, low_midi: float, high_midi: float, bin_cents: float, blur_cents: float):
        self.head, self.low_midi, self.high_midi = head, low_midi, high_midi
        self.bin_cents, self.blur_cents = bin_cents, blur_cents
        self.bins = PitchBins(low_midi, high_midi, bin_cents)
        self.centre, self.span = (low_midi + high_midi) / 2, (high_midi - low_midi) / 2

    @property
    def n_outputs(self) -> int:
        return len(self.bins.centres) if self.head == "bins" else 1

    def encode(self, f0_hz: np.ndarray) -> np.ndarray:
        if self.head == "bins":
            return self.bins.targets(f0_hz, self.blur_cents)
        return encode_regression(self.head, f0_hz, self.centre, self.span)

    def decode(self, outputs: np.ndarray, fmin: float | None = None, fmax: float | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Network outputs → (Hz, confidence in [0, 1]; regression heads report 1). With `fmin`/`fmax` (Hz), the
        bins head searches only that range; a regression estimate outside it gets confidence 0."""
        low = -np.inf if fmin is None else hz_to_midi(fmin)
        high = np.inf if fmax is None else hz_to_midi(fmax)
        if self.head == "bins":
            if fmin is not None or fmax is not None:
                centres = self.bins.centres
                outputs = np.where((centres >= low) & (centres <= high), outputs, 0.0)
            return self.bins.decode(outputs)
        hz = decode_regression(self.head, outputs, self.centre, self.span)
        midi = hz_to_midi(hz)
        return hz, ((midi >= low) & (midi <= high)).astype(np.float64)

    def to_json(self) -> dict:
        return dict(head=self.head, low_midi=self.low_midi, high_midi=self.high_midi, bin_cents=self.bin_cents,
                    blur_cents=self.blur_cents)


class PitchModel:
    """A saved model with what it needs around it: the features it was trained on and its output decoding.
    `network` maps a float32 batch of features to outputs (the numpy runtime or Keras)."""

    def __init__(self, network: Callable[[np.ndarray], np.ndarray], meta: dict, runtime: str):
        self.network, self.meta, self.runtime = network, meta, runtime
        self.featurize = featurize_config_from(meta["featurize"])
        self.codec = PitchCodec(**meta["codec"])
        self.clip_samples = int(meta["clip_samples"])
        self.sample_rate = self.featurize.sample_rate

    def predict_features(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(Hz, confidence) of each model input."""
        return self.codec.decode(self.network(np.asarray(features, dtype=np.float32)))

    def predict_clips(self, clips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.predict_features(features(clips, self.featurize))

    def voiced(self, confidence: np.ndarray) -> np.ndarray:
        """The model's voicing decision: does this window have a pitch?"""
        return np.asarray(confidence) >= VOICING_THRESHOLD


def save_pitch_model(model, meta: dict, model_dir: str | Path) -> None:
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    model.save(model_dir / MODEL_FILE)
    (model_dir / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def load_pitch_model(model_dir: str | Path, runtime: str = "auto") -> PitchModel:
    """The model in `model_dir`, served by the numpy runtime (`pitchpipe.model.runtime`: no TensorFlow start-up) when it
    runs every layer, else by Keras; `runtime` "numpy" or "keras" insists on one."""
    model_dir = Path(model_dir)
    for name in (MODEL_FILE, META_FILE):
        if not (model_dir / name).is_file():
            raise FileNotFoundError(f"{model_dir / name}: no trained model here (run `dvc repro train` or `dvc pull`)")
    meta = json.loads((model_dir / META_FILE).read_text())
    if runtime in ("auto", "numpy"):
        try:
            return PitchModel(load_numpy_network(model_dir / MODEL_FILE), meta, "numpy")
        except NotImplementedError as why:
            if runtime == "numpy":
                raise ValueError(f"{model_dir / MODEL_FILE}: the numpy runtime cannot run it ({why})") from None
    import keras

    model = keras.saving.load_model(model_dir / MODEL_FILE)
    return PitchModel(lambda inputs: model.predict(inputs, batch_size=256, verbose=0), meta, "keras")
