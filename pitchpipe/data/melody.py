"""Melodies with exactly known pitch curves: a plan of notes (steps and leaps, legato and detached, rests,
vibrato, glides, scoops), its f0 curve, and its labels every frame.

The same plan becomes a MIDI phrase for FluidSynth (pitch-bend events carry vibrato, scoops and glides) or a
continuous f0 curve for this project's own synthesis, so both sources share one definition of the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pitchpipe.config import PhrasesConfig
from pitchpipe.sound.notes import midi_to_hz

NEAR_CHANGE, VIBRATO, GLIDE, BOUNDARY = 1, 2, 4, 8  # label flags, per frame
NEAR_CHANGE_SECONDS = 0.05  # frames this close to an onset, a release or a change of note are "near a change"
BOUNDARY_SECONDS = 0.01  # frames this close to an onset or a release: neither clearly sounding nor silent
MAX_GLIDE_SEMITONES = 7  # a glide bends a held MIDI key, within the bend range set in the file
LEAP_PROB = 0.35


@dataclass(frozen=True)
class PlannedNote:
    """One note of a phrase: held from `start` to `end` seconds at `midi` (fractional: detuned), entered by a
    glide of `glide` seconds from the previous note's pitch or a scoop from `scoop_cents` below, with vibrato of
    ±`vibrato_cents` at `vibrato_hz` from `vibrato_onset` seconds into the note."""

    start: float
    end: float
    midi: float
    velocity: int
    tied: bool = False  # follows the previous note with no gap and no new attack (legato)
    glide: float = 0.0
    scoop_cents: float = 0.0
    scoop_seconds: float = 0.0
    vibrato_cents: float = 0.0
    vibrato_hz: float = 0.0
    vibrato_onset: float = 0.0
    vibrato_phase: float = 0.0


def plan_phrase(config: PhrasesConfig, draw: np.random.Generator, midi_low: int | None = None,
                midi_high: int | None = None) -> list[PlannedNote]:
    """Notes filling `config.seconds` (the last one ends 0.1 s before the end), in a register drawn inside
    [midi_low, midi_high]: steps mostly, leaps up to an octave, rests, ties, glides, scoops and vibrato."""
    low = config.midi_low if midi_low is None else midi_low
    high = config.midi_high if midi_high is None else midi_high
    span = min(high - low, int(draw.integers(7, 20)))
    register_low = int(draw.integers(low, high - span + 1))
    notes: list[PlannedNote] = []
    time = float(draw.uniform(0.0, 0.3))
    midi = register_low + draw.uniform(0, span)
    end_of_phrase = config.seconds - 0.1
    while time < end_of_phrase - config.note_seconds_min:
        duration = float(np.exp(draw.uniform(np.log(config.note_seconds_min), np.log(config.note_seconds_max))))
        end = min(time + duration, end_of_phrase)
        previous = notes[-1] if notes else None
        tied = bool(previous is not None and previous.end == time and draw.random() < config.legato_prob)
        interval = draw.integers(3, 13) if draw.random() < LEAP_PROB else draw.integers(0, 3)
        step = float(interval * draw.choice([-1, 1]))
        target = float(np.rint(midi + step))
        if not register_low <= target <= register_low + span:
            target = float(np.rint(midi - step))
        target = float(np.clip(target, low, high)) + float(draw.uniform(-0.5, 0.5))  # detuned anywhere in ±50 cents
        glide = 0.0
        if tied and abs(target - previous.midi) <= MAX_GLIDE_SEMITONES and draw.random() < config.glide_prob:
            glide = float(min(draw.uniform(0.05, 0.4), 0.5 * (end - time)))
        scoop = dict(scoop_cents=float(draw.uniform(30, 200)), scoop_seconds=float(draw.uniform(0.04, 0.15))) \
            if not glide and draw.random() < 0.15 and end - time > 0.25 else {}
        vibrato = dict(vibrato_cents=float(draw.uniform(10, 80)), vibrato_hz=float(draw.uniform(4.0, 7.5)),
                       vibrato_onset=float(draw.uniform(0.0, 0.4)), vibrato_phase=float(draw.uniform(0, 2 * np.pi))) \
            if draw.random() < config.vibrato_prob and end - time > 0.3 else {}
        notes.append(PlannedNote(start=time, end=end, midi=target, velocity=int(draw.integers(30, 128)), tied=tied,
                                 glide=glide, **scoop, **vibrato))
        midi = target
        time = end if draw.random() >= config.rest_prob else end + float(np.exp(draw.uniform(np.log(0.05), np.log(0.8))))
    return notes


def pitch_curve(notes: list[PlannedNote], times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(MIDI pitch, which note) at each time: the pitch is NaN and the note −1 where no note is held."""
    midi = np.full(len(times), np.nan)
    which = np.full(len(times), -1)
    for index, note in enumerate(notes):
        held = (times >= note.start) & (times < note.end)
        into = times[held] - note.start
        curve = np.full(len(into), note.midi)
        if note.glide and index:
            ramp = np.clip(into / note.glide, 0.0, 1.0)
            smooth = 0.5 - 0.5 * np.cos(np.pi * ramp)  # eased in and out, as a singer's portamento is
            curve = notes[index - 1].midi + (note.midi - notes[index - 1].midi) * smooth
        if note.scoop_cents:
            curve = curve - note.scoop_cents / 100.0 * np.clip(1.0 - into / note.scoop_seconds, 0.0, 1.0) ** 2
        if note.vibrato_cents:
            fade = np.clip((into - note.vibrato_onset) / 0.2, 0.0, 1.0)  # vibrato grows in over 0.2 s
            curve = curve + fade * note.vibrato_cents / 100.0 * np.sin(
                2 * np.pi * note.vibrato_hz * into + note.vibrato_phase)
        midi[held], which[held] = curve, index
    return midi, which


