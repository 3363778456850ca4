"""The probe set and the synthesis behind it: exact pitch, the spectra each family promises, noise at the
asked SNR, deterministic shards, and a seed kept apart from training."""

import hashlib

import numpy as np
import pytest
import yaml

from pitchpipe.config import ParamsError, probes_config
from pitchpipe.sound.notes import cents_between, midi_to_hz
from pitchpipe.sound.pitch import refine_near
from pitchpipe.data.probes import UNVOICED_KINDS, plan_probes, probe_audio, run_probes
from pitchpipe.sound.tones import (HARMONIC_FAMILIES, MIN_RESIDUE_PARTIALS, add_noise, additive_tone, can_remove_fundamental,
                             family_amplitudes, family_tone, noise, partial_count, reverberate, without_low_harmonics)

RATE = 16000


def magnitude_at(signal, frequencies, rate=RATE):
    """Peak magnitude of a zero-padded Hann spectrum near each frequency (±1 bin of 4 Hz)."""
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal)), 1 << 16))
    bin_hz = rate / (1 << 16)
    return np.array([spectrum[max(0, int(f / bin_hz) - 2):int(f / bin_hz) + 3].max() for f in frequencies])


def test_classic_waveforms_have_their_harmonic_series():
    draw = np.random.default_rng(0)
    assert np.array_equal(family_amplitudes("sine", 5, draw), [1, 0, 0, 0, 0])
    np.testing.assert_allclose(family_amplitudes("square", 5, draw), [1, 0, 1 / 3, 0, 1 / 5])
    np.testing.assert_allclose(family_amplitudes("sawtooth", 4, draw), [1, 1 / 2, 1 / 3, 1 / 4])
    np.testing.assert_allclose(family_amplitudes("triangle", 5, draw), [1, 0, -1 / 9, 0, 1 / 25])
    # band-limited: no partial above 0.45 of the sample rate
    assert partial_count(1000.0, RATE) == 7 and partial_count(4000.0, RATE) == 1


@pytest.mark.parametrize("family,absent,present", [
    ("missing_fundamental", [1], [2, 3]),
    ("odd_only", [2, 4], [1]),
    ("sine", [2, 3], [1]),
])
def test_families_leave_out_the_harmonics_they_promise(family, absent, present):
    f0 = 220.0
    tone = family_tone(family, f0, 5280, RATE, np.random.default_rng(1))
    loudest = magnitude_at(tone, f0 * np.arange(1, 9)).max()
    assert np.all(magnitude_at(tone, f0 * np.array(absent)) < 1e-3 * loudest)
    assert magnitude_at(tone, [f0 * present[0]])[0] > 1e-2 * loudest


def test_missing_low_harmonics_removes_two_or_three():
    removed = set()
    for seed in range(12):
        amplitudes = family_amplitudes("missing_low_harmonics", 20, np.random.default_rng(seed))
        first = int(np.flatnonzero(amplitudes)[0]) + 1
        removed.add(first - 1)
    assert removed == {2, 3}


