"""DVC stage `melody_probes`: synthetic melodies with exact f0 curves, seeded apart, never trained on →
data/melody_probes/."""

from pitchpipe import stage
from pitchpipe.config import phrases_config, read_params
from pitchpipe.data.phrases import run_phrases


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--out", default="data/melody_probes")
    args = parser.parse_args()
    run_phrases(phrases_config(read_params(args.params), args.params, "melody_probes"), args.out, args.workers,
                label="melody_probes")


if __name__ == "__main__":
    stage.run(main)
