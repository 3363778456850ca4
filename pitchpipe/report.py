"""The report stage's library: one self-contained static HTML page (inline SVG and audio, no network)."""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import json
from pathlib import Path

import numpy as np

from pitchpipe.notes import cents_between, note_name
from pitchpipe.plots import figure as _figure, pyplot as _pyplot, svg as _svg, table as _table
from pitchpipe.shards import list_shards, read_array, read_shard, shard_rows

WORST_CLIPS = 8
EXAMPLE_FAMILIES = ("piano", "guitar", "strings", "brass", "reed", "synth lead")


def error_by_pitch_plot(rows: list[dict], unit: str) -> str:
    figure, axis = _figure()
    notes = [r["midi_note"] for r in rows]
    axis.bar(notes, [r[f"mean_abs_{unit}"] for r in rows], color="#4c72b0", label="model, mean")
    axis.plot(notes, [r[f"median_abs_{unit}"] for r in rows], "k.", label="model, median")
    if unit == "cents":
        axis.plot(notes, [r["yin_median_abs_cents"] for r in rows], "-", color="#dd8452", label="YIN, median")
        axis.set_yscale("symlog", linthresh=10)
    axis.set_xlabel("MIDI note")
    axis.set_ylabel(f"absolute error ({unit})")
    axis.legend(loc="upper left")
    return _svg(figure)


def confusion_plot(true_midi: np.ndarray, predicted_midi: np.ndarray) -> str:
    low, high = int(true_midi.min()), int(true_midi.max())
    size = high - low + 1
    matrix = np.zeros((size, size))
    predicted = np.clip(np.rint(np.nan_to_num(predicted_midi, nan=low)).astype(int), low, high)
    np.add.at(matrix, (true_midi.astype(int) - low, predicted - low), 1)
    figure, axis = _figure(5.5, 5.0)
    axis.imshow(np.log1p(matrix), origin="lower", cmap="magma", extent=(low - 0.5, high + 0.5, low - 0.5, high + 0.5))
    axis.set_xlabel("predicted MIDI note")
    axis.set_ylabel("true MIDI note")
    return _svg(figure)


def _live_series(live_dir: Path, name: str) -> tuple[list[int], list[float]]:
    """One DVCLive metric series, e.g. 'eval/rpa50', as (epochs from 1, values); empty if not logged."""
    path = live_dir / "plots" / "metrics" / f"{name}.tsv"
    if not path.exists():
        return [], []
    rows = list(csv.DictReader(path.open(), delimiter="\t"))
    column = name.rsplit("/", 1)[-1]
    return [int(r["step"]) + 1 for r in rows], [float(r[column]) for r in rows]


def training_curves_plot(live_dir: Path) -> str:
    """Loss (train and validation) and validation raw pitch accuracy per epoch."""
    figure, (loss_axis, accuracy_axis) = _pyplot().subplots(1, 2, figsize=(10.0, 3.0))
    for name in ("train/loss", "eval/loss"):
        loss_axis.plot(*_live_series(live_dir, name), marker=".", label=name)
    loss_axis.set_yscale("log")
    loss_axis.set(xlabel="epoch", ylabel="loss")
    loss_axis.legend()
    accuracy_axis.plot(*_live_series(live_dir, "eval/rpa50"), marker=".", color="#55a868")
    accuracy_axis.set(xlabel="epoch", ylabel="validation RPA (50 cents)")
    figure.tight_layout(w_pad=3.0)
    return _svg(figure)


