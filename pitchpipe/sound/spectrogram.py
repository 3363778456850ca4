"""Model inputs from clips: batched STFT spectrograms (exactly as scipy.signal.spectrogram defines them), the
harmonic log-frequency spectrum, or the raw audio."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import get_window

from pitchpipe.config import FeaturizeConfig
from pitchpipe.sound.notes import midi_to_hz

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


SILENCE_DBFS = -85.0  # a clip whose loudest partial is quieter than a sine at this level is silence (all zeros):
# below any training clip worth the name, above the -86 dBFS ripple that resampling leaves on a constant


def harmonic_bin_midi(config: FeaturizeConfig) -> np.ndarray:
    """MIDI pitch of each log-frequency bin of the `harmonic` representation (also the model's output bins)."""
    count = int(round((config.midi_high - config.midi_low) * config.bins_per_semitone)) + 1
    return config.midi_low + np.arange(count) / config.bins_per_semitone


def harmonic_nfft(n_samples: int) -> int:
    """FFT size for the whole-clip spectrum: zero-padded to at least twice the clip, for smooth interpolation."""
    return 1 << int(np.ceil(np.log2(2 * n_samples)))


def harmonic_spectrum(clips: np.ndarray, config: FeaturizeConfig) -> np.ndarray:
    """(clips, samples) → (clips, bins, harmonics): the log magnitude of each clip's Hann-windowed spectrum at
    h × the pitch of each log-frequency bin, in dB below the clip's loudest partial, mapped from
    [floor_db, 0] to [0, 1].

    One window over the whole clip resolves harmonics 6 Hz apart, so low notes are as clear as high ones;
    sampling at h·f stacks each candidate pitch's harmonics in one place, and a pitch change is a shift along
    the bins. Gain does not matter; a clip whose loudest partial is under SILENCE_DBFS is all zeros.
    """
    clips = np.atleast_2d(np.asarray(clips, dtype=np.float64))
    n_samples = clips.shape[1]
    nfft = harmonic_nfft(n_samples)
    window = get_window("hann", n_samples)
    sampling = HarmonicSampling(harmonic_bin_midi(config), config.harmonics, config.bins_per_semitone,
                                config.sample_rate, nfft)
    silence_db = SILENCE_DBFS + 20.0 * np.log10(window.sum() / 2.0)  # a sine's peak after the window
    out = np.empty((len(clips), *sampling.shape), dtype=config.dtype)
    for start in range(0, len(clips), CHUNK_CLIPS):
        chunk = clips[start:start + CHUNK_CLIPS]
        chunk = (chunk - chunk.mean(axis=1, keepdims=True)) * window
        decibels = 20.0 * np.log10(np.maximum(np.abs(np.fft.rfft(chunk, nfft, axis=1)), 1e-12))
        loudest = decibels.max(axis=1)[:, None, None]
        relative = np.where(sampling.inside & (loudest >= silence_db), sampling.apply(decibels) - loudest, config.floor_db)
        out[start:start + CHUNK_CLIPS] = np.clip(1.0 - relative / config.floor_db, 0.0, 1.0)
    return out


class HarmonicSampling:
    """Where each (bin, harmonic) of the harmonic representation reads the FFT: the largest value over the
    bin's own band (±half a bin around h·f), or, where that band holds no FFT bin (low frequencies), the
    value interpolated at h·f. Point sampling alone would miss a steady tone's narrow peak between bins
    that are wider than it at high frequencies."""

    def __init__(self, bin_midi: np.ndarray, harmonics, bins_per_semitone: int, sample_rate: int, nfft: int):
        centre = np.outer(midi_to_hz(bin_midi), harmonics) * nfft / sample_rate  # fractional FFT bin of each h·f
        half_band = 2.0 ** (0.5 / (12.0 * bins_per_semitone))
        self.shape = centre.shape
        self.inside = centre * half_band < nfft // 2
        last = nfft // 2 - 1
        centre = np.minimum(centre, last)
        self.lower = np.floor(centre).astype(int).ravel()
        self.fraction = (centre - np.floor(centre)).ravel()
        first = np.minimum(np.ceil(centre / half_band).astype(int), last).ravel()
        stop = np.minimum(np.floor(centre * half_band).astype(int) + 1, last + 1).ravel()
        self.banded = stop > first
        self.bounds = np.stack([first, np.maximum(stop, first + 1)], axis=1).ravel()  # reduceat's [start, stop) pairs

    def apply(self, decibels: np.ndarray) -> np.ndarray:
        """(clips, fft bins) dB → (clips, bins, harmonics)."""
        point = decibels[:, self.lower] * (1.0 - self.fraction) + decibels[:, self.lower + 1] * self.fraction
        band = np.maximum.reduceat(decibels, self.bounds, axis=1)[:, ::2]
        return np.where(self.banded, np.maximum(point, band), point).reshape(len(decibels), *self.shape)


def stft_basis(nperseg: int, nfft: int) -> np.ndarray:
    """(nperseg, nfft // 2 + 1) complex: column k is the Hann window times exp(−2πi·k·n/nfft), so a frame's
    spectrum is frame @ basis (what scipy's STFT computes before scaling, without detrending)."""
    n = np.arange(nperseg)[:, None]
    return get_window("hann", nperseg)[:, None] * np.exp(-2j * np.pi * n * np.arange(nfft // 2 + 1)[None, :] / nfft)


def features(clips: np.ndarray, config: FeaturizeConfig) -> np.ndarray:
    """The model input of each clip, in the configured representation (`raw`: the audio itself, for models that
    learn their own front end)."""
    if config.representation == "raw":
        return np.asarray(clips, dtype=config.dtype)[:, :, None]
    return harmonic_spectrum(clips, config) if config.representation == "harmonic" else spectrogram(clips, config)


def feature_axes(n_samples: int, config: FeaturizeConfig) -> tuple[np.ndarray, int]:
    """(centre frequency in Hz of each feature bin, size of the second axis) for clips of `n_samples`."""
    if config.representation == "harmonic":
        return midi_to_hz(harmonic_bin_midi(config)), len(config.harmonics)
    if config.representation == "raw":
        return np.arange(n_samples) / config.sample_rate, 1  # sample times: the "bins" of raw audio
    return frequencies(config), n_frames(n_samples, config)
