"""DVC stage `evaluate_tracker`: the tracker, YIN and pYIN frame by frame on the melody test split and the melody
probes, and the tracker on the note test split → reports/tracker/."""

from pathlib import Path

from pitchpipe import stage
from pitchpipe.config import evaluate_tracker_config, read_params


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--model", default="tracker")
    parser.add_argument("--phrases", default="data/phrases/test")
    parser.add_argument("--probes", default="data/melody_probes")
    parser.add_argument("--clips", default="data/clips")
    parser.add_argument("--out", default="reports/tracker")
    args = parser.parse_args()
    config = evaluate_tracker_config(read_params(args.params), args.params)
    from pitchpipe.evaluation.evaluate_tracker import evaluate_tracker

    evaluate_tracker(Path(args.model), Path(args.phrases), Path(args.probes), Path(args.clips), Path(args.out),
                     config.baseline_phrases)


if __name__ == "__main__":
    stage.run(main)