def spectrogram_examples(features_dir: Path, featurize: dict) -> tuple[str, str]:
    """(title, figure): one sustain clip's model input for each of a few instrument families from the test split,
    drawn as what the representation is, with its axes labelled."""
    from pitchpipe.featurize import FEATURE_COLUMN

    examples: dict[str, tuple] = {}
    for path in list_shards(features_dir / "test"):
        table = read_shard(path, columns=["family", "segment", "instrument", "midi_note", FEATURE_COLUMN])
        for row, (family, segment) in enumerate(zip(table.column("family").to_pylist(), table.column("segment").to_pylist())):
            if family in EXAMPLE_FAMILIES and segment == "sustain" and family not in examples:
                examples[family] = (table.column("instrument")[row].as_py(), table.column("midi_note")[row].as_py(),
                                    read_array(table.slice(row, 1), FEATURE_COLUMN)[0].astype(np.float32))
        if len(examples) == len(EXAMPLE_FAMILIES):
            break
    representation = featurize["representation"]
    plt = _pyplot()
    figure, axes = plt.subplots(1, max(1, len(examples)), figsize=(2.4 * max(1, len(examples)), 3.4), squeeze=False)
    for axis, (instrument, midi, values) in zip(axes[0], examples.values()):
        axis.set_title(f"{instrument}\n{note_name(midi)}", fontsize=8)
        axis.tick_params(labelsize=7)
        if representation == "harmonic":
            _draw_harmonic(axis, values, featurize)
        elif representation == "stft":
            _draw_stft(axis, values, featurize)
        else:
            axis.plot(np.arange(len(values)) / featurize["sample_rate"], values, linewidth=0.4)
            axis.set_xlabel("s", fontsize=7)
    figure.tight_layout()
    titles = {"harmonic": "Example inputs (sustain clips): log magnitude at each pitch bin's harmonics",
              "stft": "Example inputs (sustain clips): STFT log magnitude, 0–4 kHz",
              "raw": "Example inputs (sustain clips): the raw audio the model reads"}
    return titles.get(representation, titles["raw"]), _svg(figure)


def _draw_harmonic(axis, values: np.ndarray, featurize: dict) -> None:
    """Rows: pitch bins from midi_low at bins_per_semitone; columns: the multiples of each bin's pitch sampled."""
    per_semitone, low = featurize["bins_per_semitone"], featurize["midi_low"]
    axis.imshow(values, origin="lower", aspect="auto", cmap="viridis", interpolation="nearest")
    harmonics = featurize["harmonics"]
    axis.set_xticks(range(len(harmonics)), [f"{h:g}" for h in harmonics], fontsize=6, rotation=90)
    octaves = [m for m in range(int(np.ceil(low / 12) * 12), int(low + values.shape[0] / per_semitone) + 1, 12)]
    axis.set_yticks([(m - low) * per_semitone for m in octaves], [note_name(m) for m in octaves])
    axis.set_xlabel("× the bin's pitch", fontsize=7)
    axis.set_ylabel("pitch bin", fontsize=7)


def _draw_stft(axis, values: np.ndarray, featurize: dict) -> None:
    """Frequency up to 4 kHz (the bins' own spacing, whatever nfft, rate or max_hz) against time in the clip."""
    rate, hop = featurize["sample_rate"], featurize["nperseg"] - featurize["noverlap"]
    bin_hz = rate / featurize["nfft"]
    shown = min(values.shape[0], int(4000 / bin_hz) + 1)
    axis.imshow(values[:shown], origin="lower", aspect="auto", cmap="viridis", interpolation="nearest",
                extent=(0, values.shape[1] * hop / rate, 0, shown * bin_hz))
    axis.set_xlabel("time in clip (s)", fontsize=7)
    axis.set_ylabel("Hz", fontsize=7)


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


SCORE_KEYS = ("rpa_50c", "rpa_10c", "median_abs_cents", "octave_error_rate")
ESTIMATORS = ("model", "yin", "fft_peak")


def _score_rows(by_estimator: dict, keys=SCORE_KEYS) -> list[list]:
    return [[name, *[f"{by_estimator[name][k]:.4g}" for k in keys if k in by_estimator[name]]]
            for name in ESTIMATORS if name in by_estimator]


def comparison_table(groups: dict[str, dict], first: str) -> str:
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
    return _table(header, rows)


