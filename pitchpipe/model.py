"""Keras 3 models (backend-neutral: only keras layers and ops) for spectrogram → pitch."""

from __future__ import annotations

import keras
from keras import layers



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
    bins, frames = input_shape
    slices = 6
    inputs = keras.Input(shape=input_shape, name="spectrogram")
    x = layers.Normalization(axis=None, mean=mean, variance=variance, name="standardise")(inputs)
    x = layers.Reshape((bins, frames, 1))(x)
    x = layers.AveragePooling2D((1, frames // slices))(x)
    x = layers.Reshape((bins, slices))(x)
    x = layers.Dropout(0.1, name="input_dropout")(x)
    for filters, kernel in ((48, 9), (64, 7), (96, 5), (128, 3)):
        x = layers.Conv1D(filters, kernel, padding="same", activation="relu")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling1D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(512, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, output_layer(head, n_bins)(x), name="compact")


def harmonic(input_shape, head: str, n_bins: int, mean: float, variance: float, dropout: float = 0.25) -> keras.Model:
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
    for filters, kernel, dilation in ((32, 5, 1), (32, 5, 1), (32, 3, 10), (32, 3, 30), (32, 3, 60), (32, 5, 1)):
        # no batch normalisation: on a CPU it costs as much as the convolutions, and the inputs are in [0, 1]
        x = layers.Conv1D(filters, kernel, dilation_rate=dilation, padding="same", activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(1, 1, activation="sigmoid", dtype="float32")(x)
    return keras.Model(inputs, layers.Reshape((bins,), dtype="float32", name="pitch_bins")(x), name="harmonic")


def build(architecture: str, input_shape, head: str, n_bins: int, mean: float, variance: float,
          dropout: float) -> keras.Model:
    builder = {"compact": compact, "original": original, "harmonic": harmonic}[architecture]
    return builder(tuple(input_shape), head, n_bins, mean, variance, dropout)
