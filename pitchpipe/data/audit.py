"""Measure what pitch each GM program really sounds, to find presets whose sound does not match the label."""

from __future__ import annotations

import numpy as np

from pitchpipe.sound.audio import peak_normalise, resample, rms_db, slice_clip, to_mono
from pitchpipe.sound.midi import note_midi_bytes
from pitchpipe.sound.notes import cents_between, midi_to_hz
from pitchpipe.sound.pitch import refine_near, yin_hz
from pitchpipe.sound.synth import SoundfontRenderer

PROBE_NOTES = (38, 45, 52, 59, 66, 73, 80, 87, 94, 101, 106)
TOLERANCE_CENTS = 50.0
SILENT_DB = -60.0


def measure_pitch(clips: np.ndarray, sample_rate: int) -> np.ndarray:
    """Independent f0 of steady clips: oversampled YIN, sharpened on the harmonics; NaN if aperiodic."""
    return refine_near(clips, sample_rate, yin_hz(clips, sample_rate, 50.0, 4500.0, oversample=4))


def probe_program(renderer: SoundfontRenderer, program: int, notes=PROBE_NOTES, sample_rate: int = 16000,
                  clip_samples: int = 5280) -> np.ndarray:
    """Cents from label of a mid-note clip for each probe note: NaN when silent, +inf when unpitched."""
    clips = []
    for note in notes:
        pcm = renderer.render(note_midi_bytes(program, note, 100, 1.0, 0, 2), renderer.sample_rate)
        audio = peak_normalise(resample(to_mono(pcm), renderer.sample_rate, sample_rate))
        clips.append(slice_clip(audio, int(0.4 * sample_rate), clip_samples))
    clips = np.array(clips)
    deviation = cents_between(measure_pitch(clips, sample_rate), midi_to_hz(np.array(notes)))
    silent = rms_db(clips) < SILENT_DB
    return np.where(silent, np.nan, np.where(np.isnan(deviation), np.inf, deviation))


def mismatched_programs(soundfonts, programs=range(128), min_failures: int = 2) -> dict[int, str]:
    """Programs that sound off-label (over 50 cents away, or unpitched) at `min_failures`+ probe notes in any
    font, or have no sustained tone at all (pure percussion).

    One stray probe is tolerated: a single octave slip can be the estimator's own error; two are not.
    Returns {program: reason} with the worst soundfont's evidence.
    """
    failures: dict[int, str] = {}
    renderers = [SoundfontRenderer(font, 44100) for font in soundfonts]
    for program in programs:
        for renderer in renderers:
            deviation = probe_program(renderer, program)
            sounding = ~np.isnan(deviation)
            bad = sounding & ~(np.abs(deviation) <= TOLERANCE_CENTS)
            if not sounding.any():
                failures[program] = f"{renderer.soundfont.rsplit('/', 1)[-1]}: no sustained tone at any probe note"
                break
            if bad.sum() >= min_failures:
                shown = ["unpitched" if np.isinf(d) else f"{d:+.0f}c" for d in deviation[bad]]
                failures[program] = f"{renderer.soundfont.rsplit('/', 1)[-1]}: {', '.join(shown)}"
                break
    return failures
