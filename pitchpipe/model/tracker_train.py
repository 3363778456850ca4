"""The train_tracker stage's library: fit the frame model on the frame rows (the note model's training loop,
the tracker architecture), then choose its decoder on the validation phrases and save it with the model."""

from __future__ import annotations

import json
from pathlib import Path

from pitchpipe.config import TrainConfig
from pitchpipe.sound.decode import Decoder
from pitchpipe.scores.frame_metrics import choose_decoder, load_phrases
from pitchpipe.model.tracking import META_FILE, load_tracker

DECODER_CANDIDATES = (
    Decoder("weighted", threshold=0.4), Decoder("weighted", threshold=0.5), Decoder("weighted", threshold=0.6),
    *(Decoder("viterbi", threshold=threshold, switch_penalty=switch) for threshold in (0.4, 0.5) for switch in (2.0, 4.0)),
    Decoder("viterbi", threshold=0.5, switch_penalty=4.0, leap_penalty=5.0),
)


def train_tracker(config: TrainConfig, frames_dir: Path, val_phrases: Path, model_dir: Path, live_dir: Path,
                  checkpoint_dir: Path, decisions: Path) -> dict:
    """Train, pick the decoder with the best overall accuracy on the validation phrases (all their frames, not
    the sampled rows), record it in model.json and every candidate's scores in `decisions`."""
    from pitchpipe.model.train import train

    logs = train(config, frames_dir, model_dir, live_dir, checkpoint_dir)
    model = load_tracker(model_dir)
    best, table = choose_decoder(model, load_phrases(val_phrases), DECODER_CANDIDATES)
    meta = json.loads((model_dir / META_FILE).read_text())
    meta["decoder"] = best.__dict__
    (model_dir / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    decisions.parent.mkdir(parents=True, exist_ok=True)
    decisions.write_text(json.dumps({"chosen": best.__dict__, "candidates": table}, indent=2) + "\n")
    return logs
