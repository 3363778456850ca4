"""Bad params are reported by key before any work starts, and nothing already written is lost."""

import json
import subprocess
import sys

import pytest
import yaml
from pydantic import ValidationError

from pitchpipe.config import (ParamsError, check_params, featurize_config, featurize_config_from, prepare_config, read_params,
                              render_config, train_config)
from pitchpipe.data.prepare import assign_splits

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
    ("featurize.stft", "noverlap", 256, r"featurize\.stft\.noverlap: 256 must be smaller than featurize\.stft\.nperseg"),
    ("featurize.stft", "scale", "dB", r"featurize\.stft\.scale: 'dB' is not one of"),
    ("featurize.stft", "window", "nosuchwindow", r"featurize\.stft\.window"),
    ("featurize.stft", "max_hz", 9000, r"featurize\.stft\.max_hz"),
    ("train", "head", "midi", r"train\.head: 'midi' is not one of"),
    ("train", "epochs", 0, r"train\.epochs: 0 is out of range"),
])
def test_later_stage_params_errors_name_the_key(default_params, section, key, value, message):
    params = yaml.safe_load(yaml.safe_dump(default_params))
    name, _, sub = section.partition(".")
    (params[name][sub] if sub else params[name])[key] = value
    loader = {"prepare": prepare_config, "featurize": featurize_config, "train": train_config}[name]
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


@pytest.mark.parametrize("raised,status,traceback", [
    ("ParamsError('params.yaml: train.epochs: 0 is out of range')", 2, False),
    ("DataError('data/clips: no such folder')", 2, False),
    ("ValueError('an internal inconsistency')", 1, True),  # a bug keeps its traceback
    ("FileNotFoundError('/usr/lib/libsomething.so')", 1, True),  # so does a broken environment
])
def test_own_errors_are_one_line_and_others_keep_their_traceback(raised, status, traceback):
    code = ("from pitchpipe import stage; from pitchpipe.errors import DataError, ParamsError\n"
            f"def main():\n    raise {raised}\nstage.run(main)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == status
    assert ("Traceback" in result.stderr) == traceback
    message = raised.split("'")[1]
    assert message in result.stderr
    if not traceback:
        assert result.stderr == f"error: {message}\n"


@pytest.mark.parametrize("where,key,value,message", [
    (("featurize", "stft"), "max_Hz", 4000, r"featurize\.stft\.max_Hz: unknown key \(did you mean 'max_hz'\?\)"),
    (("featurize",), "nfft", 1024, r"featurize\.nfft: unknown key \(known: dtype, harmonic, representation, stft\)"),
    (("prepare", "augment"), "noise_prb", 0.5, r"prepare\.augment\.noise_prb: unknown key \(did you mean 'noise_prob'\?\)"),
    (("synthesize", "augment"), "reverb_prb", 0.5, r"synthesize\.augment\.reverb_prb: unknown key \(did you mean 'reverb_prob'\?\)"),
    (("featurize", "harmonic"), "bins_per_octave", 60, r"featurize\.harmonic\.bins_per_octave: unknown key"),
    (("loso",), "epoch", 3, r"loso\.epoch: unknown key \(did you mean 'epochs'\?\)"),
    ((), "trian", {"epochs": 3}, r"params\.yaml: trian: unknown key \(did you mean 'train'\?\)"),
])
def test_unknown_keys_are_refused_by_name(default_params, where, key, value, message):
    params = yaml.safe_load(yaml.safe_dump(default_params))
    section = params
    for name in where:
        section = section[name]
    section[key] = value
    with pytest.raises(ParamsError, match=message):
        check_params(params)


@pytest.mark.parametrize("scale", ["magnitude", "psd"])
def test_float16_is_refused_where_it_loses_the_values(default_params, scale):
    params = yaml.safe_load(yaml.safe_dump(default_params))
    params["featurize"].update(representation="stft", dtype="float16")
    params["featurize"]["stft"]["scale"] = scale
    with pytest.raises(ParamsError, match=rf"featurize\.dtype: float16 cannot hold {scale} values"):
        featurize_config(params)
    params["featurize"]["dtype"] = "float32"
    assert featurize_config(params).scale == scale


def test_tensorflow_start_up_chatter_is_filtered_and_real_messages_pass():
    code = ("import sys, warnings\nfrom pitchpipe import stage\n"
            "def main():\n    import keras, tensorflow as tf\n    tf.config.list_physical_devices()\n"
            "    warnings.warn('a real warning')\n    print('a line of our own', file=sys.stderr)\n"
            "stage.run(main)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "a real warning" in result.stderr and "a line of our own" in result.stderr
    for noise in ("absl::InitializeLog", "cudart_stub", "cuInit", "cpu_feature_guard", "rebuild TensorFlow"):
        assert noise not in result.stderr, result.stderr


@pytest.mark.parametrize("architecture,representation,frontend,message", [
    ("frontend", "harmonic", "fixed", r"train\.architecture: 'frontend' does not go with featurize\.representation 'harmonic'"),
    ("compact", "raw", "fixed", r"train\.architecture: 'compact' does not go with featurize\.representation 'raw'"),
    ("harmonic", "stft", "fixed", r"train\.architecture: 'harmonic' does not go with"),
    ("frontend", "raw", "learned", r"train\.frontend: 'learned' is not one of fixed, dft_init, random"),
])
def test_architectures_need_their_representation(default_params, architecture, representation, frontend, message):
    params = yaml.safe_load(yaml.safe_dump(default_params))
    params["train"].update(architecture=architecture, frontend=frontend)
    params["featurize"]["representation"] = representation
    with pytest.raises(ParamsError, match=message):
        train_config(params)
    params["train"]["frontend"] = "fixed"
    params["featurize"]["representation"] = {"frontend": "raw", "compact": "stft", "harmonic": "harmonic"}[architecture]
    assert train_config(params).architecture == architecture


@pytest.mark.parametrize("representation,own,foreign", [("stft", "nfft", "harmonics"), ("harmonic", "harmonics", "nfft"),
                                                        ("raw", "sample_rate", "floor_db")])
def test_each_representation_carries_only_its_own_fields(default_params, representation, own, foreign):
    """The featurize config is a discriminated union: what a shard or a saved model records (JSON) comes back as the
    same representation, and a field of another one is refused."""
    params = yaml.safe_load(yaml.safe_dump(default_params))
    params["featurize"].update(representation=representation, dtype="float32")
    config = featurize_config(params)
    assert config.representation == representation and own in type(config).model_fields
    assert foreign not in type(config).model_fields
    recorded = json.loads(json.dumps(config.model_dump()))
    assert featurize_config_from(recorded) == config
    with pytest.raises(ValidationError, match=foreign):
        featurize_config_from({**recorded, foreign: 1})
