"""DVC stage `phrases`: melodies labelled every 10 ms, from the soundfonts (FluidSynth) and from pitchpipe
synthesis → data/phrases/{train,val,test}/."""

from pitchpipe import stage
from pitchpipe.config import phrases_config, read_params
from pitchpipe.data.phrases import run_phrases


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--out", default="data/phrases")
    args = parser.parse_args()
    run_phrases(phrases_config(read_params(args.params), args.params), args.out, args.workers)


if __name__ == "__main__":
    stage.run(main)
