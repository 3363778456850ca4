"""The evaluate_tracker stage's library: the tracker, YIN and pYIN frame by frame on the melody test split (all of
it and by source) and the melody probes, and the tracker reduced to one pitch per clip on the note test split
beside the note model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pitchpipe.scores.frame_metrics import PhraseSet, baseline_scores, load_phrases, melody_scores, model_tracks
from pitchpipe.scores.metrics import pitch_metrics, rounded
from pitchpipe.sound.notes import midi_to_hz
from pitchpipe.model.tracking import TrackerModel, load_tracker

def set_scores(model: TrackerModel, phrases: PhraseSet, baseline_phrases: int) -> tuple[dict, np.ndarray, np.ndarray]:
    """The tracker on every phrase of the set, YIN and pYIN on the first `baseline_phrases`, and the tracker on
    those same phrases (the fair comparison); also the tracker's (Hz, voiced) of every frame, for subsets."""
    hz, voiced = model_tracks(model, phrases)
    frames = phrases.f0_hz.shape[1]
    out = {"tracker": melody_scores(phrases.f0_hz.ravel(), phrases.flags.ravel(), hz, voiced),
           "phrases": len(phrases.audio)}
    limit = min(baseline_phrases, len(phrases.audio))
    if limit:
        out["baseline_phrases"] = limit
        out["tracker_on_baseline_phrases"] = melody_scores(phrases.f0_hz[:limit].ravel(), phrases.flags[:limit].ravel(),
                                                           hz[:limit * frames], voiced[:limit * frames])
        out.update(baseline_scores(phrases, limit))
    return out, hz, voiced


def note_clip_scores(model: TrackerModel, clips_dir: Path) -> dict:
    """The tracker, reduced to one pitch per clip (the median of its voiced frames), on the note test split,
    overall and by segment and octave."""

    from pitchpipe.shards import list_shards, read_array, read_shard

    estimates, truth, segments, octaves = [], [], [], []
    for path in list_shards(clips_dir / "test"):
        table = read_shard(path, columns=["audio", "f0_hz", "segment", "midi_note"])
        for audio, f0 in zip(read_array(table, "audio"), table.column("f0_hz").to_numpy()):
            track = model.track(iter([audio.astype(np.float64)]))
            pitched = track.midi[track.voiced]
            estimates.append(float(midi_to_hz(np.median(pitched))) if len(pitched) else 0.0)
            truth.append(float(f0))
        segments += table.column("segment").to_pylist()
        octaves += [int(note) // 12 - 1 for note in table.column("midi_note").to_pylist()]
    estimates, truth = np.array(estimates), np.array(truth)
    out = pitch_metrics(estimates, truth) | {"clips": int(len(truth))}
    for name, groups in (("segment", np.array(segments)), ("octave", np.array(octaves))):
        out[name] = {str(value): pitch_metrics(estimates[groups == value], truth[groups == value])
                     for value in sorted(set(groups.tolist()))}
    return out


def evaluate_tracker(model_dir: Path, test_phrases: Path, probes: Path, clips_dir: Path | None, out: Path,
                     baseline_phrases: int) -> dict:
    model = load_tracker(model_dir)
    test = load_phrases(test_phrases)
    test_scores, hz, voiced = set_scores(model, test, baseline_phrases)
    report = {"test": test_scores, "probes": set_scores(model, load_phrases(probes), baseline_phrases)[0]}
    sources = np.array(["synthetic" if s == "synthetic" else "soundfont" for s in test.source])
    for name in ("soundfont", "synthetic"):
        keep = np.repeat(sources == name, test.f0_hz.shape[1])  # the frames of this source's phrases
        if keep.any():
            report[f"test_{name}"] = {"tracker": melody_scores(test.f0_hz.ravel()[keep], test.flags.ravel()[keep],
                                                               hz[keep], voiced[keep])}
    if clips_dir is not None:
        report["note_clips"] = note_clip_scores(model, clips_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "breakdown.json").write_text(json.dumps(rounded(report), indent=2, sort_keys=True) + "\n")
    (out / "metrics.json").write_text(json.dumps(headline(report), indent=2, sort_keys=True) + "\n")
    return report


HEADLINE = ("rpa", "oa", "voicing_false_alarm", "rpa_near_change")


def headline(report: dict) -> dict:
    """What `dvc metrics show` prints: the tracker and pYIN on the test split and the probes, a few numbers each."""
    out = {}
    for name in ("test", "probes"):
        for who in ("tracker", "pyin"):
            if who in report[name]:
                out[f"{name}_{who}"] = {key: report[name][who][key] for key in HEADLINE}
    return out
