"""DVC stage `render`: every planned note as MIDI and FluidSynth audio → data/rendered/."""

from pitchpipe import stage
from pitchpipe.config import read_params, render_config
from pitchpipe.data.render import run_render


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--out", default="data/rendered")
    args = parser.parse_args()
    run_render(render_config(read_params(args.params), args.params), args.out, args.workers)


if __name__ == "__main__":
    stage.run(main)
