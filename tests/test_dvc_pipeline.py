"""End to end: `dvc repro` of the data stages in a temporary repository, twice, then after param edits."""

import hashlib

import pytest

from conftest import make_project, run_cmd, write_params


def ran_stages(output: str) -> list[str]:
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")]


def digest(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.parquet"))}


@pytest.mark.slow
def test_repro_is_incremental_and_reproducible(tiny, tmp_path):
    project = make_project(tmp_path, tiny)
    first = run_cmd(["dvc", "repro", "featurize"], project)
    assert sorted(ran_stages(first.stdout)) == ["featurize", "prepare", "render", "synthesize"]
    features = digest(project / "data/features")
    assert len(features) == 12 + 4 and all(name.split("/")[0] in ("train", "val", "test") for name in features)

    again = run_cmd(["dvc", "repro", "featurize"], project)
    assert ran_stages(again.stdout) == []

    tiny["featurize"]["harmonic"]["floor_db"] = -60
    write_params(tiny, project / "params.yaml")
    changed = run_cmd(["dvc", "repro", "featurize"], project)
    assert ran_stages(changed.stdout) == ["featurize"]
    assert digest(project / "data/features") != features

    tiny["featurize"]["harmonic"]["floor_db"] = -80
    write_params(tiny, project / "params.yaml")
    run_cmd(["dvc", "repro", "featurize"], project)
    assert digest(project / "data/features") == features  # same params, same bytes

    tiny["prepare"]["gain_min"] = 0.5
    write_params(tiny, project / "params.yaml")
    assert sorted(ran_stages(run_cmd(["dvc", "repro", "featurize"], project).stdout)) == ["featurize", "prepare", "synthesize"]
