"""Batched STFT spectrograms, defined exactly as scipy.signal.spectrogram defines them."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import get_window

from pitchpipe.config import FeaturizeConfig

LOG_FLOOR = 1e-8
CHUNK_CLIPS = 64


def frequencies(config: FeaturizeConfig) -> np.ndarray:
    """Centre frequency of each kept bin (after the optional `max_hz` crop)."""
    freqs = np.fft.rfftfreq(config.nfft, 1.0 / config.sample_rate)
    return freqs if config.max_hz is None else freqs[freqs <= config.max_hz]


def n_frames(n_samples: int, config: FeaturizeConfig) -> int:
    return (n_samples - config.nperseg) // (config.nperseg - config.noverlap) + 1


def _chunk(clips: np.ndarray, config: FeaturizeConfig, window: np.ndarray, n_bins: int) -> np.ndarray:
    step = config.nperseg - config.noverlap
    frames = sliding_window_view(clips, config.nperseg, axis=-1)[:, ::step, :]
    frames = frames - frames.mean(axis=-1, keepdims=True)  # scipy's default detrend='constant'
    spectrum = np.fft.rfft(frames * window, n=config.nfft, axis=-1)[..., :n_bins]
    scale = 1.0 / (config.sample_rate * np.sum(window ** 2))  # scaling='density'
    if config.scale == "psd":
        power = np.square(np.abs(spectrum)) * scale
        last = n_bins if n_bins < config.nfft // 2 + 1 or config.nfft % 2 else -1
        power[..., 1:last] *= 2.0  # one-sided: fold the negative frequencies in, except DC and Nyquist
        result = power
    else:
        result = np.abs(spectrum) * np.sqrt(scale)
        if config.scale == "log":
            result = 20.0 * np.log10(np.maximum(result, LOG_FLOOR))
    return np.swapaxes(result, -1, -2)


def spectrogram(clips: np.ndarray, config: FeaturizeConfig) -> np.ndarray:
    """(clips, samples) → (clips, bins, frames) in `config.dtype`, processed in chunks to bound memory.

    scale 'psd' equals scipy.signal.spectrogram(mode='psd'), 'magnitude' equals mode='magnitude',
    and 'log' is 20·log10 of the magnitude (floored at LOG_FLOOR).
    """
    clips = np.atleast_2d(np.asarray(clips, dtype=np.float64))
    window = get_window(config.window, config.nperseg)
    n_bins = len(frequencies(config))
    out = np.empty((len(clips), n_bins, n_frames(clips.shape[1], config)), dtype=config.dtype)
    for start in range(0, len(clips), CHUNK_CLIPS):
        out[start:start + CHUNK_CLIPS] = _chunk(clips[start:start + CHUNK_CLIPS], config, window, n_bins)
    return out
