"""Audio transforms on numpy arrays: mono mix, resampling, normalisation, envelope slicing, filters."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.signal import butter, resample_poly, sosfiltfilt


def to_mono(pcm: np.ndarray) -> np.ndarray:
    """Average the channels of (..., frames, channels) audio into float64 mono; int PCM is scaled to ±1."""
    pcm = np.asarray(pcm)
    scale = float(np.iinfo(pcm.dtype).max) + 1.0 if np.issubdtype(pcm.dtype, np.integer) else 1.0
    mono = np.zeros(pcm.shape[:-1], dtype=np.float64)
    for channel in np.moveaxis(pcm, -1, 0):  # a loop over channels: numpy reduces a length-2 last axis slowly
        mono += channel
    return mono / (pcm.shape[-1] * scale)


def resample(audio: np.ndarray, source_rate: int, target_rate: int, axis: int = -1) -> np.ndarray:
    """Polyphase resampling with scipy's Kaiser-windowed anti-aliasing filter (exact rational ratio)."""
    if source_rate == target_rate:
        return np.asarray(audio, dtype=np.float64)
    ratio = Fraction(target_rate, source_rate)
    return resample_poly(audio, ratio.numerator, ratio.denominator, axis=axis)


def peak_normalise(audio: np.ndarray) -> np.ndarray:
    """Scale each signal (last axis) so its largest absolute sample is 1; silence stays silence."""
    audio = np.asarray(audio, dtype=np.float64)
    if audio.size == 0:
        return audio
    peak = np.max(np.abs(audio), axis=-1, keepdims=True)
    return np.divide(audio, peak, out=audio.copy(), where=peak > 0)


def segment_starts(note_seconds: float, clip_seconds: float, segments: tuple[str, ...]) -> dict[str, float]:
    """Start time of each envelope segment: attack at the onset, sustain mid-note, decay at note-off."""
    starts = {"attack": 0.0,
              "sustain": max(clip_seconds, (note_seconds - clip_seconds) / 2.0),
              "decay": note_seconds}
    return {name: starts[name] for name in segments}


def slice_clip(audio: np.ndarray, start: int, length: int) -> np.ndarray:
    """`length` samples from `start` along the last axis, zero-padded if the audio ends first."""
    piece = audio[..., start:start + length]
    clip = np.zeros((*audio.shape[:-1], length), dtype=np.float64)
    clip[..., :piece.shape[-1]] = piece
    return clip


def rms_db(clips: np.ndarray) -> np.ndarray:
    """Root-mean-square level of each clip in dB relative to full scale (−inf for digital silence)."""
    rms = np.sqrt(np.mean(np.square(np.atleast_2d(clips)), axis=-1))
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(rms)


def high_pass(audio: np.ndarray, sample_rate: int, cutoff_hz: float, order: int = 8) -> np.ndarray:
    """Zero-phase Butterworth high-pass at `cutoff_hz` (a small loudspeaker's low end, steeper)."""
    sos = butter(order, cutoff_hz, btype="highpass", fs=sample_rate, output="sos")
    return sosfiltfilt(sos, audio)


def reject_band(audio: np.ndarray, sample_rate: int, centre_hz: float, half_width_semitones: float = 3.0,
                order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth band-stop around `centre_hz`: removes a fundamental, keeps its octave."""
    factor = 2.0 ** (half_width_semitones / 12.0)
    nyquist = sample_rate / 2.0
    low, high = centre_hz / factor, min(centre_hz * factor, nyquist * 0.999)
    sos = butter(order, [low, high], btype="bandstop", fs=sample_rate, output="sos")
    return sosfiltfilt(sos, audio)
