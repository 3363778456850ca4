"""The phrases and melody_probes stages' library: melodies labelled every frame, from the two soundfonts
(MIDI phrases rendered by FluidSynth, pitch bends for vibrato, scoops and glides) and from this project's own
synthesis (additive tones, and a voice-like source that keeps to a voice's range, on a continuous f0 curve),
augmented like the notes, split by phrase. Seeded by (seed, source, phrase id): the same phrase comes out
whatever the worker count.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa

from pitchpipe.sound import gm
from pitchpipe.sound.audio import high_pass, peak_normalise, resample, to_mono
from pitchpipe.config import PhrasesConfig
from pitchpipe.data.melody import PlannedNote, frame_labels, pitch_curve, plan_phrase, sounding
from pitchpipe.sound.midi import bend_value, phrase_midi_bytes
from pitchpipe.sound.notes import midi_to_hz
from pitchpipe.parallel import Progress, map_shards
from pitchpipe.data.render import renderer, soundfont_label
from pitchpipe.seeding import rng
from pitchpipe.shards import SPLITS, array_column, reset_folder, with_shape, write_atomic
from pitchpipe.data.synthesize import random_spectrum
from pitchpipe.sound.tones import (NYQUIST_FRACTION, can_remove_fundamental, coloured_noise, mix_at_snr,
                                   partial_count, reverberate, tilt, without_low_harmonics)

RENDER_RATE = 44100
BEND_RANGE_SEMITONES = 12  # glides of up to MAX_GLIDE_SEMITONES bend a held key
BEND_STEP_SECONDS = 0.005
LEGATO_FADE_SECONDS = 0.01  # a struck key (or its release tail) fades out this fast once the next one starts
MAX_TAIL_SECONDS = 2.0  # a release tail is rendered for at most this long
LONE_SINE_PROB = 0.15  # of the additive phrases, beside random_spectrum's own lone sines: a low sine is hard
MISSING_FUNDAMENTAL_MIN_DB = -20.0  # a high-passed phrase keeps at least this much of its energy
VOICE_MIDI_HIGH = 84  # C6, a soprano's high C: the voice-like source sings no higher
CONTROL_SAMPLES = 160  # each partial's amplitude is computed every this many samples and interpolated between
VOWELS = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410),
          (440, 1020, 2240), (660, 1720, 2410), (490, 1350, 1690))  # formants F1-F3 (Hz) of eight vowels


@dataclass(frozen=True)
class Phrase:
    phrase_id: int
    source: str  # a soundfont's short name, or "synthetic"
    program: int
    instrument: str
    audio: np.ndarray  # float32 at config.sample_rate
    f0_hz: np.ndarray  # per frame, 0 where unvoiced
    flags: np.ndarray  # per frame, pitchpipe.data.melody flags


def n_samples(config: PhrasesConfig) -> int:
    return round(config.seconds * config.sample_rate)


def n_frames(config: PhrasesConfig) -> int:
    return n_samples(config) // config.hop + 1


def key_segments(notes: list[PlannedNote]) -> list[tuple[float, float, int, int]]:
    """(start s, end s, MIDI key, velocity) of each key struck: a new key at every note but a glide, which bends
    the key it ties to."""
    keys: list[tuple[float, float, int, int]] = []
    for note in notes:
        if note.glide and keys:
            start, _, key, velocity = keys[-1]
            keys[-1] = (start, note.end, key, velocity)
        else:
            keys.append((note.start, note.end, int(np.rint(note.midi)), note.velocity))
    return keys


def key_midi(notes: list[PlannedNote], segment: tuple[float, float, int, int], program: int) -> bytes:
    """One struck key as a MIDI file from time zero: the pitch curve's distance from the key as pitch-wheel
    events every BEND_STEP_SECONDS."""
    start, end, key, velocity = segment
    times = np.arange(start, end, BEND_STEP_SECONDS)
    midi, _ = pitch_curve(notes, times)
    values = [bend_value((m - key) * 100.0, BEND_RANGE_SEMITONES) for m in np.where(np.isfinite(midi), midi, key)]
    bends = list(zip((times - start).tolist(), values))
    return phrase_midi_bytes(program, [(0.0, end - start, key, velocity)], bends, BEND_RANGE_SEMITONES)


def rendered_phrase(phrase_id: int, config: PhrasesConfig) -> tuple[Phrase, list[PlannedNote]]:
    """A FluidSynth phrase: a program and a soundfont at random, each struck key rendered alone with its release
    tail and cut at the next key with a 10 ms crossfade, so the phrase is monophonic as its labels are: a long
    release or an echo would otherwise sound under the next note. Resampled to the model's rate."""
    draw = rng(config.seed, "phrase-fluid", phrase_id)
    font = config.soundfonts[int(draw.integers(len(config.soundfonts)))]
    program = int(config.programs[int(draw.integers(len(config.programs)))])
    notes = plan_phrase(config, draw)
    synth = renderer(font, RENDER_RATE)
    mix = np.zeros(round(config.seconds * RENDER_RATE))
    segments = key_segments(notes)
    for index, segment in enumerate(segments):
        start = segment[0]
        following = segments[index + 1][0] if index + 1 < len(segments) else config.seconds
        sounding_for = min(following, segment[1] + MAX_TAIL_SECONDS) - start  # held, then its tail until the next key
        frames = round((sounding_for + LEGATO_FADE_SECONDS) * RENDER_RATE)
        audio = to_mono(synth.render(key_midi(notes, segment, program), frames))
        elapsed = np.arange(frames) / RENDER_RATE
        audio *= np.clip(1.0 - (elapsed - sounding_for) / LEGATO_FADE_SECONDS, 0.0, 1.0)
        first = round(start * RENDER_RATE)
        piece = audio[:max(0, len(mix) - first)]
        mix[first:first + len(piece)] += piece
    audio = resample(mix, RENDER_RATE, config.sample_rate)[:n_samples(config)]
    return Phrase(phrase_id, soundfont_label(font), program, gm.PROGRAM_NAMES[program], audio, *_empty_labels()), notes


