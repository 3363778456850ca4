"""Pitch scores in musical terms (MIR conventions), overall and broken down by any label column."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pitchpipe.sound.notes import cents_between

SIGNIFICANT_DIGITS = 6  # logged scores are rounded: the ninth digit differs between machines


def rounded(value):
    """Floats in nested dicts and lists rounded to SIGNIFICANT_DIGITS, so outputs compare across machines;
    NaN and infinities become None (JSON has no such numbers)."""
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item) for item in value]
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}") if np.isfinite(value) else None
    return value


def pitch_metrics(predicted_hz: np.ndarray, true_hz: np.ndarray) -> dict[str, float]:
    """MIR-style scores: raw pitch accuracy within 50/10 cents, raw chroma accuracy (octave errors forgiven),
    octave-error rate, mean absolute error in Hz and median absolute error in cents. A missing estimate
    (NaN or ≤ 0) counts as wrong everywhere."""
    predicted_hz = np.asarray(predicted_hz, dtype=float)
    true_hz = np.asarray(true_hz, dtype=float)
    if not len(true_hz):
        return {"count": 0}
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


def octave_label(midi_note) -> np.ndarray:
    """'C2–B2'-style octave names of MIDI notes (scientific pitch: MIDI 36 is C2)."""
    octave = np.asarray(midi_note, dtype=int) // 12 - 1
    return np.array([f"C{o}–B{o}" for o in octave])


def breakdown(estimates: dict[str, np.ndarray], true_hz: np.ndarray, groups: dict[str, np.ndarray]) -> dict:
    """{group: {value: {estimator: pitch_metrics}}} for every label column in `groups`."""
    out: dict = {}
    for group, values in groups.items():
        values = np.asarray(values).astype(str)
        out[group] = {value: {name: pitch_metrics(hz[values == value], true_hz[values == value])
                              for name, hz in estimates.items()}
                      for value in np.unique(values)}
    return out


def pitched_rate(voiced_decision: np.ndarray) -> float:
    """Share of clips an estimator gave a pitch to: on unvoiced clips, its false-alarm rate."""
    voiced_decision = np.asarray(voiced_decision, dtype=bool)
    return float(voiced_decision.mean()) if voiced_decision.size else float("nan")


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


def reliability(confidence: np.ndarray, predicted_hz: np.ndarray, true_hz: np.ndarray, bins: int = 10,
                min_count: int = 30) -> list[dict]:
    """Accuracy (within 50 cents) against confidence: a confidence that means something rises with it. Bins of
    width 1/`bins` are merged with their neighbours until each holds `min_count` clips, so the curve does not
    zigzag on a handful; each row gives its range, its clips' mean confidence and their count."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.abs(np.nan_to_num(cents_between(predicted_hz, true_hz), nan=np.inf)) <= 50
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    groups: list[list[int]] = []
    current: list[int] = []
    for k in range(bins):
        current.append(k)
        if counts[current].sum() >= min_count:
            groups.append(current)
            current = []
    if current:  # too few left for a bin of their own: they join the last one
        groups[-1:] = [(groups[-1] if groups else []) + current]
    rows = []
    for group in groups:
        members = np.isin(which, group)
        if members.any():
            rows.append({"confidence_low": group[0] / bins, "confidence_high": (group[-1] + 1) / bins,
                         "confidence": float(confidence[members].mean()), "count": int(members.sum()),
                         "rpa_50c": float(correct[members].mean())})
    return rows


def write_json(path: Path, value) -> None:
    """`value`, rounded, as indented JSON with sorted keys: the same scores give the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rounded(value), indent=1, sort_keys=True) + "\n")
