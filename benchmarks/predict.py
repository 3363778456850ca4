"""`pitchpipe predict` as users run it, on one CPU core: milliseconds per 0.33 s window, start-up time and peak
memory for (a) many short files and (b) one long file, beside the project's YIN on the same audio (read, resampled
and windowed the same way).

    .venv/bin/python benchmarks/predict.py [--model models] [--files 2000] [--minutes 60] [--hop 0.1]

The audio is generated here (notes of random pitch with a few harmonics and some noise, 44.1 kHz FLAC), so the
figures do not depend on any recording.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ONE_CORE = {variable: "1" for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                           "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")}
os.environ.update(ONE_CORE)

import numpy as np  # noqa: E402  (after the thread limits)
import soundfile  # noqa: E402

RATE = 44100


def notes(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Consecutive 0.5 s notes, MIDI 36–96, three harmonics, a little noise."""
    t = np.arange(round(0.5 * RATE)) / RATE
    pieces = []
    for _ in range(max(1, round(seconds / 0.5))):
        f0 = 440.0 * 2.0 ** ((rng.uniform(36, 96) - 69) / 12)
        tone = sum(np.sin(2 * np.pi * h * f0 * t) / h for h in (1, 2, 3) if h * f0 < RATE / 2)
        pieces.append(0.3 * tone + 0.01 * rng.standard_normal(len(t)))
    return np.concatenate(pieces)[:round(seconds * RATE)]


def write_inputs(folder: Path, files: int, minutes: float) -> tuple[list[Path], Path]:
    rng = np.random.default_rng(0)
    short = []
    for index in range(files):
        path = folder / "short" / f"clip{index:05d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(path, notes(rng, 0.33), RATE)
        short.append(path)
    long = folder / "long.flac"
    with soundfile.SoundFile(long, "w", RATE, 1, format="FLAC") as out:
        for _ in range(round(minutes * 6)):  # 10 s at a time: the generator stays small too
            out.write(notes(rng, 10.0))
    return short, long


# `pitchpipe predict ARGS`, then its own peak RSS (KiB) as the last line on stderr
MEASURED_CLI = ("import resource, sys; from pitchpipe.cli import main; status = main(['predict', *sys.argv[1:]]); "
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(status)")


def run_predict(arguments: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one `pitchpipe predict` process, pinned to one core."""
    start = time.perf_counter()
    result = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", MEASURED_CLI, *arguments],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        raise SystemExit(f"pitchpipe predict failed: {result.stderr[-2000:]}")
    return seconds, int(result.stderr.strip().splitlines()[-1]) / 1024


def yin_seconds(paths: list[Path], hop_seconds: float) -> tuple[float, int]:
    """Seconds and windows for YIN over the same windows as predict (same reader, resampler and windowing)."""
    from pitchpipe.sound.pitch import yin_hz
    from pitchpipe.sound.streaming import audio_info, resampled_blocks, sliding_windows

    start, count = time.perf_counter(), 0
    for path in paths:
        for _, windows in sliding_windows(resampled_blocks(audio_info(path), 16000), 5280,
                                          round(hop_seconds * 16000), 256):
            yin_hz(windows, 16000, fmin=50.0, fmax=4500.0)
            count += len(windows)
    return time.perf_counter() - start, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models")
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--hop", type=float, default=0.1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        started = time.perf_counter()
        short, long = write_inputs(folder, args.files, args.minutes)
        print(f"inputs: {args.files} files of 0.33 s, one {args.minutes:g}-minute FLAC at 44.1 kHz "
              f"({long.stat().st_size / 2**20:.0f} MiB), written in {time.perf_counter() - started:.0f} s")
        startup, startup_rss = run_predict([str(short[0]), "--model", args.model])
        print(f"start-up (process, imports, model load, one window): {startup:.2f} s, peak RSS {startup_rss:.0f} MiB")
        for name, paths, extra in (("(a) short files", short, ["--recursive", str(folder / "short")]),
                                   ("(b) one long file", [long], [str(long)])):
            seconds, rss = run_predict([*extra, "--model", args.model, "--hop", str(args.hop)])
            yin, windows = yin_seconds(paths, args.hop)
            model_ms = (seconds - startup) / windows * 1000
            print(f"{name}: {windows} windows; pitchpipe predict {seconds:.1f} s = {model_ms:.2f} ms per window "
                  f"after start-up, peak RSS {rss:.0f} MiB; YIN {yin / windows * 1000:.2f} ms per window; "
                  f"predict / YIN {model_ms / (yin / windows * 1000):.2f}x")


if __name__ == "__main__":
    sys.exit(main())
