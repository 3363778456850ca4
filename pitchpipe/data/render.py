"""The render stage's library: plan the notes, write each as MIDI, render it with FluidSynth."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa

from pitchpipe.sound import gm
from pitchpipe.config import RenderConfig
from pitchpipe.sound.midi import bend_cents, bend_value, note_midi_bytes
from pitchpipe.sound.notes import midi_to_hz
from pitchpipe.seeding import rng
from pitchpipe.parallel import Progress, map_shards
from pitchpipe.shards import array_column, reset_folder, shard_name, with_shape, write_atomic
from pitchpipe.sound.synth import SoundfontRenderer


@dataclass(frozen=True)
class NoteSpec:
    """Everything that defines one rendered note, and its labels."""

    note_id: int
    soundfont: str
    program: int
    midi_note: int
    bend: int
    detune_cents: float
    f0_hz: float
    velocity: int


def soundfont_label(path: str) -> str:
    """Short name of a soundfont file for label columns, e.g. 'FluidR3_GM'."""
    return Path(path).stem


def plan_notes(config: RenderConfig) -> list[NoteSpec]:
    """The full, ordered list of notes: programs drawn per octave, each note detuned `detunes_per_note` times.

    Detunes are stratified: the k-th detune of a note is uniform in the k-th of equal slices of
    [-detune_cents, +detune_cents], so every pitch between semitones is covered. Soundfont and
    velocity are drawn per note from a generator keyed by the note id.
    """
    pool = np.array(config.program_pool)
    notes: list[NoteSpec] = []
    midi_notes = np.arange(config.midi_low, config.midi_high + 1)
    slice_width = 2.0 * config.detune_cents / config.detunes_per_note
    for octave in np.unique(midi_notes // 12):
        if config.programs_per_octave:
            programs = rng(config.seed, "programs", int(octave)).choice(pool, config.programs_per_octave, replace=False)
        else:
            programs = pool
        for program in programs:
            for midi_note in midi_notes[midi_notes // 12 == octave]:
                for slot in range(config.detunes_per_note):
                    note_id = len(notes)
                    draw = rng(config.seed, "note", note_id)
                    requested = -config.detune_cents + slice_width * (slot + draw.random())
                    bend = bend_value(requested, config.bend_range_semitones)
                    cents = bend_cents(bend, config.bend_range_semitones)
                    notes.append(NoteSpec(
                        note_id=note_id, soundfont=config.soundfonts[draw.integers(len(config.soundfonts))],
                        program=int(program), midi_note=int(midi_note), bend=bend, detune_cents=cents,
                        f0_hz=float(midi_to_hz(midi_note, cents)),
                        velocity=int(config.velocities[draw.integers(len(config.velocities))])))
    return notes


def shard_notes(notes: list[NoteSpec], notes_per_shard: int) -> list[list[NoteSpec]]:
    return [notes[start:start + notes_per_shard] for start in range(0, len(notes), notes_per_shard)]


_renderers: dict[str, SoundfontRenderer] = {}


def load_renderers(soundfonts: tuple[str, ...], sample_rate: int) -> None:
    """Worker initializer: load each soundfont once for the life of the worker process."""
    for font in soundfonts:
        if font not in _renderers:
            _renderers[font] = SoundfontRenderer(font, sample_rate)


def renderer(soundfont: str, sample_rate: int) -> SoundfontRenderer:
    """The process's renderer of `soundfont`, loaded on first use."""
    load_renderers((soundfont,), sample_rate)
    return _renderers[soundfont]


def render_frames(config: RenderConfig) -> int:
    return round((config.note_seconds + config.release_seconds) * config.sample_rate)


def render_shard(config: RenderConfig, notes: list[NoteSpec]) -> pa.Table:
    """Render a list of notes into one table: labels, the MIDI bytes, and stereo int16 audio."""
    frames = render_frames(config)
    load_renderers(config.soundfonts, config.sample_rate)
    midi_files = [note_midi_bytes(n.program, n.midi_note, n.velocity, config.note_seconds, n.bend,
                                  config.bend_range_semitones) for n in notes]
    audio = np.zeros((len(notes), frames, 2), dtype=np.int16)
    for row, (note, midi_file) in enumerate(zip(notes, midi_files)):
        audio[row] = _renderers[note.soundfont].render(midi_file, frames)
    return render_table(config, notes, midi_files, audio)


def render_table(config: RenderConfig, notes: list[NoteSpec], midi_files: list[bytes], audio: np.ndarray) -> pa.Table:
    columns = {key: [getattr(n, key) for n in notes] for key in ("note_id", "program", "midi_note", "detune_cents",
                                                                  "f0_hz", "velocity")}
    table = pa.table({
        "note_id": pa.array(columns["note_id"], pa.int32()),
        "soundfont": pa.array([soundfont_label(n.soundfont) for n in notes], pa.string()),
        "program": pa.array(columns["program"], pa.int16()),
        "instrument": pa.array([gm.PROGRAM_NAMES[n.program] for n in notes], pa.string()),
        "family": pa.array([gm.family_of(n.program) for n in notes], pa.string()),
        "midi_note": pa.array(columns["midi_note"], pa.int16()),
        "detune_cents": pa.array(columns["detune_cents"], pa.float64()),
        "f0_hz": pa.array(columns["f0_hz"], pa.float64()),
        "velocity": pa.array(columns["velocity"], pa.int16()),
        "midi": pa.array(midi_files, pa.binary()),
        "audio": array_column(audio) if len(notes) else pa.array([], pa.list_(pa.int16(), audio.shape[1] * 2)),
    })
    schema = with_shape(table.schema, "audio", audio.shape[1:])
    schema = schema.with_metadata({**schema.metadata, b"sample_rate": str(config.sample_rate).encode()})
    return table.replace_schema_metadata(schema.metadata)


def _render_task(config: RenderConfig, out_dir: Path, task: tuple[int, list[NoteSpec]]) -> int:
    index, notes = task
    write_atomic(render_shard(config, notes), out_dir / shard_name(index))
    return len(notes)


def run_render(config: RenderConfig, out_dir: str | Path, workers: int | None = None) -> int:
    """Render every planned note into `out_dir`/shard-NNNNN.parquet; returns the number of notes."""
    notes = plan_notes(config)
    out_dir = reset_folder(out_dir)
    tasks = list(enumerate(shard_notes(notes, config.notes_per_shard)))
    progress = Progress("render", len(notes), "notes")
    map_shards(partial(_render_task, config, out_dir), tasks, progress, count=int, workers=workers)
    progress.finish(f", {len(tasks)} shards")
    return len(notes)
