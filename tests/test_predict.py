"""`pitchpipe predict` and its library: the ONNX network against Keras, streaming against whole-file processing,
batching across files, the output formats and options, and every kind of bad input."""

import csv
import io
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
from scipy.signal import resample_poly

from pitchpipe.config import featurize_config
from pitchpipe.inference.predict import PitchTrack, Tracker, TrackOptions, estimate, file_source, smooth_track
from pitchpipe.model.saved_model import PitchCodec, load_pitch_model, save_pitch_model
from pitchpipe.sound.spectrogram import feature_axes
from pitchpipe.sound.streaming import AudioError, Resampler, audio_info, resampled_blocks, sliding_windows

CLIP = 5280


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, default_params):
    """A harmonic model with random weights, saved as training saves one: the format, not the accuracy."""
    import keras

    from pitchpipe.model.model import build

    keras.utils.set_random_seed(3)
    featurize = featurize_config(default_params)
    bins, harmonics = feature_axes(CLIP, featurize)
    model = build("harmonic", (len(bins), harmonics), "bins", len(bins), 0.27, 0.07, 0.25)
    codec = PitchCodec("bins", featurize.midi_low, featurize.midi_high, 100.0 / featurize.bins_per_semitone, 25.0)
    meta = {"codec": codec.to_json(), "featurize": json.loads(json.dumps(featurize.model_dump())),
            "input_shape": [len(bins), harmonics], "clip_samples": CLIP, "architecture": "harmonic"}
    folder = tmp_path_factory.mktemp("model")
    save_pitch_model(model, meta, folder)
    return folder


def tone(seconds, f0, rate, channels=1):
    t = np.arange(round(seconds * rate)) / rate
    mono = 0.4 * np.sin(2 * np.pi * f0 * t) + 0.2 * np.sin(4 * np.pi * f0 * t)
    return np.repeat(mono[:, None], channels, axis=1) if channels > 1 else mono


def predict(*arguments, cwd=None):
    return subprocess.run([sys.executable, "-m", "pitchpipe.cli", "predict", *map(str, arguments)],
                          capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("architecture", ["harmonic", "compact"])
def test_the_served_onnx_network_equals_keras(model_dir, tmp_path, architecture):
    """What predict and evaluation run (ONNX, onnxruntime) is the Keras model within 1e-5: the harmonic model
    and the compact one (pooling, batch normalisation), at any batch size."""
    import keras

    from pitchpipe.model.model import build

    if architecture == "compact":
        keras.utils.set_random_seed(4)
        meta = {**json.loads((model_dir / "model.json").read_text()), "input_shape": [513, 90], "architecture": "compact"}
        save_pitch_model(build("compact", (513, 90), "hz", 1, 0.0, 1.0, 0.25), meta, tmp_path)
        model_dir = tmp_path
    served = load_pitch_model(model_dir)
    trained = keras.saving.load_model(model_dir / "model.keras")
    inputs = np.random.default_rng(0).random((70, *served.meta["input_shape"])).astype(np.float32)
    expected = trained.predict(inputs, verbose=0)
    assert expected.std() > 1e-4  # outputs that vary, so that equality means something
    np.testing.assert_allclose(served.network(inputs), expected, rtol=0, atol=1e-5)
    np.testing.assert_allclose(served.network(inputs[:1]), expected[:1], rtol=0, atol=1e-5)
    assert served.network(inputs[:0]).shape == (0, *expected.shape[1:])


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000, 96000])
def test_streamed_resampling_equals_whole_file(tmp_path, rate):
    audio = np.random.default_rng(rate).standard_normal((round(rate * 2.3), 2)) * 0.1
    path = tmp_path / "noise.wav"
    soundfile.write(path, audio, rate, subtype="FLOAT")
    info = audio_info(path)
    streamed = np.concatenate(list(resampled_blocks(info, 16000, block_seconds=0.37)))
    stored = audio.astype(np.float32).astype(np.float64).mean(axis=1)
    resampler = Resampler(rate, 16000)
    whole = resample_poly(stored, resampler.up, resampler.down) if rate != 16000 else stored
    assert len(streamed) == len(whole) == resampler.output_length(len(stored))
    np.testing.assert_allclose(streamed, whole, rtol=0, atol=1e-12)


