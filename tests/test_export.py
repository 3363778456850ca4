"""The ONNX file saved beside every model: one input, one output, the same numbers as Keras, the same bytes every
time."""

import json
import subprocess
import sys

import numpy as np

from pitchpipe.model.onnx_model import keras_to_onnx, load_onnx_network
from pitchpipe.model.tracking import frames_config_from
from pitchpipe.sound.frames import model_input

RATE = 16000


def melody(seconds: float = 3.0) -> np.ndarray:
    """A2 then a leap to E5 with a rest between, as harmonic tones: inputs that reach low and high bins."""
    t = np.arange(int(seconds * RATE)) / RATE
    f0 = np.where(t < 1.2, 110.0, 659.26)
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    tone = sum(np.sin(k * phase) / k for k in range(1, 6))
    return (0.3 * tone * ((t < 1.0) | (t > 1.5))).astype(np.float32)


def test_the_tracker_as_onnx_equals_keras_on_a_melody(tracker_dir):
    import keras
    import onnx

    graph = onnx.load(tracker_dir / "model.onnx").graph
    assert [v.name for v in graph.input] == ["inputs"] and [v.name for v in graph.output] == ["outputs"]
    assert not graph.input[0].type.tensor_type.shape.dim[0].dim_value  # any batch size: the Normalization
    assert len(graph.initializer) > 0                                   # constants are inside the graph
    meta = json.loads((tracker_dir / "model.json").read_text())
    inputs = model_input(melody(), frames_config_from(meta)).astype(np.float32)
    trained = keras.saving.load_model(tracker_dir / "model.keras", compile=False)
    network = load_onnx_network(tracker_dir / "model.onnx", threads=1)
    for batch in (inputs[:1], inputs):
        expected = trained.predict(batch, verbose=0)
        assert expected.std() > 1e-3
        np.testing.assert_allclose(network(batch), expected, rtol=0, atol=1e-5)


EXPORT = """
import sys, keras
from pitchpipe.model.onnx_model import keras_to_onnx
model = keras.saving.load_model(sys.argv[1], compile=False)
sys.stdout.buffer.write(keras_to_onnx(model, model.input_shape[1:]))
"""


def test_the_export_is_the_same_bytes_every_run(tracker_dir):
    """The same model gives the same bytes in two processes (string hashing, which tf2onnx's names depend on,
    differs between them) and twice in one (TensorFlow's name scopes count the models loaded), as DVC needs."""
    import keras

    runs = [subprocess.run([sys.executable, "-c", EXPORT, str(tracker_dir / "model.keras")], check=True,
                           capture_output=True).stdout for _ in range(2)]
    assert runs[0] == runs[1] == (tracker_dir / "model.onnx").read_bytes()
    model = keras.saving.load_model(tracker_dir / "model.keras", compile=False)
    assert keras_to_onnx(model, model.input_shape[1:]) == runs[0]


def test_pitchpipe_export_writes_the_whole_tracker_up_to_its_decoder(tracker_dir, tmp_path):
    """`pitchpipe export`: one graph from audio to activations (front end, network, silence) that a runtime
    without Python can run; the same activations as the tracker's own path, silence included."""
    import onnxruntime

    from pitchpipe.model.tracking import load_tracker

    out = tmp_path / "tracker.onnx"
    done = subprocess.run([sys.executable, "-m", "pitchpipe.cli", "export", str(out), "--model", str(tracker_dir)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["audio"] and [o.name for o in session.get_outputs()] == ["activations"]
    audio = melody()
    expected, _ = load_tracker(tracker_dir).activations(audio)
    got = session.run(None, {"audio": audio})[0]
    assert got.shape == expected.shape and not got[int(1.3 * RATE) // 160].any()  # the rest is silent
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)
    refused = subprocess.run([sys.executable, "-m", "pitchpipe.cli", "export", str(out), "--model", str(tmp_path)],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "no tracker here" in refused.stderr
