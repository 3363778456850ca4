"""The README's pipeline command works in a fresh clone from a plain shell: no virtualenv activated and
.venv/bin not on PATH (DVC runs each stage command with the caller's PATH)."""

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT, tiny_params, write_params
from test_dvc_pipeline import ran_stages


def readme_command(purpose: str) -> str:
    """The README's command whose comment starts with `purpose`, e.g. 'set everything up, then `dvc repro`'."""
    block = re.search(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    for line in block.splitlines():
        command, _, comment = line.partition("#")
        if comment.strip().startswith(purpose):
            return command.strip()
    raise AssertionError(f"no README command for {purpose!r}")


@pytest.mark.slow
def test_readme_pipeline_command_runs_in_a_fresh_clone_without_the_venv_on_path(default_params, tmp_path):
    command = readme_command("set everything up, then `dvc repro`")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    (clone / ".venv").symlink_to(ROOT / ".venv")  # set-up finds it installed and skips pip
    params = tiny_params(default_params)
    params["train"].update(epochs=1, batch_size=16)
    write_params(params, clone / "params.yaml")
    path = [p for p in os.environ["PATH"].split(os.pathsep) if ".venv" not in p]
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env.update(PATH=os.pathsep.join(path), PITCHPIPE_REMOTE=str(tmp_path / "remote"), DVC_NO_ANALYTICS="1")
    first = subprocess.run(command.split(), cwd=clone, env=env, capture_output=True, text=True, timeout=1200)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "ModuleNotFoundError" not in first.stderr
    assert {"render", "synthesize", "train", "evaluate", "report"} <= set(ran_stages(first.stdout))
    assert (clone / "reports/site/index.html").is_file() and (clone / "models/model.keras").is_file()
    again = subprocess.run(command.split(), cwd=clone, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and ran_stages(again.stdout) == []


def test_readme_python_example_runs_as_pasted(tmp_path, tracker_dir):
    """The README's Python block, run as a user would paste it, finding its model through $PITCHPIPE_MODEL (a
    random-weight tracker here: the API and its types, not the accuracy, which the pipeline's metrics hold)."""
    block = re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    env = dict(os.environ, PITCHPIPE_MODEL=str(tracker_dir))
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", block + "\nprint(len(track.times), track.times[1])"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    median, frames, step = result.stdout.split()[-3:]
    assert int(frames) == 101 and float(step) == 0.01  # a frame every 10 ms over 1 s, the last at its end
    assert median == "nan" or 30 < float(median) < 5000


def test_readme_compares_experiments_with_the_tested_command():
    from test_dvc_workflow import EXP_SHOW

    shown = " ".join(part if " " not in part and "|" not in part and "^" not in part else f"'{part}'"
                     for part in EXP_SHOW)
    assert f".venv/bin/{shown}" in (ROOT / "README.md").read_text()
