"""The tracker's network as served (model.onnx on onnxruntime) against the Keras model it was exported from, on one
CPU core: seconds per minute of audio for the network alone (the frames analysed once, then run through each in
the tracker's 20 s chunks), load times, and the largest difference between their outputs.

    .venv/bin/python benchmarks/onnx_runtime.py [--model tracker] [--seconds 60]

The numpy runtime that onnxruntime replaced took 0.338 s per minute of audio on this project's 2-core machine,
onnxruntime 0.253 s (2026-12-02, the same tracker).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
for variable in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
    os.environ[variable] = "1"  # one core, as the target is stated

import numpy as np


def best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tracker")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    from pitchpipe.model.onnx_model import load_onnx_network
    from pitchpipe.model.tracking import load_tracker
    from pitchpipe.sound.frames import model_input

    tracker = load_tracker(args.model)
    rate = tracker.frames.sample_rate
    t = np.arange(int(args.seconds * rate)) / rate
    f0 = 220.0 * 2.0 ** (np.floor(t * 2) % 12 / 12)  # a chromatic scale, a note every 0.5 s
    audio = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / rate) / k for k in range(1, 6)).astype(np.float32) * 0.2
    inputs = model_input(audio, tracker.frames).astype(np.float32)

    start = time.perf_counter()
    onnx_network = load_onnx_network(os.path.join(args.model, "model.onnx"), threads=1)
    onnx_load = time.perf_counter() - start
    start = time.perf_counter()
    import keras

    trained = keras.saving.load_model(os.path.join(args.model, "model.keras"), compile=False)
    keras_load = time.perf_counter() - start
    keras_network = lambda batch: trained.predict_on_batch(batch)  # noqa: E731
    chunks = np.array_split(inputs, max(1, len(inputs) // 2000))  # the tracker's 20 s chunks
    keras_seconds = best_of(3, lambda: [keras_network(c) for c in chunks])
    onnx_seconds = best_of(3, lambda: [onnx_network(c) for c in chunks])
    largest = max(float(np.abs(np.asarray(keras_network(c)) - onnx_network(c)).max()) for c in chunks)
    per_minute = 60.0 / args.seconds
    print(f"{len(inputs)} frames ({args.seconds:g} s of audio), one core")
    print(f"Keras:         {keras_seconds * per_minute:.3f} s per minute of audio, loads in {keras_load:.3f} s (TensorFlow import included)")
    print(f"onnxruntime:   {onnx_seconds * per_minute:.3f} s per minute of audio, loads in {onnx_load:.3f} s")
    print(f"onnxruntime / Keras time: {onnx_seconds / keras_seconds:.2f}; largest output difference {largest:.2e}")


if __name__ == "__main__":
    main()
