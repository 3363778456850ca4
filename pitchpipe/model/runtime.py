"""Inference of a saved Keras model in plain numpy, read straight from the `.keras` archive.

Importing TensorFlow takes 7–10 s on a small machine, longer than `pitchpipe predict` needs for a few files.
A chain of the layers below runs here exactly as Keras defines them (tests compare both on the trained models);
a model with any other layer, or a graph that is not a plain chain, is served by Keras instead.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np

KERAS_EPSILON = 1e-7  # keras.backend.epsilon(), the Normalization layer's floor on the standard deviation
ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)),  # the logistic function, without overflow warnings
}


def _normalization(config: dict, weights: list[np.ndarray]):
    if config.get("axis") not in ([], None) or config.get("invert"):
        raise NotImplementedError("Normalization with a per-axis mean or invert")
    mean = np.float32(config["mean"])
    scale = np.float32(1.0 / max(np.sqrt(config["variance"]), KERAS_EPSILON))
    return lambda x: (x - mean) * scale


def _conv1d(config: dict, weights: list[np.ndarray]):
    if config["strides"] != [1] or config["groups"] != 1 or config["data_format"] != "channels_last":
        raise NotImplementedError("Conv1D with strides, groups or channels_first")
    kernel = weights[0]
    bias = weights[1] if config["use_bias"] else np.zeros(kernel.shape[-1], np.float32)
    taps, dilation, activation = kernel.shape[0], config["dilation_rate"][0], ACTIVATIONS[config["activation"]]
    reach = dilation * (taps - 1)
    before = reach // 2 if config["padding"] == "same" else 0

    def convolve(x: np.ndarray) -> np.ndarray:
        length = x.shape[1] if config["padding"] == "same" else x.shape[1] - reach
        padded = np.pad(x, ((0, 0), (before, reach - before if config["padding"] == "same" else 0), (0, 0)))
        out = padded[:, :length] @ kernel[0]
        for tap in range(1, taps):
            out += padded[:, tap * dilation:tap * dilation + length] @ kernel[tap]
        out += bias
        return activation(out)

    if config["padding"] not in ("same", "valid"):
        raise NotImplementedError(f"Conv1D padding {config['padding']!r}")
    return convolve


def _dense(config: dict, weights: list[np.ndarray]):
    kernel = weights[0]
    bias = weights[1] if config["use_bias"] else np.zeros(kernel.shape[-1], np.float32)
    activation = ACTIVATIONS[config["activation"]]
    return lambda x: activation(x @ kernel + bias)


def _reshape(config: dict, weights: list[np.ndarray]):
    shape = tuple(config["target_shape"])
    return lambda x: x.reshape(len(x), *shape)


LAYERS = {
    "InputLayer": lambda config, weights: None,
    "Dropout": lambda config, weights: None,  # identity at inference
    "Flatten": lambda config, weights: (lambda x: x.reshape(len(x), -1)),
    "Reshape": _reshape,
    "Normalization": _normalization,
    "Conv1D": _conv1d,
    "Dense": _dense,
}


class NumpyNetwork:
    """A chain of supported layers; calling it maps a float32 batch to the model's outputs."""

    CHUNK = 32

    def __init__(self, steps: list):
        self.steps = steps

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        inputs = np.asarray(inputs, dtype=np.float32)
        outputs = []
        for start in range(0, max(len(inputs), 1), self.CHUNK):  # small chunks stay in cache: 3× faster
            x = inputs[start:start + self.CHUNK]
            for step in self.steps:
                x = step(x)
            outputs.append(x)
        return np.concatenate(outputs)


def load_numpy_network(keras_file: str | Path) -> NumpyNetwork:
    """The network of a `.keras` archive, or NotImplementedError naming what this runtime does not run."""
    import h5py

    with zipfile.ZipFile(keras_file) as archive:
        config = json.loads(archive.read("config.json"))
        weights_file = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
    if config.get("class_name") != "Functional":
        raise NotImplementedError(f"model class {config.get('class_name')}")
    layers = config["config"]["layers"]
    steps, previous = [], None
    with weights_file:
        for index, layer in enumerate(layers):
            inbound = layer.get("inbound_nodes") or []
            sources = [arg["config"]["keras_history"][0] for node in inbound for arg in node["args"]
                       if isinstance(arg, dict) and arg.get("class_name") == "__keras_tensor__"]
            if index and sources != [previous]:
                raise NotImplementedError(f"layer {layer['name']} is not fed by the one before it")
            previous = layer["config"]["name"]
            kind = layer["class_name"]
            if kind not in LAYERS:
                raise NotImplementedError(f"layer type {kind}")
            dtype = layer["config"].get("dtype", "float32")
            dtype = dtype["config"]["name"] if isinstance(dtype, dict) else dtype
            if dtype != "float32":
                raise NotImplementedError(f"layer {previous} computes in {dtype}")
            group = weights_file.get(f"layers/{_weights_key(layers, index)}/vars")
            weights = [np.asarray(group[str(i)], dtype=np.float32) for i in range(len(group))] if group else []
            step = LAYERS[kind](layer["config"], weights)
            if step is not None:
                steps.append(step)
    return NumpyNetwork(steps)


def _weights_key(layers: list[dict], index: int) -> str:
    """Keras 3 stores each layer's variables under its class name in snake case, numbered in order of appearance
    among layers of that class (`conv1d`, `conv1d_1`, …), whatever the layer's own name."""
    kind = layers[index]["class_name"]
    snake = re.sub("([a-z])([A-Z])", r"\1_\2", re.sub("(.)([A-Z][a-z]+)", r"\1_\2", kind)).lower()
    same = sum(1 for layer in layers[:index] if layer["class_name"] == kind)
    return snake if same == 0 else f"{snake}_{same}"
