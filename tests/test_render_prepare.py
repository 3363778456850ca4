"""The data stages on real FluidSynth renders: labels, determinism, splits and clip contents."""

import hashlib

import numpy as np
import pyarrow.parquet as pq

from pitchpipe.data.audit import measure_pitch
from pitchpipe.config import SEGMENTS, featurize_config, prepare_config, render_config
from pitchpipe.data.featurize import FEATURE_COLUMN, run_featurize
from pitchpipe.sound.notes import cents_between
from pitchpipe.data.prepare import SPLITS, assign_splits, note_clips, prepare_shard, run_prepare, split_groups
from pitchpipe.data.render import plan_notes, render_shard, run_render
from pitchpipe.shards import read_array
from pitchpipe.sound.tones import can_remove_fundamental
from conftest import tiny_params


def test_plan_covers_notes_programs_and_detunes(default_params):
    config = render_config(default_params)
    notes = plan_notes(config)
    assert len(notes) == 12 * 6 * 15 * 6  # notes x octaves x programs per octave x detunes
    assert {n.midi_note for n in notes} == set(range(36, 108))
    assert not {n.program for n in notes} & set(config.excluded_programs)
    for octave in range(2, 8):
        assert len({n.program for n in notes if n.midi_note // 12 - 1 == octave}) == 15
    detunes = np.array([n.detune_cents for n in notes])
    assert detunes.min() >= -50 and detunes.max() <= 50
    # stratified: the k-th detune of every note lies in the k-th sixth of ±50 cents (up to bend resolution)
    slot = np.arange(len(notes)) % 6
    low = -50 + slot * 100 / 6
    resolution = 200 / 8192
    assert np.all((detunes >= low - resolution) & (detunes <= low + 100 / 6 + resolution))
    assert {n.soundfont for n in notes} == set(config.soundfonts)
    f0 = np.array([n.f0_hz for n in notes])
    expected = 440 * 2 ** ((np.array([n.midi_note for n in notes]) - 69) / 12 + detunes / 1200)
    np.testing.assert_allclose(f0, expected, rtol=1e-12)
    assert [n.note_id for n in notes] == list(range(len(notes)))


def test_sustain_clips_sound_at_their_label(default_params):
    """Independent measurement: a sample across programs and both soundfonts sits within 50 cents."""
    config = render_config(default_params)
    prepare = prepare_config(default_params)
    notes = plan_notes(config)[::37]  # ~175 notes spread over every octave, program and soundfont
    table = render_shard(config, notes)
    pcm = read_array(table, "audio")
    sustain = note_clips(pcm, config.sample_rate, prepare)["sustain"]
    loud = np.sqrt(np.mean(sustain ** 2, axis=1)) > 1e-3
    error = np.abs(cents_between(measure_pitch(sustain[loud], 16000), table.column("f0_hz").to_numpy()[loud]))
    within = np.mean(error < 50)
    offenders = [(notes[i].program, notes[i].midi_note, notes[i].soundfont[-12:], round(float(e)))
                 for i, e in zip(np.flatnonzero(loud), error) if not e < 50]
    assert loud.sum() > 0.9 * len(notes)
    assert within >= 0.97, offenders
    assert np.nanmedian(error) < 10


def test_render_is_byte_identical_for_one_and_two_workers(tiny, tmp_path):
    config = render_config(tiny)
    run_render(config, tmp_path / "w1", workers=1)
    run_render(config, tmp_path / "w2", workers=2)

    def digest(folder):
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.parquet"))}

    assert digest(tmp_path / "w1") == digest(tmp_path / "w2")
    assert len(digest(tmp_path / "w1")) == 4  # 30 notes in shards of 8
    prepare = prepare_config(tiny)
    for workers in (1, 2):
        run_prepare(prepare, tmp_path / "w1", tmp_path / f"clips{workers}", workers=workers)
        run_featurize(featurize_config(tiny), [tmp_path / f"clips{workers}"], tmp_path / f"features{workers}", workers)
    for split in SPLITS:
        assert digest(tmp_path / "clips1" / split) == digest(tmp_path / "clips2" / split)
        assert digest(tmp_path / "features1" / split) == digest(tmp_path / "features2" / split)


def test_prepare_keeps_labels_splits_by_note_group_and_applies_gain_and_notch(tiny, tmp_path):
    tiny["prepare"]["missing_fundamental_prob"] = 0.5
    tiny["prepare"]["augment"].update(reverb_prob=0.0, tilt_prob=0.0, noise_prob=0.0)  # tests/test_harmonic.py has it
    tiny["render"]["detunes_per_note"] = 3
    config = render_config(tiny)
    table = render_shard(config, plan_notes(config))
    prepare = prepare_config(tiny)
    groups = split_groups(table)
    assignment = assign_splits(table.column("note_id").to_numpy(), groups, prepare)
    by_split, dropped = prepare_shard(table, config.sample_rate, assignment, prepare)
    clips = {split: t.to_pydict() for split, t in by_split.items()}
    total = sum(len(c["note_id"]) for c in clips.values())
    assert total + dropped == 3 * table.num_rows
    # every render of one (soundfont, program, MIDI note), all detunes, lands in one split
    split_of = {}
    for split, c in clips.items():
        for key in zip(c["soundfont"], c["program"], c["midi_note"]):
            assert split_of.setdefault(key, split) == split, key
    assert len(set(groups)) < len(groups)  # the test is meaningful: groups do hold several renders
    split_of_group = {group: assignment[int(note)] for note, group in zip(table.column("note_id").to_numpy(), groups)}
    n = len(split_of_group)
    assert [list(split_of_group.values()).count(name) for name in SPLITS] == [round(0.8 * n), round(0.1 * n),
                                                                              n - round(0.8 * n) - round(0.1 * n)]
    train = by_split["train"]
    audio = read_array(train, "audio")
    assert audio.shape[1:] == (5280,) and audio.dtype == np.float32
    gains = np.array(clips["train"]["gain"])
    assert gains.min() >= 0.2 and gains.max() <= 1.0
    flags = np.array(clips["train"]["missing_fundamental"])
    # unfiltered clips come out of a peak-normalised note, so their peak never exceeds their gain
    assert np.all(np.abs(audio[~flags]).max(axis=1) <= gains[~flags] + 1e-6)
    assert 0 < flags.mean() < 1
    assert set(clips["train"]["segment"]) <= set(SEGMENTS)
    assert np.array_equal(np.array(clips["train"]["clip_id"]) // 3, np.array(clips["train"]["note_id"]))
    # the notch removes the fundamental: its band holds far less energy than in unfiltered sustain clips
    f0 = np.array(clips["train"]["f0_hz"])
    spectra = np.abs(np.fft.rfft(audio * np.hanning(5280), axis=1))
    bins = np.rint(f0 * 5280 / 16000).astype(int)
    fundamental_share = spectra[np.arange(len(bins)), bins] / spectra.max(axis=1)
    sustain = np.array(clips["train"]["segment"]) == "sustain"
    assert np.median(fundamental_share[flags & sustain]) < 0.1 * np.median(fundamental_share[~flags & sustain])


def test_the_fundamental_is_removed_only_where_two_harmonics_remain(default_params):
    """Above about D7 a band-rejected note would keep only its octave (3·f0 is past the band limit): it would sound
    an octave up, so such notes keep their fundamental."""
    params = tiny_params(default_params, midi_low=96, midi_high=107, programs_per_octave=1)
    params["prepare"]["missing_fundamental_prob"] = 1.0
    config = render_config(params)
    table = render_shard(config, plan_notes(config))
    prepare = prepare_config(params)
    by_split, _ = prepare_shard(table, config.sample_rate, {int(n): "test" for n in table.column("note_id").to_numpy()},
                                prepare)
    labels = by_split["test"].to_pydict()
    expected = [can_remove_fundamental(f0, prepare.sample_rate) for f0 in labels["f0_hz"]]
    assert labels["missing_fundamental"] == expected and 0 < sum(expected) < len(expected)


def test_near_silent_clips_are_dropped_and_counted(tiny):
    tiny["prepare"]["silence_db"] = -6.0  # only very loud clips survive
    config = render_config(tiny)
    table = render_shard(config, plan_notes(config)[:6])
    prepare = prepare_config(tiny)
    assignment = {int(n): "train" for n in table.column("note_id").to_numpy()}
    by_split, dropped = prepare_shard(table, config.sample_rate, assignment, prepare)
    assert dropped > 0 and by_split["train"].num_rows + dropped == 18


def test_featurize_output_schema_of_the_seeds_stft(tiny, tmp_path):
    tiny["featurize"]["representation"] = "stft"
    run_render(render_config(tiny), tmp_path / "r", workers=1)
    run_prepare(prepare_config(tiny), tmp_path / "r", tmp_path / "c", workers=1)
    total = run_featurize(featurize_config(tiny), [tmp_path / "c"], tmp_path / "f", workers=1)
    assert total == 90
    shards = sorted((tmp_path / "f" / "train").glob("*.parquet"))
    assert [p.name for p in shards] == [f"shard-{i:05d}.parquet" for i in range(4)]
    table = pq.read_table(shards[0])
    assert table.schema.metadata[f"{FEATURE_COLUMN}.shape".encode()] == b"[513, 90]"
    assert {"f0_hz", "midi_note", "segment", "note_id", "soundfont", "instrument", "missing_fundamental"} <= set(table.column_names)
    assert "audio" not in table.column_names
    assert table.schema.field(FEATURE_COLUMN).type.value_type == "halffloat"
    assert read_array(table, FEATURE_COLUMN).shape == (table.num_rows, 513, 90)
