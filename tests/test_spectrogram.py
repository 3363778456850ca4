import numpy as np
import pytest
import scipy.signal

from pitchpipe.config import StftFeatures
from pitchpipe.sound.spectrogram import frequencies, spectrogram


def config(**overrides):
    values = dict(sample_rate=16000, window="hann", nperseg=256, noverlap=200, nfft=1024, scale="magnitude",
                  max_hz=None, dtype="float32")
    values.update(overrides)
    return StftFeatures(**values)


@pytest.mark.parametrize("scale", ["magnitude", "psd"])
@pytest.mark.parametrize("nperseg,noverlap,nfft", [(256, 200, 1024), (128, 64, 256), (255, 100, 511)])
def test_equals_scipy_spectrogram(scale, nperseg, noverlap, nfft):
    clips = np.random.default_rng(1).standard_normal((70, 5280)) + 0.3  # > one chunk; offset tests detrending
    ours = spectrogram(clips, config(scale=scale, nperseg=nperseg, noverlap=noverlap, nfft=nfft, dtype="float64"))
    _, _, reference = scipy.signal.spectrogram(clips, 16000, window="hann", nperseg=nperseg, noverlap=noverlap,
                                               nfft=nfft, mode=scale)
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-12 * reference.max())


def test_default_shape_is_the_originals_513_by_90():
    out = spectrogram(np.zeros((2, 5280)), config(dtype="float16"))
    assert out.shape == (2, 513, 90) and out.dtype == np.float16


def test_log_scale_and_crop():
    clip = np.sin(2 * np.pi * 1000 * np.arange(5280) / 16000)
    full = spectrogram(clip, config(scale="magnitude"))
    log = spectrogram(clip, config(scale="log", max_hz=4000.0))
    kept = frequencies(config(max_hz=4000.0))
    assert kept[-1] == 4000.0 and log.shape == (1, len(kept), 90)
    np.testing.assert_allclose(log, 20 * np.log10(np.maximum(full[:, :len(kept)], 1e-8)), rtol=1e-5, atol=1e-4)
    assert kept[np.argmax(log[0, :, 45])] == pytest.approx(1000.0)
