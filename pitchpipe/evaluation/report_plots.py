"""The report's figures, each as inline SVG: error by pitch, confusion, training curves, example inputs, RPA by
octave, reliability, the learned transform, a raw-audio model's first layer, and tracked melodies."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from pitchpipe.sound.notes import hz_to_midi, note_name
from pitchpipe.evaluation.plots import figure as _figure, pyplot as _pyplot, svg as _svg
from pitchpipe.shards import list_shards, read_array, read_shard

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
    from pitchpipe.data.featurize import FEATURE_COLUMN

    examples: dict[str, tuple] = {}
    others: dict[str, tuple] = {}  # other families' sustain clips, for a test split without the usual ones
    for path in list_shards(features_dir / "test"):
        table = read_shard(path, columns=["family", "segment", "instrument", "midi_note", FEATURE_COLUMN])
        for row, (family, segment) in enumerate(zip(table.column("family").to_pylist(), table.column("segment").to_pylist())):
            chosen = examples if family in EXAMPLE_FAMILIES else others
            if segment == "sustain" and family not in chosen:
                chosen[family] = (table.column("instrument")[row].as_py(), table.column("midi_note")[row].as_py(),
                                  read_array(table.slice(row, 1), FEATURE_COLUMN)[0].astype(np.float32))
        if len(examples) == len(EXAMPLE_FAMILIES):
            break
    examples = examples or dict(list(others.items())[:len(EXAMPLE_FAMILIES)])
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


def learned_transform_figures(history: list[dict], figures) -> dict[str, str]:
    """The companion experiment's figures: weight maps and kernel columns learned and analytic, a four-tone slice
    by scipy and by the layer, and the error against epochs."""
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
    return {"maps": _svg(maps), "columns": _svg(columns), "tones": _svg(tones), "curve": _svg(curve)}


def frontend_kernels_figure(models_dir: Path) -> tuple[str, str] | None:
    """(model name, SVG) for a raw-audio model, else None: a few kernels of its first layer (real and imaginary
    parts) beside the Hann-windowed DFT it started from or stayed, and their frequency responses."""
    meta = json.loads((models_dir / "model.json").read_text())
    if meta.get("architecture") != "frontend":
        return None
    import keras

    from pitchpipe.model.model import FRONTEND_BINS, FRONTEND_WINDOW
    from pitchpipe.sound.spectrogram import stft_basis

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
    return model.name, _svg(figure)


def track_plot(model, audio: np.ndarray, truth: np.ndarray, title: str) -> str:
    """A melody tracked over the tracker's own view of it (each bin's fundamental channel), against the truth."""
    track = model.track(iter([audio.astype(np.float64)]), with_spectrum=True)
    figure, axis = _figure(8.0, 2.6)
    step = model.centres[1] - model.centres[0]
    edges = np.append(model.centres - step / 2, model.centres[-1] + step / 2)
    times = np.append(track.times, track.times[-1] + track.times[1]) if len(track.times) > 1 else np.array([0, 0.01])
    axis.pcolormesh(times, edges, track.spectrum.T, cmap="magma", shading="flat", rasterized=True)
    truth_midi = np.where(truth > 0, hz_to_midi(np.where(truth > 0, truth, 1.0)), np.nan)
    frames = min(len(truth_midi), len(track.times))
    axis.plot(track.times[:frames], truth_midi[:frames], color="white", linewidth=3, label="truth")
    axis.plot(track.times, np.where(track.voiced, track.midi, np.nan), color="#5ce1e6", linewidth=1.2,
              label="tracker")
    voiced = truth_midi[np.isfinite(truth_midi)]
    if len(voiced):
        axis.set_ylim(voiced.min() - 7, voiced.max() + 7)
    axis.set(xlabel="time (s)", ylabel="MIDI pitch", title=title)
    axis.legend(loc="upper right", fontsize=8)
    return _svg(figure)
