"""End to end: the whole DAG on a tiny configuration, then `pitchpipe predict` on real and broken files."""

import csv
import os
import shutil
import re
import json
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile

from conftest import make_project, run_cmd, write_params
from test_dvc_pipeline import ran_stages

from pitchpipe.data.probes import UNVOICED_KINDS
from pitchpipe.shards import read_array
from pitchpipe.sound.tones import HARMONIC_FAMILIES


def tiny_training(params):
    params["train"].update(epochs=2, batch_size=16)
    return params


@pytest.fixture(scope="module")
def trained_project(tmp_path_factory, default_params):
    from conftest import tiny_params

    params = tiny_training(tiny_params(default_params))
    project = make_project(tmp_path_factory.mktemp("model"), params)
    result = run_cmd(["dvc", "repro"], project)
    assert sorted(ran_stages(result.stdout)) == sorted(["check_params", "render", "prepare", "synthesize", "featurize", "probes", "train",
                                                        "evaluate", "loso", "learn_stft", "report", "phrases",
                                                        "melody_probes", "featurize_frames", "train_tracker",
                                                        "evaluate_tracker", "headline"])
    return project, params


def test_whole_dag_outputs_and_incremental_training_change(trained_project):
    project, params = trained_project
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert set(metrics) == {"test", "probes"}
    for folder in ("models", "tracker"):
        assert sorted(p.name for p in (project / folder).iterdir()) == ["model.json", "model.keras", "model.onnx"]
    for name in ("model", "yin", "fft_peak"):
        assert {"mae_hz", "median_abs_cents", "rpa_50c", "rpa_10c", "octave_error_rate", "count"} <= set(metrics["test"][name])
        assert metrics["test"][name]["count"] == metrics["test"]["model"]["count"] > 0
        assert {"worst_family_rpa_50c", "voiced_recall", "unvoiced_pitched_rate"} <= set(metrics["probes"][name])
        assert metrics["probes"][name]["count"] == len(HARMONIC_FAMILIES) * 10 * 15  # families × conditions × notes
    assert metrics["probes"]["fft_peak"]["unvoiced_pitched_rate"] == 1.0  # the FFT peak always answers
    assert metrics["probes"]["yin"]["rpa_50c"] > 0.85  # exact labels: a classical estimator gets most of them
    breakdown = json.loads((project / "reports/breakdown.json").read_text())
    assert set(breakdown["test"]) == {"segment", "family", "soundfont", "missing_fundamental", "octave"}
    assert set(breakdown["probes"]) == {"family", "condition", "octave", "family_condition", "unvoiced"}
    assert set(breakdown["probes"]["family"]) == set(HARMONIC_FAMILIES)
    assert set(breakdown["probes"]["unvoiced"]) == set(UNVOICED_KINDS)
    assert len(breakdown["probes"]["condition"]) == 10
    loso = json.loads((project / "reports/loso.json").read_text())
    assert list(loso) == ["FluidR3_GM", "TimGM6mb"]  # sorted keys; params list TimGM6mb first
    for font in ("TimGM6mb", "FluidR3_GM"):
        clips = pq.read_table(project / "reports/predictions.parquet").num_rows
        assert set(loso[font]) == {"model", "yin", "fft_peak"} and loso[font]["model"]["count"] > clips
        assert (project / f"loso/{font}/model").is_dir() and (project / f"loso/{font}/breakdown.json").is_file()
    by_note = json.loads((project / "reports/plots/error_by_note.json").read_text())
    assert sum(row["count"] for row in by_note) == metrics["test"]["model"]["count"]
    assert (project / "models/model.keras").is_file() and (project / "dvclive/metrics.json").is_file()
    page = (project / "reports/site/index.html").read_text()
    assert page.count("<svg") >= 6 and page.count("data:audio/wav;base64,") >= 1
    assert "Generalisation" in page and all(f"<h4>{family}</h4>" in page for family in HARMONIC_FAMILIES)
    assert "TimGM6mb left out of training" in page and "FluidR3_GM left out of training" in page
    assert "Learning the spectrogram" in page and "Hann-windowed sinusoid" in page
    import hashlib

    values = json.dumps(params, sort_keys=True, separators=(",", ":"))
    commit = run_cmd(["git", "log", "-1", "--format=%h"], project).stdout.strip()
    assert f"commit {commit} of " in page and f"params sha256 {hashlib.sha256(values.encode()).hexdigest()[:12]}" in page
    assert "note model: harmonic" in page and "tracker: tracker" in page and "note clips: train " in page
    assert "log magnitude at each pitch bin" in page and "× the bin" in page  # the harmonic input, labelled
    assert "peak −1 dBFS" in page and page.count(" dBFS</td>") >= 1  # worst clips: normalised, own level shown
    reliability = json.loads((project / "reports/plots/reliability_test.json").read_text())
    clips = metrics["test"]["model"]["count"]
    assert sum(row["count"] for row in reliability) == clips
    assert all(row["count"] >= 30 for row in reliability) if clips >= 30 else len(reliability) == 1
    learned = json.loads((project / "reports/learn_stft/metrics.json").read_text())
    assert learned["held_out"]["relative_error"] < 1e-5 and learned["kernel"]["decorrelation_max"] < 1e-9
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//""", page)
    assert ran_stages(run_cmd(["dvc", "repro"], project).stdout) == []
    params["train"]["learning_rate"] = 0.002
    write_params(params, project / "params.yaml")
    assert sorted(ran_stages(run_cmd(["dvc", "repro"], project).stdout)) == sorted(
        ["check_params", "train", "evaluate", "loso", "report", "headline"])
    params["featurize"]["stft"]["max_Hz"] = 4000  # a misspelt key: no stage reads it, and it must not pass unnoticed
    write_params(params, project / "params.yaml")
    failed = run_cmd(["dvc", "repro"], project, check=False)
    assert failed.returncode != 0
    assert "params.yaml: featurize.stft.max_Hz: unknown key (did you mean 'max_hz'?)" in failed.stdout + failed.stderr
    assert ran_stages(failed.stdout) == ["check_params"]
    features = {path: path.read_bytes() for path in sorted((project / "data/features").rglob("*.parquet"))}
    targeted = run_cmd(["dvc", "repro", "featurize"], project, check=False)  # one stage named: the check runs first
    assert targeted.returncode != 0 and "featurize.stft.max_Hz: unknown key" in targeted.stdout + targeted.stderr
    assert ran_stages(targeted.stdout) == ["check_params"]
    assert {path: path.read_bytes() for path in sorted((project / "data/features").rglob("*.parquet"))} == features
    del params["featurize"]["stft"]["max_Hz"]
    write_params(params, project / "params.yaml")
    shown = run_cmd(["dvc", "metrics", "show", "--json"], project)
    assert "rpa50" in shown.stdout


