"""The DVC workflow as users live it: param edits rerun exactly what they affect, experiments, an S3 remote
(real S3 protocol server on loopback), fresh clones that reproduce nothing, and a remote that is down."""

import hashlib
import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile

from conftest import ROOT, make_project, run_cmd, tiny_params, write_params
from s3server import CREDENTIALS, s3_server
from test_dvc_pipeline import ran_stages

from pitchpipe.shards import read_array

LOSO = {"loso"}
TRACKER = {"phrases", "melody_probes", "featurize_frames", "train_tracker", "evaluate_tracker"}
ALL_STAGES = {"check_params", "render", "prepare", "synthesize", "featurize", "probes", "train", "evaluate", *LOSO, *TRACKER,
              "learn_stft", "report"}


@pytest.fixture(scope="module")
def project(tmp_path_factory, default_params):
    params = tiny_params(default_params)
    params["train"].update(epochs=2, batch_size=16)
    project = make_project(tmp_path_factory.mktemp("workflow"), params)
    assert sorted(ran_stages(run_cmd(["dvc", "repro"], project).stdout)) == sorted(ALL_STAGES)
    run_cmd(["git", "add", "-A"], project)
    run_cmd(["git", "commit", "-qm", "pipeline outputs"], project)
    return project, params


def tree_digest(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("section,key,value,readers", [
    ("render", "velocities", [100], {"render"}),
    ("prepare", "gain_max", 0.9, {"prepare", "synthesize", "probes", "phrases", "melody_probes"}),  # all take its gain range
    ("prepare", "augment", {"reverb_prob": 0.0, "tilt_prob": 0.0, "tilt_db_per_octave": 0.0, "noise_prob": 0.0,
                            "snr_db_min": 40.0, "snr_db_max": 40.0}, {"prepare"}),  # synthesize has its own
    ("synthesize", "unvoiced_fraction", 0.3, {"synthesize"}),
    ("featurize", "nfft", 512, {"featurize"}),
    ("train", "learning_rate", 0.002, {"train", *LOSO}),
    ("train", "epochs", 3, {"train"}),  # the leave-one-soundfont-out runs have their own epochs
    ("train", "frontend", "random", {"train", *LOSO}),
    ("probes", "snr_db", [15], {"probes"}),
    ("loso", "epochs", 2, LOSO),
    ("learn_stft", "epochs", 2, {"learn_stft"}),
    ("phrases", "vibrato_prob", 0.5, {"phrases", "melody_probes"}),  # the probes share the phrases' settings
    ("melody_probes", "phrases", 4, {"melody_probes"}),
    ("frames", "floor_db", -70.0, {"featurize_frames", "train_tracker"}),
    ("frames", "hop", 80, {"phrases", "melody_probes", "featurize_frames", "train_tracker"}),  # labels every hop
    ("tracker", "epochs", 2, {"train_tracker"}),
    ("evaluate_tracker", "baseline_phrases", 1, {"evaluate_tracker"}),
])
def test_one_param_changes_exactly_the_stages_that_read_it(project, section, key, value, readers):
    """`dvc status` after editing one key names exactly the stages that read it (and check_params, which reads
    the whole file); `dvc repro` then reruns those and what depends on their outputs, as the whole-DAG test in
    test_model_pipeline.py checks for a train key."""
    path, params = project
    original = params[section][key]
    params[section][key] = value
    write_params(params, path / "params.yaml")
    try:
        status = json.loads(run_cmd(["dvc", "status", "--json"], path).stdout)
        changed = {stage for stage, changes in status.items()
                   if any("changed deps" in change and "params.yaml" in change["changed deps"] for change in changes)}
        assert changed == readers | {"check_params"} and set(status) == changed  # no other stage is stale
    finally:
        params[section][key] = original
        write_params(params, path / "params.yaml")
    assert json.loads(run_cmd(["dvc", "status", "--json"], path).stdout) == {}


def test_cpu_training_with_the_same_seed_repeats_its_metrics(project):
    path, _ = project
    before = json.loads((path / "dvclive/metrics.json").read_text())
    run_cmd(["dvc", "repro", "-f", "-s", "train"], path)
    assert json.loads((path / "dvclive/metrics.json").read_text()) == before


def test_experiments_on_a_training_and_a_data_param(project):
    path, _ = project
    run_cmd(["dvc", "exp", "run", "-S", "train.learning_rate=0.003", "-n", "faster"], path)
    run_cmd(["dvc", "exp", "run", "-S", "prepare.gain_min=0.4", "-n", "louder"], path)
    shown = json.loads(run_cmd(["dvc", "exp", "show", "--json"], path).stdout)
    text = json.dumps(shown)
    assert "faster" in text and "louder" in text and "rpa_50c" in text and "learning_rate" in text
    run_cmd(["git", "checkout", "--", "."], path)
    run_cmd(["dvc", "checkout", "-f"], path)


def test_push_clone_pull_reproduces_nothing_and_predicts(project, tmp_path):
    path, _ = project
    with s3_server() as endpoint:
        import boto3

        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id="testing", aws_secret_access_key="testing").create_bucket(Bucket="dvc")
        run_cmd(["dvc", "remote", "add", "-f", "-d", "s3", "s3://dvc/store"], path)
        run_cmd(["dvc", "remote", "modify", "s3", "endpointurl", endpoint], path)
        run_cmd(["dvc", "remote", "modify", "--local", "s3", "access_key_id", "testing"], path)
        run_cmd(["dvc", "remote", "modify", "--local", "s3", "secret_access_key", "testing"], path)
        assert "secret" not in (path / ".dvc/config").read_text()
        run_cmd(["git", "add", ".dvc/config"], path)
        run_cmd(["git", "commit", "-qm", "s3 remote"], path)
        run_cmd(["dvc", "push", "--run-cache"], path, env_extra=CREDENTIALS)

        clone = tmp_path / "clone"
        run_cmd(["git", "clone", "-q", str(path), str(clone)], tmp_path)
        run_cmd(["dvc", "pull"], clone, env_extra=CREDENTIALS)
        status = run_cmd(["dvc", "status"], clone)
        assert "up to date" in status.stdout, status.stdout
        assert ran_stages(run_cmd(["dvc", "repro"], clone).stdout) == []
        assert tree_digest(clone / "data/features") == tree_digest(path / "data/features")

        pcm = read_array(pq.read_table(sorted((clone / "data/rendered").glob("*.parquet"))[0]), "audio")[0]
        soundfile.write(tmp_path / "note.wav", pcm, 44100)
        predicted = run_cmd(["pitchpipe", "predict", str(tmp_path / "note.wav"), "--model", "models"], clone)
        assert predicted.stdout.count("\n") == 1 + len(np.arange(0, 24000 - 5280 + 1, 1600))  # header + 0.1 s hops

    # the server is gone: a clear error, and nothing lost or half-written on either side (one attempt per file, as
    # the README suggests: botocore's default retries take minutes over hundreds of shards)
    broken = tmp_path / "broken"
    run_cmd(["git", "clone", "-q", str(path), str(broken)], tmp_path)
    before = tree_digest(path / "data")
    fail_fast = {**CREDENTIALS, "AWS_MAX_ATTEMPTS": "1"}
    failed = run_cmd(["dvc", "pull"], broken, check=False, env_extra=fail_fast, timeout=600)
    assert failed.returncode != 0
    assert "ERROR" in failed.stderr + failed.stdout
    assert not (broken / "data/features").exists() or not any((broken / "data/features").rglob("*.parquet"))
    push = run_cmd(["dvc", "push"], path, check=False, env_extra=fail_fast, timeout=600)
    assert tree_digest(path / "data") == before
    assert push.returncode == 0 or "ERROR" in push.stderr + push.stdout


def test_default_local_remote_push_and_pull_out_of_the_box(project, tmp_path):
    path, _ = project
    env = {"PITCHPIPE_REMOTE": str(tmp_path / "remote")}
    local_config = path / ".dvc/config.local"
    saved = local_config.read_text() if local_config.exists() else None
    local_config.unlink(missing_ok=True)
    try:
        run_cmd(["bash", str(ROOT / "scripts/default-remote")], path, env_extra=env)
        assert str(tmp_path / "remote") in local_config.read_text()
        run_cmd(["dvc", "push"], path)
        assert any((tmp_path / "remote").rglob("*"))
        clone = tmp_path / "clone"
        run_cmd(["git", "clone", "-q", str(path), str(clone)], tmp_path)
        run_cmd(["bash", str(ROOT / "scripts/default-remote")], clone, env_extra=env)
        run_cmd(["dvc", "pull"], clone)
        assert "up to date" in run_cmd(["dvc", "status"], clone).stdout
        assert tree_digest(clone / "models") == tree_digest(path / "models")
    finally:
        local_config.unlink(missing_ok=True)
        if saved is not None:
            local_config.write_text(saved)
