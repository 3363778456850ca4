"""End to end: `dvc repro` of the data stages in a temporary repository, twice, then after param edits."""

import hashlib
import os
import signal
import subprocess
import time

import pytest

from conftest import VENV_BIN, make_project, run_cmd, write_params


def ran_stages(output: str) -> list[str]:
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")]


def digest(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.parquet"))}


@pytest.mark.slow
def test_repro_is_incremental_and_reproducible(tiny, tmp_path):
    project = make_project(tmp_path, tiny)
    first = run_cmd(["dvc", "repro", "featurize"], project)
    assert sorted(ran_stages(first.stdout)) == ["check_params", "featurize", "prepare", "render", "synthesize"]
    features = digest(project / "data/features")
    assert len(features) == 12 + 4 and all(name.split("/")[0] in ("train", "val", "test") for name in features)

    again = run_cmd(["dvc", "repro", "featurize"], project)
    assert ran_stages(again.stdout) == []

    tiny["featurize"]["harmonic"]["floor_db"] = -60
    write_params(tiny, project / "params.yaml")
    changed = run_cmd(["dvc", "repro", "featurize"], project)
    assert ran_stages(changed.stdout) == ["check_params", "featurize"]  # the params check runs before any stage
    assert digest(project / "data/features") != features

    tiny["featurize"]["harmonic"]["floor_db"] = -80
    write_params(tiny, project / "params.yaml")
    run_cmd(["dvc", "repro", "featurize"], project)
    assert digest(project / "data/features") == features  # same params, same bytes

    tiny["prepare"]["gain_min"] = 0.5
    write_params(tiny, project / "params.yaml")
    assert sorted(ran_stages(run_cmd(["dvc", "repro", "featurize"], project).stdout)) == ["check_params", "featurize", "prepare",
                                                                                       "synthesize"]


DATA_STAGES = {"render": "data/rendered", "prepare": "data/clips", "synthesize": "data/synth",
               "featurize": "data/features", "probes": "data/probes"}


def kill_mid_write(project, command, folder):
    """Start `command`, SIGKILL its whole process group once it has written a shard into `folder` (and before it
    finishes); True if it was killed mid-run."""
    env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ['PATH']}", PITCHPIPE_WORKERS="1", DVC_NO_ANALYTICS="1")
    process = subprocess.Popen(command, cwd=project, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started, deadline = time.time_ns(), time.monotonic() + 300

    def new_shard_written():
        try:
            return any(path.stat().st_mtime_ns >= started for path in (project / folder).rglob("*.parquet"))
        except FileNotFoundError:  # the folder or a file went while we looked
            return False

    while process.poll() is None and time.monotonic() < deadline:
        if new_shard_written():
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.01)
    process.wait()
    return False


@pytest.mark.slow
def test_a_data_stage_killed_mid_run_recovers_to_the_same_bytes(tiny, tmp_path):
    tiny["render"].update(notes_per_shard=2)
    tiny["synthesize"].update(clips_per_shard=8)
    tiny["probes"].update(unvoiced_per_kind=8)
    project = make_project(tmp_path, tiny)
    run_cmd(["dvc", "repro", "featurize", "probes"], project, env_extra={"PITCHPIPE_WORKERS": "1"})
    reference = {folder: digest(project / folder) for folder in DATA_STAGES.values()}

    def recovered(stage):
        for name, expected in reference.items():
            assert digest(project / name) == expected, (stage, name)
        leftovers = [p for p in (project / "data").rglob("*") if p.is_file() and p.name.endswith(".tmp")]
        assert not leftovers, leftovers
        assert ran_stages(run_cmd(["dvc", "repro", "featurize", "probes"], project).stdout) == []

    for stage, folder in DATA_STAGES.items():
        # killed under DVC: `dvc repro` clears the stale lock and restores the stage's outputs
        assert kill_mid_write(project, ["dvc", "repro", "-f", "-s", stage], folder), f"{stage} finished first"
        assert stage in run_cmd(["dvc", "status", stage], project).stdout  # its output is incomplete
        run_cmd(["dvc", "repro", "featurize", "probes"], project)
        recovered(stage)
        # the stage script itself killed over its own output, then run again: stale and half-written shards go
        script = ["sh", "scripts/python", f"stages/{stage}.py"]
        assert kill_mid_write(project, script, folder), f"{stage} finished first"
        run_cmd(script, project)
        recovered(stage)
