"""DVC stage `evaluate`: model and classical estimators on the test split and the probe set → reports/."""

from pathlib import Path

from pitchpipe import stage


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--models", default="models")
    parser.add_argument("--features", default="data/features")
    parser.add_argument("--clips", default="data/clips")
    parser.add_argument("--probes", default="data/probes")
    parser.add_argument("--out", default="reports")
    args = parser.parse_args()
    from pitchpipe.evaluation.evaluate import evaluate

    evaluate(Path(args.models), Path(args.features), Path(args.clips), Path(args.probes), Path(args.out))


if __name__ == "__main__":
    stage.run(main)
