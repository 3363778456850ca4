"""DVC stage `check_params`: all of params.yaml as the stages read it, and no key that nothing reads.

Stages depend on the exact keys they read, so a misspelt key (`featurize.stft.max_Hz`) would rerun nothing and be
ignored; this stage depends on the whole file, so any edit runs it and such a key stops `dvc repro` by name.
Every other stage depends on its output, whose bytes never change while the params are valid: so `dvc repro
STAGE` runs this check first too, and a bad key stops it before DVC removes any stage's outputs."""

from pathlib import Path

from pitchpipe import stage
from pitchpipe.config import check_params, read_params

CHECKED = "params.yaml read as every stage reads it: no unknown key, every value in range\n"


def main() -> None:
    parser = stage.parser(__doc__.splitlines()[0])
    parser.add_argument("--out", default="data/params-checked")
    args = parser.parse_args()
    check_params(read_params(args.params), args.params)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp")
    temporary.write_text(CHECKED)
    temporary.replace(out)


if __name__ == "__main__":
    stage.run(main)
