"""Throughput and peak memory of render, prepare and featurize, and the render stage against the original's
approach (one `fluidsynth` process per MIDI file, one `sox` process per clip), side by side, one core each.

    .venv/bin/python benchmarks/data_stages.py [--notes 120]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def run_stage(script: str, params: Path, cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one stage run with a single worker."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(ROOT / "stages" / script), "--params", str(params), "--workers", "1"],
                               cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)  # this child's own peak, not the largest of all children so far
    elapsed = time.perf_counter() - start
    if status:
        raise SystemExit(process.stderr.read().decode())
    return elapsed, usage.ru_maxrss / 1024


def original_render(params: dict, notes, work: Path) -> float:
    """The original pipeline: fluidsynth CLI renders each MIDI file to WAV, sox cuts and resamples each clip."""
    from pitchpipe.sound.midi import note_midi_bytes

    render, prepare = params["render"], params["prepare"]
    clip_seconds = prepare["clip_samples"] / prepare["sample_rate"]
    starts = {"attack": 0.0, "sustain": max(clip_seconds, (render["note_seconds"] - clip_seconds) / 2),
              "decay": render["note_seconds"]}
    start = time.perf_counter()
    for note in notes:
        midi = work / f"{note.note_id}.mid"
        wav = work / f"{note.note_id}.wav"
        midi.write_bytes(note_midi_bytes(note.program, note.midi_note, note.velocity, render["note_seconds"], note.bend,
                                         render["bend_range_semitones"]))
        subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.5", "-R", "0", "-C", "0", "-r", str(render["sample_rate"]),
                        "-F", str(wav), note.soundfont, str(midi)], check=True, capture_output=True)
        for name, offset in starts.items():
            subprocess.run(["sox", str(wav), "-r", str(prepare["sample_rate"]), "-c", "1",
                            str(work / f"{note.note_id}-{name}.wav"), "trim", str(offset), str(clip_seconds), "norm"],
                           check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notes", type=int, default=120, help="notes to render (default 120)")
    args = parser.parse_args()
    import pyarrow.parquet as pq

    from pitchpipe.config import render_config
    from pitchpipe.data.render import plan_notes

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["render"]["detunes_per_note"] = 1  # the default plan with one detune: 1,080 notes for our stages
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        path = work / "params.yaml"
        path.write_text(yaml.safe_dump(params))
        notes = plan_notes(render_config(params))
        notes = notes[::max(1, len(notes) // args.notes)][:args.notes]  # an even spread of them for the original
        render_seconds, render_peak = run_stage("render.py", path, work)
        rendered = sum(1 for _ in (work / "data/rendered").glob("*.parquet"))
        n_notes = sum(pq.read_metadata(p).num_rows for p in (work / "data/rendered").glob("*.parquet"))
        prepare_seconds, prepare_peak = run_stage("prepare.py", path, work)
        n_clips = sum(pq.read_metadata(p).num_rows for p in (work / "data/clips").rglob("*.parquet"))
        featurize_seconds, featurize_peak = run_stage("featurize.py", path, work)
        original_dir = work / "original"
        original_dir.mkdir()
        original_seconds = original_render(params, notes, original_dir)
        shutil.rmtree(original_dir)
    ours_per_clip = (render_seconds + prepare_seconds) / n_clips
    original_per_clip = original_seconds / (3 * len(notes))
    print(f"render:    {n_notes} notes in {render_seconds:.2f} s = {n_notes / render_seconds:.0f} notes/s "
          f"({3 * n_notes / render_seconds:.0f} clips/s), {rendered} shards, peak RSS {render_peak:.0f} MiB")
    print(f"prepare:   {n_clips} clips in {prepare_seconds:.2f} s = {n_clips / prepare_seconds:.0f} clips/s, peak RSS {prepare_peak:.0f} MiB")
    print(f"featurize: {n_clips} clips in {featurize_seconds:.2f} s = {n_clips / featurize_seconds:.0f} clips/s, peak RSS {featurize_peak:.0f} MiB")
    print(f"original (fluidsynth + sox processes): {3 * len(notes)} clips in {original_seconds:.2f} s = "
          f"{3 * len(notes) / original_seconds:.1f} clips/s")
    print(f"render+prepare vs original, per core: {original_per_clip / ours_per_clip:.1f}x the throughput")
    print(f"render alone vs original render+cut, per core: {original_per_clip / (render_seconds / (3 * n_notes)):.1f}x")


if __name__ == "__main__":
    main()
