"""The one-screen summary `dvc metrics show` prints: the note model beside YIN, each left-out soundfont, the
learned transform and the frame tracker. The full scores stay in the stages' own JSON files."""

from __future__ import annotations

import json
import math
from pathlib import Path

from pitchpipe.errors import DataError
from pitchpipe.scores.metrics import write_json


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"{path}: missing; run the stage that writes it (`dvc repro`)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not valid JSON ({error}); rebuild it with `dvc repro -f`") from None


def _key(path: Path, scores: dict, *names: str):
    value = scores
    for name in names:
        if not isinstance(value, dict) or name not in value:
            raise DataError(f"{path}: no {'.'.join(names)!r}; rebuild it with `dvc repro -f`")
        value = value[name]
    return value


def error_db(relative_error: float) -> float:
    """A relative error as dB below the signal (−∞ for an exact match, printed as −400): 2e-7 reads −134, not 0.0."""
    return 20 * math.log10(relative_error) if relative_error > 0 else -400.0


def headline(evaluation: Path, loso: Path, learn_stft: Path, tracker: Path) -> dict:
    """About a dozen numbers under short flat names, so `dvc metrics show` prints one row that fits a wide
    terminal: accuracies (RPA within 50 cents) with 3 decimals, median errors in cents, the transform's in dB."""
    notes, held_out, transform, frames = (_read(p) for p in (evaluation, loso, learn_stft, tracker))
    summary = {
        "rpa50": _key(evaluation, notes, "test", "model", "rpa_50c"),
        "cents": _key(evaluation, notes, "test", "model", "median_abs_cents"),
        "yin_rpa50": _key(evaluation, notes, "test", "yin", "rpa_50c"),
        "yin_cents": _key(evaluation, notes, "test", "yin", "median_abs_cents"),
        "probe_rpa50": _key(evaluation, notes, "probes", "model", "rpa_50c"),
        "probe_cents": _key(evaluation, notes, "probes", "model", "median_abs_cents")}
    for font in held_out:
        summary[f"{font}_rpa50"] = _key(loso, held_out, font, "model", "rpa_50c")
        summary[f"{font}_cents"] = _key(loso, held_out, font, "model", "median_abs_cents")
    summary["stft_db"] = error_db(_key(learn_stft, transform, "held_out", "relative_error"))
    summary["track_rpa"] = _key(tracker, frames, "test_tracker", "rpa")
    summary["track_oa"] = _key(tracker, frames, "test_tracker", "oa")
    summary["track_fa"] = _key(tracker, frames, "test_tracker", "voicing_false_alarm")
    return {name: _short(value) for name, value in summary.items()}


def _short(value: float | None) -> float | None:
    """Three decimals below 10 (accuracies, cents), one above (dB): short columns. None (a NaN score) stays None."""
    return None if value is None else round(float(value), 3 if abs(value) < 10 else 1)


def write_headline(evaluation: Path, loso: Path, learn_stft: Path, tracker: Path, out: Path) -> dict:
    summary = headline(evaluation, loso, learn_stft, tracker)
    write_json(out, summary)
    return summary
