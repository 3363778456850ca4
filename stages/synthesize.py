"""DVC stage `synthesize`: training clips made by pitchpipe.data.synthesize, not by a soundfont → data/synth/."""

from pitchpipe import stage
from pitchpipe.config import read_params, synthesize_config
from pitchpipe.data.synthesize import run_synthesize


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--out", default="data/synth")
    args = parser.parse_args()
    run_synthesize(synthesize_config(read_params(args.params), args.params), args.out, args.workers)


if __name__ == "__main__":
    stage.run(main)
