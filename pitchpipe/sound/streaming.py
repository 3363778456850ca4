"""Audio files read in blocks, resampled, and cut into analysis windows with memory that does not grow with the
file: a one-hour recording costs what a minute does."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np
from scipy.signal import resample_poly

from pitchpipe.sound.audio import to_mono
from pitchpipe.errors import DataError

LOWEST_RATE, HIGHEST_RATE = 1_000, 1_536_000  # Hz: outside this a "sample rate" is a broken header, not audio
BLOCK_SECONDS = 10.0


class AudioError(DataError):
    """An input file cannot be used; the message names it and says why."""


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    sample_rate: int
    channels: int
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


def audio_info(path: Path) -> AudioInfo:
    """What a file holds, or AudioError: missing, empty, undecodable, no channels, an absurd sample rate."""
    import soundfile

    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder (use --recursive)")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: file is empty")
    try:
        info = soundfile.info(str(path))
    except (RuntimeError, soundfile.LibsndfileError) as error:
        raise AudioError(f"{path}: cannot decode audio ({error})") from None
    if info.channels < 1:
        raise AudioError(f"{path}: has no audio channels")
    if not LOWEST_RATE <= info.samplerate <= HIGHEST_RATE:
        raise AudioError(f"{path}: sample rate {info.samplerate} Hz is outside {LOWEST_RATE}–{HIGHEST_RATE} Hz")
    if info.frames <= 0:
        raise AudioError(f"{path}: contains no audio frames")
    return AudioInfo(path, int(info.samplerate), int(info.channels), int(info.frames))


class Resampler:
    """Polyphase resampling of a long signal one block at a time, equal to `scipy.signal.resample_poly` on the
    whole signal: each block is read with a margin longer than the filter's reach, on both sides, starting at a
    multiple of the decimation factor so that output samples fall on the same grid."""

    FILTER_HALF_TAPS = 10  # resample_poly's default filter spans ±10 × max(up, down) taps at the upsampled rate

    def __init__(self, source_rate: int, target_rate: int):
        ratio = Fraction(target_rate, source_rate)
        self.up, self.down = ratio.numerator, ratio.denominator
        reach = math.ceil(self.FILTER_HALF_TAPS * max(self.up, self.down) / self.up) + 1
        self.margin = self.down * math.ceil(reach / self.down) if self.up != self.down else 0

    def output_length(self, frames: int) -> int:
        return -(-frames * self.up // self.down)

    def block_frames(self, seconds: float, source_rate: int) -> int:
        return max(1, round(seconds * source_rate / self.down)) * self.down

    def resample(self, piece: np.ndarray, piece_start: int, block_start: int, block_stop: int, frames: int) -> np.ndarray:
        """The output samples of input frames [block_start, block_stop) from `piece` (input frames from
        `piece_start`, including the margins that exist)."""
        if self.up == self.down:
            return piece[block_start - piece_start:block_stop - piece_start]
        out = resample_poly(piece, self.up, self.down)
        first = (block_start - piece_start) * self.up // self.down
        count = self.output_length(min(block_stop, frames)) - self.output_length(block_start)
        return out[first:first + count]


def resampled_blocks(info: AudioInfo, target_rate: int, block_seconds: float = BLOCK_SECONDS) -> Iterator[np.ndarray]:
    """Mono float64 audio at `target_rate`, block by block; AudioError for NaN/Inf samples or a file whose
    decoding fails or ends early."""
    import soundfile

    resampler = Resampler(info.sample_rate, target_rate)
    block = resampler.block_frames(block_seconds, info.sample_rate)
    decoded = 0
    try:
        with soundfile.SoundFile(str(info.path)) as source:
            for block_start in range(0, info.frames, block):
                block_stop = min(block_start + block, info.frames)
                piece_start = max(0, block_start - resampler.margin)
                source.seek(piece_start)
                wanted = min(block_stop + resampler.margin, info.frames) - piece_start
                pcm = source.read(wanted, dtype="float64", always_2d=True)
                if len(pcm) < wanted:
                    raise AudioError(f"{info.path}: ends early: decoded {piece_start + len(pcm)} of {info.frames} frames")
                if not np.isfinite(pcm).all():
                    raise AudioError(f"{info.path}: contains NaN or infinite samples")
                decoded = block_stop
                yield resampler.resample(to_mono(pcm), piece_start, block_start, block_stop, info.frames)
    except (RuntimeError, soundfile.LibsndfileError) as error:
        raise AudioError(f"{info.path}: decoding failed after {decoded} of {info.frames} frames ({error})") from None


def sliding_windows(blocks: Iterator[np.ndarray], length: int, hop: int, batch: int
                    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(start samples, windows) in batches of up to `batch`: windows of `length` every `hop` samples from the
    start, while they fit in the audio; audio shorter than one window gives one zero-padded window."""
    buffer = np.zeros(0)
    buffer_start = next_start = 0  # absolute sample positions
    starts: list[int] = []
    clips: list[np.ndarray] = []
    for block in blocks:
        buffer = np.concatenate([buffer, block])
        while next_start + length <= buffer_start + len(buffer):
            offset = next_start - buffer_start
            starts.append(next_start)
            clips.append(buffer[offset:offset + length])
            next_start += hop
            if len(clips) == batch:
                yield np.array(starts), np.stack(clips)
                starts, clips = [], []
        keep_from = min(next_start - buffer_start, len(buffer))
        buffer, buffer_start = buffer[keep_from:].copy(), buffer_start + keep_from
    if next_start == 0 and not clips:  # shorter than one window
        clip = np.zeros(length)
        clip[:len(buffer)] = buffer[:length]
        starts, clips = [0], [clip]
    if clips:
        yield np.array(starts), np.stack(clips)
