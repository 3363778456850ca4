"""The harmonic representation, the synthetic training sound and prepare's whole-note processing."""

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from pitchpipe.config import ParamsError, featurize_config, prepare_config, render_config, synthesize_config
from pitchpipe.sound.notes import hz_to_midi
from pitchpipe.data.prepare import CLIP_FIELDS, assign_splits, note_clips, prepare_shard, split_groups
from pitchpipe.data.render import plan_notes, render_shard
from pitchpipe.shards import read_array
from pitchpipe.sound.spectrogram import harmonic_bin_midi, harmonic_spectrum
from pitchpipe.data.synthesize import UNVOICED_KINDS, WHITE_NOISE_PROB, noise_slope, run_synthesize, synth_row

RATE, SAMPLES = 16000, 5280


@pytest.fixture
def harmonic(default_params):
    return featurize_config(default_params)


def fundamental(piece, f0):
    """Amplitude of the f0 component in a short piece (Hann-windowed projection)."""
    window = np.hanning(len(piece))
    return abs((piece * window) @ np.exp(-2j * np.pi * f0 * np.arange(len(piece)) / RATE)) * 2 / window.sum()


def tone(f0, partials=(1,), n=SAMPLES):
    t = np.arange(n) / RATE
    return sum(np.sin(2 * np.pi * k * f0 * t + k) / k for k in partials)


def test_each_channel_lights_where_its_harmonic_of_the_bin_is_a_partial(harmonic):
    midi = harmonic_bin_midi(harmonic)
    assert midi[0] == harmonic.midi_low and midi[-1] == pytest.approx(harmonic.midi_high) and np.allclose(np.diff(midi), 0.2)
    f0 = 220.0 * 2 ** (7 / 1200)
    spectrum = harmonic_spectrum(tone(f0, range(1, 9)), harmonic)[0].astype(float)
    assert spectrum.shape == (len(midi), len(harmonic.harmonics))
    bin_of_f0 = np.argmin(np.abs(midi - hz_to_midi(f0)))
    for channel, h in enumerate(harmonic.harmonics):
        if h == int(h):  # h·f0 is a partial of amplitude 1/h: its level below the loudest, on the 80 dB scale
            assert spectrum[bin_of_f0, channel] == pytest.approx(1 + 20 * np.log10(1 / h) / 80, abs=0.02), h
    assert spectrum[bin_of_f0, harmonic.harmonics.index(1.5)] < 0.6  # 1.5·f0 is no partial


def test_level_does_not_matter_and_silence_is_empty(harmonic):
    note = tone(330.0, (1, 2, 3))
    np.testing.assert_array_equal(harmonic_spectrum(note, harmonic), harmonic_spectrum(1e-3 * note, harmonic))
    assert not harmonic_spectrum(1e-5 * note, harmonic).any()  # -100 dBFS: under the silence level
    assert not harmonic_spectrum(np.zeros(SAMPLES), harmonic).any()
    assert not harmonic_spectrum(np.full(SAMPLES, 0.7), harmonic).any()  # DC is removed, as scipy detrends


@pytest.mark.parametrize("midi", [96.1, 100.5, 106.9])
def test_a_steady_high_tone_between_bins_is_not_lost_in_noise(harmonic, midi):
    """Bins are wider than a steady tone's peak up there: each bin must take its whole band, not a point."""
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    noisy = tone(f0) + np.sqrt(0.5 / 10) * np.random.default_rng(0).standard_normal(SAMPLES)  # 10 dB SNR
    fundamental = harmonic_spectrum(noisy, harmonic)[0, :, harmonic.harmonics.index(1.0)].astype(float)
    nearest = np.argmin(np.abs(harmonic_bin_midi(harmonic) - midi))
    assert fundamental[nearest] > 0.95 and np.median(fundamental) < 0.7


def test_featurize_params_errors_name_the_key(default_params):
    params = yaml.safe_load(yaml.safe_dump(default_params))
    params["featurize"]["representation"] = "cqt"
    with pytest.raises(ParamsError, match=r"featurize\.representation: 'cqt' is not one of stft, harmonic"):
        featurize_config(params)
    params["featurize"]["representation"] = "harmonic"
    params["featurize"]["harmonic"]["harmonics"] = [2, 3]
    with pytest.raises(ParamsError, match=r"featurize\.harmonic\.harmonics: must include 1"):
        featurize_config(params)


@pytest.fixture
def synth(default_params):
    params = yaml.safe_load(yaml.safe_dump(default_params))
    params["synthesize"].update(clips=60, clips_per_shard=25, unvoiced_fraction=0.2)
    return synthesize_config(params)


