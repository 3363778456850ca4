"""Frame-by-frame scores of pitch tracks on phrases with known f0, with mir_eval's melody metrics, and the
classical trackers (librosa's YIN and pYIN) scored beside the model on the same audio.

Every set is pooled frame by frame: raw pitch and chroma accuracy (RPA, RCA: within 50 cents of the truth on
frames that have a pitch, whatever the voicing says), voicing recall and false alarm, overall accuracy (OA),
the median error in cents, and RPA on the frames near a change of note, under vibrato and in glides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pitchpipe.data.melody import GLIDE, NEAR_CHANGE, VIBRATO
from pitchpipe.scores.metrics import rounded
from pitchpipe.sound.notes import cents_between, midi_to_hz
from pitchpipe.shards import list_shards, read_array, read_shard

YIN_FMIN, YIN_FMAX = 60.0, 2100.0  # C2 a little flat to C7 a little sharp: the phrases' range
YIN_FRAME = 2048  # 128 ms at 16 kHz: two periods of the lowest pitch
YIN_GATE_DB = -40.0  # energy-gated YIN: frames quieter than this below the phrase's loudest are unvoiced


@dataclass
class PhraseSet:
    """Phrases of one set: audio at `sample_rate`, per-frame truth (f0 in Hz, 0 unvoiced) and flags."""

    audio: np.ndarray
    f0_hz: np.ndarray
    flags: np.ndarray
    source: list[str]
    sample_rate: int
    hop: int


def load_phrases(folder, limit: int | None = None) -> PhraseSet:
    """Every phrase shard of `folder` in name order (the first `limit` phrases when given)."""
    tables = [read_shard(path) for path in list_shards(folder)]
    tables = [t for t in tables if t.num_rows]
    audio = np.concatenate([read_array(t, "audio") for t in tables])
    f0, flags = (np.concatenate([read_array(t, c) for t in tables]) for c in ("f0_hz", "flags"))
    source = [s for t in tables for s in t.column("source").to_pylist()]
    metadata = tables[0].schema.metadata
    rows = slice(None, limit)
    return PhraseSet(audio[rows], f0[rows], flags[rows], source[rows], int(metadata[b"sample_rate"]),
                     int(metadata[b"hop"]))


def melody_scores(f0_hz: np.ndarray, flags: np.ndarray, estimate_hz: np.ndarray, estimate_voiced: np.ndarray
                  ) -> dict[str, float]:
    """mir_eval melody metrics of frames pooled over phrases (all arrays (frames,), the same frame times);
    `estimate_hz` is the best guess on every frame, also where `estimate_voiced` is False."""
    import mir_eval.melody as melody

    reference_voiced = f0_hz > 0
    reference_cents = np.where(reference_voiced, 1200.0 * np.log2(np.maximum(f0_hz, 1e-9) / 10.0), 0.0)
    guess = np.isfinite(estimate_hz) & (estimate_hz > 0)
    estimate_cents = np.where(guess, 1200.0 * np.log2(np.where(guess, estimate_hz, 1.0) / 10.0), 0.0)
    voiced = estimate_voiced.astype(float)
    recall, false_alarm = melody.voicing_measures(reference_voiced.astype(float), voiced)
    scores = {"rpa": melody.raw_pitch_accuracy(reference_voiced.astype(float), reference_cents, voiced, estimate_cents),
              "rca": melody.raw_chroma_accuracy(reference_voiced.astype(float), reference_cents, voiced, estimate_cents),
              "oa": melody.overall_accuracy(reference_voiced.astype(float), reference_cents, voiced, estimate_cents),
              "voicing_recall": recall, "voicing_false_alarm": false_alarm}
    errors = np.abs(cents_between(estimate_hz[reference_voiced], f0_hz[reference_voiced]))
    scores["median_abs_cents"] = float(np.nanmedian(errors)) if errors.size else float("nan")
    for name, flag in (("near_change", NEAR_CHANGE), ("vibrato", VIBRATO), ("glide", GLIDE)):
        subset = reference_voiced & ((flags & flag) > 0)
        scores[f"rpa_{name}"] = melody.raw_pitch_accuracy(subset.astype(float), reference_cents, voiced, estimate_cents) \
            if subset.any() else float("nan")
    scores["frames"] = int(len(f0_hz))
    return rounded({key: float(value) for key, value in scores.items()})


def trim(values: np.ndarray, frames: int) -> np.ndarray:
    out = np.zeros(frames, dtype=values.dtype)
    out[:min(frames, len(values))] = values[:frames]
    return out


def yin_track(audio: np.ndarray, sample_rate: int, hop: int, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """librosa's YIN, voiced where the frame's energy is within YIN_GATE_DB of the phrase's loudest."""
    import librosa

    f0 = librosa.yin(audio.astype(np.float64), fmin=YIN_FMIN, fmax=YIN_FMAX, sr=sample_rate, frame_length=YIN_FRAME,
                     hop_length=hop, center=True)
    rms = librosa.feature.rms(y=audio.astype(np.float64), frame_length=YIN_FRAME, hop_length=hop, center=True)[0]
    level = 20.0 * np.log10(np.maximum(rms, 1e-10) / max(rms.max(), 1e-10))
    return trim(f0, frames), trim(level >= YIN_GATE_DB, frames)


