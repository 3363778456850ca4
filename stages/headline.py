"""DVC stage `headline`: reports/headline.json, the one-screen summary `dvc metrics show` prints."""

from pathlib import Path

from pitchpipe import stage
from pitchpipe.scores.headline import write_headline


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--evaluation", default="reports/metrics.json")
    parser.add_argument("--loso", default="reports/loso.json")
    parser.add_argument("--learn-stft", default="reports/learn_stft/metrics.json")
    parser.add_argument("--tracker", default="reports/tracker/metrics.json")
    parser.add_argument("--out", default="reports/headline.json")
    args = parser.parse_args()
    write_headline(Path(args.evaluation), Path(args.loso), Path(args.learn_stft), Path(args.tracker), Path(args.out))


if __name__ == "__main__":
    stage.run(main)
