"""Pitch tracks of recordings, any sample rate or channel count, files streamed in blocks: by the frame tracker
(a pitch every 10 ms, `pitchpipe.model.tracking`, the default) or by the note model (a sliding 0.33 s window, windows
batched across files).

    from pitchpipe.inference.predict import estimate
    track = estimate(audio, 44100)          # times, frequency (NaN unvoiced), confidence, voiced
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Iterable, Iterator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pitchpipe.config import HarmonicFeatures
from pitchpipe.sound.audio import resample, to_mono
from pitchpipe.model.saved_model import PitchModel, load_pitch_model
from pitchpipe.sound.spectrogram import features, harmonic_spectrum
from pitchpipe.sound.streaming import AudioError, AudioInfo, resampled_blocks, sliding_windows
from pitchpipe.model.tracking import FrameTrack, TrackerModel, is_tracker, load_tracker

MODEL_ENV = "PITCHPIPE_MODEL"
BUNDLED_MODEL = Path(__file__).resolve().parent.parent / "bundled"  # the tracker a wheel carries (scripts/wheel)
HOP_SECONDS = 0.1  # the note model's default; the tracker reports every frame (10 ms)
BATCH_WINDOWS = 256  # windows per network call, gathered across files: bounds memory, amortises the call
PLOT_COLUMNS = 2000  # at most this many spectrum columns per file behind a plotted pitch track
PLOT_GRID = SimpleNamespace(midi_low=35.0, midi_high=108.0, bins_per_semitone=5, floor_db=-80.0)  # B1-C8, 20 cents


@dataclass
class PitchTrack:
    """One estimate per window: `times` are window centres in seconds (as CREPE writes them), `frequency` is NaN
    where the model hears no pitch (`voiced` False)."""

    times: np.ndarray
    frequency: np.ndarray
    confidence: np.ndarray
    voiced: np.ndarray
    spectrum: np.ndarray | None = None  # (columns, log-frequency bins) in [0, 1], only when asked for a plot
    spectrum_times: np.ndarray | None = None


@dataclass(frozen=True)
class TrackOptions:
    hop_seconds: float | None = None  # None: every tracker frame, or the note model's HOP_SECONDS
    fmin: float | None = None  # Hz: the search range; estimates outside it are not reported
    fmax: float | None = None
    smooth: int = 0  # windows in a running median over the track (0 or 1: off)
    with_spectrum: bool = False

    def __post_init__(self):
        if self.hop_seconds is not None and not self.hop_seconds > 0:
            raise ValueError(f"hop must be positive seconds, got {self.hop_seconds}")
        for name, value in (("fmin", self.fmin), ("fmax", self.fmax)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"--{name} must be a positive frequency in Hz, got {value}")
        if self.fmin is not None and self.fmax is not None and not self.fmin < self.fmax:
            raise ValueError(f"need fmin < fmax, got fmin {self.fmin}, fmax {self.fmax}")
        if self.smooth < 0:
            raise ValueError(f"smooth must be a number of windows ≥ 0, got {self.smooth}")


class Tracker:
    """Runs windows of many files through the model in shared batches and hands back each file's track."""

    def __init__(self, model: PitchModel, options: TrackOptions):
        self.model, self.options = model, options
        self.hop = max(1, round((options.hop_seconds or HOP_SECONDS) * model.sample_rate))
        grid = model.featurize if model.featurize.representation == "harmonic" else PLOT_GRID  # the --plot spectrum's bins
        self.plot_config = HarmonicFeatures(sample_rate=model.sample_rate, dtype=model.featurize.dtype, midi_low=grid.midi_low,
                                            midi_high=grid.midi_high, bins_per_semitone=grid.bins_per_semitone,
                                            harmonics=(1.0,), floor_db=grid.floor_db)

    def estimate_windows(self, clips: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(Hz, confidence, voiced) of each window, within the options' frequency range."""
        inputs = features(clips, self.model.featurize).astype(np.float32)
        hz, confidence = self.model.codec.decode(self.model.network(inputs), self.options.fmin, self.options.fmax)
        confidence = np.where(inputs.reshape(len(inputs), -1).any(axis=1), confidence, 0.0)  # silence: no pitch
        voiced = self.model.voiced(confidence) & np.isfinite(hz) & (hz > 0)
        return hz, confidence, voiced

    def tracks(self, sources: Iterable[tuple[object, Callable[[], Iterator[np.ndarray]], int]],
               advance: Callable[[float], None] = lambda seconds: None
               ) -> Iterator[tuple[object, PitchTrack | AudioError]]:
        """For each (key, blocks of audio at the model's rate, expected samples): (key, track) or (key, error),
        in input order. Windows wait in a shared batch; a file's track is complete once all its windows ran."""
        pending: list[tuple[_FileTrack, np.ndarray, np.ndarray]] = []  # (file, starts, windows) not yet run
        files: list[_FileTrack] = []  # read or being read, not yet handed back

        def run_pending():
            if not pending:
                return
            results = self.estimate_windows(np.concatenate([windows for _, _, windows in pending]))
            offset = 0
            for file, starts, windows in pending:
                file.results.append(tuple(result[offset:offset + len(windows)] for result in results))
                offset += len(windows)
                if self.options.with_spectrum:
                    keep = (starts // self.hop) % file.plot_stride == 0
                    file.spectrum.append(harmonic_spectrum(windows[keep], self.plot_config)[:, :, 0])
                    file.spectrum_times.append(starts[keep])
            pending.clear()

        def ready() -> Iterator[tuple[object, PitchTrack | AudioError]]:
            while files and files[0].read and not any(file is files[0] for file, _, _ in pending):
                file = files.pop(0)
                yield file.key, file.error or self._assemble(file)

        for key, blocks, expected in sources:
            file = _FileTrack(key, plot_stride=max(1, math.ceil(expected / self.hop / PLOT_COLUMNS)))
            files.append(file)

            def measured(stream: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
                for block in stream:
                    advance(len(block) / self.model.sample_rate)
                    yield block

            try:
                for starts, windows in sliding_windows(measured(blocks()), self.model.clip_samples, self.hop,
                                                       BATCH_WINDOWS):
                    file.times.append(starts)
                    pending.append((file, starts, windows))
                    if sum(len(windows) for _, _, windows in pending) >= BATCH_WINDOWS:
                        run_pending()
            except AudioError as error:
                file.error = error
                pending[:] = [item for item in pending if item[0] is not file]
            file.read = True
            yield from ready()
        run_pending()
        yield from ready()

    def _assemble(self, file: _FileTrack) -> PitchTrack:
        seconds = lambda starts: (starts + self.model.clip_samples / 2) / self.model.sample_rate  # window centres
        hz, confidence, voiced = (np.concatenate([result[i] for result in file.results]) for i in range(3))
        track = PitchTrack(seconds(np.concatenate(file.times)), np.where(voiced, hz, np.nan), confidence, voiced)
        if self.options.with_spectrum:
            track.spectrum = np.concatenate(file.spectrum)
            track.spectrum_times = seconds(np.concatenate(file.spectrum_times))
        return smooth_track(track, self.options.smooth)


@dataclass
class _FileTrack:
    """What one file has gathered while its windows go through the model."""

    key: object
    plot_stride: int = 1  # keep every n-th spectrum column, so a plot stays PLOT_COLUMNS wide
    times: list = dataclasses.field(default_factory=list)
    results: list = dataclasses.field(default_factory=list)
    spectrum: list = dataclasses.field(default_factory=list)
    spectrum_times: list = dataclasses.field(default_factory=list)
    error: AudioError | None = None
    read: bool = False


def smooth_track(track: PitchTrack, windows: int) -> PitchTrack:
    """A running median over `windows` windows (odd; 0 or 1 leaves the track alone): the voicing decision by
    majority, the pitch as the median of the voiced neighbours (the lower middle one of an even count: always an
    observed pitch, never the mean of two that an octave parts)."""
    if windows <= 1 or len(track.times) < 2:
        return track
    windows += 1 - windows % 2
    half = windows // 2
    voiced_share = sliding_window_view(np.pad(track.voiced.astype(float), half, mode="edge"), windows).mean(axis=1)
    padded = np.pad(np.log2(track.frequency), half, constant_values=np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN neighbourhoods are unvoiced
        median = np.nanquantile(sliding_window_view(padded, windows), 0.5, axis=1, method="lower")
    voiced = (voiced_share > 0.5) & np.isfinite(median)
    return dataclasses.replace(track, frequency=np.where(voiced, 2.0 ** median, np.nan), voiced=voiced)


def file_source(info: AudioInfo, sample_rate: int):
    """A (key, blocks, expected samples) source for Tracker.tracks from a file on disk."""
    return info.path, lambda: resampled_blocks(info, sample_rate), round(info.seconds * sample_rate)


def model_dir(explicit: str | Path | None = None, start: Path | None = None) -> Path:
    """The model to use: the one named, else $PITCHPIPE_MODEL, else the repository's own (the nearest folder at
    or above `start`, default the current one, that holds a dvc.yaml): its tracker/ (the `train_tracker` stage's
    output), else its models/ (the note model). Outside a repository with neither given: the tracker an installed
    wheel carries (`scripts/wheel`), else ./tracker, which then fails with a message that says how to name one."""
    if explicit is not None:
        return Path(explicit)
    if os.environ.get(MODEL_ENV):
        return Path(os.environ[MODEL_ENV])
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "dvc.yaml").is_file():
            tracker, models = folder / "tracker", folder / "models"
            return tracker if (tracker / "model.json").is_file() or not (models / "model.json").is_file() else models
    return BUNDLED_MODEL if (BUNDLED_MODEL / "model.json").is_file() else Path("tracker")


@lru_cache(maxsize=4)
def load_model(directory: str) -> PitchModel | TrackerModel:
    """The tracker or the note model saved in `directory` (cached: loaded once per process)."""
    if not (Path(directory) / "model.json").is_file():
        raise FileNotFoundError(f"{directory}: no trained model here (in the repository, `dvc repro` or `dvc pull` "
                                "makes one: the tracker in tracker/, the note model in models/)")
    return load_tracker(directory) if is_tracker(directory) else load_pitch_model(directory)


def frame_stride(options: TrackOptions, hop_seconds: float) -> int:
    """Every how many tracker frames a row is reported; ValueError unless the asked hop is a multiple of a frame."""
    if options.hop_seconds is None:
        return 1
    every = round(options.hop_seconds / hop_seconds)
    if every < 1 or abs(every * hop_seconds - options.hop_seconds) > 1e-9:
        raise ValueError(f"the tracker reports every {hop_seconds} s: --hop must be a multiple of it, "
                         f"got {options.hop_seconds}")
    return every


def frame_pitch_track(frames: FrameTrack, options: TrackOptions, hop_seconds: float) -> PitchTrack:
    """A tracker's frames as a PitchTrack: every frame, or every k-th for a coarser `options.hop_seconds`."""
    pick = slice(None, None, frame_stride(options, hop_seconds))
    track = PitchTrack(frames.times[pick], frames.frequency[pick], frames.confidence[pick], frames.voiced[pick])
    if frames.spectrum is not None:
        stride = max(1, math.ceil(len(frames.times) / PLOT_COLUMNS))
        track.spectrum, track.spectrum_times = frames.spectrum[::stride], frames.times[::stride]
    return smooth_track(track, options.smooth)


def estimate(audio: np.ndarray, sample_rate: int, model: PitchModel | TrackerModel | str | Path | None = None,
             hop_seconds: float | None = None, fmin: float | None = None, fmax: float | None = None,
             smooth: int = 0) -> PitchTrack:
    """The pitch track of `audio` ((frames,) or (frames, channels), any rate, at its own level), as `pitchpipe
    predict` computes it: by the tracker (every 10 ms) unless `model` is a note model. `model` is a loaded model
    or its folder (default: `model_dir()`; loaded once)."""
    if not isinstance(model, (PitchModel, TrackerModel)):
        model = load_model(str(model_dir(model)))
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim not in (1, 2) or audio.size == 0:
        raise ValueError(f"audio must be a non-empty (frames,) or (frames, channels) array, got shape {audio.shape}")
    if not np.isfinite(audio).all():
        raise ValueError("audio contains NaN or infinite samples")
    mono = to_mono(audio[:, None] if audio.ndim == 1 else audio)
    resampled = resample(mono, int(sample_rate), model.sample_rate)
    options = TrackOptions(hop_seconds, fmin, fmax, smooth)
    if isinstance(model, TrackerModel):
        frames = model.track(iter([resampled]), fmin=fmin, fmax=fmax)
        return frame_pitch_track(frames, options, model.frames.hop / model.sample_rate)
    tracker = Tracker(model, options)
    ((_, outcome),) = tracker.tracks([("audio", lambda: iter([resampled]), len(resampled))])
    if isinstance(outcome, AudioError):
        raise outcome
    return outcome
