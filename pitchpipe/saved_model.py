"""The saved-model format: the Keras file, its JSON description, the output codec, and loading it to serve."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pitchpipe.config import FeaturizeConfig
from pitchpipe.heads import PitchBins, decode_regression, encode_regression
from pitchpipe.spectrogram import features

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

    def decode(self, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Network outputs → (Hz, confidence in [0, 1]; regression heads report 1)."""
        if self.head == "bins":
            return self.bins.decode(outputs)
        hz = decode_regression(self.head, outputs, self.centre, self.span)
        return hz, np.ones_like(hz)

    def to_json(self) -> dict:
        return dict(head=self.head, low_midi=self.low_midi, high_midi=self.high_midi, bin_cents=self.bin_cents,
                    blur_cents=self.blur_cents)


class PitchModel:
    """A saved model with what it needs around it: the STFT it was trained on and its output decoding."""

    def __init__(self, model, meta: dict):
        self.model, self.meta = model, meta
        self.featurize = FeaturizeConfig(**meta["featurize"])
        self.codec = PitchCodec(**meta["codec"])
        self.clip_samples = int(meta["clip_samples"])
        self.sample_rate = self.featurize.sample_rate

    def predict_features(self, features: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """(Hz, confidence) of each spectrogram."""
        outputs = self.model.predict(np.asarray(features, dtype=np.float32), batch_size=batch_size, verbose=0)
        return self.codec.decode(outputs)

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


def load_pitch_model(model_dir: str | Path) -> PitchModel:
    import keras

    model_dir = Path(model_dir)
    for name in (MODEL_FILE, META_FILE):
        if not (model_dir / name).is_file():
            raise FileNotFoundError(f"{model_dir / name}: no trained model here (run `dvc repro train` or `dvc pull`)")
    return PitchModel(keras.saving.load_model(model_dir / MODEL_FILE), json.loads((model_dir / META_FILE).read_text()))
