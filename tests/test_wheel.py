"""The wheel that carries the tracker: installed into a fresh venv, `pitchpipe predict` runs outside any repository
with neither TensorFlow nor DVC, and answers what the repository's predict answers."""

import os
import subprocess
import sys

import numpy as np
import soundfile

from conftest import ROOT


def test_the_wheel_predicts_with_no_repository_no_dvc_and_no_tensorflow(tracker_dir, tmp_path):
    built = subprocess.run(["bash", str(ROOT / "scripts/wheel"), str(tracker_dir), str(tmp_path / "dist")],
                           capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stderr[-3000:]
    wheels = list((tmp_path / "dist").glob("pitchpipe-*.whl"))
    assert len(wheels) == 1
    assert not (ROOT / "pitchpipe/bundled").exists()  # the copy made for the build is gone

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installed = subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "--quiet", "-c",
                                str(ROOT / "requirements.txt"), str(wheels[0])], capture_output=True, text=True,
                               timeout=900)
    assert installed.returncode == 0, installed.stderr[-3000:]
    for absent in ("tensorflow", "keras", "dvc", "pyarrow"):
        probe = subprocess.run([str(venv / "bin/python"), "-c", f"import {absent}"], capture_output=True)
        assert probe.returncode != 0, f"{absent} was installed with the wheel"

    elsewhere = tmp_path / "elsewhere"  # no dvc.yaml here or above (tmp), no PITCHPIPE_MODEL
    elsewhere.mkdir()
    t = np.arange(32000) / 16000
    soundfile.write(elsewhere / "a440.wav", 0.3 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 880 * t), 16000)
    env = {key: value for key, value in os.environ.items() if key != "PITCHPIPE_MODEL"}
    from_wheel = subprocess.run([str(venv / "bin/pitchpipe"), "predict", "a440.wav"], cwd=elsewhere, env=env,
                                capture_output=True, text=True, timeout=300)
    assert from_wheel.returncode == 0, from_wheel.stderr
    from_repository = subprocess.run([sys.executable, "-m", "pitchpipe.cli", "predict", "--model", str(tracker_dir),
                                      "a440.wav"], cwd=elsewhere, capture_output=True, text=True, timeout=300)
    assert from_repository.returncode == 0, from_repository.stderr
    assert from_wheel.stdout == from_repository.stdout and len(from_wheel.stdout.splitlines()) > 100