def _empty_labels():
    return np.zeros(0, np.float32), np.zeros(0, np.uint8)


def formant_gain(frequency: np.ndarray, formants: np.ndarray, bandwidths: np.ndarray) -> np.ndarray:
    """Magnitude of a cascade of second-order resonances at `formants` (Hz, along the last axis) at `frequency`."""
    f = frequency[..., None]
    ratio = f / formants
    return np.prod(1.0 / np.sqrt((1.0 - ratio ** 2) ** 2 + (f * bandwidths / formants ** 2) ** 2), axis=-1)


def slow_noise(times: np.ndarray, step: float, scale: float, draw: np.random.Generator) -> np.ndarray:
    """Gaussian values of s.d. `scale` every `step` seconds, linearly interpolated at `times`."""
    knots = np.arange(0.0, times[-1] + step, step) if len(times) else np.zeros(1)
    return np.interp(times, knots, draw.normal(0.0, scale, len(knots)))


def synthetic_phrase(phrase_id: int, config: PhrasesConfig) -> tuple[Phrase, list[PlannedNote]]:
    """The plan sung by a voice-like source (a pulse train's harmonics through moving formants, jitter,
    shimmer, breath) or played by an additive tone with a random spectrum, on the exact f0 curve."""
    draw = rng(config.seed, "phrase-synth", phrase_id)
    rate, samples = config.sample_rate, n_samples(config)
    voice = draw.random() < config.voice_prob
    notes = plan_phrase(config, draw, midi_high=min(config.midi_high, VOICE_MIDI_HIGH) if voice else None)
    times = np.arange(samples) / rate
    midi, which = pitch_curve(notes, times)
    held = np.isfinite(midi)
    midi = np.interp(times, times[held], midi[held]) if held.any() else np.full(samples, 60.0)  # hold through rests
    if voice:  # jitter: a wobble of a few cents every 50 ms, as a voice has; the label keeps the plan's curve
        midi = midi + slow_noise(times, 0.05, draw.uniform(2.0, 8.0), draw) / 100.0
    f0 = midi_to_hz(midi)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    limit = NYQUIST_FRACTION * rate
    count = max(1, partial_count(float(f0.min()), rate))
    coarse = np.arange(0, samples + CONTROL_SAMPLES, CONTROL_SAMPLES)
    coarse_f0 = np.interp(coarse, np.arange(samples), f0)
    harmonic_hz = coarse_f0[:, None] * np.arange(1, count + 1)
    if voice:
        slope = draw.uniform(-14.0, -6.0)  # dB per octave of the glottal source
        source = 10.0 ** (slope * np.log2(np.arange(1, count + 1)) / 20.0)
        vowel_of_note = draw.integers(len(VOWELS), size=max(1, len(notes)))
        note_of_coarse = np.interp(coarse, np.arange(samples), np.maximum(which, 0).astype(float))
        targets = np.array(VOWELS, float)[vowel_of_note] * draw.uniform(0.9, 1.15)
        formants = np.stack([np.interp(note_of_coarse, np.arange(len(targets)), targets[:, i]) for i in range(3)], -1)
        formants[:, 0] = np.maximum(formants[:, 0], coarse_f0 * draw.uniform(1.0, 1.15))  # F1 tuned to f0 up high
        bandwidths = np.array([80.0, 100.0, 150.0]) * draw.uniform(0.8, 1.5)
        amplitude = source * formant_gain(harmonic_hz, formants[:, None, :], bandwidths)
        instrument = "voice"
    else:
        spectrum, missing_low = random_spectrum(float(f0.min()), rate, 0.0, draw)
        if draw.random() < LONE_SINE_PROB:
            spectrum[1:], missing_low = 0.0, 0
        amplitude = np.broadcast_to(spectrum, (len(coarse), count)).copy()
        instrument = "additive"
        # low partials are removed note by note: a high note keeps fewer under the band limit, so it may lose fewer
        audible = np.count_nonzero(harmonic_hz < limit, axis=1)
        for partials in np.unique(audible) if missing_low else ():
            amplitude[audible == partials] = without_low_harmonics(np.where(np.arange(count) < partials, spectrum, 0.0),
                                                                   missing_low)
    amplitude[harmonic_hz >= limit] = 0.0
    offsets = draw.uniform(0, 2 * np.pi, count)
    tone = np.zeros(samples)
    for k in np.flatnonzero(amplitude.max(axis=0) > 0):
        tone += np.interp(np.arange(samples), coarse, amplitude[:, k]) * np.sin((k + 1) * phase + offsets[k])
    tone *= note_envelope(notes, times, draw)
    if voice:  # shimmer (level wobbling by about 0.7 dB every 20 ms), and breath noise under the notes
        tone *= 10.0 ** (slow_noise(times, 0.02, 0.7, draw) / 20.0)
        breath = coloured_noise(samples, draw.uniform(-6.0, -1.0), draw) * note_envelope(notes, times, draw)
        tone = mix_at_snr(tone, breath, draw.uniform(12.0, 35.0))
    return Phrase(phrase_id, "synthetic", -1, instrument, tone, *_empty_labels()), notes


