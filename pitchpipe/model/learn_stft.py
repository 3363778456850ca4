"""The companion experiment: one dense layer, no bias, no activation, learns a linear transform of audio: the
STFT (`stft`, scipy's complex spectrogram of 2,048-sample slices) or a plain DFT (`dft`, complex in, complex out).

Because the transform is linear, the layer's kernel can be compared column by column with the analytic one:
each output is the dot product of the input with a Hann-windowed sinusoid (real part: cosine, imaginary part:
minus sine) placed at its frame, which is what the tests check scipy computes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import get_window, spectrogram

from pitchpipe.config import LearnStftConfig
from pitchpipe.seeding import rng
from pitchpipe.sound.spectrogram import stft_basis

FOUR_TONES_HZ = (440.0, 1_000.0, 2_250.0, 3_300.0)  # the test signal of the report's spectrogram comparison
SIGNIFICANT_DB = 60.0  # bins within this of the peak count for phase and dB errors


@dataclass(frozen=True)
class Transform:
    """The linear map to learn: `apply` gives the targets, `kernel` its exact (inputs, outputs) matrix."""

    config: LearnStftConfig

    @property
    def is_stft(self) -> bool:
        return self.config.variant == "stft"

    @property
    def frames(self) -> int:
        c = self.config
        return (c.slice_samples - c.nperseg) // (c.nperseg - c.noverlap) + 1 if self.is_stft else 1

    @property
    def bins(self) -> int:
        return self.config.nfft // 2 + 1 if self.is_stft else self.config.dft_points

    @property
    def n_inputs(self) -> int:
        return self.config.slice_samples if self.is_stft else 2 * self.config.dft_points

    @property
    def n_outputs(self) -> int:
        return self.frames * self.bins * 2

    def complex_output(self, signals: np.ndarray) -> np.ndarray:
        """(examples, frames, bins) complex: scipy's spectrogram (mode 'complex', no detrending) or numpy's FFT."""
        signals = np.asarray(signals, dtype=np.float64)
        if not self.is_stft:
            half = self.config.dft_points
            return np.fft.fft(signals[:, :half] + 1j * signals[:, half:], axis=1)[:, None, :]
        c = self.config
        _, _, values = spectrogram(signals, fs=c.sample_rate, window="hann", nperseg=c.nperseg, noverlap=c.noverlap,
                                   nfft=c.nfft, detrend=False, mode="complex")
        return np.swapaxes(values, -1, -2)

    def apply(self, signals: np.ndarray) -> np.ndarray:
        """The regression targets: real and imaginary parts, flattened as (frame, bin, part)."""
        values = self.complex_output(signals)
        return np.stack([values.real, values.imag], axis=-1).reshape(len(values), -1)

    def to_complex(self, outputs: np.ndarray) -> np.ndarray:
        pairs = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), self.frames, self.bins, 2)
        return pairs[..., 0] + 1j * pairs[..., 1]

    def kernel(self) -> np.ndarray:
        """The exact (inputs, outputs) matrix, from the formula: column (frame, bin) holds the window times
        cos(2π·bin·n/nfft) (real part) and −sin(…) (imaginary part) at that frame's samples, scaled as scipy
        scales its density spectrum; for the DFT, the complex exponentials acting on (real, imaginary) inputs."""
        kernel = np.zeros((self.n_inputs, self.frames, self.bins, 2))
        if self.is_stft:
            c = self.config
            scale = np.sqrt(1.0 / (c.sample_rate * np.sum(get_window("hann", c.nperseg) ** 2)))
            basis = stft_basis(c.nperseg, c.nfft) * scale
            real, imaginary = basis.real, basis.imag
            for frame in range(self.frames):
                start = frame * (c.nperseg - c.noverlap)
                kernel[start:start + c.nperseg, frame, :, 0] = real
                kernel[start:start + c.nperseg, frame, :, 1] = imaginary
        else:
            points = self.config.dft_points
            angle = 2 * np.pi * np.outer(np.arange(points), np.arange(points)) / points
            cos, sin = np.cos(angle), np.sin(angle)
            kernel[:points, 0, :, 0], kernel[:points, 0, :, 1] = cos, -sin  # (x + iy)·e^{-iθ}, real input part
            kernel[points:, 0, :, 0], kernel[points:, 0, :, 1] = sin, cos  # imaginary input part
        return kernel.reshape(self.n_inputs, -1)


def training_signals(config: LearnStftConfig, count: int, purpose: str) -> np.ndarray:
    """Seeded random inputs at unit RMS: one to four sinusoids of random frequency, level and phase over white
    noise of random level (complex ones for the DFT); a tenth are noise alone."""
    generator = rng(config.seed, f"learn_stft/{purpose}")
    length = config.slice_samples if config.variant == "stft" else config.dft_points
    t = np.arange(length) / config.sample_rate
    nyquist = config.sample_rate / 2
    signals = np.zeros((count, length), dtype=np.complex128)
    for row in range(count):
        tones = 0 if generator.random() < 0.1 else int(generator.integers(1, 5))
        for _ in range(tones):
            frequency = generator.uniform(-nyquist, nyquist)
            signals[row] += generator.uniform(0.05, 1.0) * np.exp(1j * (2 * np.pi * frequency * t + generator.uniform(0, 2 * np.pi)))
        level = generator.uniform(0.0, 0.5) if tones else generator.uniform(0.1, 1.0)
        signals[row] += level * (generator.standard_normal(length) + 1j * generator.standard_normal(length))
    inputs = signals.real if config.variant == "stft" else np.concatenate([signals.real, signals.imag], axis=1)
    return inputs / np.sqrt(np.mean(inputs ** 2, axis=1, keepdims=True))  # unit RMS: see sgd_learning_rate


def four_tone_signal(config: LearnStftConfig) -> np.ndarray:
    """The report's test slice: four steady tones of different levels, nothing else (deep valleys between them
    show a learned transform's noise floor on a log scale)."""
    length = config.slice_samples if config.variant == "stft" else config.dft_points
    t = np.arange(length) / config.sample_rate
    tone = sum(level * np.sin(2 * np.pi * f * t) for f, level in zip(FOUR_TONES_HZ, (1.0, 0.5, 0.25, 0.125)))
    return tone[None, :] if config.variant == "stft" else np.concatenate([tone, np.zeros(length)])[None, :]


