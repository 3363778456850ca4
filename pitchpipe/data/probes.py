"""The probe set: clips of exactly known pitch made by this project's own code, never by a soundfont.

Ten harmonic families (pure sines to inharmonic and vibrato tones) at every semitone of the range,
each clean and with white or pink noise at several SNRs, each dry and in a synthetic room; and
unvoiced clips (silence, noise, DC, clicks) that must be reported as having no pitch. Seeded from
`probes.seed`, apart from every random stream used to make training data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa

from pitchpipe.config import ProbesConfig
from pitchpipe.sound.notes import midi_to_hz
from pitchpipe.parallel import Progress, map_shards
from pitchpipe.seeding import rng
from pitchpipe.shards import array_column, reset_folder, shard_name, with_shape, write_atomic
from pitchpipe.sound.tones import HARMONIC_FAMILIES, add_noise, clicks, family_tone, noise, reverberate

UNVOICED_KINDS = ("silence", "white_noise", "pink_noise", "dc", "clicks")
ROOM_FILL_SECONDS = 0.6  # tone played before the clip so that the room's reverberation has built up
CLEAN = "clean"


@dataclass(frozen=True)
class ProbeSpec:
    probe_id: int
    family: str
    noise: str          # clean | white | pink
    snr_db: float       # inf when clean
    reverb: bool
    midi_note: int      # -1 for unvoiced probes
    f0_hz: float        # NaN for unvoiced probes

    @property
    def voiced(self) -> bool:
        return self.family not in UNVOICED_KINDS

    @property
    def condition(self) -> str:
        """e.g. 'clean', 'pink 10 dB', 'white 20 dB + reverb'."""
        text = CLEAN if self.noise == CLEAN else f"{self.noise} {self.snr_db:g} dB"
        return text + (" + reverb" if self.reverb else "")


def conditions(config: ProbesConfig) -> list[tuple[str, float, bool]]:
    """(noise, SNR dB, reverb) of every recording condition: clean and each noise at each SNR, dry and wet."""
    dry = [(CLEAN, float("inf"))] + [(kind, float(snr)) for kind in config.noises for snr in config.snr_db]
    return [(kind, snr, reverb) for reverb in ((False, True) if config.reverb else (False,)) for kind, snr in dry]


def detune(stratum: int, strata: int, draw: np.random.Generator) -> float:
    """A random offset in semitones within the `stratum`-th of `strata` equal parts of [−0.5, 0.5): several
    probes per semitone spread over its whole width."""
    return (stratum + draw.random()) / strata - 0.5


def plan_probes(config: ProbesConfig) -> list[list[ProbeSpec]]:
    """Probe specs grouped one shard per family (the unvoiced kinds share the last shard); ids are global."""
    shards: list[list[ProbeSpec]] = []
    next_id = 0
    for family in HARMONIC_FAMILIES:
        shard = []
        for kind, snr, reverb in conditions(config):
            for midi_note in range(config.midi_low, config.midi_high + 1):
                for stratum in range(config.detunes_per_semitone):
                    offset = detune(stratum, config.detunes_per_semitone, rng(config.seed, "probe-detune", next_id))
                    shard.append(ProbeSpec(next_id, family, kind, snr, reverb, midi_note,
                                           float(midi_to_hz(midi_note + offset))))
                    next_id += 1
        shards.append(shard)
    unvoiced = []
    for kind in UNVOICED_KINDS:
        for _ in range(config.unvoiced_per_kind):
            unvoiced.append(ProbeSpec(next_id, kind, CLEAN, float("inf"), False, -1, float("nan")))
            next_id += 1
    shards.append(unvoiced)
    return shards


def unvoiced_signal(kind: str, n_samples: int, draw: np.random.Generator) -> np.ndarray:
    if kind == "silence":
        return np.zeros(n_samples)
    if kind == "dc":
        return np.full(n_samples, draw.choice([-1.0, 1.0]))
    if kind == "clicks":
        return clicks(n_samples, draw)
    return noise(kind.removesuffix("_noise"), n_samples, draw)


def probe_audio(spec: ProbeSpec, config: ProbesConfig) -> np.ndarray:
    """The clip of one probe, peak-normalised then scaled by a random gain as training clips are."""
    draw = rng(config.seed, "probe", spec.probe_id)
    n = config.clip_samples
    if spec.voiced:
        length = n + (int(ROOM_FILL_SECONDS * config.sample_rate) if spec.reverb else 0)
        audio = family_tone(spec.family, spec.f0_hz, length, config.sample_rate, draw)
        if spec.reverb:
            audio = reverberate(audio, n, config.sample_rate, draw)
        if spec.noise != CLEAN:
            audio = add_noise(audio, spec.noise, spec.snr_db, draw)
    else:
        audio = unvoiced_signal(spec.family, n, draw)
    peak = np.max(np.abs(audio))
    gain = draw.uniform(config.gain_min, config.gain_max)
    return audio * (gain / peak) if peak > 0 else audio


def probe_table(specs: list[ProbeSpec], config: ProbesConfig) -> pa.Table:
    audio = np.array([probe_audio(spec, config) for spec in specs], dtype=np.float32).reshape(-1, config.clip_samples)
    table = pa.table({
        "probe_id": pa.array([s.probe_id for s in specs], pa.int32()),
        "family": pa.array([s.family for s in specs], pa.string()),
        "condition": pa.array([s.condition for s in specs], pa.string()),
        "noise": pa.array([s.noise for s in specs], pa.string()),
        "snr_db": pa.array([s.snr_db for s in specs], pa.float32()),
        "reverb": pa.array([s.reverb for s in specs], pa.bool_()),
        "voiced": pa.array([s.voiced for s in specs], pa.bool_()),
        "midi_note": pa.array([s.midi_note for s in specs], pa.int16()),
        "f0_hz": pa.array([s.f0_hz for s in specs], pa.float64()),
        "audio": array_column(audio),
    })
    schema = with_shape(table.schema, "audio", (config.clip_samples,))
    return table.replace_schema_metadata({**schema.metadata, b"sample_rate": str(config.sample_rate).encode()})


def _probe_task(config: ProbesConfig, out_dir: Path, task: tuple[int, list[ProbeSpec]]) -> int:
    index, specs = task
    write_atomic(probe_table(specs, config), out_dir / shard_name(index))
    return len(specs)


def run_probes(config: ProbesConfig, out_dir: str | Path, workers: int | None = None) -> int:
    """Write every probe shard into `out_dir`; returns the number of probes."""
    shards = plan_probes(config)
    out_dir = reset_folder(out_dir)
    total = sum(len(s) for s in shards)
    progress = Progress("probes", total, "clips")
    map_shards(partial(_probe_task, config, out_dir), list(enumerate(shards)), progress, count=int, workers=workers)
    progress.finish(f", {len(shards)} shards")
    return total
