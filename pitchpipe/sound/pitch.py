"""Classical pitch estimators on batches of clips: context for the model and checks on the labels."""

from __future__ import annotations

import numpy as np
import scipy.fft
from scipy.signal import resample_poly


def _parabolic_offset(left, centre, right):
    """Vertex offset (in bins, within ±0.5) of the parabola through three equally spaced points."""
    denominator = left - 2.0 * centre + right
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(np.abs(denominator) > 1e-12, 0.5 * (left - right) / denominator, 0.0)
    return np.clip(offset, -0.5, 0.5)


def fft_peak_hz(clips: np.ndarray, sample_rate: float, fmin: float = 30.0, fmax: float | None = None,
                nfft: int = 1024) -> np.ndarray:
    """Frequency of the largest peak of each clip's Hann-windowed spectrum (log-parabolic interpolation).

    This is the naive estimator: it reports the loudest partial, which is often not the fundamental.
    `nfft` ≥ the clip length zero-pads; a shorter nfft uses the clip's centre.
    """
    clips = np.atleast_2d(np.asarray(clips, dtype=np.float64))
    length = min(nfft, clips.shape[1])
    start = (clips.shape[1] - length) // 2
    segment = clips[:, start:start + length] * np.hanning(length)
    magnitude = np.log(np.abs(np.fft.rfft(segment, n=nfft, axis=1)) + 1e-12)
    freqs = np.fft.rfftfreq(nfft, 1.0 / sample_rate)
    fmax = sample_rate / 2 if fmax is None else fmax
    band = (freqs >= fmin) & (freqs <= fmax)
    lo, hi = np.flatnonzero(band)[[0, -1]]
    lo, hi = max(lo, 1), min(hi, len(freqs) - 2)
    peak = lo + np.argmax(magnitude[:, lo:hi + 1], axis=1)
    rows = np.arange(len(clips))
    offset = _parabolic_offset(magnitude[rows, peak - 1], magnitude[rows, peak], magnitude[rows, peak + 1])
    return (peak + offset) * sample_rate / nfft


YIN_CHUNK_CLIPS = 256  # clips per FFT batch: bounds memory (a whole evaluation set at once needs gigabytes)


def yin_hz(clips: np.ndarray, sample_rate: float, fmin: float = 50.0, fmax: float = 4500.0,
           threshold: float = 0.15, oversample: int = 1) -> np.ndarray:
    """YIN fundamental estimate per clip (de Cheveigné & Kawahara 2002), NaN where nothing is periodic.

    Difference function from FFT autocorrelation, cumulative-mean normalisation, the first dip under
    `threshold` (else the global minimum), and parabolic interpolation of the lag. High notes have
    periods of a few samples, where whole-sample lags are too coarse: `oversample` > 1 upsamples first.
    """
    clips = np.atleast_2d(np.asarray(clips, dtype=np.float64))
    if oversample > 1:
        clips = resample_poly(clips, oversample, 1, axis=1)
        sample_rate = sample_rate * oversample
    n = clips.shape[1]
    max_lag = min(int(np.ceil(sample_rate / fmin)) + 1, n // 2)
    min_lag = max(2, int(np.floor(sample_rate / fmax)))
    if len(clips) == 0:
        return np.empty(0)
    return np.concatenate([_yin_periods(clips[start:start + YIN_CHUNK_CLIPS], sample_rate, min_lag, max_lag, threshold)
                           for start in range(0, len(clips), YIN_CHUNK_CLIPS)])


def _yin_periods(clips: np.ndarray, sample_rate: float, min_lag: int, max_lag: int, threshold: float) -> np.ndarray:
    """yin_hz on one chunk of clips."""
    n = clips.shape[1]
    window = n - max_lag
    # Lags 0..max_lag of a `window`-sample head against the clip never reach past sample n - 1, so an FFT of
    # n points (rounded up to a fast size) computes them without wrap-around.
    size = scipy.fft.next_fast_len(n, real=True)
    spectrum_full = scipy.fft.rfft(clips, size, axis=1)
    spectrum_head = scipy.fft.rfft(clips[:, :window], size, axis=1)
    correlation = scipy.fft.irfft(spectrum_full * np.conj(spectrum_head), size, axis=1)[:, :max_lag + 1]
    energy = np.cumsum(np.pad(clips ** 2, ((0, 0), (1, 0))), axis=1)
    lag = np.arange(max_lag + 1)
    energy_head = energy[:, window:window + 1]
    energy_shifted = energy[:, lag + window] - energy[:, lag]
    difference = energy_head + energy_shifted - 2.0 * correlation
    difference[:, 0] = 0.0
    cumulative = np.cumsum(difference[:, 1:], axis=1) / lag[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        normalised = np.concatenate([np.ones((len(clips), 1)), difference[:, 1:] / cumulative], axis=1)
    normalised = np.nan_to_num(normalised, nan=1.0, posinf=1.0)
    search = normalised[:, min_lag:max_lag]
    below = search < threshold
    # the first local minimum from the first crossing under the threshold: the first position at or after the
    # crossing whose right neighbour is not lower (else the global minimum)
    first_below = below.argmax(axis=1)
    position = np.arange(search.shape[1])
    not_descending = np.append(search[:, 1:] >= search[:, :-1], np.ones((len(clips), 1), dtype=bool), axis=1)
    dip = (not_descending & (position >= first_below[:, None])).argmax(axis=1)
    best = np.where(below.any(axis=1), dip, search.argmin(axis=1))
    tau = best + min_lag
    rows = np.arange(len(clips))
    inner = (tau > 1) & (tau < max_lag)
    offset = np.zeros(len(clips))
    offset[inner] = _parabolic_offset(normalised[rows[inner], tau[inner] - 1], normalised[rows[inner], tau[inner]],
                                      normalised[rows[inner], tau[inner] + 1])
    periodic = normalised[rows, tau] < 0.5
    signal_energy = energy[:, -1] > 1e-10
    return np.where(periodic & signal_energy, sample_rate / (tau + offset), np.nan)


def refine_near(clips: np.ndarray, sample_rate: float, estimate_hz: np.ndarray, harmonics: int = 8,
                search_cents: float = 60.0, nfft: int = 1 << 17) -> np.ndarray:
    """Sharpen coarse f0 estimates by maximising the summed spectral magnitude at its first harmonics.

    A fine grid of candidates within ±`search_cents` of each estimate is scored on a heavily
    zero-padded spectrum; resolution is far below the FFT bin width once several harmonics agree.
    """
    clips = np.atleast_2d(np.asarray(clips, dtype=np.float64))
    magnitude = np.abs(np.fft.rfft(clips * np.hanning(clips.shape[1]), n=nfft, axis=1))
    bin_hz = sample_rate / nfft
    grid_cents = np.linspace(-search_cents, search_cents, 241)
    refined = np.full(len(clips), np.nan)
    for row, coarse in enumerate(np.asarray(estimate_hz, dtype=float)):
        if not np.isfinite(coarse) or coarse <= 0:
            continue
        candidates = coarse * 2.0 ** (grid_cents / 1200.0)
        multiples = np.arange(1, harmonics + 1)
        bins = np.rint(np.outer(candidates, multiples) / bin_hz).astype(int)
        valid = bins < magnitude.shape[1]
        score = np.where(valid, magnitude[row, np.minimum(bins, magnitude.shape[1] - 1)], 0.0).sum(axis=1)
        refined[row] = candidates[score.argmax()]
    return refined
