"""The evaluate stage's library: the model beside YIN and the largest FFT peak on the same clips, for the
test split, the probe set (sounds no soundfont made, voiced and unvoiced) and a left-out soundfont."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pitchpipe.data.feature_shards import load_split
from pitchpipe.errors import DataError
from pitchpipe.scores.metrics import breakdown, by_note, octave_label, pitch_metrics, pitched_rate, reliability, write_json
from pitchpipe.sound.notes import hz_to_midi
from pitchpipe.sound.pitch import fft_peak_hz, yin_hz
from pitchpipe.model.saved_model import PitchModel, load_pitch_model
from pitchpipe.shards import SPLITS, list_shards, read_array, read_shard

CLIP_GROUPS = ("segment", "family", "soundfont", "missing_fundamental", "octave")
HEADLINE = ("count", "rpa_50c", "rpa_10c", "median_abs_cents", "octave_error_rate", "mae_hz")
LABEL_COLUMNS = ("clip_id", "f0_hz", "midi_note", "segment", "family", "instrument", "soundfont", "missing_fundamental")


def classical_estimates(audio: np.ndarray, sample_rate: int) -> dict[str, np.ndarray]:
    """The classical baselines every table shows beside the model (YIN gives NaN where it hears no period)."""
    return {"yin": yin_hz(audio, sample_rate, fmin=50.0, fmax=4500.0),
            "fft_peak": fft_peak_hz(audio, sample_rate, fmin=30.0, nfft=1024)}


def headline(scores: dict) -> dict:
    return {key: scores[key] for key in HEADLINE if key in scores}


def clip_audio(clips_dir: Path, splits: tuple[str, ...], clip_ids: np.ndarray) -> np.ndarray:
    """The 16 kHz audio of the clips `clip_ids` (found in `splits`), in that order."""
    wanted = {int(c) for c in clip_ids}
    ids, parts = [], []
    for split in splits:
        for path in list_shards(clips_dir / split):
            table = read_shard(path, columns=["clip_id", "audio"])
            shard_ids = table.column("clip_id").to_numpy()
            rows = np.flatnonzero([int(c) in wanted for c in shard_ids])
            if len(rows):
                ids.append(shard_ids[rows])
                parts.append(read_array(table.take(rows), "audio"))
    position = {int(c): i for i, c in enumerate(np.concatenate(ids))}
    return np.concatenate(parts)[[position[int(c)] for c in clip_ids]]


def score_clips(model: PitchModel, features: np.ndarray, audio: np.ndarray, labels: dict[str, np.ndarray]
                ) -> tuple[dict, dict, dict[str, np.ndarray], np.ndarray]:
    """Model and classical estimates of labelled soundfont clips: (headline per estimator, breakdown by
    CLIP_GROUPS, the estimates, the model's confidence)."""
    predicted, confidence = model.predict_features(features)
    estimates = {"model": predicted, **classical_estimates(audio, model.sample_rate)}
    true_hz = labels["f0_hz"]
    groups = {group: labels[group] for group in CLIP_GROUPS if group != "octave"}
    groups["octave"] = octave_label(labels["midi_note"])
    overall = {name: headline(pitch_metrics(hz, true_hz)) for name, hz in estimates.items()}
    return overall, breakdown(estimates, true_hz, groups), estimates, confidence


def evaluate_test_split(model: PitchModel, features_dir: Path, clips_dir: Path, out_dir: Path) -> dict:
    """Test-split scores; writes breakdown, error-by-note plot data and per-clip predictions."""
    features, labels = load_split(features_dir / "test", LABEL_COLUMNS)
    audio = clip_audio(clips_dir, ("test",), labels["clip_id"])
    overall, groups, estimates, confidence = score_clips(model, features, audio, labels)
    true_hz = labels["f0_hz"]
    below_top_octave = labels["midi_note"] <= labels["midi_note"].max() - 12  # the original dropped its top octave
    for name, hz in estimates.items():
        if below_top_octave.any():
            overall[name]["mae_hz_below_top_octave"] = float(np.mean(np.abs(np.nan_to_num(hz[below_top_octave])
                                                                            - true_hz[below_top_octave])))
    notes = by_note(estimates["model"], true_hz, labels["midi_note"])
    for name in ("fft_peak", "yin"):
        for row, other in zip(notes, by_note(estimates[name], true_hz, labels["midi_note"])):
            row[f"{name}_median_abs_cents"] = other["median_abs_cents"]
    write_json(out_dir / "plots" / "error_by_note.json", notes)
    write_predictions(out_dir / "predictions.parquet", labels, estimates, confidence)
    return {"overall": overall, "breakdown": groups, "reliability": reliability(confidence, estimates["model"], true_hz)}


def load_probes(probes_dir: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    tables = [read_shard(path) for path in list_shards(probes_dir)]
    table = pa.concat_tables(tables)
    labels = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names if name != "audio"}
    return np.concatenate([read_array(t, "audio") for t in tables]), labels


def evaluate_probes(model: PitchModel, probes_dir: Path, out_dir: Path) -> dict:
    """Probe-set scores: pitch accuracy on voiced probes by family, condition and octave; on unvoiced
    probes, how often each estimator still reports a pitch."""
    audio, labels = load_probes(probes_dir)
    predicted, confidence = model.predict_clips(audio)
    estimates = {"model": predicted, **classical_estimates(audio, model.sample_rate)}
    pitched = {"model": model.voiced(confidence), "yin": np.isfinite(estimates["yin"]),
               "fft_peak": np.isfinite(estimates["fft_peak"])}
    voiced = labels["voiced"]
    true_hz = labels["f0_hz"][voiced]
    on_voiced = {name: hz[voiced] for name, hz in estimates.items()}
    family, condition = labels["family"][voiced], labels["condition"][voiced]
    by_family_condition = {
        f: breakdown({n: hz[family == f] for n, hz in on_voiced.items()}, true_hz[family == f],
                     {"condition": condition[family == f]})["condition"] for f in np.unique(family)}
    groups = breakdown(on_voiced, true_hz, {"family": family, "condition": condition,
                                            "octave": octave_label(labels["midi_note"][voiced])})
    unvoiced_kind = labels["family"][~voiced]
    unvoiced = {kind: {name: pitched_rate(decision[~voiced][unvoiced_kind == kind]) for name, decision in pitched.items()}
                for kind in np.unique(unvoiced_kind)}
    overall = {}
    for name, hz in on_voiced.items():
        scores = headline(pitch_metrics(hz, true_hz))
        scores["worst_family_rpa_50c"] = min(groups["family"][f][name]["rpa_50c"] for f in groups["family"])
        scores["voiced_recall"] = pitched_rate(pitched[name][voiced])
        scores["unvoiced_pitched_rate"] = pitched_rate(pitched[name][~voiced])
        overall[name] = scores
    write_predictions(out_dir / "probe_predictions.parquet", labels, estimates, confidence)
    return {"overall": overall, "breakdown": {**groups, "family_condition": by_family_condition, "unvoiced": unvoiced},
            "reliability": reliability(confidence[voiced], on_voiced["model"], true_hz)}


def evaluate_held_out(model: PitchModel, features_dir: Path, clips_dir: Path, soundfont: str) -> dict:
    """Scores of a model trained without `soundfont` on every clip of that soundfont (all splits)."""
    parts = [load_split(features_dir / split, LABEL_COLUMNS) for split in SPLITS]
    features = np.concatenate([f for f, _ in parts])
    labels = {c: np.concatenate([l[c] for _, l in parts]) for c in LABEL_COLUMNS}
    held = labels["soundfont"] == soundfont
    if not held.any():
        raise DataError(f"{features_dir}: no clips of soundfont {soundfont!r}")
    labels = {c: values[held] for c, values in labels.items()}
    audio = clip_audio(clips_dir, SPLITS, labels["clip_id"])
    overall, groups, _, _ = score_clips(model, features[held], audio, labels)
    return {"overall": overall, "breakdown": groups}


def write_predictions(path: Path, labels: dict[str, np.ndarray], estimates: dict[str, np.ndarray],
                      confidence: np.ndarray) -> None:
    columns = {**labels, **{f"{name}_hz": hz for name, hz in estimates.items()}, "confidence": confidence,
               "model_midi": hz_to_midi(estimates["model"])}
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path, compression="zstd")


