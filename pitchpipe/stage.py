"""What every stage script shares: the common options and turning known failures into one clear line."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

from pitchpipe.config import ParamsError


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of stage logs


def parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: $PITCHPIPE_WORKERS or all cores); not a tracked param")
    return parser


def run(main: Callable[[], object]) -> None:
    """Run a stage's main; bad params or missing inputs exit with status 2 and a message naming the culprit."""
    try:
        main()
    except (ParamsError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
