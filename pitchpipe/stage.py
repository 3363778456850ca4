"""What every stage script shares: the common options and turning known failures into one clear line."""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from pitchpipe.errors import PitchpipeError
from pitchpipe.parallel import check_engine
from pitchpipe.quiet import quiet_tensorflow




def parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: $PITCHPIPE_WORKERS or all cores); not a tracked param")
    return parser


def run(main: Callable[[], object]) -> None:
    """Run a stage's main; bad params or unusable inputs exit with status 2 and one line naming the culprit. Any
    other error is a bug or an environment problem: it keeps its traceback."""
    quiet_tensorflow()
    try:
        check_engine()  # an unreachable Dask scheduler stops the stage before it clears its outputs
        main()
    except PitchpipeError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
