"""Speed and memory of the frame tracker on one core, beside librosa's YIN and SwiftF0 on the same file.

    .venv/bin/python benchmarks/tracker_speed.py [--model tracker] [--minutes 60] [--swift]

Prints start-up (a process that imports pitchpipe, loads the model and tracks one second), then real-time
factors on a synthetic melody file of `--minutes` (written once as 16 kHz FLAC): `pitchpipe predict` in a
process of its own (with its peak resident memory), librosa's YIN at the same 10 ms hop, and SwiftF0 (with --swift;
`pip install -r benchmarks/requirements.txt`: benchmark-only dependencies) on the same audio. One thread
everywhere.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import numpy as np  # noqa: E402
import soundfile  # noqa: E402

RATE = 16000


def melody_file(path: Path, minutes: float) -> Path:
    """A long melody: 0.3 s notes of a five-partial tone wandering over two octaves, with rests."""
    if path.exists():
        return path
    draw = np.random.default_rng(0)
    with soundfile.SoundFile(str(path), "w", RATE, 1, format="FLAC") as out:
        for _ in range(int(minutes * 60 / 10)):
            t = np.arange(int(0.3 * RATE)) / RATE
            block = []
            for _ in range(33):
                f0 = 110.0 * 2 ** (draw.integers(0, 24) / 12)
                tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6)) * 0.2
                block.append(tone if draw.random() > 0.15 else np.zeros_like(t))
            piece = np.concatenate(block)
            out.write(np.concatenate([piece, np.zeros(10 * RATE - len(piece))]))
    return path


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak resident MiB) of a child process."""
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tracker")
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--swift", action="store_true", help="also time SwiftF0 (pip install swift-f0)")
    args = parser.parse_args()
    folder = Path(tempfile.gettempdir()) / "pitchpipe-bench"
    folder.mkdir(exist_ok=True)
    soundfile.write(folder / "second.wav", np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE) * 0.3, RATE)
    long_file = melody_file(folder / f"melody-{args.minutes:g}min.flac", args.minutes)
    seconds = soundfile.info(str(long_file)).duration
    predict = [sys.executable, "-m", "pitchpipe.cli", "predict", "--model", args.model]
    startup, _ = timed(predict + [str(folder / "second.wav")])
    print(f"start-up (process, imports, model, 1 s of audio): {startup:.2f} s")
    wall, peak = timed(predict + [str(long_file), "--out", str(folder / "track.csv")])
    print(f"pitchpipe predict, {seconds / 60:.0f} min at 10 ms: {wall:.1f} s = {seconds / wall:.0f}x real time, "
          f"peak RSS {peak:.0f} MiB")
    import librosa

    audio, _ = soundfile.read(str(long_file), frames=RATE * 600)
    start = time.perf_counter()
    librosa.yin(audio, fmin=60, fmax=2100, sr=RATE, frame_length=2048, hop_length=160)
    yin = len(audio) / RATE / (time.perf_counter() - start)
    print(f"librosa YIN, same hop, first 10 min: {yin:.0f}x real time; pitchpipe / YIN = {seconds / wall / yin:.2f}")
    if args.swift:
        from swift_f0 import SwiftF0

        detector = SwiftF0(threads=1)
        start = time.perf_counter()
        detector.detect(audio.astype(np.float32), RATE)
        swift = len(audio) / RATE / (time.perf_counter() - start)
        print(f"SwiftF0, first 10 min (its own 16 ms hop): {swift:.0f}x real time; pitchpipe / SwiftF0 = "
              f"{seconds / wall / swift:.2f}")


if __name__ == "__main__":
    main()
