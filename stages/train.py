"""DVC stage `train`: fit the pitch model on data/features → models/, per-epoch metrics in dvclive/."""

from pitchpipe import stage
from pitchpipe.config import read_params, train_config


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--features", default="data/features")
    parser.add_argument("--models", default="models")
    parser.add_argument("--live", default="dvclive")
    parser.add_argument("--checkpoints", default="checkpoints")
    args = parser.parse_args()
    config = train_config(read_params(args.params), args.params)
    from pitchpipe.model.train import train  # imports Keras: only once the params are known to be good

    train(config, args.features, args.models, args.live, args.checkpoints)


if __name__ == "__main__":
    stage.run(main)
