"""A saved Keras model as ONNX, for runtimes without TensorFlow (onnxruntime in Python, onnxruntime-web).

Keras's own `model.export(format="onnx")` (tf2onnx underneath) leaves the Normalization layer's mean and variance
as two extra graph inputs. Tracing the call and freezing its captures into constants first gives a graph with one
input, a batch of model inputs of any size, and one output, equal to Keras's within float32 rounding (tested).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Callable

import numpy as np

OPSET = 17  # supported by onnxruntime and onnxruntime-web alike


def keras_to_onnx(model_dir: str | Path) -> bytes:
    """The ONNX graph of the Keras model saved in `model_dir` (model.keras, with model.json giving its input shape)."""
    import keras
    import tensorflow as tf
    import tf2onnx
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    model_dir = Path(model_dir)
    input_shape = json.loads((model_dir / "model.json").read_text())["input_shape"]
    model = keras.saving.load_model(model_dir / "model.keras", compile=False)
    call = tf.function(lambda x: model(x, training=False),
                       input_signature=[tf.TensorSpec((None, *input_shape), tf.float32, name="inputs")])
    frozen = convert_variables_to_constants_v2(call.get_concrete_function())
    graph, _ = tf2onnx.convert.from_graph_def(frozen.graph.as_graph_def(), opset=OPSET,
                                              input_names=[t.name for t in frozen.inputs],
                                              output_names=[t.name for t in frozen.outputs])
    return with_stable_names(graph).SerializeToString()


def with_stable_names(model):
    """`model` (an onnx ModelProto) with its constants named `const_<k>` in order of first use and stored in that
    order, and its batch axis named `batch`. tf2onnx names them from counters that depend on string hashing, which
    differs from one process to the next: without this, the same model would export to different bytes each run."""
    graph = model.graph
    for value in (*graph.input, *graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    constants, names = {c.name: c for c in graph.initializer}, {}
    for node in graph.node:
        for k, name in enumerate(node.input):
            if name in constants:
                node.input[k] = names.setdefault(name, f"const_{len(names)}")
    ordered = sorted(constants.values(), key=lambda constant: int(names[constant.name].removeprefix("const_")))
    for constant in ordered:
        constant.name = names[constant.name]
    del graph.initializer[:]
    graph.initializer.extend(ordered)
    return model


def export_model(model_dir: str | Path, out_dir: str | Path, name: str) -> Path:
    """`out_dir/<name>.onnx` and beside it `<name>.json`, the model's metadata (features, codec, decoder): what a
    runtime needs to turn audio into pitch. Written under temporary names, then renamed."""
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{name}.onnx"
    temporary = onnx_path.with_suffix(".onnx.tmp")
    temporary.write_bytes(keras_to_onnx(model_dir))
    os.replace(temporary, onnx_path)
    shutil.copyfile(model_dir / "model.json", out_dir / f"{name}.json.tmp")
    os.replace(out_dir / f"{name}.json.tmp", out_dir / f"{name}.json")
    return onnx_path


def load_onnx_network(path: str | Path, threads: int = 1) -> Callable[[np.ndarray], np.ndarray]:
    """A function from a float32 batch of model inputs to the model's outputs, run by onnxruntime on the CPU with
    `threads` threads."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda inputs: session.run(None, {name: np.asarray(inputs, dtype=np.float32)})[0]
