"""Keras 3 models (backend-neutral: only keras layers and ops) for spectrogram → pitch."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from pitchpipe.sound.spectrogram import stft_basis



def output_layer(head: str, n_bins: int):
    if head == "bins":
        return layers.Dense(n_bins, activation="sigmoid", dtype="float32", name="pitch_bins")
    return layers.Dense(1, dtype="float32", name=f"pitch_{head}")  # float32 even under mixed precision


def original(input_shape, head: str, n_bins: int, mean: float, variance: float, dropout: float = 0.25) -> keras.Model:
    """The original experiment's network: input dropout, Conv2D 64/128/128/256 each max-pooled, two dense layers."""
    inputs = keras.Input(shape=input_shape, name="spectrogram")
    x = layers.Normalization(axis=None, mean=mean, variance=variance, name="standardise")(inputs)
    x = layers.Reshape((*input_shape, 1))(x)
    x = layers.Dropout(0.2, name="input_dropout")(x)
    for filters in (64, 128, 128, 256):
        x = layers.Conv2D(filters, 3, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout(dropout)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(512, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(256, activation="relu")(x)
    return keras.Model(inputs, output_layer(head, n_bins)(x), name="original")


def compact(input_shape, head: str, n_bins: int, mean: float, variance: float, dropout: float = 0.25) -> keras.Model:
    """Our CPU-sized design: pool time to a few slices, then 1-D convolutions along frequency.

    Pitch barely moves within 0.33 s, so time is averaged to six slices (keeping onset vs. tail);
    frequency keeps full resolution in the first layers, where harmonic spacing carries the pitch.
    """
    inputs = keras.Input(shape=input_shape, name="spectrogram")
    x = layers.Normalization(axis=None, mean=mean, variance=variance, name="standardise")(inputs)
    return keras.Model(inputs, _compact_body(x, *input_shape, head, n_bins, dropout), name="compact")


def _compact_body(x, bins: int, frames: int, head: str, n_bins: int, dropout: float):
    """compact's layers after its input: a (bins, frames) spectrogram → the output head."""
    pool = max(1, frames // 6)
    x = layers.Reshape((bins, frames, 1))(x)
    x = layers.AveragePooling2D((1, pool))(x)
    x = layers.Reshape((bins, frames // pool))(x)
    x = layers.Dropout(0.1, name="input_dropout")(x)
    for filters, kernel in ((48, 9), (64, 7), (96, 5), (128, 3)):
        x = layers.Conv1D(filters, kernel, padding="same", activation="relu")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling1D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(512, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    return output_layer(head, n_bins)(x)


FRONTEND_WINDOW, FRONTEND_HOP, FRONTEND_BINS = 1024, 512, 257  # 64 ms Hann windows; 257 filters 31.25 Hz apart, 0–8 kHz
FRONTEND_FLOOR_DB = -80.0


def frontend(input_shape, head: str, n_bins: int, mean: float, variance: float, dropout: float = 0.25,
             first_layer: str = "fixed") -> keras.Model:
    """Raw audio in; the first layer is a strided 1-D convolution with the real and imaginary parts of a
    Hann-windowed DFT (`fixed`: frozen; `dft_init`: starts there and trains; `random`: starts from noise and
    trains), then log power relative to the clip's loudest bin (so gain does not matter), then the `compact`
    layers. The three differ only in how the first layer starts and whether it trains."""
    samples, _ = input_shape
    inputs = keras.Input(shape=input_shape, name="audio")
    basis = stft_basis(FRONTEND_WINDOW, 2 * (FRONTEND_BINS - 1))
    kernel = np.concatenate([basis.real, basis.imag], axis=1)[:, None, :].astype(np.float32)
    initializer = "glorot_uniform" if first_layer == "random" else keras.initializers.Constant(kernel)
    x = layers.Conv1D(2 * FRONTEND_BINS, FRONTEND_WINDOW, strides=FRONTEND_HOP, use_bias=False, name="frontend",
                      kernel_initializer=initializer, trainable=first_layer != "fixed")(inputs)
    power = keras.ops.square(x[..., :FRONTEND_BINS]) + keras.ops.square(x[..., FRONTEND_BINS:])
    decibels = 10.0 * keras.ops.log(power + 1e-12) / np.log(10.0)
    relative = decibels - keras.ops.max(decibels, axis=(1, 2), keepdims=True)
    x = keras.ops.clip(1.0 - relative / FRONTEND_FLOOR_DB, 0.0, 1.0)
    x = keras.ops.transpose(x, (0, 2, 1))  # (bins, frames), as compact reads a spectrogram
    frames = (samples - FRONTEND_WINDOW) // FRONTEND_HOP + 1
    return keras.Model(inputs, _compact_body(x, FRONTEND_BINS, frames, head, n_bins, dropout),
                       name=f"frontend_{first_layer}")


def reach_dilations(bins_per_semitone: int) -> tuple[int, int, int]:
    """Dilations that let a 3-tap layer reach ±2 semitones, ±6 semitones and an octave, whatever the bin width."""
    return 2 * bins_per_semitone, 6 * bins_per_semitone, 12 * bins_per_semitone


def harmonic(input_shape, head: str, n_bins: int, mean: float, variance: float, dropout: float = 0.25,
             bins_per_semitone: int = 5) -> keras.Model:
    """For the `harmonic` representation: convolutions along log-frequency only, so a pitch change is a shift of
    the input and of the output alike (equivariant), with one sigmoid per input bin saying "the pitch is here".

    Dilated layers reach ±2 semitones, ±6 semitones and ±1 octave, so each bin also sees the candidates a
    fifth or an octave away (the octave errors a local view cannot settle). The harmonic channels bring each
    candidate's partials to its own bin. Under 100 k weights: CPU-trainable in minutes.
    """
    bins, channels = input_shape
    if head != "bins" or n_bins != bins:
        raise ValueError(f"the harmonic architecture needs the bins head with one output per input bin "
                         f"(got head {head!r}, {n_bins} outputs for {bins} bins)")
    inputs = keras.Input(shape=input_shape, name="harmonic_spectrum")
    x = layers.Normalization(axis=None, mean=mean, variance=variance, name="standardise")(inputs)
    dilations = reach_dilations(bins_per_semitone)
    for filters, kernel, dilation in ((32, 5, 1), (32, 5, 1), *((32, 3, d) for d in dilations), (32, 5, 1)):
        # no batch normalisation: on a CPU it costs as much as the convolutions, and the inputs are in [0, 1]
        x = layers.Conv1D(filters, kernel, dilation_rate=dilation, padding="same", activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(1, 1, activation="sigmoid", dtype="float32")(x)
    return keras.Model(inputs, layers.Reshape((bins,), dtype="float32", name="pitch_bins")(x), name="harmonic")


def tracker(input_shape, head: str, n_bins: int, mean: float, variance: float, dropout: float = 0.1,
            bins_per_semitone: int = 3, filters: int = 16) -> keras.Model:
    """The frame model: the harmonic model's design on one frame's multi-resolution harmonic spectrum with its
    context frames as channels, narrower (it runs 100 times a second of audio). A 1×1 layer first mixes the
    harmonics and context frames of each bin, then convolutions along log-frequency only (equivariant), dilated
    to reach ±2 semitones, ±6 semitones and an octave; one sigmoid per bin."""
    bins, channels = input_shape
    if head != "bins" or n_bins != bins:
        raise ValueError(f"the tracker needs the bins head with one output per input bin (got {head!r}, {n_bins})")
    inputs = keras.Input(shape=input_shape, name="frames")
    x = layers.Normalization(axis=None, mean=mean, variance=variance, name="standardise")(inputs)
    dilations = reach_dilations(bins_per_semitone)
    for kernel, dilation in ((1, 1), (5, 1), *((3, d) for d in dilations), (5, 1)):
        x = layers.Conv1D(filters, kernel, dilation_rate=dilation, padding="same", activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(1, 1, activation="sigmoid", dtype="float32")(x)
    return keras.Model(inputs, layers.Reshape((bins,), dtype="float32", name="pitch_bins")(x), name="tracker")


def build(architecture: str, input_shape, head: str, n_bins: int, mean: float, variance: float,
          dropout: float, frontend_layer: str = "fixed", bins_per_semitone: int = 5, filters: int = 16
          ) -> keras.Model:
    if architecture == "frontend":
        return frontend(tuple(input_shape), head, n_bins, mean, variance, dropout, frontend_layer)
    if architecture == "harmonic":
        return harmonic(tuple(input_shape), head, n_bins, mean, variance, dropout, bins_per_semitone)
    if architecture == "tracker":
        return tracker(tuple(input_shape), head, n_bins, mean, variance, dropout, bins_per_semitone, filters)
    builder = {"compact": compact, "original": original}[architecture]
    return builder(tuple(input_shape), head, n_bins, mean, variance, dropout)