def frame_labels(notes: list[PlannedNote], n_frames: int, hop_seconds: float, with_tails: bool = False
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(f0 in Hz, 0 where unvoiced; flags) at frame centres 0, hop, 2·hop, … With `with_tails`, a note released
    into a rest keeps its last pitch until the next note (where it still sounds is for `sounding` to say)."""
    times = np.arange(n_frames) * hop_seconds
    midi, which = pitch_curve(notes, times)
    if with_tails:
        for index, note in enumerate(notes):
            following = notes[index + 1].start if index + 1 < len(notes) else np.inf
            tail = (times >= note.end) & (times < following)
            if tail.any():
                midi[tail] = pitch_curve([note], np.array([note.end - 1e-6]))[0][0]
    f0 = np.where(np.isfinite(midi), midi_to_hz(np.nan_to_num(midi)), 0.0)
    flags = np.zeros(n_frames, dtype=np.uint8)
    changes = [edge for note in notes for edge in (note.start, note.end)]
    follows = [index > 0 and notes[index - 1].end >= note.start for index, note in enumerate(notes)]
    releases = [note.start for note, joined in zip(notes, follows) if not joined] + \
        [note.end for index, note in enumerate(notes) if index + 1 == len(notes) or not follows[index + 1]]
    for edges, flag, reach in ((changes, NEAR_CHANGE, NEAR_CHANGE_SECONDS), (releases, BOUNDARY, BOUNDARY_SECONDS)):
        for edge in edges:
            flags[np.abs(times - edge) <= reach + 1e-9] |= flag
    for index, note in enumerate(notes):
        held = which == index
        into = times - note.start
        if note.vibrato_cents:
            flags[held & (into >= note.vibrato_onset)] |= VIBRATO
        if note.glide:
            flags[held & (into < note.glide)] |= GLIDE
        if note.scoop_cents:
            flags[held & (into < note.scoop_seconds)] |= GLIDE
    return f0.astype(np.float32), flags


def sounding(audio: np.ndarray, n_frames: int, hop: int, below_local_db: float = 45.0, below_peak_db: float = 70.0,
             local_frames: int = 50) -> np.ndarray:
    """Frames whose audio (±hop around the centre) is within `below_local_db` of the loudest frame within
    ±`local_frames` and within `below_peak_db` of the phrase's loudest: a held note that has died away is no longer
    voiced, while a quiet note is (the tracker's features are relative to the loudest partial nearby, too)."""
    from scipy.ndimage import maximum_filter1d

    padded = np.pad(np.square(audio), (hop, 2 * hop + n_frames * hop))
    total = np.concatenate([[0.0], np.cumsum(padded)])
    starts = np.arange(n_frames) * hop
    energy = (total[starts + 2 * hop] - total[starts]) / (2 * hop)
    peak = energy.max() if len(energy) else 0.0
    if peak <= 0:
        return np.zeros(n_frames, dtype=bool)
    local = maximum_filter1d(energy, 2 * local_frames + 1, mode="constant", cval=0.0)
    return (energy > local * 10.0 ** (-below_local_db / 10.0)) & (energy > peak * 10.0 ** (-below_peak_db / 10.0))
