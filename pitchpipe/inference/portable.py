"""The saved tracker up to its decoder as one ONNX graph, for runtimes without Python (`pitchpipe export`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pitchpipe.model.saved_model import ONNX_FILE, load_meta
from pitchpipe.model.tracking import frames_config_from
from pitchpipe.sound.frames_onnx import frontend_graph


def tracker_to_onnx(model_dir: str | Path):
    """The saved tracker up to its decoder as one ONNX graph: `audio` (samples,) float32 mono at the model's rate
    → `activations` (frames, bins), its front end (`frames_onnx`) feeding its network, and frames whose input is
    all zeros (silence) set to zero, as `TrackerModel.activations` does. What a runtime without Python needs, with
    model.json's bins and decoder settings, to track pitch."""
    import onnx
    from onnx import compose, helper

    meta = load_meta(model_dir, "tracker", "train_tracker")
    network = compose.add_prefix(onnx.load(Path(model_dir) / ONNX_FILE), "network/")
    frontend = frontend_graph(frames_config_from(meta))
    frontend.ir_version = network.ir_version
    joined = compose.merge_models(frontend, network, io_map=[("inputs", "network/inputs")])
    graph = joined.graph
    graph.node.extend([
        helper.make_node("ReduceMax", ["inputs"], ["loudest_input"], axes=[1, 2], keepdims=1),
        helper.make_node("Squeeze", ["loudest_input", "squeeze_axis"], ["loudest_frame"]),
        helper.make_node("Greater", ["loudest_frame", "zero"], ["sounding"]),  # (frames, 1)
        helper.make_node("Where", ["sounding", "network/outputs", "zero"], ["activations"]),
    ])
    graph.initializer.extend([onnx.numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
                              onnx.numpy_helper.from_array(np.array([2], np.int64), "squeeze_axis")])
    output = graph.output[0]
    output.name = "activations"
    return joined
