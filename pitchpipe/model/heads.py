"""Output heads: how a pitch becomes a training target and how a network output becomes Hz and confidence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pitchpipe.sound.notes import hz_to_midi, midi_to_hz

DECODE_RADIUS_BINS = 4


@dataclass(frozen=True)
class PitchBins:
    """Pitch classes of `bin_cents` width covering MIDI `low`..`high` (bin centres, in MIDI units)."""

    low: float
    high: float
    bin_cents: float

    @property
    def centres(self) -> np.ndarray:
        step = self.bin_cents / 100.0
        return np.arange(self.low, self.high + step / 2, step)

    def targets(self, f0_hz: np.ndarray, blur_cents: float) -> np.ndarray:
        """Gaussian-blurred one-hot targets (peak 1) around each true pitch; all zeros where there is no pitch
        (f0 NaN or ≤ 0: unvoiced clips teach the model to say so)."""
        distance_cents = (hz_to_midi(f0_hz)[:, None] - self.centres[None, :]) * 100.0
        return np.nan_to_num(np.exp(-0.5 * np.square(distance_cents / blur_cents)), nan=0.0).astype(np.float32)

    def decode(self, activations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted average of bin centres within ±4 bins of the peak → (Hz, confidence = peak activation)."""
        activations = np.atleast_2d(activations)
        peak = activations.argmax(axis=1)
        offsets = np.arange(-DECODE_RADIUS_BINS, DECODE_RADIUS_BINS + 1)
        wanted = peak[:, None] + offsets[None, :]
        index = np.clip(wanted, 0, activations.shape[1] - 1)
        weights = np.where(wanted == index, np.take_along_axis(activations, index, axis=1), 0.0)
        midi = (weights * self.centres[index]).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-12)
        return midi_to_hz(midi), activations.max(axis=1)


# Regression heads predict a standardised value; these say what it stands for.
HZ_SCALE = 1000.0


def encode_regression(head: str, f0_hz: np.ndarray, midi_centre: float, midi_span: float) -> np.ndarray:
    if head == "hz":
        return (np.asarray(f0_hz) / HZ_SCALE).astype(np.float32)[:, None]
    return ((hz_to_midi(f0_hz) - midi_centre) / midi_span).astype(np.float32)[:, None]


def decode_regression(head: str, output: np.ndarray, midi_centre: float, midi_span: float) -> np.ndarray:
    output = np.asarray(output, dtype=np.float64).reshape(-1)
    if head == "hz":
        return output * HZ_SCALE
    return midi_to_hz(output * midi_span + midi_centre)
