"""DVC stage `featurize_frames`: the tracker's input for sampled frames of every phrase → data/frames/."""

from pitchpipe import stage
from pitchpipe.config import frames_config, read_params
from pitchpipe.data.frame_features import run_featurize_frames


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--phrases", default="data/phrases")
    parser.add_argument("--out", default="data/frames")
    args = parser.parse_args()
    params = read_params(args.params)
    run_featurize_frames(frames_config(params, args.params), int(params["seed"]), args.phrases, args.out, args.workers)


if __name__ == "__main__":
    stage.run(main)
