"""Pitch arithmetic: MIDI numbers, Hz, cents and note names (A4 = MIDI 69 = 440 Hz)."""

from __future__ import annotations

import numpy as np

A4_HZ = 440.0
A4_MIDI = 69
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def midi_to_hz(midi, cents=0.0):
    """Frequency of MIDI note `midi` detuned by `cents`: 440 * 2**((m - 69)/12 + c/1200)."""
    return A4_HZ * np.power(2.0, (np.asarray(midi, dtype=float) - A4_MIDI) / 12.0 + np.asarray(cents, dtype=float) / 1200.0)


def hz_to_midi(hz):
    """Fractional MIDI number of a frequency; non-positive frequencies give NaN."""
    hz = np.asarray(hz, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(hz > 0, A4_MIDI + 12.0 * np.log2(hz / A4_HZ), np.nan)


def cents_between(estimate_hz, reference_hz):
    """Signed distance in cents from `reference_hz` to `estimate_hz` (NaN where either is not positive)."""
    estimate_hz = np.asarray(estimate_hz, dtype=float)
    reference_hz = np.asarray(reference_hz, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        valid = (estimate_hz > 0) & (reference_hz > 0)
        return np.where(valid, 1200.0 * np.log2(estimate_hz / reference_hz), np.nan)


def note_name(midi: int) -> str:
    """Scientific pitch name such as 'C4' (MIDI 60) or 'A#2'."""
    midi = int(midi)
    return f"{NOTE_NAMES[midi % 12]}{midi // 12 - 1}"
