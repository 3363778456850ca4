"""Leave one soundfont out: train on the other soundfonts, score on every clip of the one left out."""

from __future__ import annotations

from pathlib import Path

from pitchpipe.config import TrainConfig
from pitchpipe.evaluate import evaluate_held_out, write_json
from pitchpipe.saved_model import load_pitch_model
from pitchpipe.train import train


def run_loso(config: TrainConfig, soundfont: str, features_dir: Path, clips_dir: Path, work_dir: Path,
             metrics_path: Path, checkpoint_dir: Path) -> dict:
    """Model, training log and breakdown into `work_dir`; headline scores per estimator into `metrics_path`."""
    train(config, features_dir, work_dir / "model", work_dir / "live", checkpoint_dir, exclude={"soundfont": soundfont})
    scores = evaluate_held_out(load_pitch_model(work_dir / "model"), features_dir, clips_dir, soundfont)
    write_json(work_dir / "breakdown.json", scores["breakdown"])
    write_json(metrics_path, scores["overall"])
    return scores["overall"]
