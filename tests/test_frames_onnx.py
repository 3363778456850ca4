"""The tracker's front end as an ONNX graph computes what `model_input` computes."""

import numpy as np
import pytest

from pitchpipe.config import frames_config
from pitchpipe.sound.frames import model_input
from pitchpipe.sound.frames_onnx import decimation, frontend_graph

RATE = 16000
FLOAT16_STEP = 2.0 ** -11  # one step of float16 in [0.5, 1): the stored features may round the other way


def signal(kind: str, n: int) -> np.ndarray:
    t = np.arange(n) / RATE
    f0 = np.where(t < 1.0, 98.0, 1318.5)  # G2 then a leap to E6: every pyramid level is read
    tone = sum(np.sin(k * 2 * np.pi * np.cumsum(f0) / RATE) / k for k in range(1, 7))
    noise = np.random.default_rng(n).standard_normal(n)
    return {"melody": 0.3 * tone + 0.01 * noise, "quiet": 1e-5 * tone, "silence": np.zeros(n),
            "noise": 0.1 * noise}[kind].astype(np.float32)


@pytest.fixture(scope="module")
def session(default_params):
    import onnx
    import onnxruntime

    model = frontend_graph(frames_config(default_params))
    onnx.checker.check_model(model, full_check=True)
    return onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("kind,n", [("melody", 3 * RATE + 77), ("melody", 1000), ("quiet", RATE), ("silence", RATE),
                                    ("noise", 8000)])
def test_the_onnx_front_end_equals_model_input(default_params, session, kind, n):
    audio = signal(kind, n)
    expected = model_input(audio, frames_config(default_params)).astype(np.float32)
    got = session.run(None, {"audio": audio})[0]
    assert got.shape == expected.shape
    difference = np.abs(got - expected)
    assert difference.max() <= FLOAT16_STEP and (difference > 0).mean() < 0.01  # 0.25% seen on the melody
    assert expected.any() == (kind in ("melody", "noise"))  # the quiet tone is under the silence gate


@pytest.mark.parametrize("down", [2, 4])
def test_the_decimation_is_resample_poly(down):
    from scipy.signal import resample_poly

    x = np.random.default_rng(down).standard_normal(1001)
    taps, left, right = decimation(down)
    padded = np.pad(x, (left, right))
    convolved = np.array([padded[i:i + len(taps)] @ taps for i in range(0, len(padded) - len(taps) + 1, down)])
    expected = resample_poly(x, 1, down)
    np.testing.assert_allclose(convolved[:len(expected)], expected, rtol=0, atol=1e-12)
