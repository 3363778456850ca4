"""The data stages on a real Dask cluster (distributed.LocalCluster, worker processes on loopback): the same bytes
as the local process pool, a worker killed mid-run retried elsewhere with the bytes unchanged, and an unreachable
scheduler refused in one line before anything is cleared."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, VENV_BIN, write_params
from pitchpipe.config import (featurize_config, frames_config, phrases_config, prepare_config, probes_config,
                              render_config, synthesize_config)
from pitchpipe.data.featurize import run_featurize
from pitchpipe.data.frame_features import run_featurize_frames
from pitchpipe.data.phrases import run_phrases
from pitchpipe.data.prepare import run_prepare
from pitchpipe.data.probes import run_probes
from pitchpipe.data.render import run_render
from pitchpipe.data.synthesize import run_synthesize
from pitchpipe.parallel import SCHEDULER_ENV


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def every_data_stage(params: dict, out: Path) -> None:
    run_render(render_config(params), out / "rendered", workers=2)
    run_prepare(prepare_config(params), out / "rendered", out / "clips", workers=2)
    run_synthesize(synthesize_config(params), out / "synth", workers=2)
    run_featurize(featurize_config(params), [out / "clips", out / "synth"], out / "features", workers=2)
    run_probes(probes_config(params), out / "probes", workers=2)
    run_phrases(phrases_config(params), out / "phrases", workers=2)
    run_phrases(phrases_config(params, section="melody_probes"), out / "melody_probes", workers=2, label="melody_probes")
    run_featurize_frames(frames_config(params), params["seed"], out / "phrases", out / "frames", workers=2)


@pytest.fixture(scope="module")
def pool_outputs(tmp_path_factory, default_params):
    from conftest import tiny_params

    params = tiny_params(default_params)
    out = tmp_path_factory.mktemp("pool")
    every_data_stage(params, out)
    return params, out


def test_every_data_stage_on_a_local_cluster_writes_the_pools_bytes(pool_outputs, tmp_path, monkeypatch, capsys):
    params, pool = pool_outputs
    monkeypatch.setenv(SCHEDULER_ENV, "local:2")
    every_data_stage(params, tmp_path)
    for folder in ("rendered", "clips", "synth", "features", "probes", "phrases", "melody_probes", "frames"):
        assert digest(tmp_path / folder) == digest(pool / folder), folder
    log = capsys.readouterr().err
    assert "render: 30 notes in" in log  # the summary counts what the cluster finished, as the pool's does


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two workers started with the `dask` command line, as the README does, on loopback."""
    import socket

    from distributed import Client

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = str(VENV_BIN / "dask")
    started = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    started += [subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-dashboard"], cwd=tmp_path,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        client = Client(address, timeout="30s")
        client.wait_for_workers(2, timeout=60)
        yield address, client
        client.close()
    finally:
        for process in reversed(started):
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:  # a worker still closing its restarted child: no need to wait
                process.kill()
                process.wait(timeout=15)


def stage_command(stage: str, params: Path, out: Path, *inputs: str) -> list[str]:
    return [sys.executable, str(ROOT / f"stages/{stage}.py"), "--params", str(params), *inputs, "--out", str(out)]


def test_a_worker_killed_mid_run_is_retried_and_the_bytes_do_not_change(pool_outputs, cluster, tmp_path):
    """The render stage on a running scheduler; one worker process is SIGKILLed once a shard is written. Its task
    goes to the other worker (the dead one's nanny starts a new one) and the shards equal the pool's, with no
    temporary file of the killed attempt left."""
    params, pool = pool_outputs
    address, client = cluster
    write_params(params, tmp_path / "params.yaml")
    out = tmp_path / "rendered"
    env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ['PATH']}", **{SCHEDULER_ENV: address})
    victims = list(client.run(os.getpid).values())
    process = subprocess.Popen(stage_command("render", tmp_path / "params.yaml", out), cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    killed = False
    while process.poll() is None and time.monotonic() < deadline:
        if not killed and out.is_dir() and any(out.glob("*.parquet")):
            os.kill(victims[0], signal.SIGKILL)
            killed = True
        time.sleep(0.01)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-3000:]
    assert killed, "the stage finished before a worker could be killed"
    assert digest(out) == digest(pool / "rendered")
    assert not list(out.glob(".*.tmp"))
    assert "render: 30 notes in" in stderr


def test_an_unreachable_scheduler_is_one_line_and_clears_nothing(tmp_path, default_params):
    from conftest import tiny_params

    write_params(tiny_params(default_params), tmp_path / "params.yaml")
    out = tmp_path / "rendered"
    out.mkdir()
    (out / "shard-00000.parquet").write_bytes(b"earlier work")
    with __import__("socket").socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    env = dict(os.environ, **{SCHEDULER_ENV: address})
    result = subprocess.run(stage_command("render", tmp_path / "params.yaml", out), cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {SCHEDULER_ENV}={address}: no Dask scheduler answers there (")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert [p.name for p in out.iterdir()] == ["shard-00000.parquet"]
    assert (out / "shard-00000.parquet").read_bytes() == b"earlier work"
