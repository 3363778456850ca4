"""`pitchpipe predict`: inputs (files, folders, globs) → pitch tracks in CSV or JSON, one output or one per file."""

from __future__ import annotations

import glob
import sys
from pathlib import Path
from typing import Iterator

import numpy as np

from pitchpipe.inference import export
from pitchpipe.inference.export import CombinedWriter
from pitchpipe.inference.predict import PitchTrack, Tracker, TrackOptions, file_source, frame_pitch_track, frame_stride, load_model
from pitchpipe.sound.spectrogram import harmonic_bin_midi
from pitchpipe.sound.streaming import AudioError, AudioInfo, audio_info, resampled_blocks
from pitchpipe.model.tracking import TrackerModel

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


def progress_bar(total_seconds: float):
    """A bar on stderr when it is a terminal (seconds of audio done); nothing when output is piped or logged."""
    from tqdm import tqdm

    return tqdm(total=round(total_seconds, 1), unit="s audio", disable=not sys.stderr.isatty(), file=sys.stderr,
                leave=False, bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s audio [{elapsed}<{remaining}]")


def model_tracks(model, readable: list[AudioInfo], options: TrackOptions, advance
                 ) -> Iterator[tuple[Path, PitchTrack | AudioError]]:
    """(path, track or error) for each file, in order: the tracker file by file, the note model's windows of all
    files in shared batches."""
    if not isinstance(model, TrackerModel):
        yield from Tracker(model, options).tracks([file_source(info, model.sample_rate) for info in readable], advance)
        return
    for info in readable:
        def counted(blocks):
            for block in blocks:
                advance(len(block) / model.sample_rate)
                yield block

        try:
            frames = model.track(counted(resampled_blocks(info, model.sample_rate)), with_spectrum=options.with_spectrum,
                                 fmin=options.fmin, fmax=options.fmax)
        except AudioError as error:
            yield info.path, error
            continue
        yield info.path, frame_pitch_track(frames, options, model.frames.hop / model.sample_rate)


def predict_command(inputs: list[str], model_dir: Path, options: TrackOptions, recursive: bool, out: Path | None,
                    out_dir: Path | None, output_format: str, plot: bool, notes: bool = False,
                    verbose: bool = False) -> int:
    """Exit status: 0 when every input gave a track, 1 when any failed (each named on stderr), 2 without a model."""
    try:
        model = load_model(str(model_dir))
    except (FileNotFoundError, ValueError) as error:
        print(f"pitchpipe predict: {error}", file=sys.stderr)
        if isinstance(error, FileNotFoundError):
            print("pitchpipe predict: name a model folder with --model DIR or $PITCHPIPE_MODEL (looked in "
                  f"{model_dir.resolve()})", file=sys.stderr)
        return 2
    kind = "tracker" if isinstance(model, TrackerModel) else "note model"
    if isinstance(model, TrackerModel):
        try:
            frame_stride(options, model.frames.hop / model.sample_rate)
        except ValueError as error:
            print(f"pitchpipe predict: {error}", file=sys.stderr)
            return 2
    if verbose:
        print(f"pitchpipe predict: {kind} from {model_dir}", file=sys.stderr)
    low, high = (model.centres[0], model.centres[-1]) if isinstance(model, TrackerModel) else \
        (model.codec.low_midi, model.codec.high_midi)
    from pitchpipe.sound.notes import hz_to_midi, midi_to_hz

    for name, value in (("fmin", options.fmin), ("fmax", options.fmax)):
        if value is not None and not low <= hz_to_midi(value) <= high:
            print(f"pitchpipe predict: warning: --{name} {value:g} Hz is outside the {kind}'s range "
                  f"({midi_to_hz(low):.1f}–{midi_to_hz(high):.0f} Hz)", file=sys.stderr)
    failures = 0

    def fail(error: Exception) -> None:
        nonlocal failures
        failures += 1
        print(f"pitchpipe predict: {error}", file=sys.stderr)

    readable: list[tuple[AudioInfo, Path | None]] = []
    side_dir = out_dir or (out.parent if out else Path("."))  # where plots and notes go
    targets: dict[Path, Path] = {}
    for item in expand_inputs(inputs, recursive):
        if isinstance(item, AudioError):
            fail(item)
            continue
        path, root = item
        wanted = ([output_path(out_dir, path, root, output_format)] if out_dir is not None else []) + \
            ([output_path(side_dir, path, root, "png")] if plot else []) + \
            ([output_path(side_dir, path, root, "csv").with_name(f"{path.stem}.mid")] if notes else [])
        clash = next((target for target in wanted if target in targets), None)
        if clash is not None:
            fail(AudioError(f"{path}: its output {clash} would overwrite that of {targets[clash]}"))
            continue
        targets.update({target: path for target in wanted})
        try:
            readable.append((audio_info(path), root))
        except AudioError as error:
            fail(error)
    roots = {info.path: root for info, root in readable}
    stream = open(out, "w", newline="") if out else sys.stdout
    combined = CombinedWriter(stream, output_format) if out_dir is None else None
    bins = model.centres if isinstance(model, TrackerModel) else harmonic_bin_midi(model.featurize)
    try:
        with progress_bar(sum(info.seconds for info, _ in readable)) as bar:
            for path, outcome in model_tracks(model, [info for info, _ in readable], options, bar.update):
                if isinstance(outcome, AudioError):
                    fail(outcome)
                    continue
                if not outcome.voiced.any() and _digitally_silent(path):
                    print(f"pitchpipe predict: warning: {path} is digitally silent: every frame is unvoiced",
                          file=sys.stderr)
                if combined is not None:
                    combined.add(path, outcome)
                else:
                    export.write(outcome, output_format, output_path(out_dir, path, roots[path], output_format))
                if plot:
                    export.write(outcome, "png", output_path(side_dir, path, roots[path], "png"), bins, str(path))
                if notes:
                    side = output_path(side_dir, path, roots[path], "csv")
                    export.write(outcome, "notes", side.with_name(f"{path.stem}.notes.csv"))
                    export.write(outcome, "mid", side.with_name(f"{path.stem}.mid"))
    finally:
        if combined is not None:
            combined.close()
        if out:
            stream.close()
    return 1 if failures else 0


def _digitally_silent(path: Path) -> bool:
    import soundfile

    with soundfile.SoundFile(str(path)) as source:
        for block in source.blocks(blocksize=1 << 16, dtype="float32"):
            if np.any(block != 0):
                return False
    return True
