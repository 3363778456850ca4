"""The frame-level tracker's input: one spectral analysis of a whole recording, a column every `hop` samples.

A pitch at C2 needs a window of about 128 ms to resolve its partials (65 Hz apart); a glide or vibrato at C6
needs one of about 32 ms to be followed. A decimation pyramid gives both at the cost of one short FFT per
level: level k is the audio at sample rate / 2^k, analysed with the same `window` samples (so 2^k times
longer in seconds) on the same frame centres, and each log-frequency bin reads the level its pitch needs.
Each bin is then sampled at h × its pitch for every harmonic h, as the note model's harmonic spectrum is, so
a pitch change is a shift along the bins (the model stays equivariant), and the frames at `context` offsets
are stacked as channels, so the model sees some frames either side.

Values are dB below the loudest partial within ±`reference_seconds`, mapped from [floor_db, 0] to [0, 1]:
level does not matter, but a quiet tail after a loud note looks quiet. Audio whose loudest partial is under
SILENCE_DBFS there is all zeros.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import maximum_filter1d
from scipy.signal import get_window, resample_poly

from pitchpipe.config import FramesConfig
from pitchpipe.sound.spectrogram import SILENCE_DBFS, HarmonicSampling

LOG_FLOOR = 1e-12
FLOOR_DB = -240.0  # 20·log10(LOG_FLOOR): what a point above the band limit or beyond the audio reads


def bin_midi(config: FramesConfig) -> np.ndarray:
    """MIDI pitch of each log-frequency bin (also the tracker's output bins)."""
    count = int(round((config.midi_high - config.midi_low) * config.bins_per_semitone)) + 1
    return config.midi_low + np.arange(count) / config.bins_per_semitone


def frame_count(n_samples: int, config: FramesConfig) -> int:
    """Frames centred at 0, hop, 2·hop, … up to the last sample."""
    return n_samples // config.hop + 1


def levels(config: FramesConfig) -> list[np.ndarray]:
    """The bin indices each pyramid level serves: level 0 from `level_below_midi[0]` up, and so on down."""
    midi = bin_midi(config)
    edges = [np.inf, *config.level_below_midi, -np.inf]
    return [np.flatnonzero((midi < edges[k]) & (midi >= edges[k + 1])) for k in range(len(edges) - 1)]


def context_margin(config: FramesConfig) -> int:
    """Frames either side that one frame's features depend on (window, reference, context), with room to
    spare for the decimation filters: a chunk analysed with this margin gives its inner frames exactly."""
    window_frames = (config.window * 2 ** len(config.level_below_midi)) // (2 * config.hop) + 2
    reference = int(np.ceil(config.reference_seconds * config.sample_rate / config.hop))
    return window_frames + reference + max(abs(c) for c in config.context) + 2


class RangeMaxSampling:
    """HarmonicSampling's values (the larger of the point interpolated at h·f and the maximum over the bin's
    band) computed with a sparse table: the maximum over [first, stop) is the larger of two overlapping runs of
    2^j bins. Several times faster than `np.maximum.reduceat` on many short frames."""

    def __init__(self, sampling: HarmonicSampling):
        self.inside, self.shape = sampling.inside.ravel(), sampling.shape
        self.lower, self.fraction = sampling.lower, sampling.fraction.astype(np.float32)
        first, stop = sampling.bounds[0::2], sampling.bounds[1::2]
        width = np.maximum(stop - first, 1)
        self.runs = int(np.floor(np.log2(width.max()))) + 1
        run = np.floor(np.log2(width)).astype(int)
        self.banded = sampling.banded
        self.left, self.right, self.run = first, stop - 2 ** run, run

    def apply(self, decibels: np.ndarray) -> np.ndarray:
        """(frames, FFT bins) dB → (frames, bins · harmonics) dB; points above the band limit read −inf."""
        n = decibels.shape[1]
        table = np.empty((self.runs, *decibels.shape), dtype=decibels.dtype)
        table[0] = decibels
        for j in range(1, self.runs):
            step = 2 ** (j - 1)
            table[j, :, :n - step] = np.maximum(table[j - 1, :, :n - step], table[j - 1, :, step:])
            table[j, :, n - step:] = table[j - 1, :, n - step:]
        flat = table.transpose(1, 0, 2).reshape(len(decibels), -1)
        band = np.maximum(flat[:, self.run * n + self.left], flat[:, self.run * n + self.right])
        point = decibels[:, self.lower] + (decibels[:, self.lower + 1] - decibels[:, self.lower]) * self.fraction
        values = np.where(self.banded, np.maximum(point, band), point)
        return np.where(self.inside, values, -np.inf)


class FrameAnalysis:
    """The pyramid's windows and harmonic sampling, built once per config and used for every file."""

    def __init__(self, config: FramesConfig):
        self.config = config
        self.window = get_window("hann", config.window)
        self.nfft = 2 * config.window  # zero-padded twice over, for smooth interpolation between FFT bins
        self.bins = bin_midi(config)
        self.levels = levels(config)
        self.samplings = [RangeMaxSampling(HarmonicSampling(self.bins[served], config.harmonics,
                                                            config.bins_per_semitone, config.sample_rate // 2 ** level,
                                                            self.nfft)) if len(served) else None
                          for level, served in enumerate(self.levels)]
        self.silence_db = SILENCE_DBFS + 20.0 * np.log10(self.window.sum() / 2.0)  # a sine's peak after the window
        self.reference_frames = 2 * int(round(config.reference_seconds * config.sample_rate / config.hop)) + 1

    def decibels(self, audio: np.ndarray, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
        """(frames, bins, harmonics) dB of each sampled partial and (frames,) loudest FFT bin, frames centred at
        0, hop, … of `audio` (zeros beyond its ends)."""
        config = self.config
        out = np.full((n_frames, len(self.bins), len(config.harmonics)), FLOOR_DB, dtype=np.float32)
        loudest = np.full(n_frames, FLOOR_DB, dtype=np.float32)
        for level, (served, sampling) in enumerate(zip(self.levels, self.samplings)):
            if sampling is None:
                continue
            factor = 2 ** level
            signal = resample_poly(audio, 1, factor) if factor > 1 else np.asarray(audio, dtype=np.float64)
            half = config.window // 2
            padded = np.pad(signal, (half, half + config.window))
            frames = sliding_window_view(padded, config.window)[::config.hop // factor][:n_frames]
            frames = ((frames - frames.mean(axis=1, keepdims=True)) * self.window).astype(np.float32)
            magnitude = np.abs(scipy.fft.rfft(frames, self.nfft, axis=1))
            spectrum = 20.0 * np.log10(np.maximum(magnitude, LOG_FLOOR))
            values = np.maximum(sampling.apply(spectrum), FLOOR_DB)
            out[:len(frames), served] = values.reshape(len(frames), *sampling.shape)
            loudest[:len(frames)] = np.maximum(loudest[:len(frames)], spectrum.max(axis=1))
        return out, loudest

    def features(self, audio: np.ndarray, n_frames: int | None = None) -> np.ndarray:
        """(frames, bins, harmonics) in [0, 1] of mono `audio` at the config's sample rate."""
        config = self.config
        n_frames = frame_count(len(audio), config) if n_frames is None else n_frames
        decibels, loudest = self.decibels(audio, n_frames)
        reference = maximum_filter1d(loudest, self.reference_frames, mode="constant", cval=loudest.min())
        relative = decibels - reference[:, None, None]
        values = np.clip(1.0 - relative / config.floor_db, 0.0, 1.0)
        values[reference < self.silence_db] = 0.0
        return values.astype(np.float32)


def with_context(features: np.ndarray, context: tuple[int, ...]) -> np.ndarray:
    """(frames, bins, harmonics) → (frames, bins, harmonics × len(context)): frame t + c for each offset c,
    offset-major; frames beyond the ends are silence (zeros)."""
    frames, bins, harmonics = features.shape
    out = np.zeros((frames, bins, harmonics * len(context)), dtype=features.dtype)
    for index, offset in enumerate(context):
        target = out[:, :, index * harmonics:(index + 1) * harmonics]
        if offset >= 0:
            target[:frames - offset] = features[offset:]
        else:
            target[-offset:] = features[:frames + offset]
    return out


def model_input(audio: np.ndarray, config: FramesConfig, analysis: FrameAnalysis | None = None) -> np.ndarray:
    """The tracker's input for every frame of `audio`: features with their context, in the stored dtype."""
    analysis = analysis or FrameAnalysis(config)
    return with_context(analysis.features(audio), config.context).astype(config.dtype)
