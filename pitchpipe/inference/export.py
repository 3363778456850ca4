"""Pitch tracks out, one entry for every format: `write(track, format, path)` for a track's CSV, JSON, PNG plot,
notes CSV or MIDI file (each written under a temporary name, then renamed), and `CombinedWriter` for many files'
tracks streamed into one CSV or JSON document."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterator

import numpy as np

from pitchpipe.sound.notes import hz_to_midi, midi_to_hz, note_name
from pitchpipe.inference.predict import PitchTrack
from pitchpipe.inference.transcribe import NOTE_COLUMNS, note_rows, notes_midi, segment_notes

CSV_COLUMNS = ["time", "frequency", "confidence", "voiced", "note"]
FORMATS = ("csv", "json", "png", "notes", "mid")


def note_names(frequency: np.ndarray) -> list[str]:
    return ["" if not np.isfinite(f) else note_name(int(np.rint(hz_to_midi(f)))) for f in frequency]


def track_rows(track: PitchTrack) -> Iterator[list[str]]:
    """CSV cells `time, frequency, confidence, voiced, note`; frequency and note empty where unvoiced."""
    for time, f, c, v, note in zip(track.times, track.frequency, track.confidence, track.voiced,
                                   note_names(track.frequency)):
        yield [f"{time:.4f}", f"{f:.3f}" if v else "", f"{c:.4f}", str(int(v)), note]


def track_json(track: PitchTrack) -> dict:
    """The track as JSON-ready lists; frequency and note are null where unvoiced."""
    return {"time": [round(float(t), 4) for t in track.times],
            "frequency": [round(float(f), 3) if v else None for f, v in zip(track.frequency, track.voiced)],
            "confidence": [round(float(c), 4) for c in track.confidence],
            "voiced": [bool(v) for v in track.voiced],
            "note": [n or None for n in note_names(track.frequency)]}


def write(track: PitchTrack, output_format: str, path: Path, bin_midi: np.ndarray | None = None,
          title: str = "") -> None:
    """Write `track` to `path` as `output_format`: csv, json, png (the track over the model's spectrum, whose bins
    are `bin_midi`), notes (the notes' CSV) or mid (the notes as a Standard MIDI File)."""
    if output_format == "csv":
        lines = [",".join(CSV_COLUMNS)] + [",".join(row) for row in track_rows(track)]
        _replace(path, ("\n".join(lines) + "\n").encode())
    elif output_format == "json":
        _replace(path, (json.dumps(track_json(track)) + "\n").encode())
    elif output_format == "png":
        if bin_midi is None:
            raise ValueError("a plot needs the model's bins (bin_midi)")
        _plot(track, bin_midi, title, path)
    elif output_format in ("notes", "mid"):
        notes = segment_notes(track.times, track.frequency, track.voiced, track.confidence)
        if output_format == "mid":
            _replace(path, notes_midi(notes))
        else:
            lines = [",".join(NOTE_COLUMNS)] + [",".join(row) for row in note_rows(notes)]
            _replace(path, ("\n".join(lines) + "\n").encode())
    else:
        raise ValueError(f"unknown output format {output_format!r} (one of {', '.join(FORMATS)})")


class CombinedWriter:
    """All tracks into one CSV (with a `file` column) or one JSON document, written as each file completes."""

    def __init__(self, stream, output_format: str):
        self.stream, self.format, self.count = stream, output_format, 0
        if output_format == "csv":
            self.csv = csv.writer(stream)
            self.csv.writerow(["file", *CSV_COLUMNS])
        else:
            stream.write('{"files": [')

    def add(self, path: Path, track: PitchTrack) -> None:
        if self.format == "csv":
            self.csv.writerows([str(path), *row] for row in track_rows(track))
        else:
            self.stream.write((",\n" if self.count else "\n") + json.dumps({"file": str(path), **track_json(track)}))
        self.count += 1
        self.stream.flush()

    def close(self) -> None:
        if self.format == "json":
            self.stream.write("\n]}\n")


def _replace(path: Path, data: bytes) -> None:
    """Write under a temporary name beside `path`, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def _plot(track: PitchTrack, bin_midi: np.ndarray, title: str, out: Path) -> None:
    """A PNG of the pitch track over the log-frequency spectrum of bins `bin_midi` (the model's own view)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hz = midi_to_hz(bin_midi)
    bin_step = bin_midi[1] - bin_midi[0]
    figure, axes = plt.subplots(figsize=(10, 4), dpi=100)
    if track.spectrum is not None and len(track.spectrum):
        step = np.median(np.diff(track.spectrum_times)) if len(track.spectrum_times) > 1 else 0.1
        axes.pcolormesh(np.append(track.spectrum_times - step / 2, track.spectrum_times[-1] + step / 2),
                        np.append(hz, midi_to_hz(bin_midi[-1] + bin_step)), track.spectrum.T, cmap="magma", shading="flat")
    axes.plot(track.times, track.frequency, color="#5ce1e6", linewidth=1.5, marker=".", markersize=3, label="pitch")
    axes.set(yscale="log", xlabel="time (s)", ylabel="frequency (Hz)", title=title, ylim=(hz[0], hz[-1]))
    axes.legend(loc="upper right")
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp")
    figure.savefig(temporary, format="png")
    plt.close(figure)
    temporary.replace(out)
