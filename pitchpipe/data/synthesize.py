"""The synthesize stage's library: training clips from this project's own synthesis, beside the soundfonts.

The two soundfonts have a few hundred timbres between them; a model trained on them alone learns those
timbres. These clips add spectra no instrument there has: random spectral envelopes (from a lone sine to
dense, bright tones), odd-only and missing low harmonics, piano-like inharmonicity, vibrato, FM, breath
noise; then room, EQ and noise augmentation (`synthesize.augment`, noisier than the soundfont clips').
Unvoiced clips (coloured noise, bursts, clicks, DC, silence) teach the model to say "no pitch". Seeded by
(seed, "synth", clip).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from pitchpipe.config import SynthesizeConfig
from pitchpipe.sound.notes import midi_to_hz
from pitchpipe.parallel import Progress, map_shards
from pitchpipe.data.prepare import CLIP_FIELDS, clip_table
from pitchpipe.seeding import rng
from pitchpipe.shards import reset_folder, write_atomic
from pitchpipe.sound.tones import (additive_tone, clicks, coloured_noise, fm_tone, mix_at_snr, partial_count,
                             random_envelope, reverberate, tilt, without_low_harmonics)

SOUNDFONT_LABEL = "synthetic"
CLIP_ID_BASE = 1_000_000_000  # synthetic clip ids never meet the soundfont clips' (note_id * 3 + segment)
ROOM_FILL_SECONDS = 0.6
UNVOICED_KINDS = ("noise", "noise_burst", "clicks", "dc", "silence")
MISSING_LOW_PROB = 0.5  # additive tones without their fundamental or first two or three partials
WHITE_NOISE_PROB = 0.5  # of the added noise: hiss, which buries the weak high partials a residue pitch rests on


def harmonic_amplitudes(f0_hz: float, sample_rate: int, stretch: float, draw: np.random.Generator) -> np.ndarray:
    """A random spectrum: smooth envelope, sometimes a lone sine or only the first few partials, weak even
    partials or missing low ones."""
    amplitudes, missing_low = random_spectrum(f0_hz, sample_rate, stretch, draw)
    return without_low_harmonics(amplitudes, missing_low) if missing_low else amplitudes


def random_spectrum(f0_hz: float, sample_rate: int, stretch: float, draw: np.random.Generator
                    ) -> tuple[np.ndarray, int]:
    """`harmonic_amplitudes` before its low partials are removed, and how many to remove (0: none), for a
    caller that removes them note by note (a phrase's high notes keep fewer partials under the band limit)."""
    n = max(1, partial_count(f0_hz, sample_rate, stretch))
    amplitudes = random_envelope(n, draw)
    sparsity = draw.random()
    if sparsity < 0.1:  # a lone sine
        amplitudes[1:] = 0.0
    elif sparsity < 0.4:  # only the first few partials: from 1 up to all of them, log-uniform
        amplitudes[int(np.exp(draw.uniform(0.0, np.log(n + 1)))):] = 0.0
    if draw.random() < 0.25:  # hollow, clarinet-like
        amplitudes[1::2] *= draw.uniform(0.0, 0.3)
    missing_low = int(draw.integers(1, 4)) if draw.random() < MISSING_LOW_PROB else 0
    return amplitudes, missing_low


def envelope(n_samples: int, sample_rate: int, draw: np.random.Generator) -> np.ndarray:
    """A random attack (0-60 ms) and exponential decay (0-8 per second)."""
    t = np.arange(n_samples) / sample_rate
    attack = draw.uniform(0.0, 0.06)
    rise = np.minimum(1.0, t / attack) if attack > 0 else np.ones(n_samples)
    return rise * np.exp(-t * draw.uniform(0.0, 8.0))


def voiced_clip(f0_hz: float, config: SynthesizeConfig, draw: np.random.Generator) -> tuple[np.ndarray, str, bool]:
    """(audio, generator name, fundamental missing?) of one synthetic note, before level and noise."""
    rate = config.sample_rate
    room = draw.random() < config.augment.reverb_prob
    length = config.clip_samples + (int(ROOM_FILL_SECONDS * rate) if room else 0)
    if draw.random() < 0.25:
        tone, generator, missing = fm_tone(f0_hz, length, rate, draw), "fm", False
    else:
        stretch = float(10.0 ** draw.uniform(-5.0, -3.0)) if draw.random() < 0.3 else 0.0
        amplitudes = harmonic_amplitudes(f0_hz, rate, stretch, draw)
        vibrato = dict(vibrato_cents=draw.uniform(5.0, 40.0), vibrato_hz=draw.uniform(4.0, 7.0)) \
            if draw.random() < 0.3 else {}
        tone = additive_tone(f0_hz, length, rate, amplitudes, draw, stretch=stretch, **vibrato)
        generator, missing = "additive", bool(amplitudes[0] == 0.0)
    tone = tone * envelope(length, rate, draw)
    if draw.random() < 0.3:  # breath or bow noise under the tone
        breath = coloured_noise(length, draw.uniform(-6.0, 0.0), draw)
        tone = mix_at_snr(tone, breath, draw.uniform(10.0, 40.0))
    if room:
        tone = reverberate(tone, config.clip_samples, rate, draw)
    if draw.random() < config.augment.tilt_prob:
        tone = tilt(tone, rate, draw.uniform(-config.augment.tilt_db_per_octave, config.augment.tilt_db_per_octave))
    return tone[-config.clip_samples:], generator, missing


def unvoiced_clip(kind: str, n_samples: int, sample_rate: int, draw: np.random.Generator) -> np.ndarray:
    if kind == "noise":
        return coloured_noise(n_samples, draw.uniform(-6.0, 2.0), draw)
    if kind == "noise_burst":
        return coloured_noise(n_samples, draw.uniform(-6.0, 2.0), draw) * envelope(n_samples, sample_rate, draw)
    if kind == "clicks":
        return clicks(n_samples, draw, (1, 12))
    if kind == "dc":
        return np.full(n_samples, draw.choice([-1.0, 1.0])) + 1e-3 * coloured_noise(n_samples, -3.0, draw)
    return np.zeros(n_samples)


def noise_slope(draw: np.random.Generator) -> float:
    """Spectral slope (dB per octave) of the noise added to a voiced clip: white at WHITE_NOISE_PROB, else
    anywhere from white to brown."""
    return 0.0 if draw.random() < WHITE_NOISE_PROB else float(draw.uniform(-6.0, 0.0))


def synth_row(index: int, config: SynthesizeConfig) -> tuple[dict, np.ndarray]:
    """Labels and audio of synthetic clip `index`."""
    draw = rng(config.seed, "synth", index)
    voiced = draw.random() >= config.unvoiced_fraction
    if voiced:
        midi = draw.uniform(config.midi_low - 0.5, config.midi_high + 0.5)
        f0_hz = float(midi_to_hz(midi))
        audio, generator, missing = voiced_clip(f0_hz, config, draw)
        if draw.random() < config.augment.noise_prob:
            snr_db = draw.uniform(config.augment.snr_db_min, config.augment.snr_db_max)
            audio = mix_at_snr(audio, coloured_noise(len(audio), noise_slope(draw), draw), snr_db)
        note, detune = int(np.rint(midi)), float((midi - np.rint(midi)) * 100.0)
    else:
        generator = UNVOICED_KINDS[draw.integers(len(UNVOICED_KINDS))]
        audio, missing, f0_hz, note, detune = unvoiced_clip(generator, config.clip_samples, config.sample_rate, draw), \
            False, float("nan"), -1, 0.0
    peak = np.max(np.abs(audio))
    gain = float(draw.uniform(config.gain_min, config.gain_max))
    audio = audio * (gain / peak) if peak > 0 else audio
    labels = dict(note_id=-1, soundfont=SOUNDFONT_LABEL, program=-1, instrument=generator, family=SOUNDFONT_LABEL,
                  midi_note=note, detune_cents=detune, f0_hz=f0_hz, velocity=0, clip_id=CLIP_ID_BASE + index,
                  segment=SOUNDFONT_LABEL, gain=gain, missing_fundamental=missing, voiced=voiced)
    return labels, audio


def split_of(index: int, config: SynthesizeConfig) -> str:
    return "val" if rng(config.seed, "synth-split", index).random() < config.val_fraction else "train"


def _synth_task(config: SynthesizeConfig, out_dir: Path, shard: int) -> int:
    indices = range(shard * config.clips_per_shard, min(config.clips, (shard + 1) * config.clips_per_shard))
    rows = {split: {field.name: [] for field in CLIP_FIELDS} | {"audio": []} for split in ("train", "val")}
    for index in indices:
        labels, audio = synth_row(index, config)
        out = rows[split_of(index, config)]
        for key, value in labels.items():
            out[key].append(value)
        out["audio"].append(audio.astype(np.float32))
    for split, columns in rows.items():
        write_atomic(clip_table(columns, config.clip_samples, config.sample_rate),
                     out_dir / split / f"shard-synth-{shard:05d}.parquet")
    return len(indices)


def run_synthesize(config: SynthesizeConfig, out_dir: str | Path, workers: int | None = None) -> int:
    """Write the synthetic train and val clip shards into `out_dir`/{train,val}/; returns the clip count."""
    out_dir = Path(out_dir)
    for split in ("train", "val"):
        reset_folder(out_dir / split)
    shards = list(range(-(-config.clips // config.clips_per_shard)))
    progress = Progress("synthesize", config.clips, "clips")
    map_shards(partial(_synth_task, config, out_dir), shards, progress, count=int, workers=workers)
    progress.finish(f", {len(shards)} shards")
    return config.clips
