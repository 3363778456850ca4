"""The ONNX export of the tracker: one input, one output, the same numbers as Keras, the same bytes every time."""

import json
import subprocess
import sys

import numpy as np
import pytest

from pitchpipe.model.onnx_export import export_model, load_onnx_network
from pitchpipe.model.tracking import frames_config_from
from pitchpipe.sound.frames import model_input

from conftest import ROOT

RATE = 16000


def melody(seconds: float = 3.0) -> np.ndarray:
    """A1 then a leap to E5 with a rest between, as harmonic tones: inputs that reach low and high bins."""
    t = np.arange(int(seconds * RATE)) / RATE
    f0 = np.where(t < 1.2, 110.0, 659.26)
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    tone = sum(np.sin(k * phase) / k for k in range(1, 6))
    return (0.3 * tone * ((t < 1.0) | (t > 1.5))).astype(np.float32)


def test_the_onnx_tracker_equals_keras(tracker_dir, tmp_path):
    import keras
    import onnx

    path = export_model(tracker_dir, tmp_path, "tracker")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tracker.json", "tracker.onnx"]  # no temporary left
    meta = json.loads((tmp_path / "tracker.json").read_text())
    assert meta == json.loads((tracker_dir / "model.json").read_text())
    graph = onnx.load(path).graph
    assert (len(graph.input), len(graph.output)) == (1, 1)  # the Normalization constants are inside the graph
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param  # any batch size

    inputs = model_input(melody(), frames_config_from(meta)).astype(np.float32)
    keras_model = keras.saving.load_model(tracker_dir / "model.keras", compile=False)
    network = load_onnx_network(path)
    for batch in (inputs[:1], inputs):
        expected = keras_model.predict(batch, verbose=0)
        assert expected.std() > 1e-3  # outputs that vary, so equality means something
        np.testing.assert_allclose(network(batch), expected, rtol=0, atol=1e-5)


def test_the_export_is_the_same_bytes_every_run(tracker_dir, tmp_path):
    """Two runs (processes: string hashing, which tf2onnx's names depend on, differs between them) write the same
    bytes, as DVC needs of a stage."""
    for run in ("first", "second"):
        subprocess.run([sys.executable, str(ROOT / "stages/export.py"), "--model", str(tracker_dir), "--out",
                        str(tmp_path / run)], check=True, capture_output=True)
    assert (tmp_path / "first/tracker.onnx").read_bytes() == (tmp_path / "second/tracker.onnx").read_bytes()


def test_a_folder_without_a_model_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="model.json"):
        export_model(tmp_path, tmp_path / "out", "tracker")
