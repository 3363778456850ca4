"""The report's tracker section: frame scores beside YIN and pYIN, and a few test melodies tracked over the
tracker's own view of them, against the truth."""

from __future__ import annotations

import json
from pathlib import Path

from markupsafe import Markup

from pitchpipe.scores.frame_metrics import load_phrases
from pitchpipe.evaluation.report_plots import track_plot
from pitchpipe.model.tracking import load_tracker

TRACK_COLUMNS = ("rpa", "rca", "oa", "voicing_recall", "voicing_false_alarm", "median_abs_cents", "rpa_near_change",
                 "rpa_vibrato", "rpa_glide")
EXAMPLES = 3


def scores_table(breakdown: dict) -> tuple[list, list]:
    rows = []
    for name, label in (("test", "melody test split"), ("test_soundfont", "· soundfont phrases"),
                        ("test_synthetic", "· synthetic phrases"), ("probes", "melody probes")):
        if name not in breakdown:
            continue
        for who, scores in (("tracker", breakdown[name]["tracker"]),
                            ("tracker, baseline phrases", breakdown[name].get("tracker_on_baseline_phrases")),
                            ("YIN", breakdown[name].get("yin")), ("pYIN", breakdown[name].get("pyin"))):
            if scores:
                rows.append([label, who, *["" if scores.get(k) is None else f"{scores[k]:.3f}" for k in TRACK_COLUMNS]])
    return ["set", "estimator", *TRACK_COLUMNS], rows


def tracker_context(reports_dir: Path, tracker_dir: Path, phrases_dir: Path) -> dict:
    breakdown = json.loads((reports_dir / "tracker/breakdown.json").read_text())
    model = load_tracker(tracker_dir)
    phrases = load_phrases(phrases_dir)
    picks = []
    for wanted in ("synthetic", "FluidR3_GM", "TimGM6mb"):
        picks += [i for i, source in enumerate(phrases.source) if source == wanted][:1]
    return {"hop_ms": f"{1000 * model.frames.hop / model.sample_rate:.0f}",
            "decoder": json.dumps(model.decoder.__dict__),
            "scores": scores_table(breakdown),
            "plots": [Markup(track_plot(model, phrases.audio[i], phrases.f0_hz[i], f"test phrase {i} ({phrases.source[i]})"))
                      for i in picks[:EXAMPLES]]}
