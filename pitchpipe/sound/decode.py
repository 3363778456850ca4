"""From per-frame pitch activations (one sigmoid per log-frequency bin) to a pitch track.

Two decoders, as pYIN and torchcrepe offer: `weighted`, each frame alone (the activation-weighted average of
the bins around its peak, voiced where the peak reaches a threshold); and `viterbi`, the most likely path
through voiced states (one per bin) and an unvoiced state, where the pitch moves smoothly from frame to frame
unless it pays for a leap, and voicing changes cost something too. The path's bin is then refined by the same
local weighted average, so both give sub-bin pitches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPSILON = 1e-6


@dataclass(frozen=True)
class Decoder:
    """How activations become a track; the default is chosen on the validation phrases (saved with the model)."""

    method: str = "viterbi"  # viterbi | weighted
    threshold: float = 0.5  # a frame alone is voiced where its peak activation reaches this
    sigma_semitones: float = 0.5  # viterbi: spread of a frame-to-frame pitch move
    reach_semitones: float = 2.0  # viterbi: the largest smooth move per frame; beyond it a move is a leap
    leap_penalty: float = 8.0  # viterbi: nats for a leap (a legato change of note)
    switch_penalty: float = 3.0  # viterbi: nats for a change between voiced and unvoiced
    radius_bins: int = 4  # bins either side of the peak (or path) in the weighted average

    def __post_init__(self):
        if self.method not in ("viterbi", "weighted"):
            raise ValueError(f"decoder must be viterbi or weighted, got {self.method!r}")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"voicing threshold must be between 0 and 1, got {self.threshold}")


def refine(activations: np.ndarray, centres: np.ndarray, peak: np.ndarray, radius: int) -> np.ndarray:
    """MIDI pitch of each frame: the activation-weighted mean of the bin centres within ±radius of `peak`."""
    offsets = np.arange(-radius, radius + 1)
    wanted = peak[:, None] + offsets[None, :]
    index = np.clip(wanted, 0, activations.shape[1] - 1)
    weights = np.where(wanted == index, np.take_along_axis(activations, index, axis=1), 0.0)
    return (weights * centres[index]).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-12)


def viterbi_path(activations: np.ndarray, bins_per_semitone: int, decoder: Decoder) -> np.ndarray:
    """The most likely state of each frame: a bin index, or −1 for unvoiced. Emissions: log a for the voiced
    state of bin b and log(1 − max a) for the unvoiced one, each relative to its value at `threshold`, so a lone
    frame is voiced where its peak reaches the threshold, as with the weighted decoder."""
    frames, bins = activations.shape
    if frames == 0:
        return np.zeros(0, dtype=int)
    a = np.clip(activations.astype(np.float64), EPSILON, 1.0 - EPSILON)
    voiced_emission = np.log(a) - np.log(decoder.threshold)
    unvoiced_emission = np.log(1.0 - a.max(axis=1)) - np.log(1.0 - decoder.threshold)
    reach = max(1, int(round(decoder.reach_semitones * bins_per_semitone)))
    shifts = np.arange(-reach, reach + 1)
    move_cost = 0.5 * np.square(shifts / (decoder.sigma_semitones * bins_per_semitone))
    padded = np.full(bins + 2 * reach, -np.inf)
    back_voiced = np.empty((frames, bins), dtype=np.int32)  # predecessor bin, or −1 (unvoiced)
    back_unvoiced = np.empty(frames, dtype=np.int32)
    score, silent = voiced_emission[0] - decoder.switch_penalty, unvoiced_emission[0]
    window = np.lib.stride_tricks.sliding_window_view
    columns = np.arange(bins)
    for t in range(1, frames):
        padded[reach:reach + bins] = score
        candidates = window(padded, 2 * reach + 1)[:, ::-1] - move_cost  # candidates[b, k]: from b − shifts[k]
        best_shift = candidates.argmax(axis=1)
        smooth = candidates[columns, best_shift]
        source = columns - shifts[best_shift]
        top = int(score.argmax())
        leap = score[top] - decoder.leap_penalty
        enter = silent - decoder.switch_penalty
        best = np.maximum(smooth, max(leap, enter))
        back_voiced[t] = np.where(smooth >= best, source, top if leap >= enter else -1)
        stay, leave = silent, score[top] - decoder.switch_penalty
        back_unvoiced[t] = -1 if stay >= leave else top
        score, silent = best + voiced_emission[t], max(stay, leave) + unvoiced_emission[t]
    path = np.empty(frames, dtype=int)
    state = -1 if silent >= score.max() else int(score.argmax())
    for t in range(frames - 1, -1, -1):
        path[t] = state
        if t:
            state = int(back_unvoiced[t]) if state < 0 else int(back_voiced[t, state])
    return path


def decode(activations: np.ndarray, centres: np.ndarray, bins_per_semitone: int, decoder: Decoder
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(MIDI pitch, confidence = peak activation, voiced) of every frame. The pitch is given on unvoiced
    frames too (the best guess, as mir_eval scores raw pitch accuracy)."""
    activations = np.atleast_2d(activations)
    confidence = activations.max(axis=1) if activations.size else np.zeros(len(activations))
    peak = activations.argmax(axis=1) if activations.size else np.zeros(0, dtype=int)
    if decoder.method == "weighted":
        return refine(activations, centres, peak, decoder.radius_bins), confidence, confidence >= decoder.threshold
    path = viterbi_path(activations, bins_per_semitone, decoder)
    voiced = path >= 0
    return refine(activations, centres, np.where(voiced, path, peak), decoder.radius_bins), confidence, voiced