def test_synthetic_clips_are_labelled_levelled_and_split(synth, tmp_path):
    assert run_synthesize(synth, tmp_path / "one", workers=1) == 60
    run_synthesize(synth, tmp_path / "two", workers=2)
    digest = lambda root: {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
                           for p in sorted(root.rglob("*.parquet"))}
    assert digest(tmp_path / "one") == digest(tmp_path / "two")
    assert sorted(digest(tmp_path / "one")) == [f"{split}/shard-synth-0000{i}.parquet" for split in ("train", "val")
                                                for i in range(3)]
    table = pa.concat_tables([pq.read_table(p) for p in sorted((tmp_path / "one").rglob("*.parquet"))])
    assert table.schema.names == [f.name for f in CLIP_FIELDS] + ["audio"]
    labels = table.to_pydict()
    voiced = np.array(labels["voiced"])
    f0 = np.array(labels["f0_hz"])
    assert 0 < (~voiced).sum() < 30 and np.all(np.isnan(f0[~voiced])) and np.all(f0[voiced] > 60)
    assert set(np.array(labels["instrument"])[~voiced]) <= set(UNVOICED_KINDS)
    assert set(np.array(labels["instrument"])[voiced]) <= {"additive", "fm"}
    audio = read_array(table, "audio")
    peaks = np.abs(audio).max(axis=1)
    loud = np.array(labels["instrument"]) != "silence"
    assert np.all(peaks[loud] <= np.array(labels["gain"])[loud] + 1e-6) and peaks[loud].min() >= synth.gain_min - 1e-6
    assert len(set(labels["clip_id"])) == 60


def test_a_synthetic_tone_said_to_lack_its_fundamental_lacks_it(synth):
    found = 0
    for index in range(400):
        labels, audio = synth_row(index, synth)
        if labels["missing_fundamental"] and labels["instrument"] == "additive":
            spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio)), 1 << 15))
            at = lambda hz: spectrum[int(round(hz * (1 << 15) / RATE)) - 3:int(round(hz * (1 << 15) / RATE)) + 4].max()  # noqa: E731
            assert at(labels["f0_hz"]) < 0.2 * spectrum.max()
            found += 1
    assert found >= 5


def test_half_the_noise_added_to_synthetic_tones_is_white_hiss():
    draw = np.random.default_rng(7)
    slopes = np.array([noise_slope(draw) for _ in range(4000)])
    assert abs(np.mean(slopes == 0.0) - WHITE_NOISE_PROB) < 0.03
    coloured = slopes[slopes != 0.0]
    assert coloured.min() >= -6.0 and coloured.max() < 0.0 and abs(coloured.mean() + 3.0) < 0.2


def test_prepare_augments_train_clips_only_and_rejects_the_fundamental_across_the_whole_clip(tiny):
    tiny["render"]["detunes_per_note"] = 2
    tiny["prepare"]["missing_fundamental_prob"] = 0.4
    config = render_config(tiny)
    table = render_shard(config, plan_notes(config))
    prepare = prepare_config(tiny)
    assignment = assign_splits(table.column("note_id").to_numpy(), split_groups(table), prepare)
    by_split, _ = prepare_shard(table, config.sample_rate, assignment, prepare)
    plain = note_clips(read_array(table, "audio"), config.sample_rate, prepare)
    row_of = {n: i for i, n in enumerate(table.column("note_id").to_pylist())}
    changed, checked = {}, 0
    for split, clips in by_split.items():
        labels = clips.to_pydict()
        audio = read_array(clips, "audio")
        for k in range(clips.num_rows):
            expected = plain[labels["segment"][k]][row_of[labels["note_id"][k]]] * labels["gain"][k]
            if labels["missing_fundamental"][k]:
                level = fundamental(expected, labels["f0_hz"][k])  # of the whole clip, unfiltered
                if split != "train" and level > 0.05 * labels["gain"][k]:
                    # filtered as a whole note: the first and last 20 ms that slicing cut keep under 1.5% of the
                    # fundamental (filtering the clip alone left 0.3-13% there, in the filter's edge transients);
                    # the note's own onset (attack start) and release tail (decay end) are no cuts
                    cuts = {"attack": [slice(-320, None)], "sustain": [slice(0, 320), slice(-320, None)],
                            "decay": [slice(0, 320)]}[labels["segment"][k]]
                    for edge in cuts:
                        assert fundamental(audio[k, edge], labels["f0_hz"][k]) < 0.015 * level
                        checked += 1
                continue
            changed.setdefault(split, []).append(not np.allclose(audio[k], expected, atol=1e-6))
    assert checked >= 1
    assert not any(changed["val"]) and not any(changed["test"])
    assert 0.3 < np.mean(changed["train"]) < 1.0


def test_a_constant_resampled_from_44k1_is_silence_not_a_tone(harmonic):
    """Resampling leaves a periodic ripple near -86 dBFS on a constant: below the silence level, so no tone."""
    from pitchpipe.sound.audio import resample

    dc = resample(np.full(44100, 0.5), 44100, RATE)[4000:4000 + SAMPLES]
    assert 0 < np.ptp(dc) < 1e-3
    assert not harmonic_spectrum(dc, harmonic).any()
