"""The `pitchpipe` command.

    pitchpipe predict INPUT... [--model DIR] [--hop SECONDS] [--recursive] [--out FILE | --out-dir DIR]
                      [--format csv|json] [--fmin HZ] [--fmax HZ] [--smooth FRAMES] [--plot] [--notes] [-v]
    pitchpipe publish [--to s3://bucket/prefix] [--site DIR] [--public | --public-policy] [--endpoint-url URL]
    pitchpipe export OUT.onnx [--model DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


PUBLISH_ENV = "PITCHPIPE_PUBLISH_TO"



def run_export(args) -> int:
    try:
        from pitchpipe.inference.portable import tracker_to_onnx
        from pitchpipe.model.tracking import is_tracker

        if not is_tracker(args.model):
            raise FileNotFoundError(f"{args.model}: no tracker here (model.json of a tracker; `dvc repro train_tracker`)")
        graph = tracker_to_onnx(args.model)
    except (FileNotFoundError, ModuleNotFoundError) as error:  # the onnx package comes with the pipeline's extra
        print(f"pitchpipe export: {error}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(graph.SerializeToString())
    print(args.out)
    return 0


def run_publish(parser: argparse.ArgumentParser, args) -> int:
    from pitchpipe.evaluation.publish import publish

    if not args.to:
        parser.error(f"publish needs --to s3://bucket/prefix (or ${PUBLISH_ENV})")
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        plans = publish(args.site, args.to, public=args.public, endpoint_url=args.endpoint_url)
    except (FileNotFoundError, ValueError, BotoCoreError, ClientError) as error:
        print(f"pitchpipe publish: {error}", file=sys.stderr)
        if "AccessControlListNotSupported" in str(error):
            print("pitchpipe publish: this bucket has ACLs disabled: use --public-policy instead of --public",
                  file=sys.stderr)
        return 2
    for plan in plans:
        print(f"{plan.key}\t{plan.content_type}\t{plan.cache_control}{chr(9) + 'gzip' if plan.gzip else ''}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from pitchpipe.inference.predict import HOP_SECONDS, MODEL_ENV

    parser = argparse.ArgumentParser(prog="pitchpipe")
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="estimate the pitch of recordings, one row per window",
                                  description="Pitch tracks of audio files (WAV, FLAC, OGG, MP3: anything libsndfile "
                                              "reads): a row every 10 ms frame (the tracker) or every 0.33 s "
                                              "window's centre (a note model).")
    predict.add_argument("inputs", nargs="+", help="files, folders (with --recursive) or glob patterns")
    predict.add_argument("--model", type=Path, default=None,
                         help="folder with model.onnx and model.json: a tracker or a note model (default: "
                              f"${MODEL_ENV}, else ./tracker, else ./models)")
    predict.add_argument("--hop", type=float, default=None,
                         help="seconds between rows (default: every 10 ms frame of the tracker; a note model's "
                              f"window every {HOP_SECONDS} s)")
    predict.add_argument("--recursive", "-r", action="store_true", help="read the audio files in folders and below them")
    where = predict.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path, help="one file for all inputs (default: standard output)")
    where.add_argument("--out-dir", type=Path, help="one <name>.f0.csv (or .f0.json) per input file, in this folder")
    predict.add_argument("--format", choices=("csv", "json"), default="csv", help="output format (default csv)")
    predict.add_argument("--fmin", type=float, help="lowest pitch to report, Hz")
    predict.add_argument("--fmax", type=float, help="highest pitch to report, Hz")
    predict.add_argument("--smooth", type=int, default=0, metavar="WINDOWS",
                         help="running median over this many windows, for pitch tracks (default 0: off)")
    predict.add_argument("--notes", action="store_true",
                         help="also write <name>.notes.csv (onset, offset, MIDI note, cents off) and <name>.mid")
    predict.add_argument("--verbose", "-v", action="store_true", help="say which model is used")
    predict.add_argument("--plot", action="store_true",
                         help="also write <name>.f0.png: the pitch track over the spectrum (into --out-dir, else beside --out or here)")
    publish = commands.add_parser("publish", help="upload the static report to an S3 bucket")
    publish.add_argument("--to", default=os.environ.get(PUBLISH_ENV),
                         help=f"s3://bucket/prefix (default: ${PUBLISH_ENV})")
    publish.add_argument("--site", type=Path, default=Path("reports/site"), help="folder to publish")
    public = publish.add_mutually_exclusive_group()
    public.add_argument("--public", action="store_const", const="acl", dest="public",
                        help="make each object public-read with an ACL (buckets that allow ACLs)")
    public.add_argument("--public-policy", action="store_const", const="policy", dest="public",
                        help="add a bucket-policy statement making the prefix public (buckets with ACLs disabled)")
    publish.add_argument("--endpoint-url", default=None, help="S3-compatible endpoint (default: AWS or $AWS_ENDPOINT_URL)")
    export = commands.add_parser("export", help="write the tracker, audio in and activations out, as one ONNX file",
                                 description="The tracker up to its decoder as one ONNX graph: `audio` (samples,) "
                                             "float32 mono at the model's rate in, `activations` (frames, bins) out; "
                                             "model.json beside the model names the bins and the decoder.")
    export.add_argument("out", type=Path, help="the .onnx file to write")
    export.add_argument("--model", type=Path, default=Path("tracker"), help="the tracker's folder (default: tracker)")
    args = parser.parse_args(argv)
    if args.command == "publish":
        return run_publish(parser, args)
    if args.command == "export":
        return run_export(args)
    return run_predict(parser, args)


def run_predict(parser: argparse.ArgumentParser, args) -> int:
    from pitchpipe.inference.predict import TrackOptions, model_dir
    from pitchpipe.inference.predict_cli import predict_command

    try:
        options = TrackOptions(args.hop, args.fmin, args.fmax, args.smooth, with_spectrum=args.plot)
    except ValueError as error:
        parser.error(str(error))
    return predict_command(args.inputs, model_dir(args.model), options, recursive=args.recursive, out=args.out,
                           out_dir=args.out_dir, output_format=args.format, plot=args.plot, notes=args.notes,
                           verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())