def _db(values: np.ndarray) -> np.ndarray:
    return 20.0 * np.log10(np.maximum(np.abs(values), 1e-300))


def spectrum_errors(learned: np.ndarray, reference: np.ndarray) -> dict:
    """How far complex outputs are from the reference: relative error of the complex values and of magnitudes,
    the phase error and the dB error on bins within SIGNIFICANT_DB of the peak, and the error floor (RMS error
    in dB below the peak)."""
    magnitude, learned_magnitude = np.abs(reference), np.abs(learned)
    significant = _db(reference) >= _db(magnitude.max()) - SIGNIFICANT_DB
    phase = np.abs(np.angle(learned[significant] * np.conj(reference[significant]), deg=True))
    db_error = np.abs(_db(learned[significant]) - _db(reference[significant]))
    return {
        "relative_error": float(np.linalg.norm(learned - reference) / np.linalg.norm(reference)),
        "magnitude_relative_error": float(np.linalg.norm(learned_magnitude - magnitude) / np.linalg.norm(magnitude)),
        "phase_error_degrees_mean": float(phase.mean()), "phase_error_degrees_max": float(phase.max()),
        "db_error_mean": float(db_error.mean()), "db_error_max": float(db_error.max()),
        "error_floor_db": float(_db(np.sqrt(np.mean(np.abs(learned - reference) ** 2))) - _db(magnitude.max())),
    }


def kernel_match(learned: np.ndarray, transform: Transform) -> dict:
    """Column by column, the learned kernel against the analytic one: correlation (cosine similarity) of every
    column that is not identically zero (mean and worst, with where the worst is), and for the zero columns
    (the imaginary part at 0 Hz and at Nyquist) their size relative to a typical column."""
    analytic = transform.kernel()
    norms = np.linalg.norm(analytic, axis=0)
    live = norms > 1e-9 * norms.max()
    correlation = np.sum(learned[:, live] * analytic[:, live], axis=0) / (
        np.linalg.norm(learned[:, live], axis=0) * norms[live] + 1e-300)
    worst = int(np.flatnonzero(live)[np.argmin(correlation)])
    frame, rest = divmod(worst, transform.bins * 2)
    bin_, part = divmod(rest, 2)
    dead = np.linalg.norm(learned[:, ~live], axis=0) / np.median(norms[live]) if (~live).any() else np.zeros(1)
    return {"correlation_mean": float(correlation.mean()), "correlation_min": float(correlation.min()),
            "decorrelation_max": float(1.0 - correlation.min()),  # 1 − the worst correlation: digits rounding hides
            "worst_column": {"frame": frame, "bin": bin_, "part": ("real", "imaginary")[part]},
            "zero_columns_relative_norm_max": float(dead.max())}