def note_envelope(notes: list[PlannedNote], times: np.ndarray, draw: np.random.Generator) -> np.ndarray:
    """Level over the phrase: each attacked note rises in 5-40 ms and decays a little, tied notes carry on, and a
    release into a rest dies away exponentially (a 60 dB fall in 0.03-0.3 s)."""
    level = np.zeros(len(times))
    peak = 1.0
    for index, note in enumerate(notes):
        held = (times >= note.start) & (times < note.end)
        into = times[held] - note.start
        if not note.tied:
            peak = 10.0 ** ((note.velocity - 127) / 127 * 18.0 / 20.0)
            attack = draw.uniform(0.005, 0.04)
            level[held] = peak * np.minimum(1.0, into / attack) * np.exp(-into * draw.uniform(0.0, 1.5))
        else:
            level[held] = peak
        following = notes[index + 1].start if index + 1 < len(notes) else np.inf
        tail = (times >= note.end) & (times < following)
        if tail.any() and held.any():
            decay = 6.9 / draw.uniform(0.03, 0.3)  # e-folds per second for 60 dB in that time
            level[tail] = level[held][-1] * np.exp(-(times[tail] - note.end) * decay)
    return level


def rest_noises(tone: np.ndarray, notes: list[PlannedNote], times: np.ndarray, draw: np.random.Generator
                ) -> np.ndarray:
    """Now and then a breath, a consonant-like hiss or a click in a rest: sounds that are not a pitch."""
    out = tone.copy()
    loud = np.sqrt(np.mean(np.square(tone))) or 1.0
    for previous, following in zip(notes, notes[1:]):
        gap = following.start - previous.end
        if gap > 0.12 and draw.random() < 0.4:
            start = previous.end + 0.1
            inside = (times >= start) & (times < following.start - 0.02)
            count = int(inside.sum())
            if count:
                burst = coloured_noise(count, draw.uniform(-3.0, 3.0), draw) * np.hanning(count)
                out[inside] += burst * loud * 10.0 ** (draw.uniform(-30.0, -6.0) / 20.0)
    return out


