"""The evaluate stage's library: pitch metrics on the test split, by pitch and by group, beside classical estimators."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pitchpipe.dataset import load_split
from pitchpipe.notes import cents_between, hz_to_midi
from pitchpipe.pitch import fft_peak_hz, yin_hz
from pitchpipe.shards import list_shards, read_array

GROUPS = ("segment", "family", "soundfont", "missing_fundamental")


def pitch_metrics(predicted_hz: np.ndarray, true_hz: np.ndarray) -> dict[str, float]:
    """MIR-style scores: raw pitch accuracy within 50/10 cents, raw chroma accuracy (octave errors forgiven),
    octave-error rate, mean absolute error in Hz and median absolute error in cents. A missing estimate
    (NaN or ≤ 0) counts as wrong everywhere."""
    predicted_hz = np.asarray(predicted_hz, dtype=float)
    true_hz = np.asarray(true_hz, dtype=float)
    cents = cents_between(predicted_hz, true_hz)
    valid = np.isfinite(cents)
    error = np.where(valid, np.abs(cents), np.inf)
    chroma = np.where(valid, np.abs((cents + 600.0) % 1200.0 - 600.0), np.inf)
    octave_error = valid & (error > 50) & (chroma <= 50)
    return {
        "count": int(len(true_hz)),
        "mae_hz": float(np.mean(np.abs(np.where(np.isfinite(predicted_hz), predicted_hz, 0.0) - true_hz))),
        "median_abs_cents": float(np.median(error)),
        "rpa_50c": float(np.mean(error <= 50)),
        "rpa_10c": float(np.mean(error <= 10)),
        "rca_50c": float(np.mean(chroma <= 50)),
        "octave_error_rate": float(np.mean(octave_error)),
    }


def by_note(predicted_hz: np.ndarray, true_hz: np.ndarray, midi_note: np.ndarray) -> list[dict]:
    """Per MIDI note: count, mean and median absolute error in Hz and in cents (the original's headline plot)."""
    rows = []
    abs_hz = np.abs(np.nan_to_num(predicted_hz) - true_hz)
    abs_cents = np.abs(np.nan_to_num(cents_between(predicted_hz, true_hz), nan=1200.0))
    for note in np.unique(midi_note):
        mask = midi_note == note
        rows.append({"midi_note": int(note), "count": int(mask.sum()),
                     "mean_abs_hz": float(abs_hz[mask].mean()), "median_abs_hz": float(np.median(abs_hz[mask])),
                     "mean_abs_cents": float(abs_cents[mask].mean()), "median_abs_cents": float(np.median(abs_cents[mask]))})
    return rows


def test_audio(clips_dir: Path, clip_ids: np.ndarray) -> np.ndarray:
    """The 16 kHz audio of the test clips, in the order of `clip_ids`."""
    tables = [pq.read_table(p, columns=["clip_id", "audio"]) for p in list_shards(clips_dir / "test")]
    tables = [t for t in tables if t.num_rows]
    ids = np.concatenate([t.column("clip_id").to_numpy() for t in tables])
    audio = np.concatenate([read_array(t, "audio") for t in tables])
    position = {int(c): i for i, c in enumerate(ids)}
    return audio[[position[int(c)] for c in clip_ids]]


def evaluate(model_dir: Path, features_dir: Path, clips_dir: Path, out_dir: Path) -> dict:
    from pitchpipe.predict import load_pitch_model

    model = load_pitch_model(model_dir)
    columns = ("clip_id", "f0_hz", "midi_note", "segment", "family", "instrument", "soundfont", "missing_fundamental")
    features, labels = load_split(features_dir / "test", columns)
    predicted, confidence = model.predict_features(features)
    audio = test_audio(clips_dir, labels["clip_id"])
    sample_rate = model.sample_rate
    classical = {"fft_peak": fft_peak_hz(audio, sample_rate, fmin=30.0, nfft=1024),
                 "yin": yin_hz(audio, sample_rate, fmin=50.0, fmax=4500.0)}
    true_hz = labels["f0_hz"]
    metrics = {"model": pitch_metrics(predicted, true_hz)}
    metrics.update({name: pitch_metrics(hz, true_hz) for name, hz in classical.items()})
    below_top_octave = labels["midi_note"] <= labels["midi_note"].max() - 12  # the original dropped its top octave
    for name, hz in (("model", predicted), *classical.items()):
        metrics[name]["mae_hz_below_top_octave"] = float(np.mean(np.abs(np.nan_to_num(hz[below_top_octave])
                                                                        - true_hz[below_top_octave])))
    breakdown = {group: {str(value): pitch_metrics(predicted[labels[group] == value], true_hz[labels[group] == value])
                         for value in np.unique(labels[group])} for group in GROUPS}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    (out_dir / "breakdown.json").write_text(json.dumps(breakdown, indent=2, sort_keys=True) + "\n")
    notes = by_note(predicted, true_hz, labels["midi_note"])
    classical_notes = {name: by_note(hz, true_hz, labels["midi_note"]) for name, hz in classical.items()}
    for row, fft_row, yin_row in zip(notes, classical_notes["fft_peak"], classical_notes["yin"]):
        row["fft_peak_median_abs_cents"] = fft_row["median_abs_cents"]
        row["yin_median_abs_cents"] = yin_row["median_abs_cents"]
    (out_dir / "error_by_note.json").write_text(json.dumps(notes, indent=1) + "\n")
    table = pa.table({**{c: labels[c] for c in columns}, "predicted_hz": predicted, "confidence": confidence,
                      "fft_peak_hz": classical["fft_peak"], "yin_hz": classical["yin"],
                      "predicted_midi": hz_to_midi(predicted)})
    pq.write_table(table, out_dir / "predictions.parquet", compression="zstd")
    return metrics