def test_sliding_windows_in_batches_short_input_and_large_hops():
    audio = np.arange(10_000, dtype=float)
    blocks = iter(np.array_split(audio, 7))
    starts, windows = map(np.concatenate, zip(*sliding_windows(blocks, 1000, 300, batch=4)))
    assert list(starts) == list(range(0, 9001, 300))
    assert all(np.array_equal(window, audio[start:start + 1000]) for start, window in zip(starts, windows))
    ((starts, windows),) = sliding_windows(iter([audio[:700]]), 1000, 300, batch=4)
    assert list(starts) == [0] and np.array_equal(windows[0], np.r_[audio[:700], np.zeros(300)])
    starts, _ = map(np.concatenate, zip(*sliding_windows(iter(np.array_split(audio, 9)), 1000, 2500, batch=2)))
    assert list(starts) == [0, 2500, 5000, 7500]


def test_tracks_of_many_files_batched_together_equal_each_file_alone(model_dir, tmp_path):
    model = load_pitch_model(model_dir)
    paths = []
    for index, (seconds, f0, rate) in enumerate([(0.2, 220.0, 44100), (3.1, 330.0, 16000), (0.5, 98.0, 48000),
                                                 (1.0, 440.0, 22050)]):
        paths.append(tmp_path / f"tone{index}.wav")
        soundfile.write(paths[-1], tone(seconds, f0, rate), rate)
    options = TrackOptions(hop_seconds=0.05)
    together = list(Tracker(model, options).tracks([file_source(audio_info(p), 16000) for p in paths]))
    assert [path for path, _ in together] == paths
    for path, track in together:
        ((_, alone),) = Tracker(model, options).tracks([file_source(audio_info(path), 16000)])
        np.testing.assert_array_equal(track.times, alone.times)
        np.testing.assert_allclose(track.confidence, alone.confidence, atol=1e-6)
    assert len(together[0][1].times) == 1 and together[0][1].times[0] == pytest.approx(CLIP / 2 / 16000)
    assert np.allclose(np.diff(together[1][1].times), 0.05)
    audio, rate = soundfile.read(paths[1])
    api = estimate(audio, rate, model=model, hop_seconds=0.05)  # the Python API: same windows, same answers
    np.testing.assert_array_equal(api.times, together[1][1].times)
    np.testing.assert_allclose(api.confidence, together[1][1].confidence, atol=1e-6)
    with pytest.raises(ValueError, match="NaN or infinite"):
        estimate(np.array([0.0, np.inf] * 4000), 16000, model=model)


def wav_header(rate, channels, frames=1000, bits=16):
    data = frames * channels * bits // 8
    block = max(channels, 1) * bits // 8
    return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate,
            rate * block, block, bits) + b"data" + struct.pack("<I", data) + bytes(data))


