"""The report stage's library: gathers the scores and figures into one context and renders
templates/report.html.j2 with Jinja2 (autoescaped) into a self-contained static page: inline SVG and audio, no
network. The figures are drawn by pitchpipe.evaluation.report_plots."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
from pathlib import Path

import numpy as np
from markupsafe import Markup

from pitchpipe.evaluation import report_plots
from pitchpipe.sound.notes import cents_between, note_name
from pitchpipe.shards import list_shards, read_shard, shard_rows

WORST_CLIPS = 8
SCORE_KEYS = ("rpa_50c", "rpa_10c", "median_abs_cents", "octave_error_rate")
ESTIMATORS = ("model", "yin", "fft_peak")
PLOT_FILES = ("error_by_note.json", "octave_test.json", "octave_probes.json", "reliability_test.json",
              "reliability_probes.json")


def environment():
    """Jinja2 with autoescaping on, templates from pitchpipe/evaluation/templates (inside the package, so a wheel has them)."""
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("pitchpipe.evaluation", "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def wav_data_uri(audio: np.ndarray, sample_rate: int) -> str:
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, np.asarray(audio, dtype=np.float32), sample_rate, format="WAV", subtype="PCM_16")
    return "data:audio/wav;base64," + base64.b64encode(buffer.getvalue()).decode()


def hashed_copy(source: Path, site: Path) -> str:
    """Copy `source` into `site` as name.<sha256[:12]>.ext (safe to cache forever); returns the new name."""
    data = source.read_bytes()
    name = f"{source.stem}.{hashlib.sha256(data).hexdigest()[:12]}{source.suffix}"
    (site / name).write_bytes(data)
    return name


def score_table(by_estimator: dict, keys=SCORE_KEYS, header_keys=None) -> tuple[list, list]:
    """(header, rows): one row per estimator with the scores `keys`."""
    rows = [[name, *[f"{by_estimator[name][k]:.4g}" for k in keys if k in by_estimator[name]]]
            for name in ESTIMATORS if name in by_estimator]
    return ["estimator", *(header_keys or keys)], rows


def comparison_table(groups: dict[str, dict], first: str) -> tuple[list, list]:
    """One row per group value: the model's and YIN's RPA (50 and 10 cents), median cents and octave errors,
    and the FFT peak's RPA, side by side."""
    header = [first, "clips", "model RPA50", "YIN RPA50", "FFT RPA50", "model RPA10", "YIN RPA10",
              "model median ¢", "YIN median ¢", "model octave err.", "YIN octave err."]
    rows = []
    for value, scores in groups.items():
        model, yin, fft = scores["model"], scores["yin"], scores["fft_peak"]
        rows.append([value, model["count"], f"{model['rpa_50c']:.3f}", f"{yin['rpa_50c']:.3f}", f"{fft['rpa_50c']:.3f}",
                     f"{model['rpa_10c']:.3f}", f"{yin['rpa_10c']:.3f}", f"{model['median_abs_cents']:.1f}",
                     f"{yin['median_abs_cents']:.1f}", f"{model['octave_error_rate']:.3f}", f"{yin['octave_error_rate']:.3f}"])
    return header, rows


def read_loso(reports_dir: Path, loso_dir: Path) -> dict[str, tuple[dict, dict]]:
    """{soundfont left out: (headline per estimator, breakdown)} for every leave-one-soundfont-out run present."""
    path = reports_dir / "loso.json"
    scores = json.loads(path.read_text()) if path.exists() else {}
    return {font: (overall, json.loads((loso_dir / font / "breakdown.json").read_text())) for font, overall in scores.items()}