def test_predict_on_rendered_clip_and_on_bad_files(trained_project, tmp_path):
    project, _ = trained_project
    table = pq.read_table(sorted((project / "data/rendered").glob("*.parquet"))[0])
    pcm = read_array(table, "audio")[0]
    good = tmp_path / "note.wav"
    soundfile.write(good, pcm, 44100)  # stereo, 44.1 kHz, 1.5 s
    short = tmp_path / "short.flac"
    soundfile.write(short, pcm[:8000, 0], 44100)  # shorter than one window
    silent = tmp_path / "silent.ogg"
    soundfile.write(silent, np.zeros(16000), 16000)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 10)
    out = tmp_path / "pitch.csv"
    files = [good, tmp_path / "missing.wav", empty, short, corrupt, silent]
    result = subprocess.run([sys.executable, "-m", "pitchpipe.cli", "predict", *map(str, files), "--hop", "0.25",
                             "--model", str(project / "models"), "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 1
    for broken, why in (("missing.wav", "no such file"), ("empty.wav", "file is empty"), ("corrupt.wav", "cannot decode")):
        assert f"{broken}: {why}" in result.stderr
    assert f"{silent} is digitally silent" in result.stderr  # a warning, and its rows: all unvoiced
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["file", "time", "frequency", "confidence", "voiced", "note"]
    by_file = {}
    for row in rows:
        by_file.setdefault(row["file"], []).append(row)
    assert set(by_file) == {str(good), str(short), str(silent)}
    assert {row["voiced"] for row in by_file[str(silent)]} == {"0"}
    assert len(by_file[str(short)]) == 1
    assert [float(r["time"]) for r in by_file[str(good)]] == [0.165, 0.415, 0.665, 0.915, 1.165]  # window centres
    for row in rows:  # a pitch and a note exactly where the model says "voiced"
        assert 0 <= float(row["confidence"]) <= 1
        assert (row["voiced"] == "1") == (row["frequency"] != "") == (row["note"] != "")
        assert row["voiced"] == "0" or float(row["frequency"]) > 0


def test_predict_feeds_the_model_exactly_what_featurize_feeds_training(trained_project, tmp_path):
    from pitchpipe.data.featurize import FEATURE_COLUMN
    from pitchpipe.sound.streaming import audio_info, resampled_blocks, sliding_windows
    from pitchpipe.model.saved_model import load_pitch_model
    from pitchpipe.sound.spectrogram import features

    project, _ = trained_project
    model = load_pitch_model(project / "models")
    clip_shard = next(p for p in sorted((project / "data/clips/test").glob("*.parquet")) if pq.read_metadata(p).num_rows)
    clip = read_array(pq.read_table(clip_shard), "audio")[0]
    stored = read_array(pq.read_table(project / "data/features/test" / clip_shard.name), FEATURE_COLUMN)[0]
    path = tmp_path / "clip.wav"
    soundfile.write(path, clip, model.sample_rate, subtype="FLOAT")
    ((_, window),) = sliding_windows(resampled_blocks(audio_info(path), model.sample_rate), model.clip_samples,
                                     model.clip_samples, batch=1)
    assert window.shape == (1, model.clip_samples)
    np.testing.assert_array_equal(features(window, model.featurize)[0], stored)


def chromium_binary() -> str:
    """$PITCHPIPE_CHROMIUM, else Debian's chromium, else Ubuntu's chromium-browser (what scripts/setup installs)."""
    found = os.environ.get("PITCHPIPE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "no Chromium: run scripts/setup, or set PITCHPIPE_CHROMIUM to a Chrome/Chromium binary"
    return found


def test_report_renders_in_headless_chromium_offline(trained_project, tmp_path):
    project, _ = trained_project
    screenshot = tmp_path / "report.png"
    result = subprocess.run(
        [chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic", f"--user-data-dir={tmp_path / 'profile'}",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0",
         "--window-size=1200,3000", f"--screenshot={screenshot}", (project / "reports/site/index.html").as_uri()],
        capture_output=True, text=True, timeout=120)
    assert screenshot.is_file() and screenshot.stat().st_size > 20_000, result.stderr[-2000:]
    log = result.stderr
    assert "CONSOLE" not in log, log[-2000:]
    assert "ERR_NAME_NOT_RESOLVED" not in log and "net::ERR" not in log, log[-2000:]