def pyin_track(audio: np.ndarray, sample_rate: int, hop: int, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """librosa's pYIN with its own voicing (its best guess kept on unvoiced frames)."""
    import librosa

    f0, voiced, _ = librosa.pyin(audio.astype(np.float64), fmin=YIN_FMIN, fmax=YIN_FMAX, sr=sample_rate,
                                 frame_length=YIN_FRAME, hop_length=hop, center=True, fill_na=None)
    return trim(f0, frames), trim(voiced, frames)


def baseline_scores(phrases: PhraseSet, limit: int) -> dict[str, dict[str, float]]:
    """YIN and pYIN on the first `limit` phrases, pooled."""
    out = {}
    for name, method in (("yin", yin_track), ("pyin", pyin_track)):
        tracks = [method(audio, phrases.sample_rate, phrases.hop, phrases.f0_hz.shape[1]) for audio in phrases.audio[:limit]]
        if tracks:
            out[name] = melody_scores(phrases.f0_hz[:limit].ravel(), phrases.flags[:limit].ravel(),
                                      np.concatenate([t[0] for t in tracks]), np.concatenate([t[1] for t in tracks]))
    return out


def model_tracks(model, phrases: PhraseSet, decoder=None) -> tuple[np.ndarray, np.ndarray]:
    """(Hz best guess, voiced) of every frame of every phrase, pooled, through the model's own inference."""
    hz, voiced = [], []
    for audio in phrases.audio:
        track = model.track(iter([audio]), decoder)
        hz.append(trim(midi_to_hz(track.midi), phrases.f0_hz.shape[1]))
        voiced.append(trim(track.voiced, phrases.f0_hz.shape[1]))
    return np.concatenate(hz), np.concatenate(voiced)


def choose_decoder(model, phrases: PhraseSet, candidates) -> tuple[object, list[dict]]:
    """The candidate decoder with the best overall accuracy on `phrases` (validation), and every candidate's
    scores. Activations are computed once; only the decoding differs."""
    from pitchpipe.sound.decode import decode

    activations = [model.activations(audio)[0] for audio in phrases.audio]
    table, best = [], None
    for decoder in candidates:
        decoded = [decode(a, model.centres, model.frames.bins_per_semitone, decoder) for a in activations]
        hz = np.concatenate([trim(midi_to_hz(d[0]), phrases.f0_hz.shape[1]) for d in decoded])
        voiced = np.concatenate([trim(d[2], phrases.f0_hz.shape[1]) for d in decoded])
        scores = melody_scores(phrases.f0_hz.ravel(), phrases.flags.ravel(), hz, voiced)
        table.append({"decoder": decoder.__dict__, **scores})
        if best is None or scores["oa"] > best[1]:
            best = (decoder, scores["oa"])
    return best[0], table
