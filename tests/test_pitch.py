"""The classical estimators every evaluation table shows beside the model: YIN against a plain time-domain
reference, on tones of known pitch and on signals without one."""

import numpy as np

from pitchpipe.sound.notes import cents_between
from pitchpipe.sound.pitch import YIN_CHUNK_CLIPS, fft_peak_hz, yin_hz
from pitchpipe.sound.tones import add_noise, additive_tone, family_tone, noise

RATE = 16000
SAMPLES = 5280


def yin_reference(clip: np.ndarray, sample_rate: float, fmin: float, fmax: float, threshold: float = 0.15) -> float:
    """YIN as the paper writes it, sum by sum in the time domain: the oracle for the FFT version."""
    max_lag = min(int(np.ceil(sample_rate / fmin)) + 1, len(clip) // 2)
    min_lag = max(2, int(np.floor(sample_rate / fmax)))
    window = len(clip) - max_lag
    difference = np.array([np.sum((clip[:window] - clip[lag:lag + window]) ** 2) for lag in range(max_lag + 1)])
    normalised = np.ones(max_lag + 1)
    normalised[1:] = difference[1:] * np.arange(1, max_lag + 1) / np.cumsum(difference[1:])
    lag = next((t for t in range(min_lag, max_lag) if normalised[t] < threshold), None)
    if lag is None:
        lag = min_lag + int(np.argmin(normalised[min_lag:max_lag]))
    else:
        while lag + 1 < max_lag and normalised[lag + 1] < normalised[lag]:
            lag += 1
    left, centre, right = normalised[lag - 1:lag + 2]
    offset = np.clip(0.5 * (left - right) / (left - 2 * centre + right), -0.5, 0.5)
    return sample_rate / (lag + offset) if normalised[lag] < 0.5 else float("nan")


def tones(f0s, draw, family="sawtooth"):
    return np.array([family_tone(family, f0, SAMPLES, RATE, draw) for f0 in f0s])


def test_yin_equals_the_time_domain_reference_on_tones_and_noise():
    draw = np.random.default_rng(3)
    f0s = 55.0 * 2.0 ** draw.uniform(0.0, 6.0, 12)  # A1 to A7
    clips = np.concatenate([tones(f0s, draw, "random_envelope"),
                            [add_noise(c, "pink", 10.0, draw) for c in tones(f0s[:4], draw)],
                            [noise("white", SAMPLES, draw)]])
    expected = [yin_reference(clip, RATE, 50.0, 4500.0) for clip in clips]
    np.testing.assert_allclose(yin_hz(clips, RATE, 50.0, 4500.0), expected, rtol=1e-9)


def test_yin_finds_known_pitches_and_no_pitch_in_noise_or_silence():
    draw = np.random.default_rng(4)
    f0s = 65.4 * 2.0 ** np.arange(0.0, 5.5, 0.5)  # C2 to C7 (above, whole-sample lags slip: the octave below)
    estimates = yin_hz(tones(f0s, draw), RATE)
    assert np.max(np.abs(cents_between(estimates, f0s))) < 10.0
    assert np.isnan(yin_hz(np.stack([noise("white", SAMPLES, draw), np.zeros(SAMPLES)]), RATE)).all()


def test_yin_of_a_clip_does_not_depend_on_its_batch():
    draw = np.random.default_rng(5)
    clips = tones(110.0 * 2.0 ** draw.uniform(0.0, 4.0, YIN_CHUNK_CLIPS + 7), draw)  # spans two chunks
    batch = yin_hz(clips, RATE)
    alone = np.array([yin_hz(clip, RATE)[0] for clip in clips[[0, YIN_CHUNK_CLIPS - 1, YIN_CHUNK_CLIPS, -1]]])
    np.testing.assert_array_equal(batch[[0, YIN_CHUNK_CLIPS - 1, YIN_CHUNK_CLIPS, -1]], alone)
    assert yin_hz(np.empty((0, SAMPLES)), RATE).shape == (0,)


def test_fft_peak_reports_the_loudest_partial_not_the_fundamental():
    draw = np.random.default_rng(6)
    amplitudes = np.array([0.2, 1.0, 0.3])  # the second harmonic dominates
    clip = additive_tone(220.0, SAMPLES, RATE, amplitudes, draw)
    assert abs(cents_between(fft_peak_hz(clip, RATE)[0], 440.0)) < 20.0
