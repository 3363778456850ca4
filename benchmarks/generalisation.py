"""The default model's accuracy targets (issue 8) against what the pipeline measured: one line per target.

    .venv/bin/python benchmarks/generalisation.py [--reports reports] [--loso loso] [--model models]

Reads the evaluate and leave-one-soundfont-out outputs of the last `dvc repro` and runs the model on a 1 s
440 Hz sine; exits 1 if any target is missed. Speed targets: benchmarks/model_speed.py and predict.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

CLEAN_CONDITIONS = ("clean", "clean + reverb")


def rpa(scores: dict, estimator: str = "model") -> float:
    return scores[estimator]["rpa_50c"]


def probe_rows(breakdown: dict) -> list[tuple[str, float, float]]:
    """(target, threshold, measured) for each voiced family at each noise level (its conditions pooled: white and
    pink noise, dry and in a room), and the unvoiced kinds."""
    rows = []
    for family, conditions in breakdown["family_condition"].items():
        for label, threshold, names in (
                ("clean", 0.99, CLEAN_CONDITIONS),
                ("20 dB", 0.99, [c for c in conditions if " 20 dB" in c]),
                ("10 dB", 0.97, [c for c in conditions if " 10 dB" in c])):
            counts = np.array([conditions[name]["model"]["count"] for name in names])
            pooled = np.dot(counts, [rpa(conditions[name]) for name in names]) / counts.sum()
            rows.append((f"probes {family}, {label}", threshold, float(pooled)))
    for kind, rates in breakdown["unvoiced"].items():
        rows.append((f"unvoiced probes {kind}: share reported unvoiced", 0.99, 1.0 - rates["model"]))
    return rows


def loso_rows(loso_dir: Path, reports_dir: Path) -> list[tuple[str, float, float]]:
    rows = []
    for font, scores in json.loads((reports_dir / "loso.json").read_text()).items():
        rows.append((f"{font} left out: RPA50", 0.97, rpa(scores)))
        octaves = json.loads((loso_dir / font / "breakdown.json").read_text())["octave"]
        lead = min(rpa(scores) - rpa(scores, "yin") for scores in octaves.values())
        rows.append((f"{font} left out: worst octave's lead over YIN (RPA50)", 0.0, lead))
    return rows


def sine_cents(model_dir: Path) -> float:
    from pitchpipe.sound.notes import cents_between
    from pitchpipe.inference.predict import estimate

    rate = 44100
    track = estimate(np.sin(2 * np.pi * 440.0 * np.arange(rate) / rate), rate, model=model_dir)
    return float(np.max(np.abs(cents_between(track.frequency, 440.0))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, default=Path("reports"))
    parser.add_argument("--loso", type=Path, default=Path("loso"))
    parser.add_argument("--model", type=Path, default=Path("models"))
    args = parser.parse_args()
    metrics = json.loads((args.reports / "metrics.json").read_text())
    breakdown = json.loads((args.reports / "breakdown.json").read_text())
    test = metrics["test"]["model"]
    rows = [("test split RPA50", 0.98, test["rpa_50c"])] + probe_rows(breakdown["probes"]) \
        + loso_rows(args.loso, args.reports)
    misses = [row for row in rows if not row[2] >= row[1]]
    worst_sine = sine_cents(args.model)
    width = max(len(row[0]) for row in rows)
    for name, threshold, measured in rows:
        print(f"{name:<{width}}  {measured:8.4f}  (target ≥ {threshold:g})  {'ok' if measured >= threshold else 'MISSED'}")
    median_ok, sine_ok = test["median_abs_cents"] <= 3.0, worst_sine <= 3.0
    print(f"{'test split median |error| (cents)':<{width}}  {test['median_abs_cents']:8.4f}  (target ≤ 3)  "
          f"{'ok' if median_ok else 'MISSED'}")
    print(f"{'1 s 440 Hz sine, worst window (cents)':<{width}}  {worst_sine:8.4f}  (target ≤ 3)  "
          f"{'ok' if sine_ok else 'MISSED'}")
    missed = len(misses) + (not median_ok) + (not sine_ok)
    print(f"{len(rows) + 2 - missed} of {len(rows) + 2} targets met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