def test_removing_low_harmonics_never_leaves_a_lone_partial():
    """A lone partial at k·f0 sounds at k·f0: a tone labelled f0 keeps at least two partials within 20 dB."""
    np.testing.assert_array_equal(without_low_harmonics(np.ones(6), 3), [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(without_low_harmonics(np.ones(3), 3), [0, 1, 1])
    np.testing.assert_array_equal(without_low_harmonics(np.array([1.0, 0, 0.5, 0, 0.2]), 3), [0, 0, 0.5, 0, 0.2])
    np.testing.assert_array_equal(without_low_harmonics(np.array([1.0, 0, 0]), 1), [1, 0, 0])  # a sine stays one
    # the partials left must be within 20 dB of each other: 0.05 is 26 dB under 1, so only harmonic 1 goes
    np.testing.assert_array_equal(without_low_harmonics(np.array([1.0, 0.5, 1, 0.05]), 3), [0, 0.5, 1, 0.05])
    for midi in range(36, 108):  # every probe note, C2-B7
        n = partial_count(float(midi_to_hz(midi)), RATE)
        for family in ("missing_fundamental", "missing_low_harmonics"):
            amplitudes = np.abs(family_amplitudes(family, n, np.random.default_rng(midi)))
            if amplitudes[0] == 0:  # the fundamental was removed: two partials within 20 dB of the loudest remain
                assert np.count_nonzero(amplitudes >= 0.1 * amplitudes.max()) >= MIN_RESIDUE_PARTIALS, (family, midi)
    # the fundamental is removed only where its second and third harmonics both stay below the band limit
    assert can_remove_fundamental(2350.0, RATE) and not can_remove_fundamental(2450.0, RATE)


def test_labelled_pitch_is_exact_for_a_clean_sawtooth():
    f0 = 261.63 * 2 ** (17 / 1200)
    tone = family_tone("sawtooth", f0, 5280, RATE, np.random.default_rng(2))
    estimate = refine_near(tone[None], RATE, np.array([f0 * 1.01]), harmonics=8, search_cents=40)[0]
    assert abs(1200 * np.log2(estimate / f0)) < 1.0


def test_inharmonic_partials_are_stretched():
    f0, stretch = 110.0, 1e-3
    amplitudes = np.zeros(20)
    amplitudes[[0, 14]] = 1.0
    tone = additive_tone(f0, 16000, RATE, amplitudes, np.random.default_rng(3), stretch=stretch)
    stretched = 15 * f0 * np.sqrt(1 + stretch * 15 ** 2)  # 1.1 semitones above the harmonic 15·f0
    assert magnitude_at(tone, [stretched])[0] > 20 * magnitude_at(tone, [15 * f0])[0]


def test_vibrato_swings_thirty_cents_around_the_label():
    f0 = 440.0
    tone = family_tone("vibrato", f0, 16000, RATE, np.random.default_rng(4))
    frames = np.lib.stride_tricks.sliding_window_view(tone, 1024)[::256]
    local = refine_near(frames, RATE, np.full(len(frames), f0), harmonics=4, search_cents=60)
    cents = 1200 * np.log2(local / f0)
    assert 20 < cents.max() < 40 and -40 < cents.min() < -20 and abs(np.median(cents)) < 10


@pytest.mark.parametrize("kind", ["white", "pink"])
def test_noise_is_added_at_the_asked_snr(kind):
    draw = np.random.default_rng(5)
    signal = np.sin(2 * np.pi * 300 * np.arange(8000) / RATE)
    noisy = add_noise(signal, kind, 10.0, draw)
    residual = noisy - signal
    assert 10 * np.log10(np.mean(signal ** 2) / np.mean(residual ** 2)) == pytest.approx(10.0, abs=0.01)
    spectrum = np.abs(np.fft.rfft(noise(kind, 1 << 15, draw))) ** 2
    low, high = spectrum[100:1000].mean(), spectrum[10000:16000].mean()
    assert (high / low > 0.5) if kind == "white" else (high / low < 0.1)  # pink: -3 dB per octave


def test_reverb_keeps_the_clip_length_and_adds_a_tail():
    draw = np.random.default_rng(6)
    burst = np.zeros(RATE)
    burst[:800] = 1.0
    wet = reverberate(burst, 8000, RATE, draw)
    assert wet.shape == (8000,) and np.abs(wet[:2000]).max() > 0.01  # the room still rings after the burst


@pytest.fixture
def config(default_params):
    params = yaml.safe_load(yaml.safe_dump(default_params))
    params["probes"].update(midi_low=45, midi_high=47, detunes_per_semitone=1, unvoiced_per_kind=2)
    return params, probes_config(params)


def test_plan_covers_every_family_condition_and_semitone(config):
    _, probes = config
    shards = plan_probes(probes)
    voiced = [spec for shard in shards[:-1] for spec in shard]
    assert [shard[0].family for shard in shards[:-1]] == list(HARMONIC_FAMILIES)
    assert len({spec.condition for spec in voiced}) == 10  # clean + 2 noises × 2 SNRs, dry and in a room
    assert {spec.midi_note for spec in voiced} == {45, 46, 47}
    assert len(voiced) == len(HARMONIC_FAMILIES) * 10 * 3
    assert all(abs(1200 * np.log2(s.f0_hz / (440 * 2 ** ((s.midi_note - 69) / 12)))) <= 50 for s in voiced)
    assert [s.family for s in shards[-1]] == [kind for kind in UNVOICED_KINDS for _ in range(2)]
    assert [s.probe_id for shard in shards for s in shard] == list(range(len(voiced) + 10))


def test_several_probes_per_semitone_spread_over_its_width(config):
    params, one = config
    params["probes"]["detunes_per_semitone"] = 3
    three = probes_config(params)
    voiced = [spec for shard in plan_probes(three)[:-1] for spec in shard]
    assert len(voiced) == 3 * len([spec for shard in plan_probes(one)[:-1] for spec in shard])
    cents = cents_between([s.f0_hz for s in voiced], midi_to_hz(np.array([s.midi_note for s in voiced]))).reshape(-1, 3)
    assert np.all(cents[:, 0] < -50 / 3) and np.all(np.abs(cents[:, 1]) < 50 / 3) and np.all(cents[:, 2] >= 50 / 3)
    assert np.all(np.abs(cents) <= 50) and len({s.probe_id for s in voiced}) == len(voiced)


def test_probe_levels_follow_training_gains_and_unvoiced_kinds_have_no_period(config):
    _, probes = config
    shards = plan_probes(probes)
    peaks = [np.abs(probe_audio(spec, probes)).max() for spec in shards[0]]
    assert probes.gain_min <= min(peaks) and max(peaks) <= probes.gain_max
    unvoiced = {spec.family: probe_audio(spec, probes) for spec in shards[-1]}
    assert not unvoiced["silence"].any()
    assert np.ptp(unvoiced["dc"]) == 0 and unvoiced["dc"][0] != 0
    assert 1 <= np.count_nonzero(unvoiced["clicks"]) <= 6


def test_probe_shards_are_the_same_bytes_whatever_the_worker_count(config, tmp_path):
    _, probes = config

    def digest(folder):
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.parquet"))}

    assert run_probes(probes, tmp_path / "one", workers=1) == run_probes(probes, tmp_path / "two", workers=2)
    assert digest(tmp_path / "one") == digest(tmp_path / "two") and len(digest(tmp_path / "one")) == 11


def test_probes_refuse_the_training_seed_and_unknown_noise(config):
    params, _ = config
    params["probes"]["seed"] = params["seed"]
    with pytest.raises(ParamsError, match=r"probes\.seed: must differ from the training seed"):
        probes_config(params)
    params["probes"].update(seed=1, noises=["brown"])
    with pytest.raises(ParamsError, match=r"probes\.noises\[0\]: 'brown' is not one of white, pink"):
        probes_config(params)
