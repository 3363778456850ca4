"""DVC stage `check_params`: all of params.yaml as the stages read it, and no key that nothing reads.

Stages depend on the exact keys they read, so a misspelt key (`featurize.max_Hz`) would rerun nothing and be
ignored; this stage depends on the whole file, so any edit runs it and such a key stops `dvc repro` by name."""

from pitchpipe import stage
from pitchpipe.config import check_params, read_params


def main() -> None:
    args = stage.parser(__doc__.splitlines()[0]).parse_args()
    check_params(read_params(args.params), args.params)


if __name__ == "__main__":
    stage.run(main)