def test_bad_inputs_fail_alone_with_a_clear_message(model_dir, tmp_path):
    good = tmp_path / "good.wav"
    soundfile.write(good, tone(1.0, 330.0, 44100, channels=2), 44100)
    nan = tmp_path / "nan.wav"
    audio = tone(2.0, 330.0, 16000)
    audio[20_000] = np.nan
    soundfile.write(nan, audio, 16000, subtype="FLOAT")
    whole = tmp_path / "whole.flac"
    soundfile.write(whole, tone(20.0, 330.0, 44100) + 0.01 * np.random.default_rng(0).standard_normal(882_000), 44100)
    broken = tmp_path / "broken.flac"
    data = whole.read_bytes()
    broken.write_bytes(data[:len(data) // 2])  # decodes for 10 s, then fails
    (tmp_path / "nochannels.wav").write_bytes(wav_header(16000, 0))
    (tmp_path / "onehertz.wav").write_bytes(wav_header(1, 1))
    (tmp_path / "tenmegahertz.wav").write_bytes(wav_header(10_000_000, 1))
    silent = tmp_path / "silent.ogg"
    soundfile.write(silent, np.zeros(16000), 16000)
    names = ["nan.wav", "broken.flac", "nochannels.wav", "onehertz.wav", "good.wav", "tenmegahertz.wav", "silent.ogg",
             "missing.wav"]
    out = tmp_path / "pitch.csv"
    result = predict(*[tmp_path / name for name in names], "--model", model_dir, "--out", out)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if "warning:" not in line]
    assert len(errors) == 6, errors
    assert [line for line in lines if "warning:" in line] == [f"pitchpipe predict: warning: {silent} is digitally silent: "
                                                              "every frame is unvoiced"]
    for name, why in (("nan.wav", "contains NaN or infinite samples"), ("broken.flac", "decoding failed after"),
                      ("nochannels.wav", "cannot decode"), ("onehertz.wav", "sample rate 1 Hz is outside"),
                      ("tenmegahertz.wav", "sample rate 10000000 Hz is outside"), ("missing.wav", "no such file")):
        assert any(f"{name}: {why}" in line for line in errors), (name, errors)
    rows = list(csv.DictReader(out.open()))
    by_file = {}
    for row in rows:
        by_file.setdefault(row["file"], []).append(row)
    assert set(by_file) == {str(good), str(silent)} and len(by_file[str(good)]) == 7  # 1 s, hop 0.1 s, 0.33 s windows
    assert [row["voiced"] for row in by_file[str(silent)]] == ["0"] * 7  # silence is rows without a pitch, not an error


def test_output_folder_formats_globs_and_plots(model_dir, tmp_path):
    music = tmp_path / "music"
    for relative in ("a.wav", "takes/b.flac", "takes/deeper/c.ogg"):
        (music / relative).parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(music / relative, tone(0.8, 262.0, 32000), 32000)
    (music / "notes.txt").write_text("not audio")
    result = predict(music, "--model", model_dir, "--recursive", "--out-dir", tmp_path / "out", "--plot")
    assert result.returncode == 0 and result.stdout == "" and result.stderr == "", result.stderr
    written = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.*"))
    assert written == ["a.f0.csv", "a.f0.png", "takes/b.f0.csv", "takes/b.f0.png", "takes/deeper/c.f0.csv",
                       "takes/deeper/c.f0.png"]
    assert (tmp_path / "out/a.f0.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.DictReader((tmp_path / "out/takes/b.f0.csv").open()))
    assert list(rows[0]) == ["time", "frequency", "confidence", "voiced", "note"]
    assert [float(row["time"]) for row in rows] == pytest.approx([0.165, 0.265, 0.365, 0.465, 0.565])
    for row in rows:
        assert (row["voiced"] == "1") == (row["frequency"] != "") == (row["note"] != "")

    result = predict(str(music / "takes" / "**" / "*.*"), "--model", model_dir, "--recursive", "--format", "json",
                     "--hop", "0.25")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # stdout holds the results and nothing else
    assert [entry["file"] for entry in document["files"]] == [str(music / "takes/b.flac"),
                                                              str(music / "takes/deeper/c.ogg")]
    for entry in document["files"]:
        assert entry["time"] == [0.165, 0.415]
        assert all((f is None) == (not v) for f, v in zip(entry["frequency"], entry["voiced"]))

    result = predict(music, str(tmp_path / "nothing*.wav"), "--model", model_dir)
    assert result.returncode == 1
    assert "is a folder (add --recursive" in result.stderr and "no file matches this pattern" in result.stderr


def test_frequency_range_and_smoothing():
    codec = PitchCodec("bins", 35.0, 108.0, 20.0, 25.0)
    activations = np.zeros((1, len(codec.bins.centres)))
    activations[0, np.argmin(np.abs(codec.bins.centres - 45.0))] = 0.9  # A2, 110 Hz
    activations[0, np.argmin(np.abs(codec.bins.centres - 69.0))] = 0.8  # A4, 440 Hz
    assert codec.decode(activations)[0][0] == pytest.approx(110.0, rel=1e-3)
    hz, confidence = codec.decode(activations, fmin=200.0)
    assert hz[0] == pytest.approx(440.0, rel=1e-3) and confidence[0] == pytest.approx(0.8)
    assert codec.decode(activations, fmin=500.0, fmax=2000.0)[1][0] == 0.0
    hz_codec = PitchCodec("hz", 35.0, 108.0, 20.0, 25.0)
    assert list(hz_codec.decode(np.array([[0.3], [0.05]]), fmin=100.0)[1]) == [1.0, 0.0]

    frequency = np.array([220.0, 221.0, 880.0, 222.0, np.nan, 223.0, 224.0])
    track = PitchTrack(np.arange(7) * 0.1, frequency, np.ones(7), np.isfinite(frequency))
    smoothed = smooth_track(track, 3)
    assert smoothed.voiced.all()  # a lone unvoiced window among voiced ones is voiced after smoothing
    assert np.all(np.abs(1200 * np.log2(smoothed.frequency / 222.0)) < 20)  # the octave jump is gone
    assert smooth_track(track, 0) is track


def test_options_are_checked(model_dir, tmp_path):
    for arguments, message in ((["--hop", "0"], "hop must be positive"), (["--fmin", "500", "--fmax", "100"],
                               "need fmin < fmax"), (["--fmin", "0"], "--fmin must be a positive frequency"),
                               (["--fmax", "-5"], "--fmax must be a positive frequency"),
                               (["--out", "a.csv", "--out-dir", "d"], "not allowed with")):
        result = predict(tmp_path / "x.wav", "--model", model_dir, *arguments)
        assert result.returncode == 2 and message in result.stderr, result.stderr
    with pytest.raises(AudioError, match="is a folder"):
        audio_info(tmp_path)


def test_progress_bar_only_on_a_terminal(monkeypatch):
    from pitchpipe.inference.predict_cli import progress_bar

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for stream, shown in ((Terminal(), True), (io.StringIO(), False)):
        monkeypatch.setattr(sys, "stderr", stream)
        with progress_bar(120.0) as bar:
            bar.update(60.0)
            bar.refresh()
        assert ("s audio" in stream.getvalue()) == shown, stream.getvalue()


def test_export_writes_every_format_and_refuses_an_unknown_one(tmp_path):
    from pitchpipe.inference import export

    times = np.arange(60) * 0.01
    frequency = np.where(times < 0.3, 220.0, np.where(times < 0.4, np.nan, 440.0))
    track = PitchTrack(times, frequency, np.full(60, 0.9), np.isfinite(frequency), np.zeros((60, 5)), times)
    for fmt, name in (("csv", "t.f0.csv"), ("json", "t.f0.json"), ("png", "t.f0.png"), ("notes", "t.notes.csv"),
                      ("mid", "t.mid")):
        export.write(track, fmt, tmp_path / "out" / name, bin_midi=np.arange(5) + 55.0, title="t")
    rows = list(csv.reader((tmp_path / "out/t.f0.csv").open()))
    assert rows[0] == export.CSV_COLUMNS and rows[1] == ["0.0000", "220.000", "0.9000", "1", "A3"]
    assert rows[31] == ["0.3000", "", "0.9000", "0", ""]  # unvoiced: empty frequency and note
    document = json.loads((tmp_path / "out/t.f0.json").read_text())
    assert document["frequency"][30] is None and document["note"][45] == "A4"
    assert (tmp_path / "out/t.f0.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    notes = list(csv.DictReader((tmp_path / "out/t.notes.csv").open()))
    assert [row["note"] for row in notes] == ["A3", "A4"]
    assert (tmp_path / "out/t.mid").read_bytes()[:4] == b"MThd"
    assert not list((tmp_path / "out").glob("*.tmp"))
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        export.write(track, "xml", tmp_path / "t.xml")


def test_the_model_is_found_as_a_user_expects(tmp_path, monkeypatch):
    """--model, else $PITCHPIPE_MODEL, else the repository's tracker/ then models/, from any folder inside it."""
    from pitchpipe.inference.predict import model_dir

    monkeypatch.delenv("PITCHPIPE_MODEL", raising=False)
    repository = tmp_path / "repo"
    (repository / "data/deep").mkdir(parents=True)
    (repository / "dvc.yaml").write_text("stages: {}\n")
    (repository / "models").mkdir()
    (repository / "models/model.json").write_text("{}")
    assert model_dir(start=repository / "data/deep") == repository / "models"  # only the note model there
    (repository / "tracker").mkdir()
    (repository / "tracker/model.json").write_text("{}")
    assert model_dir(start=repository / "data/deep") == repository / "tracker"
    assert model_dir("elsewhere", start=repository) == Path("elsewhere")
    monkeypatch.setenv("PITCHPIPE_MODEL", str(tmp_path / "mine"))
    assert model_dir(start=repository) == tmp_path / "mine"
    monkeypatch.delenv("PITCHPIPE_MODEL")
    outside = tmp_path / "outside"
    outside.mkdir()
    assert model_dir(start=outside) == Path("tracker")
    result = subprocess.run([sys.executable, "-m", "pitchpipe.cli", "predict", "x.wav"], cwd=outside,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--model DIR or $PITCHPIPE_MODEL" in result.stderr