def sgd_learning_rate(config: LearnStftConfig, transform: Transform) -> float:
    """Plain SGD on Keras's mean squared error, with the step that projects each kernel column onto the batch's
    examples (Kaczmarz): the gradient of the mean over B examples and n_out outputs is 2/(B·n_out)·XᵀR, and XᵀX
    of B unit-RMS inputs (|x|² = n_in) has eigenvalues up to about n_in·(1 + √(B/n_in))², so `learning_rate` 1
    is a full projection along the batch's stiffest direction and never overshoots. Adam at any fixed rate
    stalls far from the exact weights (each is a few thousandths); this reaches float32 precision."""
    stiffest = transform.n_inputs * (1.0 + np.sqrt(config.batch_size / transform.n_inputs)) ** 2
    return config.learning_rate * config.batch_size * transform.n_outputs / (2.0 * stiffest)


def fit(config: LearnStftConfig, transform: Transform, test_inputs: np.ndarray):
    """Train the single linear layer; returns (Keras model, one dict per epoch: training loss and the held-out
    complex relative error)."""
    import keras

    keras.utils.set_random_seed(config.seed)
    inputs = training_signals(config, config.examples, "train")
    targets = transform.apply(inputs).astype(np.float32)
    test_reference = transform.complex_output(test_inputs)
    model = keras.Sequential([keras.Input((transform.n_inputs,), name="audio"),
                              keras.layers.Dense(transform.n_outputs, use_bias=False, kernel_initializer="zeros",
                                                 name="transform")], name=f"learned_{config.variant}")
    model.compile(keras.optimizers.SGD(sgd_learning_rate(config, transform)), loss="mse")
    history = []
    for epoch in range(1, config.epochs + 1):
        fitted = model.fit(inputs.astype(np.float32), targets, batch_size=config.batch_size, epochs=1, verbose=0)
        learned = transform.to_complex(model.predict(test_inputs.astype(np.float32), verbose=0))
        history.append({"epoch": epoch, "loss": float(fitted.history["loss"][-1]),
                        "relative_error": spectrum_errors(learned, test_reference)["relative_error"]})
    return model, history


def figure_data(kernel: np.ndarray, transform: Transform, four_tones_learned: np.ndarray) -> dict[str, np.ndarray]:
    """What the report draws: the real part of the kernel at a few frames (learned and analytic), a few columns
    (real and imaginary) at the middle frame, and the four-tone spectrogram learned and exact."""
    learned = kernel.reshape(transform.n_inputs, transform.frames, transform.bins, 2)
    analytic = transform.kernel().reshape(learned.shape)
    frames = np.unique(np.linspace(0, transform.frames - 1, 4).round().astype(int))
    bins = np.unique(np.minimum([1, 5, 10], transform.bins - 1))
    middle = transform.frames // 2
    return {"frames": frames, "bins": bins, "middle_frame": np.array(middle),
            "map_learned": learned[..., 0][:, frames].astype(np.float32),  # (inputs, frames, bins)
            "map_analytic": analytic[..., 0][:, frames].astype(np.float32),
            "columns_learned": learned[:, middle][:, bins].astype(np.float32),
            "columns_analytic": analytic[:, middle][:, bins].astype(np.float32),
            "four_tones_learned": np.abs(four_tones_learned[0]).astype(np.float32),
            "four_tones_exact": np.abs(transform.complex_output(four_tone_signal(transform.config))[0]).astype(np.float32)}


def run_learn_stft(config: LearnStftConfig, out_dir, reports_dir) -> dict:
    """Fit the layer, score it on held-out signals, the four-tone slice and its kernel; write the model, the
    figure data, the metrics and the per-epoch curve."""
    import json
    from pathlib import Path

    from pitchpipe.scores.metrics import rounded

    out_dir, reports_dir = Path(out_dir), Path(reports_dir)
    transform = Transform(config)
    test_inputs = training_signals(config, config.test_examples, "test")
    model, history = fit(config, transform, test_inputs)
    kernel = np.asarray(model.get_layer("transform").get_weights()[0], dtype=np.float64)
    four_tones = four_tone_signal(config)
    four_tones_learned = transform.to_complex(four_tones @ kernel)
    metrics = {"variant": config.variant, "weights": int(kernel.size), "examples": config.examples,
               "epochs": config.epochs, "outputs": [transform.frames, transform.bins],
               "held_out": spectrum_errors(transform.to_complex(test_inputs @ kernel), transform.complex_output(test_inputs)),
               "four_tones": spectrum_errors(four_tones_learned, transform.complex_output(four_tones)),
               "kernel": kernel_match(kernel, transform)}
    out_dir.mkdir(parents=True, exist_ok=True)
    reports_dir.mkdir(parents=True, exist_ok=True)
    model.save(out_dir / "model.keras")
    np.savez_compressed(out_dir / "figures.npz", **figure_data(kernel, transform, four_tones_learned))
    (reports_dir / "metrics.json").write_text(json.dumps(rounded(metrics), indent=1, sort_keys=True) + "\n")
    (reports_dir / "history.json").write_text(json.dumps(rounded(history), indent=1) + "\n")
    return metrics