def octave_plot(octave_sets: dict[str, dict]) -> str:
    """RPA within 50 cents per octave, the model beside YIN, one panel per evaluation set; the legend above."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(octave_sets), figsize=(3.4 * len(octave_sets), 3.0), sharey=True, squeeze=False)
    for axis, (title, octaves) in zip(axes[0], octave_sets.items()):
        names = sorted(octaves, key=lambda name: int(name.split("–")[0][1:]))
        x = np.arange(len(names))
        for offset, (estimator, colour) in zip((-0.2, 0.2), (("model", "#4c72b0"), ("YIN", "#dd8452"))):
            axis.bar(x + offset, [octaves[n][estimator.lower()]["rpa_50c"] for n in names], 0.4, color=colour,
                     label=estimator)
        axis.set_xticks(x, [n.split("–")[0] for n in names])
        axis.set_title(title, fontsize=9)
        axis.set_ylim(0, 1.02)
    axes[0][0].set_ylabel("RPA (50 cents)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="upper center", ncol=2, bbox_to_anchor=(0.5, 1.0), frameon=False)
    figure.tight_layout(rect=(0, 0, 1, 0.9))
    return _svg(figure)


def reliability_plot(sets: dict[str, list[dict]]) -> str:
    """Accuracy against the model's confidence, per evaluation set, each point labelled with its clip count (bins
    are merged until they hold enough clips), with the diagonal for reference."""
    figure, axis = _figure(6.0, 3.6)
    for name, rows in sets.items():
        x, y = [r["confidence"] for r in rows], [r["rpa_50c"] for r in rows]
        line, = axis.plot(x, y, marker="o", label=name)
        for row in rows:
            axis.annotate(f"{row['count']:,}", (row["confidence"], row["rpa_50c"]), textcoords="offset points",
                          xytext=(0, -12 if name == "probes" else 6), ha="center", fontsize=6, color=line.get_color())
    axis.plot([0, 1], [0, 1], ":", color="grey")
    axis.set(xlim=(0, 1.02), ylim=(0, 1.08), xlabel="model confidence (mean of the bin's clips)", ylabel="RPA (50 cents)")
    axis.legend(loc="upper left")
    return _svg(figure)


def generalisation_section(reports_dir: Path, breakdown: dict, metrics: dict, loso: dict[str, tuple[dict, dict]]) -> str:
    probes = breakdown["probes"]
    parts = ["<h2>Generalisation</h2>",
             "<p>The probe set is made by this project's own synthesis (pitchpipe/tones.py), never by a soundfont, "
             "with exact f0 over C2–B7 and its own seed. Leave-one-soundfont-out trains on one soundfont and scores on "
             "every clip of the other.</p>",
             "<h3>RPA within 50 cents by octave, model beside YIN</h3>",
             octave_plot({"test split": breakdown["test"]["octave"], "probes": probes["octave"],
                          **{f"{font} left out": groups["octave"] for font, (_, groups) in loso.items()}}),
             "<h3>Reliability: accuracy against confidence (voiced clips)</h3>",
             reliability_plot({name: json.loads((reports_dir / "plots" / f"reliability_{name}.json").read_text())
                               for name in ("test", "probes")}),
             "<h3>Probe set: voiced probes</h3>",
             _table(["estimator", *SCORE_KEYS, "worst family RPA50", "voiced recall", "unvoiced given a pitch"],
                    _score_rows(metrics["probes"], (*SCORE_KEYS, "worst_family_rpa_50c", "voiced_recall",
                                                    "unvoiced_pitched_rate"))),
             "<h3>Probe set by family</h3>", comparison_table(probes["family"], "family"),
             "<h3>Unvoiced probes: share given a pitch (lower is better)</h3>",
             _table(["kind", *ESTIMATORS], [[kind, *[f"{rates[e]:.3f}" for e in ESTIMATORS]]
                                           for kind, rates in probes["unvoiced"].items()])]
    for font, (overall, groups) in loso.items():
        parts += [f"<h3>{html.escape(font)} left out of training (scored on all its clips)</h3>",
                  _table(["estimator", *SCORE_KEYS], _score_rows(overall)),
                  comparison_table(groups["octave"], "octave")]
    parts += ["<h3>Test split by segment and by soundfont</h3>", comparison_table(breakdown["test"]["segment"], "segment"),
              comparison_table(breakdown["test"]["soundfont"], "soundfont"),
              "<h3>Each probe family by recording condition</h3>"]
    for family, conditions in probes["family_condition"].items():
        parts += [f"<h4>{html.escape(family)}</h4>", comparison_table(conditions, "condition")]
    return "\n".join(parts)


def learned_transform_section(metrics: dict, history: list[dict], figures) -> str:
    """The companion experiment: what one linear layer learned, beside the analytic transform."""
    plt = _pyplot()
    frames, bins = figures["frames"], figures["bins"]
    maps, axes = plt.subplots(2, len(frames), figsize=(2.6 * len(frames), 5.2), squeeze=False)
    for column, frame in enumerate(frames):
        for row, (name, key) in enumerate((("learned", "map_learned"), ("analytic", "map_analytic"))):
            values = figures[key][:, column, :]
            limit = float(np.abs(values).max()) or 1.0
            axes[row, column].imshow(values.T, aspect="auto", origin="lower", cmap="RdBu_r", vmin=-limit, vmax=limit,
                                     interpolation="nearest")
            axes[row, column].set_title(f"{name}, frame {frame}", fontsize=9)
            axes[row, column].set_xlabel("input sample", fontsize=8)
            axes[row, column].set_ylabel("output bin", fontsize=8)
    maps.tight_layout()
    middle = int(figures["middle_frame"])
    columns, axes = plt.subplots(2, len(bins), figsize=(2.8 * len(bins), 4.4), squeeze=False)
    for column, bin_ in enumerate(bins):
        analytic = figures["columns_analytic"][:, column, :]
        span = np.flatnonzero(np.abs(analytic).sum(axis=1))
        span = slice(span[0], span[-1] + 1) if len(span) else slice(None)
        for row, part in enumerate(("real", "imaginary")):
            axes[row, column].plot(figures["columns_learned"][span, column, row], color="#4c72b0", label="learned")
            axes[row, column].plot(analytic[span, row], "--", color="#dd8452", label="Hann × sinusoid")
            axes[row, column].set_title(f"bin {bin_}, {part}", fontsize=9)
    axes[0, 0].legend(fontsize=7)
    columns.suptitle(f"kernel columns at frame {middle} (over the window's samples)", fontsize=9)
    columns.tight_layout()
    tones, axes = plt.subplots(2, 2, figsize=(8, 5.6))
    exact, learned = figures["four_tones_exact"], figures["four_tones_learned"]
    peak = float(exact.max())
    for column, (name, values) in enumerate((("scipy.signal.spectrogram", exact), ("learned layer", learned))):
        axes[0, column].imshow(values.T, aspect="auto", origin="lower", cmap="magma", vmin=0, vmax=peak)
        axes[0, column].set_title(f"{name}, linear", fontsize=9)
        log = 20 * np.log10(np.maximum(values, peak * 1e-9) / peak)
        axes[1, column].imshow(log.T, aspect="auto", origin="lower", cmap="magma", vmin=-180, vmax=0)
        axes[1, column].set_title(f"{name}, dB (0 to −180)", fontsize=9)
        for axis in axes[:, column]:
            axis.set_xlabel("frame", fontsize=8)
            axis.set_ylabel("bin", fontsize=8)
    tones.tight_layout()
    curve, axis = _figure(6.0, 2.8)
    epochs = [row["epoch"] for row in history]
    axis.semilogy(epochs, [row["relative_error"] for row in history], "o-", label="held-out relative error")
    axis.semilogy(epochs, [row["loss"] for row in history], "s--", label="training loss (MSE)")
    axis.set_xlabel("epoch")
    axis.legend()
    rows = [[name, *[f"{values[key]:.3g}" for key in ("relative_error", "magnitude_relative_error",
                                                       "phase_error_degrees_max", "db_error_max", "error_floor_db")]]
            for name, values in (("held-out signals", metrics["held_out"]), ("four tones", metrics["four_tones"]))]
    kernel = metrics["kernel"]
    frames_count, bins_count = metrics["outputs"]
    return "\n".join([
        "<h2>Learning the spectrogram (companion experiment)</h2>",
        f"<p>One dense layer without bias or activation ({metrics['weights']:,} weights) learns the "
        f"{'STFT' if metrics['variant'] == 'stft' else 'DFT'} ({frames_count} × {bins_count} complex outputs) from "
        f"{metrics['examples']:,} seeded signals in {metrics['epochs']} epochs. Every kernel column is compared with "
        f"the analytic one (a Hann-windowed sinusoid at its frame): correlation {kernel['correlation_min']:.9f} at "
        f"worst (1 − that = {kernel['decorrelation_max']:.2g}).</p>",
        _table(["signals", "relative error", "magnitude rel. error", "phase error max (°)", "dB error max",
                "error floor (dB below peak)"], rows),
        "<h3>Weight maps (real part), learned and analytic</h3>", _svg(maps),
        "<h3>Kernel columns: Hann-windowed sinusoids</h3>", _svg(columns),
        "<h3>A four-tone slice: scipy and the learned layer</h3>", _svg(tones),
        "<h3>Error against epochs</h3>", _svg(curve)])


def frontend_section(models_dir: Path) -> str:
    """For a raw-audio model: what its first layer became. Empty for other models."""
    drawn = frontend_kernels_figure(models_dir)
    if drawn is None:
        return ""
    name, figure = drawn
    return f"<h2>The first layer of {html.escape(name)} (raw audio in): kernels and frequency responses</h2>{_svg(figure)}"


def frontend_kernels_figure(models_dir: Path):
    """(model name, figure) for a raw-audio model, else None: a few kernels of its first layer (real and imaginary
    parts) beside the Hann-windowed DFT it started from or stayed, and their frequency responses."""
    meta = json.loads((models_dir / "model.json").read_text())
    if meta.get("architecture") != "frontend":
        return None
    import keras

    from pitchpipe.model import FRONTEND_BINS, FRONTEND_WINDOW
    from pitchpipe.spectrogram import stft_basis

    model = keras.saving.load_model(models_dir / "model.keras")
    kernel = model.get_layer("frontend").get_weights()[0][:, 0, :]
    basis = stft_basis(FRONTEND_WINDOW, 2 * (FRONTEND_BINS - 1))
    rate = meta["featurize"]["sample_rate"]
    chosen = (8, 32, 64, 128)
    plt = _pyplot()
    figure, axes = plt.subplots(3, len(chosen), figsize=(2.8 * len(chosen), 7.0), squeeze=False)
    for column, bin_ in enumerate(chosen):
        real, imaginary = kernel[:, bin_], kernel[:, FRONTEND_BINS + bin_]
        scale = np.abs(basis[:, bin_]).max() / max(np.abs(real).max(), 1e-12)
        axes[0, column].plot(basis[:, bin_].real, color="#dd8452", linewidth=0.8, label="DFT")
        axes[0, column].plot(real * scale, color="#4c72b0", linewidth=0.8, label="learned (scaled)")
        axes[0, column].set_title(f"filter {bin_} ({bin_ * rate / (2 * (FRONTEND_BINS - 1)):.0f} Hz), real", fontsize=9)
        axes[1, column].plot(basis[:, bin_].imag, color="#dd8452", linewidth=0.8)
        axes[1, column].plot(imaginary * scale, color="#4c72b0", linewidth=0.8)
        axes[1, column].set_title("imaginary", fontsize=9)
        # the pair's output for a sinusoid, averaged over its phase: √((|R|² + |I|²) / 2) of the two parts' responses
        response = np.sqrt((np.abs(np.fft.rfft(real, 8 * FRONTEND_WINDOW)) ** 2 +
                            np.abs(np.fft.rfft(imaginary, 8 * FRONTEND_WINDOW)) ** 2) / 2)
        hz = np.fft.rfftfreq(8 * FRONTEND_WINDOW, 1.0 / rate)
        axes[2, column].plot(hz, 20 * np.log10(np.maximum(response / response.max(), 1e-6)), linewidth=0.8)
        axes[2, column].set(xlabel="Hz", ylabel="dB", ylim=(-100, 3))
        axes[2, column].set_title("frequency response", fontsize=9)
    axes[0, 0].legend(fontsize=7)
    figure.tight_layout()
    return model.name, figure


def read_loso(reports_dir: Path, loso_dir: Path) -> dict[str, tuple[dict, dict]]:
    """{soundfont left out: (headline per estimator, breakdown)} for every leave-one-soundfont-out run present."""
    path = reports_dir / "loso.json"
    scores = json.loads(path.read_text()) if path.exists() else {}
    return {font: (overall, json.loads((loso_dir / font / "breakdown.json").read_text())) for font, overall in scores.items()}


def run_header(params_path: Path, models_dir: Path, tracker_dir: Path, features_dir: Path, phrases_dir: Path) -> str:
    """Which run this page describes: commit, params digest, both models and the data sizes. The date is the
    commit's, so rebuilding the same commit gives the same bytes."""
    import subprocess

    try:
        commit = subprocess.run(["git", "log", "-1", "--format=%h %cs"], capture_output=True, text=True, check=True,
                                cwd=params_path.parent).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        commit = []
    commit_text = f"commit {commit[0]} of {commit[1]}" if len(commit) == 2 else "not a git checkout"
    digest = hashlib.sha256(params_path.read_bytes()).hexdigest()[:12]
    models = []
    for name, folder in (("note model", models_dir), ("tracker", tracker_dir)):
        meta_path = folder / "model.json"
        if meta_path.exists():
            meta = json.loads(meta_path.read_text())
            models.append(f"{name}: {meta['architecture']}, {meta['parameters']:,} parameters")

    sizes = [f"{split} {sum(shard_rows(p) for p in list_shards(features_dir / split)):,}"
             for split in ("train", "val", "test") if (features_dir / split).is_dir()]
    phrases = sum(shard_rows(p) for p in list_shards(phrases_dir)) if phrases_dir.is_dir() else 0
    parts = [commit_text, f"params.yaml sha256 {digest}", *models, "note clips: " + ", ".join(sizes),
             f"test phrases {phrases:,}"]
    return "<p class=\"run\">" + " · ".join(html.escape(part) for part in parts) + "</p>"


