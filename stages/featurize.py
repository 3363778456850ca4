"""DVC stage `featurize`: the model input of every clip (soundfont and synthetic) → data/features/{train,val,test}/."""

from pitchpipe import stage
from pitchpipe.config import featurize_config, read_params
from pitchpipe.data.featurize import run_featurize


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--clips", nargs="+", default=["data/clips", "data/synth"], help="clip folders")
    parser.add_argument("--out", default="data/features")
    args = parser.parse_args()
    run_featurize(featurize_config(read_params(args.params), args.params), args.clips, args.out, args.workers)


if __name__ == "__main__":
    stage.run(main)
