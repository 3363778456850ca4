"""Run a trained model on recordings: any sample rate or channel count, a sliding 0.33 s window."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np

from pitchpipe.audio import peak_normalise, resample, rms_db
from pitchpipe.config import FeaturizeConfig
from pitchpipe.notes import hz_to_midi, note_name
from pitchpipe.spectrogram import spectrogram

SILENCE_DB = -60.0


class PitchModel:
    """A saved model with what it needs around it: the STFT it was trained on and its output decoding."""

    def __init__(self, model, meta: dict):
        from pitchpipe.train import PitchCodec

        self.model, self.meta = model, meta
        self.featurize = FeaturizeConfig(**meta["featurize"])
        self.codec = PitchCodec(**meta["codec"])
        self.clip_samples = int(meta["clip_samples"])
        self.sample_rate = self.featurize.sample_rate

    def predict_features(self, features: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        outputs = self.model.predict(np.asarray(features, dtype=np.float32), batch_size=batch_size, verbose=0)
        return self.codec.decode(outputs)

    def predict_clips(self, clips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.predict_features(spectrogram(clips, self.featurize))


def load_pitch_model(model_dir: str | Path) -> PitchModel:
    import keras

    from pitchpipe.train import META_FILE, MODEL_FILE

    model_dir = Path(model_dir)
    for name in (MODEL_FILE, META_FILE):
        if not (model_dir / name).is_file():
            raise FileNotFoundError(f"{model_dir / name}: no trained model here (run `dvc repro train` or `dvc pull`)")
    return PitchModel(keras.saving.load_model(model_dir / MODEL_FILE), json.loads((model_dir / META_FILE).read_text()))


def read_audio(path: Path, sample_rate: int) -> np.ndarray:
    """Mono audio at `sample_rate` from WAV/FLAC/OGG (anything libsndfile reads), peak-normalised."""
    import soundfile

    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: file is empty")
    try:
        audio, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as error:
        raise ValueError(f"{path}: cannot decode audio ({error})") from None
    if len(audio) == 0:
        raise ValueError(f"{path}: contains no audio frames")
    mono = resample(audio.mean(axis=1), rate, sample_rate)
    if rms_db(mono)[0] < SILENCE_DB:
        raise ValueError(f"{path}: silent (RMS below {SILENCE_DB:.0f} dBFS), no pitch to estimate")
    return peak_normalise(mono)


def windows(audio: np.ndarray, length: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows of `length` every `hop` samples (the last one zero-padded); a short file gives one window."""
    starts = np.arange(0, max(len(audio) - length, 0) + 1, hop)
    clips = np.zeros((len(starts), length))
    for row, start in enumerate(starts):
        piece = audio[start:start + length]
        clips[row, :len(piece)] = piece
    return starts, clips


def predict_files(paths: list[Path], model: PitchModel, hop_seconds: float, out) -> int:
    """Write `file,time,frequency,confidence,note` rows; returns how many files failed (each reported on stderr)."""
    writer = csv.writer(out)
    writer.writerow(["file", "time", "frequency", "confidence", "note"])
    failures = 0
    hop = max(1, round(hop_seconds * model.sample_rate))
    for path in paths:
        try:
            audio = read_audio(path, model.sample_rate)
        except (FileNotFoundError, ValueError) as error:
            print(f"pitchpipe predict: {error}", file=sys.stderr)
            failures += 1
            continue
        starts, clips = windows(audio, model.clip_samples, hop)
        hz, confidence = model.predict_clips(clips)
        for start, f, c in zip(starts, hz, confidence):
            name = note_name(int(np.rint(hz_to_midi(f)))) if np.isfinite(f) and f > 0 else ""
            writer.writerow([str(path), f"{start / model.sample_rate:.4f}", f"{f:.3f}", f"{c:.4f}", name])
    return failures
