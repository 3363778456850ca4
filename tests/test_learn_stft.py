"""The companion experiment: the analytic kernel is what scipy computes, and one linear layer learns it."""

import numpy as np
import pytest
import yaml

from pitchpipe.config import ParamsError, learn_stft_config
from pitchpipe.model.learn_stft import (Transform, figure_data, fit, four_tone_signal, kernel_match, spectrum_errors,
                                  training_signals)


def small(default_params, **changes):
    config = learn_stft_config(default_params)
    values = dict(slice_samples=128, nperseg=32, noverlap=24, nfft=32, dft_points=16, examples=800, test_examples=50, batch_size=8,
                  epochs=6)
    return config.model_copy(update={**values, **changes})


@pytest.mark.parametrize("variant", ["stft", "dft"])
def test_the_analytic_kernel_is_what_scipy_and_numpy_compute(default_params, variant):
    transform = Transform(small(default_params, variant=variant))
    identity = np.eye(transform.n_inputs)
    np.testing.assert_allclose(transform.apply(identity), transform.kernel(), rtol=0, atol=1e-12)
    signals = training_signals(transform.config, 5, "check")
    np.testing.assert_allclose(transform.apply(signals), signals @ transform.kernel(), rtol=0, atol=1e-12)
    if variant == "stft":
        assert (transform.frames, transform.bins) == (13, 17)
    else:
        assert transform.kernel().shape == (32, 32)  # complex in, complex out: (2 × 16)²


def test_the_posts_shapes(default_params):
    """2,048 samples, Hann 256, FFT 256 and hop 56 give the post's 33 × 129 outputs and 2,048 × 8,514 weights;
    its 128-point DFT has 65,536."""
    stft = Transform(learn_stft_config(default_params).model_copy(update=dict(slice_samples=2048, nperseg=256,
                                                                                     noverlap=200, nfft=256)))
    assert (stft.frames, stft.bins, stft.n_inputs, stft.n_outputs) == (33, 129, 2048, 8514)
    dft = Transform(stft.config.model_copy(update=dict(variant="dft", dft_points=128)))
    assert dft.n_inputs * dft.n_outputs == 65536


@pytest.mark.parametrize("variant", ["stft", "dft"])
def test_one_linear_layer_learns_the_transform(default_params, variant):
    config = small(default_params, variant=variant)
    transform = Transform(config)
    test_inputs = training_signals(config, config.test_examples, "test")
    model, history = fit(config, transform, test_inputs)
    kernel = np.asarray(model.get_layer("transform").get_weights()[0], dtype=np.float64)
    errors = spectrum_errors(transform.to_complex(test_inputs @ kernel), transform.complex_output(test_inputs))
    assert errors["relative_error"] < 1e-4 and errors["phase_error_degrees_max"] < 0.5
    assert history[-1]["relative_error"] < history[0]["relative_error"]
    match = kernel_match(kernel, transform)
    assert match["correlation_min"] > 0.9999 and match["decorrelation_max"] < 1e-4
    data = figure_data(kernel, transform, transform.to_complex(four_tone_signal(config) @ kernel))
    np.testing.assert_allclose(data["map_learned"], data["map_analytic"], atol=1e-4 * np.abs(data["map_analytic"]).max())
    assert data["map_learned"].shape == (transform.n_inputs, len(data["frames"]), transform.bins)


def test_the_scores_tell_a_wrong_transform_apart(default_params):
    transform = Transform(small(default_params))
    assert kernel_match(np.zeros_like(transform.kernel()), transform)["correlation_min"] == 0
    signals = training_signals(transform.config, 20, "wrong")
    assert spectrum_errors(np.zeros((20, transform.frames, transform.bins)), transform.complex_output(signals))[
        "relative_error"] == pytest.approx(1.0)
    shifted = np.roll(transform.kernel(), 3, axis=0)  # sinusoids three samples late
    assert kernel_match(shifted, transform)["correlation_min"] < 0.9


@pytest.mark.parametrize("key,value,message", [
    ("variant", "fft", r"learn_stft\.variant: 'fft' is not one of stft, dft"),
    ("noverlap", 64, r"learn_stft\.noverlap: 64 must be smaller than learn_stft\.nperseg 64"),
    ("slice_samples", 32, r"learn_stft\.nperseg: 64 is longer than learn_stft\.slice_samples 32"),
    ("epoch", 3, r"learn_stft\.epoch: unknown key \(did you mean 'epochs'\?\)"),
])
def test_learn_stft_params_are_checked(default_params, key, value, message):
    params = yaml.safe_load(yaml.safe_dump(default_params))
    params["learn_stft"][key] = value
    with pytest.raises(ParamsError, match=message):
        learn_stft_config(params)
