"""The tracker's front end (`FrameAnalysis` and `with_context`) as an ONNX graph: audio in, the network's input out.

With it a page (onnxruntime-web) or any ONNX runtime computes exactly what `model_input` computes, from the
same config, with no code of its own to keep in step: each step below is the numpy one written in ONNX ops.
The decimation is `resample_poly`'s own filter applied as a strided convolution; the spectrum is ONNX's DFT of
the mean-removed Hann-windowed frames; the harmonic sampling gathers the same FFT bins and bands. Equal to
`model_input` up to float32 rounding: a value may round to the neighbouring float16 step (0.25% of them on a
test melody, tested under 1%).

Input `audio`: float32 (samples,) mono at the config's sample rate, the whole signal (frames centred at 0, hop,
…, as in `frame_count`). Output `inputs`: float32 (frames, bins, harmonics × len(context)), already rounded
through the config's storage dtype as the tracker rounds it.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import firwin, get_window

from pitchpipe.config import FramesConfig
from pitchpipe.sound.frames import FLOOR_DB, LOG_FLOOR, FrameAnalysis, RangeMaxSampling

OPSET = 17  # the first with DFT
INT64_MAX = np.iinfo(np.int64).max


class _Graph:
    """A little builder: named constants and nodes, each helper returning its output's name."""

    def __init__(self):
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes, self.constants, self.count = [], [], 0

    def const(self, value, dtype=np.float32) -> str:
        name = f"c{len(self.constants)}"
        self.constants.append(self.numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, kind: str, *inputs: str, **attributes) -> str:
        self.count += 1
        output = f"{kind.lower()}_{self.count}"
        self.nodes.append(self.helper.make_node(kind, list(inputs), [output], name=output, **attributes))
        return output


def decimation(down: int) -> tuple[np.ndarray, int, int]:
    """(taps for a correlation, left padding, right padding) that give `resample_poly(x, 1, down)` (before its
    trim to ceil(len / down) samples) as a convolution of the padded signal with stride `down`."""
    half_len = 10 * down
    h = firwin(2 * half_len + 1, 1.0 / down, window=("kaiser", 5.0))
    pre_pad = down - half_len % down
    h = np.concatenate([np.zeros(pre_pad), h])
    first_kept = (half_len + pre_pad) // down * down  # resample_poly's first output: the full convolution there
    left = len(h) - 1 - first_kept
    return h[::-1].copy(), left, max(0, len(h) - 1 - left)


