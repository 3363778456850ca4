"""Bad params are reported by key before any work starts, and nothing already written is lost."""

import subprocess
import sys

import pytest
import yaml

from pitchpipe.config import ParamsError, featurize_config, prepare_config, read_params, render_config, train_config
from pitchpipe.prepare import assign_splits

from conftest import ROOT, write_params


@pytest.mark.parametrize("section,key,value,message", [
    ("render", "soundfonts", ["/no/such/font.sf2"], r"render\.soundfonts\[0\]: '/no/such/font.sf2' is not an existing file"),
    ("render", "programs", [0, 130], r"render\.programs\[1\]: 130 is not an integer in \[0, 127\]"),
    ("render", "programs", [0, 9], r"render\.programs: \[9\] are listed in render\.excluded_programs"),
    ("render", "midi_low", 200, r"render\.midi_low: 200 is out of range"),
    ("render", "midi_low", "C2", r"render\.midi_low: expected int, got 'C2'"),
    ("render", "velocities", [100, 0], r"render\.velocities\[1\]"),
    ("render", "detune_cents", 300, r"render\.detune_cents: 300.0 is out of range"),
    ("render", "bend_range_semitones", 0, r"render\.bend_range_semitones: 0 is out of range"),
    ("render", "programs_per_octave", 100, r"render\.programs_per_octave: 100 wanted but only"),
])
def test_render_params_errors_name_the_key(default_params, section, key, value, message):
    default_params = yaml.safe_load(yaml.safe_dump(default_params))
    default_params[section][key] = value
    with pytest.raises(ParamsError, match=message):
        render_config(default_params)


def test_split_that_leaves_a_split_empty_is_refused(default_params):
    config = prepare_config(default_params)
    with pytest.raises(ParamsError, match=r"prepare\.split\.val: 0.1 of 3 note groups .* leaves the val split empty"):
        assign_splits([1, 2, 3, 4], ["a", "b", "c", "c"], config)


@pytest.mark.parametrize("section,key,value,message", [
    ("prepare", "split", {"train": 0.8, "val": 0.3, "test": 0.1}, r"prepare\.split: fractions sum to"),
    ("prepare", "split", {"train": 0.9, "test": 0.1}, r"prepare\.split: needs exactly the keys"),
    ("prepare", "split", {"train": 1.0, "val": 0.0, "test": 0.0}, r"prepare\.split\.train"),
    ("prepare", "segments", ["attack", "middle"], r"prepare\.segments\[1\]: 'middle' is not one of"),
    ("prepare", "gain_min", 1.5, r"prepare\.gain_min: 1.5 is out of range"),
    ("featurize", "noverlap", 256, r"featurize\.noverlap: 256 must be smaller than featurize\.nperseg"),
    ("featurize", "scale", "dB", r"featurize\.scale: 'dB' is not one of"),
    ("featurize", "window", "nosuchwindow", r"featurize\.window"),
    ("featurize", "max_hz", 9000, r"featurize\.max_hz"),
    ("train", "head", "midi", r"train\.head: 'midi' is not one of"),
    ("train", "epochs", 0, r"train\.epochs: 0 is out of range"),
])
def test_later_stage_params_errors_name_the_key(default_params, section, key, value, message):
    params = yaml.safe_load(yaml.safe_dump(default_params))
    params[section][key] = value
    loader = {"prepare": prepare_config, "featurize": featurize_config, "train": train_config}[section]
    with pytest.raises(ParamsError, match=message):
        loader(params)


def test_malformed_yaml_is_reported_with_the_file(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text("render: [unclosed\n")
    with pytest.raises(ParamsError, match="params.yaml: not valid YAML"):
        read_params(bad)


def test_stage_script_fails_cleanly_and_keeps_existing_outputs(tiny, tmp_path):
    tiny["render"]["soundfonts"] = ["/missing.sf2"]
    params = write_params(tiny, tmp_path / "params.yaml")
    out = tmp_path / "rendered"
    out.mkdir()
    (out / "shard-00000.parquet").write_bytes(b"earlier work")
    result = subprocess.run([sys.executable, str(ROOT / "stages/render.py"), "--params", str(params), "--out", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "render.soundfonts[0]: '/missing.sf2' is not an existing file" in result.stderr
    assert "Traceback" not in result.stderr
    assert (out / "shard-00000.parquet").read_bytes() == b"earlier work"
