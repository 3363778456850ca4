"""DVC stage `train_tracker`: the frame model on data/frames, its decoder chosen on the validation phrases →
tracker/, per-epoch metrics in dvclive-tracker/."""

from pathlib import Path

from pitchpipe import stage
from pitchpipe.config import read_params, tracker_config


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--frames", default="data/frames")
    parser.add_argument("--val-phrases", default="data/phrases/val")
    parser.add_argument("--model", default="tracker")
    parser.add_argument("--live", default="dvclive-tracker")
    parser.add_argument("--checkpoints", default="checkpoints/tracker")
    parser.add_argument("--decisions", default="reports/tracker/decoder.json")
    args = parser.parse_args()
    config = tracker_config(read_params(args.params), args.params)
    from pitchpipe.model.tracker_train import train_tracker  # imports Keras: only once the params are known to be good

    train_tracker(config, Path(args.frames), Path(args.val_phrases), Path(args.model), Path(args.live),
                  Path(args.checkpoints), Path(args.decisions))


if __name__ == "__main__":
    stage.run(main)
