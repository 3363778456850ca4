"""DVC stage `probes`: clips of exactly known pitch made by pitchpipe.sound.tones (not by a soundfont) → data/probes/."""

from pitchpipe import stage
from pitchpipe.config import probes_config, read_params
from pitchpipe.data.probes import run_probes


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--out", default="data/probes")
    args = parser.parse_args()
    run_probes(probes_config(read_params(args.params), args.params), args.out, args.workers)


if __name__ == "__main__":
    stage.run(main)
