"""Saved models as ONNX, run by onnxruntime: inference without TensorFlow, in Python and in a browser alike.

Keras's own `model.export(format="onnx")` (tf2onnx underneath) leaves the Normalization layer's mean and variance
as two extra graph inputs. Tracing the call and freezing its captures into constants first gives a graph with one
input (`inputs`, a batch of any size) and one output (`outputs`), equal to Keras within float32 rounding (tested).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np

OPSET = 17  # run by onnxruntime and onnxruntime-web alike


def keras_to_onnx(model, input_shape: tuple[int, ...]) -> bytes:
    """The ONNX graph of a Keras model taking float32 batches of `input_shape`."""
    import tensorflow as tf
    import tf2onnx
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    call = tf.function(lambda x: model(x, training=False),
                       input_signature=[tf.TensorSpec((None, *input_shape), tf.float32, name="inputs")])
    frozen = convert_variables_to_constants_v2(call.get_concrete_function())
    graph, _ = tf2onnx.convert.from_graph_def(frozen.graph.as_graph_def(), opset=OPSET,
                                              input_names=[t.name for t in frozen.inputs],
                                              output_names=[t.name for t in frozen.outputs])
    return with_stable_names(graph).SerializeToString()


def with_stable_names(model):
    """`model` (an onnx ModelProto) with every name made from its position: nodes `<op>_<k>`, values `v<k>`,
    constants `c<k>` in order of first use (and stored in that order), the input `inputs`, the output `outputs`,
    the batch axis `batch`. tf2onnx's names come from TensorFlow's scopes (which count the models built in a
    process) and from counters that depend on string hashing: without this, the same model would give different
    bytes from one run to the next."""
    graph = model.graph
    names = {graph.input[0].name: "inputs", graph.output[0].name: "outputs"}
    constants = {constant.name: constant for constant in graph.initializer}
    order = {}
    for index, node in enumerate(graph.node):
        node.name = f"{node.op_type}_{index}"
        for k, name in enumerate(node.input):
            if name in constants and name not in names:
                names[name] = f"c{len(order)}"
                order[name] = len(order)
            node.input[k] = names.get(name, name)
        for k, name in enumerate(node.output):
            node.output[k] = names.setdefault(name, f"v{len(names)}")
    ordered = sorted((c for c in constants.values() if c.name in order), key=lambda constant: order[constant.name])
    for constant in ordered:
        constant.name = names[constant.name]
    del graph.initializer[:]
    graph.initializer.extend(ordered)
    for value in (*graph.input, *graph.output):
        value.name = names[value.name]
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    del graph.value_info[:]
    graph.name = "pitchpipe"
    return model


def write_onnx(keras_path: str | Path, input_shape: tuple[int, ...], path: str | Path) -> None:
    """The Keras model saved at `keras_path` as ONNX at `path`, written under a temporary name and then renamed. A
    process running another Keras backend (JAX) hands the export to a TensorFlow-backend one: tf2onnx converts
    TensorFlow graphs."""
    import keras

    if keras.backend.backend() != "tensorflow":
        code = ("import sys; from pitchpipe.model.onnx_model import write_onnx; "
                "write_onnx(sys.argv[1], tuple(map(int, sys.argv[2].split(','))), sys.argv[3])")
        subprocess.run([sys.executable, "-c", code, str(keras_path), ",".join(map(str, input_shape)), str(path)],
                       env={**os.environ, "KERAS_BACKEND": "tensorflow"}, check=True)
        return
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(keras_to_onnx(keras.saving.load_model(keras_path, compile=False), input_shape))
    os.replace(temporary, path)


def load_onnx_network(path: str | Path, threads: int | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """A function from a float32 batch of model inputs to the model's outputs, run by onnxruntime on the CPU with
    `threads` threads (default: onnxruntime's, one per core)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.inter_op_num_threads = 1
    if threads:
        options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda inputs: session.run(None, {"inputs": np.asarray(inputs, dtype=np.float32)})[0]
