"""Milliseconds per 0.33 s window for the trained model (features + network, batched, after loading) beside the
project's YIN on the same windows, on one CPU core; also the model's load time.

    .venv/bin/python benchmarks/model_speed.py [--model models] [--windows 2000]

This is the library path (`PitchModel.predict_clips` on a batch of windows); `pitchpipe predict` adds file
reading and resampling around it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
for variable in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
    os.environ[variable] = "1"  # one core, as the target is stated

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models")
    parser.add_argument("--windows", type=int, default=2000)
    args = parser.parse_args()
    start = time.perf_counter()
    from pitchpipe.model.saved_model import load_pitch_model

    model = load_pitch_model(args.model)
    load_seconds = time.perf_counter() - start
    from pitchpipe.sound.pitch import yin_hz

    rng = np.random.default_rng(0)
    t = np.arange(model.clip_samples) / model.sample_rate
    f0 = 440.0 * 2.0 ** (rng.uniform(36, 108, args.windows)[:, None] / 12.0 - 69 / 12.0)
    windows = np.sin(2 * np.pi * f0 * t) + 0.3 * np.sin(4 * np.pi * f0 * t) + 0.05 * rng.standard_normal(
        (args.windows, model.clip_samples))
    model.predict_clips(windows[:64])  # warm-up: graph tracing is start-up, not per-window cost
    start = time.perf_counter()
    hz, _ = model.predict_clips(windows)
    model_ms = (time.perf_counter() - start) / args.windows * 1000
    start = time.perf_counter()
    yin_hz(windows, model.sample_rate, fmin=50.0, fmax=4500.0)
    yin_ms = (time.perf_counter() - start) / args.windows * 1000
    right = np.mean(np.abs(1200 * np.log2(hz / f0[:, 0])) <= 50)
    print(f"model load (imports included): {load_seconds:.2f} s")
    print(f"model: {model_ms:.2f} ms per window ({right:.3f} within 50 cents on these tones)")
    print(f"YIN:   {yin_ms:.2f} ms per window")
    print(f"model / YIN: {model_ms / yin_ms:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