def worst_clip_rows(predictions: dict, clips_dir: Path, sample_rate: int) -> list[str]:
    """The test clips the model missed by most, each playable at a normalised level (peak −1 dBFS), with the level
    it really had."""
    from pitchpipe.evaluate import clip_audio

    true_hz = np.array(predictions["f0_hz"])
    predicted_hz = np.array(predictions["model_hz"])
    error_cents = np.abs(np.nan_to_num(cents_between(predicted_hz, true_hz), nan=np.inf))  # unvoiced: worst of all
    worst = np.argsort(-error_cents)[:WORST_CLIPS]
    rows = []
    for rank, (row, clip) in enumerate(zip(worst, clip_audio(clips_dir, ("test",), np.array(predictions["clip_id"])[worst]))):
        peak = float(np.max(np.abs(clip))) if len(clip) else 0.0
        level = f"{20 * np.log10(peak):.0f} dBFS" if peak > 0 else "silent"
        playable = clip * (10 ** (-1 / 20) / peak) if peak > 0 else clip
        rows.append(
            f"<tr><td>{rank + 1}</td><td>{html.escape(predictions['instrument'][row])} ({html.escape(predictions['soundfont'][row])})</td>"
            f"<td>{html.escape(predictions['segment'][row])}{' · no fundamental' if predictions['missing_fundamental'][row] else ''}</td>"
            f"<td>{true_hz[row]:.1f} Hz ({note_name(predictions['midi_note'][row])})</td><td>{predicted_hz[row]:.1f} Hz</td>"
            f"<td>{f'{error_cents[row]:.0f}' if np.isfinite(error_cents[row]) else 'unvoiced'}</td><td>{level}</td>"
            f"<td><audio controls preload=\"none\" src=\"{wav_data_uri(playable, sample_rate)}\"></audio></td></tr>")
    return rows


