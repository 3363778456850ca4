"""`pitchpipe predict`: inputs (files, folders, globs) → pitch tracks in CSV or JSON, one output or one per file."""

from __future__ import annotations

import csv
import glob
import json
import sys
from pathlib import Path
from typing import Iterator

from pitchpipe.predict import PitchTrack, Tracker, TrackOptions, file_source, plot_track, track_json, track_rows
from pitchpipe.saved_model import load_pitch_model
from pitchpipe.streaming import AudioError, AudioInfo, audio_info

CSV_COLUMNS = ["time", "frequency", "confidence", "voiced", "note"]


def audio_extensions() -> set[str]:
    import soundfile

    extensions = {f".{name.lower()}" for name in soundfile.available_formats()}
    return extensions | {".aif", ".aiff", ".oga", ".opus"}


def expand_inputs(inputs: list[str], recursive: bool) -> Iterator[tuple[Path, Path | None] | AudioError]:
    """(file, the folder it was found under or None) for each input: a file as given, the audio files under a
    folder (with `recursive`), the matches of a glob pattern; an AudioError for what matches nothing."""
    extensions = audio_extensions()
    for given in inputs:
        path = Path(given)
        if path.is_dir():
            if not recursive:
                yield AudioError(f"{path}: is a folder (add --recursive to read the audio files in it)")
                continue
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in extensions)
            if not found:
                yield AudioError(f"{path}: no audio files in this folder")
            yield from ((p, path) for p in found)
        elif not path.exists() and glob.has_magic(given):
            matches = sorted(Path(p) for p in glob.glob(given, recursive=recursive) if Path(p).is_file())
            if not matches:
                yield AudioError(f"{given}: no file matches this pattern")
            yield from ((p, None) for p in matches)
        else:
            yield path, None


def output_path(out_dir: Path, path: Path, root: Path | None, suffix: str) -> Path:
    """`<name>.f0.<suffix>` in `out_dir`, under the same sub-folders as below the input folder `root`."""
    relative = path.relative_to(root).parent if root is not None else Path()
    return out_dir / relative / f"{path.stem}.f0.{suffix}"


def write_atomic_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)


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


def per_file_text(track: PitchTrack, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(track_json(track)) + "\n"
    lines = [",".join(CSV_COLUMNS)] + [",".join(row) for row in track_rows(track)]
    return "\n".join(lines) + "\n"


def progress_bar(total_seconds: float):
    """A bar on stderr when it is a terminal (seconds of audio done); nothing when output is piped or logged."""
    from tqdm import tqdm

    return tqdm(total=round(total_seconds, 1), unit="s audio", disable=not sys.stderr.isatty(), file=sys.stderr,
                leave=False, bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s audio [{elapsed}<{remaining}]")


def predict_command(inputs: list[str], model_dir: Path, options: TrackOptions, recursive: bool, out: Path | None,
                    out_dir: Path | None, output_format: str, plot: bool) -> int:
    """Exit status: 0 when every input gave a track, 1 when any failed (each named on stderr), 2 without a model."""
    try:
        model = load_pitch_model(model_dir)
    except (FileNotFoundError, ValueError) as error:
        print(f"pitchpipe predict: {error}", file=sys.stderr)
        return 2
    failures = 0

    def fail(error: Exception) -> None:
        nonlocal failures
        failures += 1
        print(f"pitchpipe predict: {error}", file=sys.stderr)

    readable: list[tuple[AudioInfo, Path | None]] = []
    targets: dict[Path, Path] = {}
    for item in expand_inputs(inputs, recursive):
        if isinstance(item, AudioError):
            fail(item)
            continue
        path, root = item
        if out_dir is not None:
            target = output_path(out_dir, path, root, output_format)
            if target in targets:
                fail(AudioError(f"{path}: its output {target} would overwrite that of {targets[target]}"))
                continue
            targets[target] = path
        try:
            readable.append((audio_info(path), root))
        except AudioError as error:
            fail(error)
    plot_dir = out_dir or (out.parent if out else Path("."))
    roots = {info.path: root for info, root in readable}
    sources = [file_source(info, model.sample_rate) for info, _ in readable]
    stream = open(out, "w", newline="") if out else sys.stdout
    combined = CombinedWriter(stream, output_format) if out_dir is None else None
    try:
        with progress_bar(sum(info.seconds for info, _ in readable)) as bar:
            for path, outcome in Tracker(model, options).tracks(sources, bar.update):
                if isinstance(outcome, AudioError):
                    fail(outcome)
                    continue
                if combined is not None:
                    combined.add(path, outcome)
                else:
                    write_atomic_text(output_path(out_dir, path, roots[path], output_format),
                                      per_file_text(outcome, output_format))
                if plot:
                    plot_track(outcome, model, str(path), output_path(plot_dir, path, roots[path], "png"))
    finally:
        if combined is not None:
            combined.close()
        if out:
            stream.close()
    return 1 if failures else 0
