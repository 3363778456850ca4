"""The saved-model format: the Keras file, the same network as ONNX, its JSON description, the output codec, and
loading it to serve (onnxruntime: no TensorFlow)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np

from pitchpipe.config import featurize_config_from
from pitchpipe.model.heads import PitchBins, decode_regression, encode_regression
from pitchpipe.sound.notes import hz_to_midi
from pitchpipe.model.onnx_model import load_onnx_network, write_onnx
from pitchpipe.sound.spectrogram import features

MODEL_FILE = "model.keras"
ONNX_FILE = "model.onnx"
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
    `network` maps a float32 batch of features to outputs."""

    def __init__(self, network: Callable[[np.ndarray], np.ndarray], meta: dict):
        self.network, self.meta = network, meta
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
    """The Keras model (to train on), the same network as ONNX (to serve) and `meta` (what turns audio into its
    inputs and its outputs into pitch)."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    model.save(model_dir / MODEL_FILE)
    write_onnx(model_dir / MODEL_FILE, tuple(model.input_shape[1:]), model_dir / ONNX_FILE)
    (model_dir / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def load_meta(model_dir: str | Path, what: str = "model", stage: str = "train") -> dict:
    """`model_dir`'s metadata, once its ONNX network and metadata are both there."""
    model_dir = Path(model_dir)
    if (model_dir / MODEL_FILE).is_file() and not (model_dir / ONNX_FILE).is_file():
        raise FileNotFoundError(f"{model_dir}: this {what} was saved before models were also written as ONNX "
                                f"({ONNX_FILE}): run `dvc repro {stage}` or `dvc pull`")
    for name in (ONNX_FILE, META_FILE):
        if not (model_dir / name).is_file():
            raise FileNotFoundError(f"{model_dir / name}: no trained {what} here (run `dvc repro {stage}` or `dvc pull`)")
    return json.loads((model_dir / META_FILE).read_text())


def load_pitch_model(model_dir: str | Path) -> PitchModel:
    """The note model saved in `model_dir`, its ONNX network run by onnxruntime."""
    return PitchModel(load_onnx_network(Path(model_dir) / ONNX_FILE), load_meta(model_dir))
