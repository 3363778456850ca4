"""DVC stage `prepare`: 16 kHz clips of each note's envelope segments, split by note → data/clips/."""

import json

from pitchpipe import stage
from pitchpipe.config import prepare_config, read_params
from pitchpipe.data.prepare import run_prepare


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--rendered", default="data/rendered")
    parser.add_argument("--out", default="data/clips")
    parser.add_argument("--summary", default="data/clips-summary.json")
    args = parser.parse_args()
    summary = run_prepare(prepare_config(read_params(args.params), args.params), args.rendered, args.out, args.workers)
    with open(args.summary, "w") as handle:
        json.dump(summary, handle, indent=2, sort_keys=True)
        handle.write("\n")


if __name__ == "__main__":
    stage.run(main)