def frontend_graph(config: FramesConfig):
    """The ONNX ModelProto of the front end for `config` (see the module's docstring)."""
    from onnx import TensorProto, helper

    analysis = FrameAnalysis(config)
    g = _Graph()
    audio = "audio"
    length = g.op("Shape", audio)  # (1,) int64
    n_frames = g.op("Add", g.op("Div", length, g.const([config.hop], np.int64)), g.const([1], np.int64))
    frame_index = g.op("Range", g.const(0, np.int64), g.op("Squeeze", n_frames, g.const([0], np.int64)),
                       g.const(1, np.int64))
    window = g.const(get_window("hann", config.window))
    half = config.window // 2
    levels, loudest = [], None
    for level, (served, sampling) in enumerate(zip(analysis.levels, analysis.samplings)):
        if sampling is None:
            continue
        factor = 2 ** level
        signal = audio
        if factor > 1:  # resample_poly(audio, 1, factor), trimmed to ceil(len / factor)
            taps, left, right = decimation(factor)
            padded = g.op("Pad", g.op("Unsqueeze", audio, g.const([0, 1], np.int64)),
                          g.const([0, 0, left, 0, 0, right], np.int64))
            convolved = g.op("Conv", padded, g.const(taps[None, None, :]), strides=[factor])
            kept = g.op("Div", g.op("Add", length, g.const([factor - 1], np.int64)), g.const([factor], np.int64))
            signal = g.op("Slice", g.op("Squeeze", convolved, g.const([0, 1], np.int64)), g.const([0], np.int64),
                          kept, g.const([0], np.int64))
        padded = g.op("Pad", signal, g.const([half, half + config.window], np.int64))
        starts = g.op("Mul", frame_index, g.const(config.hop // factor, np.int64))
        indices = g.op("Add", g.op("Unsqueeze", starts, g.const([1], np.int64)),
                       g.const(np.arange(config.window)[None, :], np.int64))
        frames = g.op("Gather", padded, indices)  # (frames, window)
        centred = g.op("Sub", frames, g.op("ReduceMean", frames, axes=[1], keepdims=1))
        windowed = g.op("Unsqueeze", g.op("Mul", centred, window), g.const([2], np.int64))
        spectrum = g.op("DFT", windowed, g.const(analysis.nfft, np.int64), onesided=1, axis=1)  # (frames, bins, 2)
        magnitude = g.op("Sqrt", g.op("ReduceSum", g.op("Mul", spectrum, spectrum), g.const([2], np.int64),
                                      keepdims=0))
        decibels = g.op("Mul", g.op("Log", g.op("Max", magnitude, g.const(LOG_FLOOR))),
                        g.const(20.0 / np.log(10.0)))
        peak = g.op("ReduceMax", decibels, axes=[1], keepdims=0)
        loudest = peak if loudest is None else g.op("Max", loudest, peak)
        levels.append((served, _sampled(g, decibels, sampling, len(served), len(config.harmonics))))
    order = np.concatenate([served for served, _ in levels])
    joined = g.op("Concat", *[values for _, values in levels], axis=1)
    decibels = g.op("Gather", joined, g.const(np.argsort(order), np.int64), axis=1)  # (frames, bins, harmonics)
    # the loudest partial within ±reference_seconds (scipy's maximum_filter1d; MaxPool's padding never wins)
    reach = analysis.reference_frames // 2
    pooled = g.op("MaxPool", g.op("Unsqueeze", loudest, g.const([0, 1], np.int64)),
                  kernel_shape=[analysis.reference_frames], pads=[reach, reach])
    reference = g.op("Squeeze", pooled, g.const([0, 1], np.int64))
    relative = g.op("Sub", decibels, g.op("Unsqueeze", reference, g.const([1, 2], np.int64)))
    values = g.op("Clip", g.op("Sub", g.const(1.0), g.op("Div", relative, g.const(config.floor_db))),
                  g.const(0.0), g.const(1.0))
    audible = g.op("Unsqueeze", g.op("Cast", g.op("GreaterOrEqual", reference, g.const(analysis.silence_db)),
                                     to=TensorProto.FLOAT), g.const([1, 2], np.int64))
    features = g.op("Mul", values, audible)
    # the frames at each context offset, zeros beyond the ends, offset-major along the last axis
    margin = max(abs(offset) for offset in config.context)
    padded = g.op("Pad", features, g.const([margin, 0, 0, margin, 0, 0], np.int64))
    shifted = [g.op("Slice", padded, g.const([margin + offset], np.int64),
                    g.const([offset - margin if offset < margin else INT64_MAX], np.int64), g.const([0], np.int64))
               for offset in config.context]
    stacked = g.op("Concat", *shifted, axis=2)
    storage = {"float16": TensorProto.FLOAT16, "float32": TensorProto.FLOAT}[config.dtype]
    g.nodes.append(helper.make_node("Cast", [g.op("Cast", stacked, to=storage)], ["inputs"], to=TensorProto.FLOAT))
    n_bins, channels = len(analysis.bins), len(config.harmonics) * len(config.context)
    graph = helper.make_graph(g.nodes, "pitchpipe_frontend",
                              [helper.make_tensor_value_info("audio", TensorProto.FLOAT, ["samples"])],
                              [helper.make_tensor_value_info("inputs", TensorProto.FLOAT, ["frames", n_bins, channels])],
                              g.constants)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="pitchpipe")


def _sampled(g: _Graph, decibels: str, sampling: RangeMaxSampling, n_served: int, n_harmonics: int) -> str:
    """(frames, served, harmonics) dB of one level: the point-or-band value of each (bin, harmonic), FLOOR_DB above
    the band limit, as `RangeMaxSampling.apply` then `np.maximum(…, FLOOR_DB)` compute it."""
    lower, fraction = sampling.lower, sampling.fraction.astype(np.float32)
    low = g.op("Gather", decibels, g.const(lower, np.int64), axis=1)
    high = g.op("Gather", decibels, g.const(lower + 1, np.int64), axis=1)
    point = g.op("Add", low, g.op("Mul", g.op("Sub", high, low), g.const(fraction)))
    first, stop = sampling.left, sampling.right + 2 ** sampling.run  # each band is [first, stop)
    width = int((stop - first).max())
    band_index = np.minimum(first[:, None] + np.arange(width)[None, :], stop[:, None] - 1)  # repeats the last bin
    band = g.op("ReduceMax", g.op("Gather", decibels, g.const(band_index, np.int64), axis=1), axes=[2], keepdims=0)
    values = g.op("Where", g.const(sampling.banded, np.bool_), g.op("Max", point, band), point)
    values = g.op("Where", g.const(sampling.inside, np.bool_), g.op("Max", values, g.const(FLOOR_DB)),
                  g.const(FLOOR_DB))
    return g.op("Reshape", values, g.const([0, n_served, n_harmonics], np.int64))
