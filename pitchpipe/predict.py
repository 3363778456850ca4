"""Run a trained model on recordings: any sample rate or channel count, a sliding 0.33 s window."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

from pitchpipe.audio import resample, rms_db
from pitchpipe.notes import hz_to_midi, note_name
from pitchpipe.saved_model import PitchModel

SILENCE_DB = -60.0


def read_audio(path: Path, sample_rate: int) -> np.ndarray:
    """Mono audio at `sample_rate` from WAV/FLAC/OGG (anything libsndfile reads), at its own level: each
    window goes to the model exactly as a training clip goes through featurize."""
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
    if not np.isfinite(audio).all():
        raise ValueError(f"{path}: contains NaN or infinite samples")
    mono = resample(audio.mean(axis=1), rate, sample_rate)
    if rms_db(mono)[0] < SILENCE_DB:
        raise ValueError(f"{path}: silent (RMS below {SILENCE_DB:.0f} dBFS), no pitch to estimate")
    return mono


def windows(audio: np.ndarray, length: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows of `length` every `hop` samples (the last one zero-padded); a short file gives one window."""
    starts = np.arange(0, max(len(audio) - length, 0) + 1, hop)
    clips = np.zeros((len(starts), length))
    for row, start in enumerate(starts):
        piece = audio[start:start + length]
        clips[row, :len(piece)] = piece
    return starts, clips


def predict_files(paths: list[Path], model: PitchModel, hop_seconds: float, out) -> int:
    """Write `file,time,frequency,confidence,voiced,note` rows (frequency and note empty where the model hears
    no pitch); returns how many files failed (each reported on stderr)."""
    writer = csv.writer(out)
    writer.writerow(["file", "time", "frequency", "confidence", "voiced", "note"])
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
        for start, f, c, voiced in zip(starts, hz, confidence, model.voiced(confidence)):
            voiced = voiced and np.isfinite(f) and f > 0
            writer.writerow([str(path), f"{start / model.sample_rate:.4f}", f"{f:.3f}" if voiced else "", f"{c:.4f}",
                             int(voiced), note_name(int(np.rint(hz_to_midi(f)))) if voiced else ""])
    return failures
