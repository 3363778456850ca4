"""The prepare stage's library: 16 kHz mono clips of each note's attack, sustain and decay, split by note group."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa

from pitchpipe.sound.audio import peak_normalise, reject_band, resample, rms_db, slice_clip, segment_starts, to_mono
from pitchpipe.sound.tones import can_remove_fundamental, coloured_noise, mix_at_snr, reverberate, tilt
from pitchpipe.config import SEGMENTS, PrepareConfig
from pitchpipe.errors import DataError, ParamsError
from pitchpipe.seeding import rng
from pitchpipe.parallel import Progress, map_shards
from pitchpipe.shards import SPLITS, array_column, list_shards, read_array, read_shard, reset_folder, with_shape, write_atomic

LABEL_COLUMNS = ("note_id", "soundfont", "program", "instrument", "family", "midi_note", "detune_cents", "f0_hz",
                 "velocity")


def assign_splits(note_ids: np.ndarray, groups: np.ndarray, config: PrepareConfig) -> dict[int, str]:
    """Split whole groups of notes by a seeded permutation of the groups, in exact proportions.

    `groups[i]` names the group of `note_ids[i]`: every render of one (soundfont, program, MIDI note), all
    its detunes and segments, lands in one split, so no test clip has a near-copy in training.
    Raises ParamsError if a split would be empty, before any audio is touched.
    """
    note_ids, groups = np.asarray(note_ids), np.asarray(groups).astype(str)
    unique = np.unique(groups)
    order = rng(config.seed, "split").permutation(len(unique))
    n_train = int(round(config.split["train"] * len(unique)))
    n_val = int(round(config.split["val"] * len(unique)))
    counts = {"train": n_train, "val": n_val, "test": len(unique) - n_train - n_val}
    for name, count in counts.items():
        if count <= 0:
            raise ParamsError(f"params.yaml: prepare.split.{name}: {config.split[name]} of {len(unique)} note groups "
                              f"(soundfont, program, MIDI note) leaves the {name} split empty; render more notes "
                              f"or change the fractions")
    names = np.array(["train"] * n_train + ["val"] * n_val + ["test"] * counts["test"])
    split_of_group = dict(zip(unique[order].tolist(), names.tolist()))
    return {int(note): split_of_group[group] for note, group in zip(note_ids.tolist(), groups.tolist())}


def split_groups(table: pa.Table) -> np.ndarray:
    """The split group of each rendered note: 'soundfont/program/midi_note'."""
    columns = [table.column(c).to_pylist() for c in ("soundfont", "program", "midi_note")]
    return np.array([f"{font}/{program}/{note}" for font, program, note in zip(*columns)])


CLIP_FIELDS = [pa.field("note_id", pa.int32()), pa.field("soundfont", pa.string()), pa.field("program", pa.int16()),
               pa.field("instrument", pa.string()), pa.field("family", pa.string()), pa.field("midi_note", pa.int16()),
               pa.field("detune_cents", pa.float64()), pa.field("f0_hz", pa.float64()), pa.field("velocity", pa.int16()),
               pa.field("clip_id", pa.int32()), pa.field("segment", pa.string()), pa.field("gain", pa.float32()),
               pa.field("missing_fundamental", pa.bool_()), pa.field("voiced", pa.bool_())]


def normalised_notes(pcm: np.ndarray, render_rate: int, sample_rate: int) -> np.ndarray:
    """Mono, resampled, peak-normalised notes from (frames, channels) or (notes, frames, channels) PCM;
    a whole shard at once shares one resampling filter design."""
    return peak_normalise(resample(to_mono(pcm), render_rate, sample_rate))


def segment_samples(config: PrepareConfig) -> dict[str, int]:
    """First sample of each configured envelope segment."""
    starts = segment_starts(config.note_seconds, config.clip_samples / config.sample_rate, config.segments)
    return {name: round(start * config.sample_rate) for name, start in starts.items()}


def note_clips(pcm: np.ndarray, render_rate: int, config: PrepareConfig) -> dict[str, np.ndarray]:
    """One clip per configured segment of each note, straight from the normalised notes."""
    audio = normalised_notes(pcm, render_rate, config.sample_rate)
    return {name: slice_clip(audio, start, config.clip_samples) for name, start in segment_samples(config).items()}


def augment_note(note: np.ndarray, draw: np.random.Generator, config: PrepareConfig) -> np.ndarray:
    """A training note played in a synthetic room and through a tilted EQ, each at random; peak 1 again.
    Done on the whole note, so every clip of it starts with the room already ringing."""
    if draw.random() < config.augment.reverb_prob:
        note = reverberate(note, len(note), config.sample_rate, draw)
    if draw.random() < config.augment.tilt_prob:
        limit = config.augment.tilt_db_per_octave
        note = tilt(note, config.sample_rate, draw.uniform(-limit, limit))
    return peak_normalise(note)


def noisy(clip: np.ndarray, draw: np.random.Generator, config: PrepareConfig) -> np.ndarray:
    """The clip with white to brown noise at a random SNR, at random (training clips only)."""
    if draw.random() >= config.augment.noise_prob:
        return clip
    noise = coloured_noise(len(clip), draw.uniform(-6.0, 0.0), draw)
    return mix_at_snr(clip, noise, draw.uniform(config.augment.snr_db_min, config.augment.snr_db_max))


def prepare_shard(table: pa.Table, render_rate: int, assignment: dict[int, str],
                  config: PrepareConfig) -> tuple[dict[str, pa.Table], int]:
    """Clips of every note in a rendered shard, grouped by split; also the number of near-silent clips dropped.

    The fundamental's band-reject (and, in the train split, the augmentation) runs on the whole note before
    the clip is cut out of it: filtering the clip itself would leave the filter's edge transients in it.
    """
    notes = normalised_notes(read_array(table, "audio"), render_rate, config.sample_rate)
    labels = table.select(list(LABEL_COLUMNS)).to_pydict()
    rows: dict[str, dict[str, list]] = {split: {field.name: [] for field in CLIP_FIELDS} | {"audio": []}
                                        for split in SPLITS}
    dropped = 0
    for row, note_id in enumerate(labels["note_id"]):
        split = assignment[note_id]
        for name, start in segment_samples(config).items():
            clip = slice_clip(notes[row], start, config.clip_samples)
            if rms_db(clip)[0] < config.silence_db:
                dropped += 1
                continue
            segment_index = SEGMENTS.index(name)
            draw = rng(config.seed, "clip", note_id, segment_index)
            missing = bool(draw.random() < config.missing_fundamental_prob) \
                and can_remove_fundamental(labels["f0_hz"][row], config.sample_rate)
            gain = float(draw.uniform(config.gain_min, config.gain_max))
            augment = rng(config.seed, "augment", note_id, segment_index) if split == "train" else None
            if missing or augment:
                note = reject_band(notes[row], config.sample_rate, labels["f0_hz"][row]) if missing else notes[row]
                clip = slice_clip(augment_note(note, augment, config) if augment else note, start, config.clip_samples)
            if augment:
                clip = noisy(clip, augment, config)
            out = rows[split]
            for key in LABEL_COLUMNS:
                out[key].append(labels[key][row])
            out["clip_id"].append(note_id * len(SEGMENTS) + segment_index)
            out["segment"].append(name)
            out["gain"].append(gain)
            out["missing_fundamental"].append(missing)
            out["voiced"].append(True)
            out["audio"].append((clip * gain).astype(np.float32))
    return {split: clip_table(columns, config.clip_samples, config.sample_rate) for split, columns in rows.items()}, dropped


def clip_table(columns: dict[str, list], clip_samples: int, sample_rate: int) -> pa.Table:
    """Clip rows (CLIP_FIELDS and an `audio` list of float arrays) as a table with shape and rate recorded."""
    audio = np.array(columns["audio"], dtype=np.float32).reshape(-1, clip_samples)
    arrays = [pa.array(columns[f.name], f.type) for f in CLIP_FIELDS]
    table = pa.Table.from_arrays(arrays + [array_column(audio)], schema=pa.schema(
        CLIP_FIELDS + [pa.field("audio", pa.list_(pa.float32(), clip_samples))]))
    schema = with_shape(table.schema, "audio", (clip_samples,))
    return table.replace_schema_metadata({**schema.metadata, b"sample_rate": str(sample_rate).encode()})


def _prepare_task(config: PrepareConfig, out_dir: Path, assignment: dict[int, str],
                  source: Path) -> tuple[int, int, int]:
    table = read_shard(source)
    render_rate = int(table.schema.metadata[b"sample_rate"])
    by_split, dropped = prepare_shard(table, render_rate, assignment, config)
    for split, clips in by_split.items():
        write_atomic(clips, out_dir / split / source.name)
    return table.num_rows, sum(t.num_rows for t in by_split.values()), dropped


def run_prepare(config: PrepareConfig, render_dir: str | Path, out_dir: str | Path,
                workers: int | None = None) -> dict[str, int]:
    """Clips for every rendered shard into `out_dir`/{train,val,test}/ under the same shard names."""
    sources = list_shards(render_dir)
    if not sources:
        raise DataError(f"{render_dir}: no rendered shards")
    keys = [read_shard(s, columns=["note_id", "soundfont", "program", "midi_note"]) for s in sources]
    note_ids = np.concatenate([t.column("note_id").to_numpy() for t in keys])
    assignment = assign_splits(note_ids, np.concatenate([split_groups(t) for t in keys]), config)  # validates first
    out_dir = Path(out_dir)
    for split in SPLITS:
        reset_folder(out_dir / split)
    progress = Progress("prepare", len(note_ids), "notes")
    results = map_shards(partial(_prepare_task, config, out_dir, assignment), sources, progress,
                         count=lambda result: result[0], workers=workers)
    kept, dropped = sum(r[1] for r in results), sum(r[2] for r in results)
    progress.finish(f", {kept} clips kept, {dropped} near-silent clips dropped")
    return {"clips": kept, "dropped_silent": dropped, "notes": int(len(note_ids))}
