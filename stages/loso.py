"""DVC stage `loso`: for each soundfont in loso.held_out, train without it and score on all its clips → loso/FONT/,
reports/loso.json."""

from pathlib import Path

from pitchpipe import stage
from pitchpipe.config import loso_configs, read_params
from pitchpipe.evaluation.loso import run_all


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--features", default="data/features")
    parser.add_argument("--clips", default="data/clips")
    parser.add_argument("--out", default="loso")
    parser.add_argument("--metrics", default="reports/loso.json")
    parser.add_argument("--checkpoints", default="checkpoints", help="runtime folder for resumable training")
    args = parser.parse_args()
    configs = loso_configs(read_params(args.params), args.params)
    run_all(configs, Path(args.features), Path(args.clips), Path(args.out), Path(args.metrics), Path(args.checkpoints),
            args.workers)


if __name__ == "__main__":
    stage.run(main)
