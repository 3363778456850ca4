"""DVC stage `report`: reports/site/index.html, a static page that opens offline, and its data files."""

from pathlib import Path

from pitchpipe import stage
from pitchpipe.evaluation.report import build_report


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--reports", default="reports")
    parser.add_argument("--features", default="data/features")
    parser.add_argument("--clips", default="data/clips")
    parser.add_argument("--live", default="dvclive")
    parser.add_argument("--loso", default="loso")
    parser.add_argument("--learn-stft", default="learn_stft")
    parser.add_argument("--models", default="models")
    parser.add_argument("--tracker", default="tracker")
    parser.add_argument("--phrases", default="data/phrases/test")
    parser.add_argument("--site", default="reports/site")
    args = parser.parse_args()
    build_report(Path(args.reports), Path(args.features), Path(args.clips), Path(args.live), Path(args.site),
                 Path(args.loso), Path(args.learn_stft), Path(args.models), Path(args.tracker), Path(args.phrases),
                 Path(args.params))


if __name__ == "__main__":
    stage.run(main)
