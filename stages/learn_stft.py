"""DVC stage `learn_stft`: one dense layer learns the STFT (or a DFT) from seeded signals → learn_stft/ (the model,
figure data) and reports/learn_stft/ (metrics, error per epoch)."""

from pitchpipe import stage
from pitchpipe.config import learn_stft_config, read_params


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--out", default="learn_stft")
    parser.add_argument("--reports", default="reports/learn_stft")
    args = parser.parse_args()
    from pitchpipe.model.learn_stft import run_learn_stft

    metrics = run_learn_stft(learn_stft_config(read_params(args.params), args.params), args.out, args.reports)
    print(f"learn_stft: {metrics['variant']}, {metrics['weights']} weights, held-out relative error "
          f"{metrics['held_out']['relative_error']:.2e}, kernel columns correlate {metrics['kernel']['correlation_min']:.6f} "
          f"or better with the analytic ones")


if __name__ == "__main__":
    stage.run(main)
