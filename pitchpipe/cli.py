"""The `pitchpipe` command: `pitchpipe predict FILE... [--model DIR] [--hop SECONDS] [--out CSV]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pitchpipe")
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="estimate the pitch of recordings, one CSV row per window")
    predict.add_argument("files", nargs="+", type=Path)
    predict.add_argument("--model", type=Path, default=Path("models"), help="folder with model.keras and model.json")
    predict.add_argument("--hop", type=float, default=0.1, help="seconds between windows (default 0.1)")
    predict.add_argument("--out", type=Path, help="CSV file to write (default: standard output)")
    args = parser.parse_args(argv)
    if args.hop <= 0:
        parser.error("--hop must be positive")
    from pitchpipe.predict import load_pitch_model, predict_files

    try:
        model = load_pitch_model(args.model)
    except FileNotFoundError as error:
        print(f"pitchpipe predict: {error}", file=sys.stderr)
        return 2
    if args.out:
        with open(args.out, "w", newline="") as out:
            failures = predict_files(args.files, model, args.hop, out)
    else:
        failures = predict_files(args.files, model, args.hop, sys.stdout)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
