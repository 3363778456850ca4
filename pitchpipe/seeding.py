"""Random streams keyed by (global seed, purpose, item id): the same item gets the same numbers anywhere."""

from __future__ import annotations

import zlib

import numpy as np


def rng(seed: int, purpose: str, *ids: int) -> np.random.Generator:
    """Independent generator for one purpose and item, e.g. rng(seed, "gain", note_id, segment_index)."""
    return np.random.default_rng([seed, zlib.crc32(purpose.encode()), *[int(i) for i in ids]])