def params_digest(params_path: Path) -> str:
    """A digest of the params' values (sorted-key JSON), not of the file's bytes: a comment edit, which DVC does
    not count as a change, leaves it alone."""
    import yaml

    canonical = json.dumps(yaml.safe_load(params_path.read_text()), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def run_header(params_path: Path, models_dir: Path, tracker_dir: Path, features_dir: Path, phrases_dir: Path) -> list[str]:
    """Which run this page describes: commit, params digest, both models and the data sizes. The date is the
    commit's, so rebuilding the same commit gives the same bytes."""
    try:
        commit = subprocess.run(["git", "log", "-1", "--format=%h %cs"], capture_output=True, text=True, check=True,
                                cwd=params_path.parent).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        commit = []
    parts = [f"commit {commit[0]} of {commit[1]}" if len(commit) == 2 else "not a git checkout",
             f"params sha256 {params_digest(params_path)}"]
    for name, folder in (("note model", models_dir), ("tracker", tracker_dir)):
        if (folder / "model.json").exists():
            meta = json.loads((folder / "model.json").read_text())
            parts.append(f"{name}: {meta['architecture']}, {meta['parameters']:,} parameters")
    sizes = [f"{split} {sum(shard_rows(p) for p in list_shards(features_dir / split)):,}"
             for split in ("train", "val", "test") if (features_dir / split).is_dir()]
    phrases = sum(shard_rows(p) for p in list_shards(phrases_dir)) if phrases_dir.is_dir() else 0
    return parts + ["note clips: " + ", ".join(sizes), f"test phrases {phrases:,}"]


def worst_clips(predictions: dict, clips_dir: Path, sample_rate: int) -> list[dict]:
    """The test clips the model missed by most, each playable at a normalised level (peak −1 dBFS), with the level
    it really had."""
    from pitchpipe.evaluation.evaluate import clip_audio

    true_hz = np.array(predictions["f0_hz"])
    predicted_hz = np.array(predictions["model_hz"])
    error_cents = np.abs(np.nan_to_num(cents_between(predicted_hz, true_hz), nan=np.inf))  # unvoiced: worst of all
    worst = np.argsort(-error_cents)[:WORST_CLIPS]
    clips = []
    for row, clip in zip(worst, clip_audio(clips_dir, ("test",), np.array(predictions["clip_id"])[worst])):
        peak = float(np.max(np.abs(clip))) if len(clip) else 0.0
        clips.append({
            "instrument": f"{predictions['instrument'][row]} ({predictions['soundfont'][row]})",
            "segment": predictions["segment"][row] + (" · no fundamental" if predictions["missing_fundamental"][row] else ""),
            "true": f"{true_hz[row]:.1f} Hz ({note_name(predictions['midi_note'][row])})",
            "predicted": f"{predicted_hz[row]:.1f} Hz",
            "error": f"{error_cents[row]:.0f}" if np.isfinite(error_cents[row]) else "unvoiced",
            "level": f"{20 * np.log10(peak):.0f} dBFS" if peak > 0 else "silent",
            "audio": wav_data_uri(clip * (10 ** (-1 / 20) / peak) if peak > 0 else clip, sample_rate)})
    return clips


def generalisation(reports_dir: Path, breakdown: dict, metrics: dict, loso: dict[str, tuple[dict, dict]]) -> dict:
    probes = breakdown["probes"]
    probe_keys = (*SCORE_KEYS, "worst_family_rpa_50c", "voiced_recall", "unvoiced_pitched_rate")
    return {
        "octave_figure": Markup(report_plots.octave_plot(
            {"test split": breakdown["test"]["octave"], "probes": probes["octave"],
             **{f"{font} left out": groups["octave"] for font, (_, groups) in loso.items()}})),
        "reliability_figure": Markup(report_plots.reliability_plot(
            {name: json.loads((reports_dir / "plots" / f"reliability_{name}.json").read_text()) for name in ("test", "probes")})),
        "probe_scores": score_table(metrics["probes"], probe_keys,
                                    (*SCORE_KEYS, "worst family RPA50", "voiced recall", "unvoiced given a pitch")),
        "probe_families": comparison_table(probes["family"], "family"),
        "unvoiced": (["kind", *ESTIMATORS], [[kind, *[f"{rates[e]:.3f}" for e in ESTIMATORS]]
                                             for kind, rates in probes["unvoiced"].items()]),
        "loso": [{"font": font, "scores": score_table(overall), "octaves": comparison_table(groups["octave"], "octave")}
                 for font, (overall, groups) in loso.items()],
        "segments": comparison_table(breakdown["test"]["segment"], "segment"),
        "soundfonts": comparison_table(breakdown["test"]["soundfont"], "soundfont"),
        "family_conditions": [{"family": family, "table": comparison_table(conditions, "condition")}
                              for family, conditions in probes["family_condition"].items()]}


def learned_transform(metrics: dict, history: list[dict], figures) -> dict:
    """The companion experiment: what one linear layer learned, beside the analytic transform."""
    keys = ("relative_error", "magnitude_relative_error", "phase_error_degrees_max", "db_error_max", "error_floor_db")
    rows = [[name, *[f"{values[key]:.3g}" for key in keys]]
            for name, values in (("held-out signals", metrics["held_out"]), ("four tones", metrics["four_tones"]))]
    frames_count, bins_count = metrics["outputs"]
    return {"metrics": metrics, "kind": "STFT" if metrics["variant"] == "stft" else "DFT",
            "frames": frames_count, "bins": bins_count,
            "table": (["signals", "relative error", "magnitude rel. error", "phase error max (°)", "dB error max",
                       "error floor (dB below peak)"], rows),
            "figures": {name: Markup(svg) for name, svg in report_plots.learned_transform_figures(history, figures).items()}}


def frontend(models_dir: Path) -> dict | None:
    """For a raw-audio model: what its first layer became. None for other models."""
    drawn = report_plots.frontend_kernels_figure(models_dir)
    return None if drawn is None else {"name": drawn[0], "figure": Markup(drawn[1])}


def build_report(reports_dir: Path, features_dir: Path, clips_dir: Path, live_dir: Path, site: Path,
                 loso_dir: Path = Path("loso"), learn_stft_dir: Path = Path("learn_stft"),
                 models_dir: Path = Path("models"), tracker_dir: Path = Path("tracker"),
                 phrases_dir: Path = Path("data/phrases/test"), params_path: Path = Path("params.yaml")) -> Path:
    from pitchpipe.evaluation.tracker_report import tracker_context

    metrics = json.loads((reports_dir / "metrics.json").read_text())
    breakdown = json.loads((reports_dir / "breakdown.json").read_text())
    by_note = json.loads((reports_dir / "plots" / "error_by_note.json").read_text())
    predictions = read_shard(reports_dir / "predictions.parquet").to_pydict()
    featurize = json.loads((models_dir / "model.json").read_text())["featurize"]
    keys = [*SCORE_KEYS, "mae_hz", "mae_hz_below_top_octave"]
    examples_title, examples = report_plots.spectrogram_examples(features_dir, featurize)
    context = {
        "run": run_header(params_path, models_dir, tracker_dir, features_dir, phrases_dir),
        "test_clips": len(predictions["f0_hz"]),
        "summary": score_table(metrics["test"], keys),
        "error_hz": Markup(report_plots.error_by_pitch_plot(by_note, "hz")),
        "error_cents": Markup(report_plots.error_by_pitch_plot(by_note, "cents")),
        "generalisation": generalisation(reports_dir, breakdown, metrics, read_loso(reports_dir, loso_dir)),
        "tracker": tracker_context(reports_dir, tracker_dir, phrases_dir),
        "confusion": Markup(report_plots.confusion_plot(np.array(predictions["midi_note"]), np.array(predictions["model_midi"]))),
        "frontend": frontend(models_dir),
        "training": Markup(report_plots.training_curves_plot(live_dir)),
        "examples_title": examples_title, "examples": Markup(examples),
        "learned": learned_transform(json.loads((reports_dir / "learn_stft/metrics.json").read_text()),
                                     json.loads((reports_dir / "learn_stft/history.json").read_text()),
                                     np.load(learn_stft_dir / "figures.npz")),
        "worst": worst_clips(predictions, clips_dir, featurize["sample_rate"]),
    }
    site.mkdir(parents=True, exist_ok=True)
    for stale in site.iterdir():
        stale.unlink()
    sources = [reports_dir / "metrics.json", reports_dir / "breakdown.json", *(reports_dir / "plots" / n for n in PLOT_FILES)]
    context["downloads"] = [hashed_copy(source, site) for source in sources]
    out = site / "index.html"
    out.write_text(environment().get_template("report.html.j2").render(context))
    return out