def without_fundamentals(audio: np.ndarray, f0_hz: np.ndarray, config: PhrasesConfig, draw: np.random.Generator
                         ) -> np.ndarray:
    """At `missing_fundamental_prob`, the phrase high-passed 25-50% above its highest pitch: no note keeps its
    fundamental (30 dB down or more), as through a small loudspeaker (the notes' band-reject, for a melody). Left
    alone where the highest note would keep fewer than two partials under the band limit, or where the filter
    takes most of the sound (a tone that is nearly all fundamental): too little would be left to hear."""
    if draw.random() >= config.missing_fundamental_prob or not (f0_hz > 0).any():
        return audio
    highest = float(f0_hz.max())
    if not can_remove_fundamental(highest, config.sample_rate):
        return audio
    filtered = high_pass(audio, config.sample_rate, highest * draw.uniform(1.25, 1.5))
    kept_db = 10.0 * np.log10(np.sum(np.square(filtered)) / max(np.sum(np.square(audio)), 1e-20))
    return filtered if kept_db > MISSING_FUNDAMENTAL_MIN_DB else audio


def augment(audio: np.ndarray, config: PhrasesConfig, draw: np.random.Generator) -> np.ndarray:
    """A room, an EQ tilt and noise, each at random (training phrases only, and the noisy half of the probes)."""
    if draw.random() < config.augment.reverb_prob:
        audio = reverberate(audio, len(audio), config.sample_rate, draw)
    if draw.random() < config.augment.tilt_prob:
        limit = config.augment.tilt_db_per_octave
        audio = tilt(audio, config.sample_rate, draw.uniform(-limit, limit))
    if draw.random() < config.augment.noise_prob:
        noise = coloured_noise(len(audio), draw.uniform(-6.0, 0.0), draw)
        audio = mix_at_snr(audio, noise, draw.uniform(config.augment.snr_db_min, config.augment.snr_db_max))
    return audio


def phrase_splits(source: str, total: int, config: PhrasesConfig) -> np.ndarray:
    """The split of each of a source's `total` phrases: a seeded permutation cut in exact proportions, with at
    least one validation and one test phrase whenever there are three or more (the training needs both)."""
    counts = {name: int(round(config.split[name] * total)) for name in ("val", "test")}
    if total >= 3:
        counts = {name: max(1, count) for name, count in counts.items()}
    names = np.array(["val"] * counts["val"] + ["test"] * counts["test"] + ["train"] * (total - sum(counts.values())))
    out = np.empty(total, dtype=object)
    out[rng(config.seed, f"phrase-split-{source}").permutation(total)] = names
    return out