PLOT_FILES = ("error_by_note.json", "octave_test.json", "octave_probes.json", "reliability_test.json",
              "reliability_probes.json")


def build_report(reports_dir: Path, features_dir: Path, clips_dir: Path, live_dir: Path, site: Path,
                 loso_dir: Path = Path("loso"), learn_stft_dir: Path = Path("learn_stft"),
                 models_dir: Path = Path("models"), tracker_dir: Path = Path("tracker"),
                 phrases_dir: Path = Path("data/phrases/test"), params_path: Path = Path("params.yaml")) -> Path:
    from pitchpipe.tracker_report import tracker_section

    metrics = json.loads((reports_dir / "metrics.json").read_text())
    breakdown = json.loads((reports_dir / "breakdown.json").read_text())
    rows = json.loads((reports_dir / "plots" / "error_by_note.json").read_text())
    predictions = read_shard(reports_dir / "predictions.parquet").to_pydict()
    featurize = json.loads((models_dir / "model.json").read_text())["featurize"]
    keys = [*SCORE_KEYS, "mae_hz", "mae_hz_below_top_octave"]
    summary = _table(["estimator", *keys], _score_rows(metrics["test"], keys))
    examples_title, examples = spectrogram_examples(features_dir, featurize)
    worst_rows = worst_clip_rows(predictions, clips_dir, featurize["sample_rate"])
    site.mkdir(parents=True, exist_ok=True)
    for stale in site.iterdir():
        stale.unlink()
    sources = [reports_dir / name for name in ("metrics.json", "breakdown.json")] + [reports_dir / "plots" / name
                                                                                     for name in PLOT_FILES]
    downloads = [hashed_copy(source, site) for source in sources]
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pitchpipe report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}svg{{max-width:100%;height:auto}}.run{{color:#555;font-size:90%}}</style></head>
<body><h1>pitchpipe: pitch estimation report</h1>
{run_header(params_path, models_dir, tracker_dir, features_dir, phrases_dir)}
<p>{len(predictions["f0_hz"])} test clips, split by note group: every render of one (soundfont, program, MIDI note) is in one
split. Raw pitch accuracy (RPA) counts estimates within 50 or 10 cents of the label.</p>
<h2>Test split: model vs. classical estimators on the same clips</h2>{summary}
<p>Data: {" · ".join(f'<a href="{html.escape(name)}">{html.escape(name)}</a>' for name in downloads)}</p>
<h2>Error by pitch (Hz)</h2>{error_by_pitch_plot(rows, "hz")}
<h2>Error by pitch (cents)</h2>{error_by_pitch_plot(rows, "cents")}
{generalisation_section(reports_dir, breakdown, metrics, read_loso(reports_dir, loso_dir))}
{tracker_section(reports_dir, tracker_dir, phrases_dir)}
<h2>Predicted vs. true note (test split)</h2>{confusion_plot(np.array(predictions['midi_note']), np.array(predictions['model_midi']))}
{frontend_section(models_dir)}
<h2>Training curves (validation)</h2>{training_curves_plot(live_dir)}
<h2>{html.escape(examples_title)}</h2>{examples}
{learned_transform_section(json.loads((reports_dir / "learn_stft/metrics.json").read_text()),
                           json.loads((reports_dir / "learn_stft/history.json").read_text()),
                           np.load(learn_stft_dir / "figures.npz"))}
<h2>Worst clips</h2><p>Played at a common level (peak −1 dBFS); the level column is the clip's own.</p>
<table><thead><tr><th>#</th><th>instrument</th><th>segment</th><th>true</th><th>predicted</th><th>error (cents)</th><th>peak level</th><th>listen</th></tr></thead>
<tbody>{''.join(worst_rows)}</tbody></table>
</body></html>
"""
    out = site / "index.html"
    out.write_text(page)
    return out
