"""Leave one soundfont out: train on the other soundfonts, score on every clip of the one left out.

Each soundfont's run is one single-threaded process, as many at once as there are workers. On a CPU two
single-threaded trainings side by side get through about 1.5 times the steps of one two-threaded training (a small
convolutional network leaves a second core idle much of the time), and single threads everywhere make the models
the same whatever the worker count (a thread count changes the order of floating-point sums, so the weights).
Heavy imports (Keras) happen in the workers: the parent must not start TensorFlow's threads before it forks.
"""

from __future__ import annotations

import os
from pathlib import Path

from pitchpipe.config import TrainConfig
from pitchpipe.scores.metrics import write_json
from pitchpipe.parallel import Progress, map_shards

ONE_THREAD = {
    "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",  # TensorFlow
    "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",  # PyTorch, numpy
    "XLA_PYTHON_CLIENT_PREALLOCATE": "false",  # JAX on a GPU: several processes share its memory
}
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"  # JAX on a CPU


def run_loso(task: tuple[TrainConfig, str, Path, Path, Path, Path]) -> dict:
    """One soundfont's run: model, training log and breakdown into its work folder; returns its headline scores
    per estimator."""
    from pitchpipe.evaluation.evaluate import evaluate_held_out
    from pitchpipe.model.saved_model import load_pitch_model
    from pitchpipe.model.train import train

    config, soundfont, features_dir, clips_dir, work_dir, checkpoint_dir = task
    train(config, features_dir, work_dir / "model", work_dir / "live", checkpoint_dir,
          exclude={"soundfont": soundfont}, label=f"{soundfont} left out")
    scores = evaluate_held_out(load_pitch_model(work_dir / "model"), features_dir, clips_dir, soundfont)
    write_json(work_dir / "breakdown.json", scores["breakdown"])
    return scores["overall"]


def run_all(configs: dict[str, TrainConfig], features_dir: Path, clips_dir: Path, loso_dir: Path, metrics_path: Path,
            checkpoints_dir: Path, workers: int | None = None) -> dict:
    """Every soundfont's run ({soundfont: its training config}); {soundfont: headline scores} into `metrics_path`."""
    os.environ.update(ONE_THREAD)  # before any worker imports TensorFlow, the in-process one (workers=1) included
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {XLA_ONE_THREAD}".strip()
    tasks = [(config, font, features_dir, clips_dir, loso_dir / font, checkpoints_dir / f"loso-{font}")
             for font, config in configs.items()]
    progress = Progress("leave-one-soundfont-out", len(tasks), unit="runs")
    scores = dict(zip(configs, map_shards(run_loso, tasks, progress, count=lambda _: 1, workers=workers)))
    progress.finish()
    write_json(metrics_path, scores)
    return scores
