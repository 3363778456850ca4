"""The `pitchpipe` command.

    pitchpipe predict FILE... [--model DIR] [--hop SECONDS] [--out CSV]
    pitchpipe publish [--to s3://bucket/prefix] [--site DIR] [--public] [--endpoint-url URL]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


PUBLISH_ENV = "PITCHPIPE_PUBLISH_TO"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off stderr


def run_publish(parser: argparse.ArgumentParser, args) -> int:
    from pitchpipe.publish import publish

    if not args.to:
        parser.error(f"publish needs --to s3://bucket/prefix (or ${PUBLISH_ENV})")
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        plans = publish(args.site, args.to, public=args.public, endpoint_url=args.endpoint_url)
    except (FileNotFoundError, ValueError, BotoCoreError, ClientError) as error:
        print(f"pitchpipe publish: {error}", file=sys.stderr)
        return 2
    for plan in plans:
        print(f"{plan.key}\t{plan.content_type}\t{plan.cache_control}{chr(9) + 'gzip' if plan.gzip else ''}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pitchpipe")
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="estimate the pitch of recordings, one CSV row per window")
    predict.add_argument("files", nargs="+", type=Path)
    predict.add_argument("--model", type=Path, default=Path("models"), help="folder with model.keras and model.json")
    predict.add_argument("--hop", type=float, default=0.1, help="seconds between windows (default 0.1)")
    predict.add_argument("--out", type=Path, help="CSV file to write (default: standard output)")
    publish = commands.add_parser("publish", help="upload the static report to an S3 bucket")
    publish.add_argument("--to", default=os.environ.get(PUBLISH_ENV),
                         help=f"s3://bucket/prefix (default: ${PUBLISH_ENV})")
    publish.add_argument("--site", type=Path, default=Path("reports/site"), help="folder to publish")
    publish.add_argument("--public", action="store_true", help="make the objects public-read")
    publish.add_argument("--endpoint-url", default=None, help="S3-compatible endpoint (default: AWS or $AWS_ENDPOINT_URL)")
    args = parser.parse_args(argv)
    if args.command == "publish":
        return run_publish(parser, args)
    if args.hop <= 0:
        parser.error("--hop must be positive")
    from pitchpipe.predict import predict_files
    from pitchpipe.saved_model import load_pitch_model

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
