"""Shared fixtures: small real configurations (real FluidSynth, real soundfonts) built from params.yaml."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def default_params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def tiny_params(base: dict, **render) -> dict:
    """The project's params with a few notes: 2 programs per octave over A3..B4, one detune each; probes over
    the same range, one per semitone; 64 synthetic clips; one epoch for each leave-one-soundfont-out run; 12
    melodies of 2 s (3 melody probes) and one epoch of the tracker."""
    params = copy.deepcopy(base)
    params["render"].update(dict(programs_per_octave=2, midi_low=57, midi_high=71, detunes_per_note=1,
                                 notes_per_shard=8))
    params["render"].update(render)
    params["probes"].update(midi_low=57, midi_high=71, detunes_per_semitone=1, unvoiced_per_kind=4)
    params["synthesize"].update(clips=64, clips_per_shard=32)
    params["loso"]["epochs"] = 1
    params["phrases"].update(rendered=6, synthetic=6, phrases_per_shard=3, seconds=2.0)
    params["melody_probes"].update(phrases=3, seconds=2.0)
    params["tracker"].update(epochs=1)
    params["evaluate_tracker"].update(baseline_phrases=2)
    return params


@pytest.fixture
def tiny(default_params) -> dict:
    return tiny_params(default_params)


def write_params(params: dict, path: Path) -> Path:
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def run_cmd(args, cwd, check=True, env_extra=None, timeout=900, detach=False) -> subprocess.CompletedProcess:
    """`args` in `cwd` with the project's venv first on PATH; `detach`: output to /dev/null, for a command that
    leaves daemons behind (they would hold a captured output open)."""
    env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}", DVC_NO_ANALYTICS="1")
    env.update(env_extra or {})
    output = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if detach else dict(capture_output=True)
    result = subprocess.run(args, cwd=cwd, env=env, text=True, timeout=timeout, **output)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def make_project(tmp: Path, params: dict) -> Path:
    """A fresh git + DVC repository holding this project's code and the given params."""
    project = tmp / "project"
    project.mkdir()
    for name in ("pitchpipe", "stages", "scripts"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("dvc.yaml", "pyproject.toml", ".gitignore"):
        shutil.copy(ROOT / name, project / name)
    write_params(params, project / "params.yaml")
    run_cmd(["git", "init", "-q"], project)
    run_cmd(["git", "config", "user.email", "test@example.com"], project)
    run_cmd(["git", "config", "user.name", "test"], project)
    run_cmd(["dvc", "init", "-q"], project)
    run_cmd(["git", "add", "-A"], project)
    run_cmd(["git", "commit", "-qm", "init"], project)
    return project


@pytest.fixture(scope="session")
def tracker_dir(tmp_path_factory, default_params):
    """A tracker with random weights, saved as training saves one: the format and the streaming, not accuracy."""
    import json

    import keras

    from pitchpipe.config import frames_config
    from pitchpipe.sound.frames import bin_midi
    from pitchpipe.model.model import build
    from pitchpipe.model.saved_model import PitchCodec, save_pitch_model

    frames = frames_config(default_params)
    keras.utils.set_random_seed(5)
    bins = len(bin_midi(frames))
    channels = len(frames.harmonics) * len(frames.context)
    model = build("tracker", (bins, channels), "bins", bins, 0.2, 0.05, 0.1, bins_per_semitone=frames.bins_per_semitone,
                  filters=8)
    codec = PitchCodec("bins", frames.midi_low, frames.midi_high, 100.0 / frames.bins_per_semitone, 25.0)
    meta = {"codec": codec.to_json(), "featurize": json.loads(json.dumps(frames.model_dump())), "architecture": "tracker",
            "input_shape": [bins, channels], "clip_samples": 0, "decoder": {"method": "weighted", "threshold": 0.5}}
    folder = tmp_path_factory.mktemp("tracker")
    save_pitch_model(model, meta, folder)
    return folder
