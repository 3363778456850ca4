"""Notes from a pitch track: what a singer or a transcriber reads (onset, offset, MIDI pitch, cents off), as
CSV and as a Standard MIDI File.

Each voiced run of frames is one or more notes: the note changes where the (50 ms median) pitch leaves the
current semitone by more than HYSTERESIS_SEMITONES, so vibrato of up to about ±60 cents stays one note; pieces
shorter than MIN_NOTE_SECONDS (the middle of a glide, a blip) join the neighbour nearest in pitch.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import median_filter

from pitchpipe.sound.notes import hz_to_midi, note_name

HYSTERESIS_SEMITONES = 0.65
MIN_NOTE_SECONDS = 0.06
MEDIAN_FRAMES = 5
NOTE_COLUMNS = ["onset", "offset", "midi", "note", "cents", "confidence"]


@dataclass(frozen=True)
class Note:
    onset: float  # seconds
    offset: float
    midi: int
    cents: float  # mean distance of the sung pitch from `midi`
    confidence: float

    @property
    def name(self) -> str:
        return note_name(self.midi)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def segment_notes(times: np.ndarray, frequency: np.ndarray, voiced: np.ndarray, confidence: np.ndarray
                  ) -> list[Note]:
    """Notes of a track whose frames are `times` (s, evenly spaced) apart; frequency NaN where unvoiced."""
    if len(times) < 2:
        return []
    step = float(np.median(np.diff(times)))
    min_frames = max(1, int(round(MIN_NOTE_SECONDS / step)))
    notes = []
    for start, stop in _runs(voiced & np.isfinite(frequency)):
        midi = hz_to_midi(frequency[start:stop])
        smooth = median_filter(midi, size=min(MEDIAN_FRAMES, len(midi)), mode="nearest")
        labels = np.empty(len(midi), dtype=int)
        current = int(np.rint(smooth[0]))
        for index, value in enumerate(smooth):
            if abs(value - current) > HYSTERESIS_SEMITONES:
                current = int(np.rint(value))
            labels[index] = current
        pieces = [[a, b] for a, b in _runs_of_labels(labels)]
        merged = _merge_short(pieces, midi, min_frames)
        for a, b in merged:
            if b - a < min_frames:
                continue
            pitch = int(np.rint(np.median(midi[a:b])))
            notes.append(Note(float(times[start + a]), float(times[start + b - 1] + step), pitch,
                              float(np.mean(midi[a:b] - pitch) * 100.0), float(np.mean(confidence[start + a:start + b]))))
    return notes


def _runs_of_labels(labels: np.ndarray) -> list[tuple[int, int]]:
    changes = np.flatnonzero(np.diff(labels)) + 1
    bounds = [0, *changes.tolist(), len(labels)]
    return list(zip(bounds[:-1], bounds[1:]))


def _merge_short(pieces: list[list[int]], midi: np.ndarray, min_frames: int) -> list[list[int]]:
    """Join pieces shorter than `min_frames` to the neighbour whose median pitch is closest."""
    pieces = [list(p) for p in pieces]
    while len(pieces) > 1:
        lengths = [b - a for a, b in pieces]
        shortest = int(np.argmin(lengths))
        if lengths[shortest] >= min_frames:
            break
        a, b = pieces[shortest]
        own = np.median(midi[a:b])
        neighbours = [i for i in (shortest - 1, shortest + 1) if 0 <= i < len(pieces)]
        target = min(neighbours, key=lambda i: abs(np.median(midi[pieces[i][0]:pieces[i][1]]) - own))
        lo, hi = sorted((shortest, target))
        pieces[lo:hi + 1] = [[pieces[lo][0], pieces[hi][1]]]
    return pieces


def note_rows(notes: list[Note]) -> list[list[str]]:
    return [[f"{n.onset:.3f}", f"{n.offset:.3f}", str(n.midi), n.name, f"{n.cents:+.1f}", f"{n.confidence:.3f}"]
            for n in notes]


def notes_midi(notes: list[Note], velocity: int = 100) -> bytes:
    """A one-track Standard MIDI File of the notes (tempo 60 bpm: a beat is a second)."""
    from midiutil import MIDIFile

    from pitchpipe.sound.midi import TEMPO_BPM

    smf = MIDIFile(1, adjust_origin=False, deinterleave=False)
    smf.addTempo(0, 0, TEMPO_BPM)
    for note in notes:
        smf.addNote(0, 0, int(np.clip(note.midi, 0, 127)), note.onset, max(note.offset - note.onset, 1e-3), velocity)
    buffer = io.BytesIO()
    smf.writeFile(buffer)
    return buffer.getvalue()
