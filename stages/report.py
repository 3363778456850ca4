"""DVC stage `report`: reports/index.html, a static page that opens offline."""

from pathlib import Path

from pitchpipe import stage
from pitchpipe.report import build_report


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--reports", default="reports")
    parser.add_argument("--features", default="data/features")
    parser.add_argument("--clips", default="data/clips")
    parser.add_argument("--live", default="dvclive")
    args = parser.parse_args()
    build_report(Path(args.reports), Path(args.features), Path(args.clips), Path(args.live))


if __name__ == "__main__":
    stage.run(main)
