"""The report's tracker section: frame scores beside YIN and pYIN, and a few test melodies tracked over the
tracker's own view of them (each bin's fundamental channel), against the truth."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from pitchpipe.frame_metrics import load_phrases
from pitchpipe.notes import hz_to_midi
from pitchpipe.plots import figure as _figure, svg as _svg, table as _table
from pitchpipe.tracking import load_tracker

TRACK_COLUMNS = ("rpa", "rca", "oa", "voicing_recall", "voicing_false_alarm", "median_abs_cents", "rpa_near_change",
                 "rpa_vibrato", "rpa_glide")
EXAMPLES = 3


def scores_table(breakdown: dict) -> str:
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
    return _table(["set", "estimator", *TRACK_COLUMNS], rows)


def track_plot(model, audio: np.ndarray, truth: np.ndarray, title: str) -> str:
    track = model.track(iter([audio.astype(np.float64)]), with_spectrum=True)
    figure, axis = _figure(8.0, 2.6)
    step = model.centres[1] - model.centres[0]
    edges = np.append(model.centres - step / 2, model.centres[-1] + step / 2)
    times = np.append(track.times, track.times[-1] + track.times[1]) if len(track.times) > 1 else np.array([0, 0.01])
    axis.pcolormesh(times, edges, track.spectrum.T, cmap="magma", shading="flat", rasterized=True)
    truth_midi = np.where(truth > 0, hz_to_midi(np.where(truth > 0, truth, 1.0)), np.nan)
    frames = min(len(truth_midi), len(track.times))
    axis.plot(track.times[:frames], truth_midi[:frames], color="white", linewidth=3, label="truth")
    axis.plot(track.times, np.where(track.voiced, track.midi, np.nan), color="#5ce1e6", linewidth=1.2,
              label="tracker")
    voiced = truth_midi[np.isfinite(truth_midi)]
    if len(voiced):
        axis.set_ylim(voiced.min() - 7, voiced.max() + 7)
    axis.set(xlabel="time (s)", ylabel="MIDI pitch", title=title)
    axis.legend(loc="upper right", fontsize=8)
    return _svg(figure)


def tracker_section(reports_dir: Path, tracker_dir: Path, phrases_dir: Path) -> str:
    breakdown = json.loads((reports_dir / "tracker/breakdown.json").read_text())
    model = load_tracker(tracker_dir)
    phrases = load_phrases(phrases_dir)
    picks = []
    for wanted in ("synthetic", "FluidR3_GM", "TimGM6mb"):
        picks += [i for i, source in enumerate(phrases.source) if source == wanted][:1]
    plots = [track_plot(model, phrases.audio[i], phrases.f0_hz[i], f"test phrase {i} ({phrases.source[i]})")
             for i in picks[:EXAMPLES]]
    chosen = html.escape(json.dumps(model.decoder.__dict__))
    return (f"<h2>The frame tracker: a pitch every {1000 * model.frames.hop / model.sample_rate:.0f} ms</h2>"
            f"<p>mir_eval's melody metrics, frames pooled over each set; YIN and pYIN run on the first phrases of each "
            f"set (the tracker's score on those same phrases is beside them). Decoder chosen on validation: "
            f"<code>{chosen}</code>.</p>{scores_table(breakdown)}"
            f"<h3>Test melodies over the tracker's view (each bin's fundamental channel)</h3>{''.join(plots)}")