def octave_rows(groups: dict) -> list[dict]:
    """Plot data for one evaluation set: a row per octave (its number, so `dvc plots` draws a numeric axis, and its
    name) with every estimator's RPA within 50 cents."""
    rows = [{"octave": int(name.split("–")[0][1:]), "name": name, **{f"{e}_rpa_50c": s["rpa_50c"] for e, s in scores.items()}}
            for name, scores in groups["octave"].items()]
    return sorted(rows, key=lambda row: row["octave"])


def evaluate(model_dir: Path, features_dir: Path, clips_dir: Path, probes_dir: Path, out_dir: Path) -> dict:
    """Scores → metrics.json; breakdowns → breakdown.json; plot data (by note, by octave and reliability, one file
    per evaluation set so each is its own series) → plots/."""
    model = load_pitch_model(model_dir)
    test = evaluate_test_split(model, features_dir, clips_dir, out_dir)
    probes = evaluate_probes(model, probes_dir, out_dir)
    metrics = {"test": test["overall"], "probes": probes["overall"]}
    write_json(out_dir / "metrics.json", metrics)
    write_json(out_dir / "breakdown.json", {"test": test["breakdown"], "probes": probes["breakdown"]})
    for name, result in (("test", test), ("probes", probes)):
        write_json(out_dir / "plots" / f"octave_{name}.json", octave_rows(result["breakdown"]))
        write_json(out_dir / "plots" / f"reliability_{name}.json", result["reliability"])
    return metrics
