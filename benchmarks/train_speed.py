"""Milliseconds per training step of the harmonic model on CPU, with and without
`pitchpipe.model.train.restore_malloc_thresholds` (TensorFlow's generator-dataset malloc patch undone or left).

    .venv/bin/python benchmarks/train_speed.py [--steps 200] [--batch-size 32]

Each variant runs in its own process (the patch and its undoing are process-wide), on random features of the
default harmonic shape fed through a keras PyDataset as training feeds them; prints wall, user and system
seconds per step and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def measure(steps: int, batch_size: int, restore: bool) -> dict:
    import keras
    import numpy as np

    from pitchpipe.config import featurize_config, read_params
    from pitchpipe.model.model import harmonic
    from pitchpipe.sound.spectrogram import harmonic_bin_midi
    from pitchpipe.model.train import restore_malloc_thresholds

    features = featurize_config(read_params())
    bins = len(harmonic_bin_midi(features))
    shape = (bins, len(features.harmonics))
    rng = np.random.default_rng(0)
    x = rng.random((batch_size * 16, *shape), dtype=np.float32)
    y = (rng.random((batch_size * 16, bins)) > 0.99).astype(np.float32)

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return steps

        def __getitem__(self, index):
            rows = slice((index % 16) * batch_size, (index % 16 + 1) * batch_size)
            return x[rows], y[rows]

    class Restore(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 0 and restore:
                restore_malloc_thresholds()

    model = harmonic(shape, "bins", bins, 0.3, 0.05)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    model.fit(Batches(), epochs=1, verbose=0, callbacks=[Restore()])  # warm-up: tracing, the patch, its undoing
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    model.fit(Batches(), epochs=1, verbose=0, callbacks=[Restore()])
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    return {"wall_ms": 1e3 * wall / steps, "user_ms": 1e3 * (after.ru_utime - before.ru_utime) / steps,
            "system_ms": 1e3 * (after.ru_stime - before.ru_stime) / steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--variant", choices=["restored", "patched"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(measure(args.steps, args.batch_size, args.variant == "restored")))
        return
    results = {}
    for variant in ("patched", "restored"):
        out = subprocess.run([sys.executable, __file__, "--steps", str(args.steps), "--batch-size", str(args.batch_size),
                              "--variant", variant], capture_output=True, text=True, check=True).stdout
        results[variant] = json.loads(out.strip().splitlines()[-1])
        r = results[variant]
        print(f"{variant:>9}: {r['wall_ms']:6.1f} ms per step of {args.batch_size} (user {r['user_ms']:.1f} ms, "
              f"system {r['system_ms']:.1f} ms)")
    print(f"speed-up: {results['patched']['wall_ms'] / results['restored']['wall_ms']:.2f}x wall, system time "
          f"{results['patched']['system_ms'] / max(results['restored']['system_ms'], 1e-9):.0f}x lower")


if __name__ == "__main__":
    main()
