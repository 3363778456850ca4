"""The frame-level tracker at inference: a pitch every `hop` (10 ms) from one analysis of the whole file.

A file streams through in chunks of CHUNK_FRAMES frames, each analysed with `margin` frames of audio either
side, so the features of every kept frame equal those of the whole file at once (tested) and memory does not
grow with the file; the Viterbi path is decoded over the chunk with its margins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from pitchpipe.config import FramesConfig
from pitchpipe.sound.decode import Decoder, decode
from pitchpipe.sound.frames import FrameAnalysis, context_margin, frame_count, with_context
from pitchpipe.sound.notes import midi_to_hz
from pitchpipe.model.onnx_model import load_onnx_network
from pitchpipe.model.saved_model import META_FILE, ONNX_FILE, load_meta

CHUNK_FRAMES = 2000  # 20 s at 10 ms
DECODE_MARGIN_FRAMES = 100  # the Viterbi path of a chunk is decided with 1 s of frames beyond each side


def frames_config_from(meta: dict) -> FramesConfig:
    return FramesConfig(**meta["featurize"])


@dataclass
class FrameTrack:
    """Every frame of one file: centre times (s), MIDI pitch (the best guess, also where unvoiced), confidence,
    voicing, and, when asked for, the model's view of the audio (each bin's fundamental channel)."""

    times: np.ndarray
    midi: np.ndarray
    confidence: np.ndarray
    voiced: np.ndarray
    spectrum: np.ndarray | None = None

    @property
    def frequency(self) -> np.ndarray:
        """Hz where voiced, NaN elsewhere."""
        return np.where(self.voiced, midi_to_hz(self.midi), np.nan)


class TrackerModel:
    """A saved frame model with its analysis and decoder."""

    kind = "tracker"

    def __init__(self, network: Callable[[np.ndarray], np.ndarray], meta: dict):
        self.network, self.meta = network, meta
        self.frames = frames_config_from(meta)
        self.sample_rate = self.frames.sample_rate
        self.analysis = FrameAnalysis(self.frames)
        self.centres = self.analysis.bins
        self.decoder = Decoder(**meta.get("decoder", {}))
        self.margin = context_margin(self.frames) + DECODE_MARGIN_FRAMES

    def activations(self, audio: np.ndarray, n_frames: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(frames, bins) activations and the (frames, bins) fundamental channel of the features; frames whose
        input is all silence (digital silence, or sound far under SILENCE_DBFS) have no pitch."""
        features = self.analysis.features(audio, n_frames)
        inputs = with_context(features, self.frames.context).astype(self.frames.dtype).astype(np.float32)
        activations = self.network(inputs)
        activations[~inputs.any(axis=(1, 2))] = 0.0  # nothing within reach of this frame sounds: no pitch
        return activations, features[:, :, list(self.frames.harmonics).index(1.0)]

    def track(self, blocks: Iterator[np.ndarray], decoder: Decoder | None = None, with_spectrum: bool = False,
              fmin: float | None = None, fmax: float | None = None) -> FrameTrack:
        """The track of audio arriving in `blocks` (mono, at the model's rate), chunk by chunk."""
        decoder = decoder or self.decoder
        hop, margin = self.frames.hop, self.margin
        buffer, buffer_start, total = np.zeros(0), 0, 0  # buffer_start: absolute sample of buffer[0]
        pieces: list[tuple[np.ndarray, ...]] = []
        next_frame = 0

        def run(stop_frame: int, last: int) -> None:
            """Frames [next_frame, stop_frame) from an analysis of frames [first, last) and the audio they need."""
            nonlocal next_frame, buffer, buffer_start
            first = max(0, next_frame - margin)
            segment = buffer[first * hop - buffer_start:(last + margin) * hop - buffer_start]
            activations, spectrum = self.activations(segment, last - first)
            midi, confidence, voiced = decode(_within(activations, self.centres, fmin, fmax), self.centres,
                                              self.frames.bins_per_semitone, decoder)
            keep = slice(next_frame - first, stop_frame - first)
            pieces.append((midi[keep], confidence[keep], voiced[keep], spectrum[keep] if with_spectrum else None))
            next_frame = stop_frame
            drop = max(0, (next_frame - margin) * hop - buffer_start)
            buffer, buffer_start = buffer[drop:], buffer_start + drop

        for block in blocks:
            buffer = np.concatenate([buffer, np.asarray(block, dtype=np.float64)])
            total += len(block)
            while (next_frame + CHUNK_FRAMES + margin) * hop <= total:  # enough audio for a chunk and its margin
                run(next_frame + CHUNK_FRAMES, next_frame + CHUNK_FRAMES + margin)
        n_frames = frame_count(total, self.frames)
        while next_frame < n_frames:
            stop = min(n_frames, next_frame + CHUNK_FRAMES)
            run(stop, min(n_frames, stop + margin))
        midi, confidence, voiced = (np.concatenate([p[i] for p in pieces]) if pieces else np.zeros(0) for i in range(3))
        spectrum = np.concatenate([p[3] for p in pieces]) if with_spectrum and pieces else None
        times = np.arange(len(midi)) * hop / self.sample_rate
        return FrameTrack(times, midi, confidence, voiced.astype(bool), spectrum)


def _within(activations: np.ndarray, centres: np.ndarray, fmin: float | None, fmax: float | None) -> np.ndarray:
    """Activations outside [fmin, fmax] (Hz) set to zero: the search is limited to that range."""
    if fmin is None and fmax is None:
        return activations
    hz = midi_to_hz(centres)
    inside = (hz >= (fmin or 0.0)) & (hz <= (fmax or np.inf))
    return np.where(inside, activations, 0.0)


def is_tracker(model_dir: str | Path) -> bool:
    meta = Path(model_dir) / META_FILE
    return meta.is_file() and json.loads(meta.read_text()).get("architecture") == "tracker"


def load_tracker(model_dir: str | Path) -> TrackerModel:
    """The tracker saved in `model_dir`, its ONNX network run by onnxruntime."""
    meta = load_meta(model_dir, "tracker", "train_tracker")
    return TrackerModel(load_onnx_network(Path(model_dir) / ONNX_FILE), meta)