def make_phrase(source: str, phrase_id: int, config: PhrasesConfig, augmented: bool) -> Phrase:
    """One finished phrase: made, labelled (voiced while a note or its release tail sounds), augmented (train),
    at a random level."""
    phrase, notes = (rendered_phrase if source == "fluid" else synthetic_phrase)(phrase_id, config)
    audio = peak_normalise(phrase.audio)
    f0, flags = frame_labels(notes, n_frames(config), config.hop / config.sample_rate, with_tails=True)
    f0 = np.where(sounding(audio, len(f0), config.hop), f0, 0.0).astype(np.float32)  # a note that died away: silence
    if source == "synth":  # breaths and hisses in some rests, after the labels: they are not a pitch
        times = np.arange(len(audio)) / config.sample_rate
        audio = rest_noises(audio, notes, times, rng(config.seed, "phrase-rest-noise", phrase_id))
    draw = rng(config.seed, f"phrase-augment-{source}", phrase_id)
    if augmented:
        audio = without_fundamentals(audio, f0, config, rng(config.seed, f"phrase-highpass-{source}", phrase_id))
        audio = augment(audio, config, draw)
    audio = peak_normalise(audio) * draw.uniform(config.gain_min, config.gain_max)
    return Phrase(phrase.phrase_id, phrase.source, phrase.program, phrase.instrument, audio.astype(np.float32), f0, flags)


def phrase_table(phrases: list[Phrase], config: PhrasesConfig) -> pa.Table:
    samples, frames = n_samples(config), n_frames(config)
    table = pa.table({
        "phrase_id": pa.array([p.phrase_id for p in phrases], pa.int32()),
        "source": pa.array([p.source for p in phrases], pa.string()),
        "program": pa.array([p.program for p in phrases], pa.int16()),
        "instrument": pa.array([p.instrument for p in phrases], pa.string()),
        "audio": array_column(np.array([p.audio for p in phrases], np.float32).reshape(-1, samples)),
        "f0_hz": array_column(np.array([p.f0_hz for p in phrases], np.float32).reshape(-1, frames)),
        "flags": array_column(np.array([p.flags for p in phrases], np.uint8).reshape(-1, frames)),
    })
    schema = table.schema
    for column, shape in (("audio", (samples,)), ("f0_hz", (frames,)), ("flags", (frames,))):
        schema = with_shape(schema, column, shape)
    metadata = {**schema.metadata, b"sample_rate": str(config.sample_rate).encode(), b"hop": str(config.hop).encode()}
    return table.replace_schema_metadata(metadata)


def _phrases_task(config: PhrasesConfig, out_dir: Path, splits: tuple[str, ...], task: tuple[str, int]) -> int:
    source, shard = task
    total = config.rendered if source == "fluid" else config.synthetic
    ids = range(shard * config.phrases_per_shard, min(total, (shard + 1) * config.phrases_per_shard))
    by_split: dict[str, list[Phrase]] = {split: [] for split in splits}
    assigned = phrase_splits(source, total, config) if len(splits) > 1 else None
    for phrase_id in ids:
        split = assigned[phrase_id] if assigned is not None else splits[0]
        by_split[split].append(make_phrase(source, phrase_id, config, augmented=split in ("train", "probes")))
    for split, phrases in by_split.items():
        folder = out_dir / split if len(splits) > 1 else out_dir
        write_atomic(phrase_table(phrases, config), folder / f"shard-{source}-{shard:05d}.parquet")
    return len(ids)


def run_phrases(config: PhrasesConfig, out_dir: str | Path, workers: int | None = None,
                label: str = "phrases") -> int:
    """Write phrase shards into `out_dir`/{train,val,test}/ (the melody probes: `out_dir` itself, no split)."""
    out_dir = Path(out_dir)
    splits = SPLITS if config.rendered else ("probes",)
    for folder in ([out_dir / split for split in SPLITS] if config.rendered else [out_dir]):
        reset_folder(folder)
    tasks = [(source, shard) for source, total in (("fluid", config.rendered), ("synth", config.synthetic))
             for shard in range(-(-total // config.phrases_per_shard))]
    progress = Progress(label, config.rendered + config.synthetic, "phrases")
    map_shards(partial(_phrases_task, config, out_dir, splits), tasks, progress, count=int, workers=workers)
    progress.finish(f", {len(tasks)} shards")
    return config.rendered + config.synthetic
