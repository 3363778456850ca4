"""DVC stage `loso@SOUNDFONT`: train without SOUNDFONT, score on all its clips → loso/SOUNDFONT/, reports/loso/."""

from pathlib import Path

from pitchpipe import stage
from pitchpipe.config import loso_config, read_params


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--held-out", required=True, help="soundfont name (file stem) to leave out of training")
    parser.add_argument("--features", default="data/features")
    parser.add_argument("--clips", default="data/clips")
    parser.add_argument("--checkpoints", default="checkpoints", help="runtime folder for resumable training")
    args = parser.parse_args()
    config = loso_config(read_params(args.params), args.held_out, args.params)
    from pitchpipe.loso import run_loso  # imports Keras: only once the params are known to be good

    run_loso(config, args.held_out, Path(args.features), Path(args.clips), Path("loso") / args.held_out,
             Path("reports/loso") / f"{args.held_out}.json", Path(args.checkpoints) / f"loso-{args.held_out}")


if __name__ == "__main__":
    stage.run(main)
