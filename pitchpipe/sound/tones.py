"""Signals written in numpy with exactly known pitch: additive tones, noise, synthetic reverb.

The probe set uses these to judge the model on sounds no soundfont makes. Every function takes its
randomness from a Generator passed in, so callers decide the seeding.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve

NYQUIST_FRACTION = 0.45  # partials above this fraction of the sample rate are left out (band-limited)
# A tone with its lowest harmonics removed keeps at least this many partials within RESIDUE_WITHIN_DB of its
# loudest: its pitch is then the spacing of what is left, while a lone partial at k·f0 (or one with only far
# weaker company, lost under any noise) is heard at k·f0, so labelling it f0 would be wrong.
MIN_RESIDUE_PARTIALS = 2
RESIDUE_WITHIN_DB = 20.0

# Families of harmonic amplitude patterns; the random ones draw a smooth spectral envelope.
HARMONIC_FAMILIES = ("sine", "square", "sawtooth", "triangle", "random_envelope", "odd_only",
                     "missing_fundamental", "missing_low_harmonics", "inharmonic", "vibrato")


def partial_count(f0_hz: float, sample_rate: int, stretch: float = 0.0) -> int:
    """How many partials of `f0_hz` (stretched by `stretch`) stay below NYQUIST_FRACTION · sample_rate."""
    k = np.arange(1, int(sample_rate / max(f0_hz, 1.0)) + 2)
    return int(np.sum(k * f0_hz * np.sqrt(1.0 + stretch * k ** 2) < NYQUIST_FRACTION * sample_rate))


def without_low_harmonics(amplitudes: np.ndarray, count: int) -> np.ndarray:
    """`amplitudes` with harmonics 1..`count` silenced, or fewer: as many as leave MIN_RESIDUE_PARTIALS partials
    within RESIDUE_WITHIN_DB of the loudest one left (a high note or a sparse spectrum gives up fewer, or none)."""
    out = np.array(amplitudes, dtype=float)
    magnitude = np.abs(out)

    def residue_heard(rest: np.ndarray) -> bool:
        loud = (rest > 0) & (rest >= rest.max() * 10.0 ** (-RESIDUE_WITHIN_DB / 20.0))
        return np.count_nonzero(loud) >= MIN_RESIDUE_PARTIALS

    cut = next((c for c in range(min(count, len(out) - 1), 0, -1) if residue_heard(magnitude[c:])), 0)
    out[:cut] = 0.0
    return out


def can_remove_fundamental(f0_hz: float, sample_rate: int) -> bool:
    """Whether a missing-fundamental version of a tone at `f0_hz` still has MIN_RESIDUE_PARTIALS harmonics below
    the band limit (above about 2.4 kHz at 16 kHz, only the second harmonic would be left: a tone an octave up)."""
    return partial_count(f0_hz, sample_rate) > MIN_RESIDUE_PARTIALS


def random_envelope(n: int, rng: np.random.Generator) -> np.ndarray:
    """Amplitudes of `n` harmonics: a random tilt (−3 to −12 dB per octave) plus smooth random formant bumps."""
    octave = np.log2(np.arange(1, n + 1))
    tilt = rng.uniform(-12.0, -3.0) * octave
    bumps = sum(rng.uniform(0.0, 12.0) * np.cos(2 * np.pi * octave / rng.uniform(1.0, 4.0) + rng.uniform(0, 2 * np.pi))
                for _ in range(3))
    return 10.0 ** ((tilt + bumps - np.max(tilt + bumps)) / 20.0)


def family_amplitudes(family: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Amplitude of harmonics 1..n for a named family (band-limited classic waveforms or random spectra)."""
    k = np.arange(1, n + 1)
    odd = k % 2 == 1
    if family == "sine":
        return (k == 1).astype(float)
    if family == "square":
        return np.where(odd, 1.0 / k, 0.0)
    if family == "sawtooth":
        return 1.0 / k
    if family == "triangle":
        return np.where(odd, (-1.0) ** ((k - 1) // 2) / k ** 2, 0.0)
    amplitudes = random_envelope(n, rng)
    if family == "odd_only":
        amplitudes = np.where(odd, amplitudes, 0.0)
    elif family == "missing_fundamental":
        amplitudes = without_low_harmonics(amplitudes, 1)
    elif family == "missing_low_harmonics":
        amplitudes = without_low_harmonics(amplitudes, int(rng.integers(2, 4)))
    return amplitudes


def additive_tone(f0_hz: float, n_samples: int, sample_rate: int, amplitudes: np.ndarray, rng: np.random.Generator,
                  stretch: float = 0.0, vibrato_cents: float = 0.0, vibrato_hz: float = 0.0) -> np.ndarray:
    """Sum of partials k·f0·√(1 + stretch·k²) with random phases; vibrato modulates every partial alike.

    `stretch` is the piano inharmonicity coefficient B. The label of such a tone is `f0_hz`.
    """
    t = np.arange(n_samples) / sample_rate
    if vibrato_cents:
        ratio = 2.0 ** (vibrato_cents / 1200.0 * np.sin(2 * np.pi * vibrato_hz * t + rng.uniform(0, 2 * np.pi)))
        base_phase = 2 * np.pi * np.cumsum(f0_hz * ratio) / sample_rate
    else:
        base_phase = 2 * np.pi * f0_hz * t
    tone = np.zeros(n_samples)
    for k, amplitude in enumerate(amplitudes, start=1):
        if amplitude:
            tone += amplitude * np.sin(k * np.sqrt(1.0 + stretch * k * k) * base_phase + rng.uniform(0, 2 * np.pi))
    return tone


def family_tone(family: str, f0_hz: float, n_samples: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """One tone of a HARMONIC_FAMILIES family at `f0_hz`."""
    if family not in HARMONIC_FAMILIES:
        raise ValueError(f"unknown tone family {family!r}; expected one of {HARMONIC_FAMILIES}")
    stretch = float(10.0 ** rng.uniform(-5.0, -3.0)) if family == "inharmonic" else 0.0
    amplitudes = family_amplitudes(family, max(1, partial_count(f0_hz, sample_rate, stretch)), rng)
    vibrato = dict(vibrato_cents=30.0, vibrato_hz=rng.uniform(5.0, 7.0)) if family == "vibrato" else {}
    return additive_tone(f0_hz, n_samples, sample_rate, amplitudes, rng, stretch=stretch, **vibrato)


def noise(kind: str, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS white or pink (1/f power) noise."""
    white = rng.standard_normal(n_samples)
    if kind == "white":
        shaped = white
    elif kind == "pink":
        spectrum = np.fft.rfft(white)
        frequency = np.arange(len(spectrum), dtype=float)
        frequency[0] = 1.0
        shaped = np.fft.irfft(spectrum / np.sqrt(frequency), n_samples)
    else:
        raise ValueError(f"unknown noise {kind!r}; expected white or pink")
    return shaped / np.sqrt(np.mean(shaped ** 2))


def mix_at_snr(signal: np.ndarray, unit_noise: np.ndarray, snr_db: float) -> np.ndarray:
    """`signal` plus unit-RMS `unit_noise` scaled to `snr_db` dB below the signal's RMS."""
    return signal + unit_noise * np.sqrt(np.mean(signal ** 2)) * 10.0 ** (-snr_db / 20.0)


def add_noise(signal: np.ndarray, kind: str, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """`signal` plus `kind` noise at `snr_db` dB below the signal's RMS."""
    return mix_at_snr(signal, noise(kind, len(signal), rng), snr_db)


def room_impulse(sample_rate: int, rng: np.random.Generator, rt60_range=(0.3, 1.2)) -> np.ndarray:
    """A synthetic room: direct sound plus exponentially decaying noise with a random RT60 (−60 dB time)."""
    rt60 = rng.uniform(*rt60_range)
    t = np.arange(int(rt60 * sample_rate)) / sample_rate
    tail = rng.standard_normal(len(t)) * 10.0 ** (-3.0 * t / rt60)
    tail *= rng.uniform(0.3, 1.0) / np.sqrt(np.sum(tail ** 2))  # tail energy relative to the direct sound
    tail[0] = 1.0
    return tail


def reverberate(signal: np.ndarray, keep: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """The last `keep` samples of `signal` played in a synthetic room (the earlier part fills the room)."""
    wet = fftconvolve(signal, room_impulse(sample_rate, rng))[:len(signal)]
    return wet[-keep:]


def clicks(n_samples: int, rng: np.random.Generator, count_range=(1, 6)) -> np.ndarray:
    """A few isolated clicks at random times and polarities: broadband, not periodic."""
    out = np.zeros(n_samples)
    count = rng.integers(*count_range, endpoint=True)
    out[rng.choice(n_samples, count, replace=False)] = rng.choice([-1.0, 1.0], count) * rng.uniform(0.3, 1.0, count)
    return out


def tilt(signal: np.ndarray, sample_rate: int, db_per_octave: float, pivot_hz: float = 1000.0) -> np.ndarray:
    """A spectral tilt of `db_per_octave` around `pivot_hz` (a crude EQ: brighter or darker), zero-phase."""
    spectrum = np.fft.rfft(signal)
    frequency = np.maximum(np.fft.rfftfreq(len(signal), 1.0 / sample_rate), 20.0)
    return np.fft.irfft(spectrum * 10.0 ** (db_per_octave * np.log2(frequency / pivot_hz) / 20.0), len(signal))


def coloured_noise(n_samples: int, slope_db_per_octave: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise whose power falls by `slope_db_per_octave` (0 white, −3 pink, −6 brown)."""
    spectrum = np.fft.rfft(rng.standard_normal(n_samples))
    frequency = np.maximum(np.arange(len(spectrum), dtype=float), 1.0)
    shaped = np.fft.irfft(spectrum * frequency ** (slope_db_per_octave / (20.0 * np.log10(2.0))), n_samples)
    return shaped / np.sqrt(np.mean(shaped ** 2))


def fm_tone(f0_hz: float, n_samples: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Two-operator FM with an integer frequency ratio (so the partials stay harmonic) and a decaying index,
    kept below NYQUIST_FRACTION by Carson's rule."""
    ratio = int(rng.integers(1, 4))
    bandwidth_index = NYQUIST_FRACTION * sample_rate / (2.0 * ratio * f0_hz) - 1.0
    peak_index = min(rng.uniform(0.5, 5.0), max(bandwidth_index, 0.0))
    t = np.arange(n_samples) / sample_rate
    index = peak_index * np.exp(-t * rng.uniform(0.0, 6.0))
    modulator = np.sin(2 * np.pi * ratio * f0_hz * t + rng.uniform(0, 2 * np.pi))
    return np.sin(2 * np.pi * f0_hz * t + index * modulator + rng.uniform(0, 2 * np.pi))
