"""The frame tracker's accuracy targets against the evaluate_tracker stage's outputs, met or missed, beside pYIN.

    .venv/bin/python benchmarks/tracker_targets.py [--breakdown reports/tracker/breakdown.json]

Targets (issue "Pitch every 10 ms"): on the melody test split and the melody probes, RPA ≥ 0.99, OA ≥ 0.985,
voicing false alarm ≤ 0.02, RPA near note changes ≥ 0.975, in glides ≥ 0.98, under vibrato ≥ 0.98; and ahead of
the project's pYIN on the same phrases.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

TARGETS = (("rpa", ">=", 0.99), ("oa", ">=", 0.985), ("voicing_false_alarm", "<=", 0.02),
           ("rpa_near_change", ">=", 0.975), ("rpa_glide", ">=", 0.98), ("rpa_vibrato", ">=", 0.98))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--breakdown", type=Path, default=Path("reports/tracker/breakdown.json"))
    args = parser.parse_args()
    report = json.loads(args.breakdown.read_text())
    met = total = 0
    for name in ("test", "test_soundfont", "test_synthetic", "probes"):
        if name not in report:
            continue
        scores = report[name]["tracker"]
        same = report[name].get("tracker_on_baseline_phrases", {})
        pyin = report[name].get("pyin", {})
        print(f"{name} ({report[name].get('phrases', '?')} phrases, {scores['frames']} frames)")
        for key, sense, target in TARGETS:
            value = scores.get(key)
            ok = value is not None and (value >= target if sense == ">=" else value <= target)
            met, total = met + ok, total + 1
            beside = f"   same phrases: tracker {same[key]:.4f}, pYIN {pyin[key]:.4f}" if key in pyin and key in same \
                and same[key] is not None and pyin[key] is not None else ""
            shown = "n/a" if value is None else f"{value:.4f}"
            print(f"  {key:22s} {shown:>8s} {sense} {target:<6} {'met' if ok else 'MISSED'}{beside}")
    clips = report.get("note_clips")
    if clips:
        print(f"note test split, one pitch per clip: RPA50 {clips['rpa_50c']:.4f}, median {clips['median_abs_cents']:.2f} c "
              f"({clips['clips']} clips)")
    print(f"{met} of {total} targets met")


if __name__ == "__main__":
    main()
