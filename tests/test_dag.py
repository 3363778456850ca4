"""dvc.yaml tells the truth: each stage's code deps are exactly what its script imports (within pitchpipe/),
the package has no import cycle, and the data files a stage reads are deps too."""

import ast
import re
from pathlib import Path

import yaml

from conftest import ROOT

PACKAGE = "pitchpipe"


def imported_modules(path: Path) -> set[Path]:
    """Package files a Python file imports (at any depth in the file: lazy imports count, they run too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == PACKAGE:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names if alias.name.split(".")[0] == PACKAGE]
        for name in names:
            candidate = ROOT / Path(*name.split("."))
            if candidate.with_suffix(".py").is_file():
                found.add(candidate.with_suffix(".py"))
    return {p for p in found if p.name != "__init__.py"}


def import_closure(script: Path) -> set[Path]:
    seen, todo = set(), [script]
    while todo:
        for module in imported_modules(todo.pop()):
            if module not in seen:
                seen.add(module)
                todo.append(module)
    return seen


def stage_definitions() -> dict[str, dict]:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    return {name: stage.get("do", stage) for name, stage in stages.items()}


def test_every_stage_depends_on_exactly_the_code_it_runs():
    wrong = {}
    for name, stage in stage_definitions().items():
        script = ROOT / re.search(r"stages/\w+\.py", stage["cmd"]).group(0)
        wanted = {script.relative_to(ROOT).as_posix()} | {p.relative_to(ROOT).as_posix() for p in import_closure(script)}
        code = {d for d in stage["deps"] if d.endswith(".py")}
        if code != wanted:
            wrong[name] = {"missing": sorted(wanted - code), "extra": sorted(code - wanted)}
    assert not wrong, wrong


def test_the_report_depends_on_its_templates():
    """Jinja2 templates are code the report stage runs: editing one reruns the report."""
    for name, stage in stage_definitions().items():
        script = ROOT / re.search(r"stages/\w+\.py", stage["cmd"]).group(0)
        if ROOT / "pitchpipe/evaluation/report.py" in import_closure(script):
            assert "pitchpipe/evaluation/templates" in stage["deps"], name


def test_the_package_has_no_import_cycle():
    for module in (ROOT / PACKAGE).rglob("*.py"):
        assert module not in import_closure(module), f"{module.name} imports itself through {sorted(p.name for p in import_closure(module))}"


# The rooms of the package, lowest first: a module may import from its own room, a lower one, or the
# infrastructure at the package root (config, errors, parallel, quiet, seeding, shards, stage), never from a higher
# room. cli.py, the command line's entry point, is the one root module above them all.
ROOMS = ("sound", "data", "scores", "model", "inference", "evaluation")
ENTRY_POINTS = {"cli.py"}


def room(module: Path) -> int:
    """-1 for the package root's infrastructure, else the room's rank in ROOMS."""
    parts = module.relative_to(ROOT / PACKAGE).parts
    return -1 if len(parts) == 1 else ROOMS.index(parts[0])


def test_rooms_only_import_from_below():
    assert {p.name for p in (ROOT / PACKAGE).iterdir() if p.is_dir() and p.name != "__pycache__"} == set(ROOMS)
    upward = {}
    for module in (ROOT / PACKAGE).rglob("*.py"):
        if module.name in ENTRY_POINTS or module.name == "__init__.py":
            continue
        above = sorted(str(p.relative_to(ROOT)) for p in imported_modules(module) if room(p) > room(module))
        if above:
            upward[str(module.relative_to(ROOT))] = above
    assert not upward, upward


def test_every_room_says_what_it_holds():
    for name in ROOMS:
        assert len(ast.get_docstring(ast.parse((ROOT / PACKAGE / name / "__init__.py").read_text())) or "") > 40, name


def test_training_never_imports_evaluation():
    names = {p.name for p in import_closure(ROOT / "stages/train.py")}
    assert "evaluate.py" not in names and "predict.py" not in names


def test_render_depends_on_every_soundfont_it_reads():
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert set(params["render"]["soundfonts"]) <= set(stage_definitions()["render"]["deps"])


def test_stage_commands_do_not_depend_on_the_callers_path():
    for name, stage in stage_definitions().items():
        assert stage["cmd"].startswith("sh scripts/python "), name


class _Parsed(Exception):
    """Raised instead of parsing: the stage's parser has been read."""


def stage_path_defaults(script: Path, monkeypatch) -> dict[str, str]:
    """The path options of a stage script and their defaults, read from its own parser without running it."""
    import argparse
    import runpy

    found = {}

    def capture(parser, *args, **kwargs):
        found.update({action.dest: action.default for action in parser._actions
                      if isinstance(action.default, str) and action.dest not in ("params", "help")})
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    try:
        runpy.run_path(str(script), run_name="__main__")
    except _Parsed:
        pass
    return found


RUNTIME_FOLDERS = {"checkpoints"}  # resumable training state: a runtime folder, never a stage's dep or out


def test_stage_scripts_default_to_the_paths_dvc_yaml_declares(monkeypatch):
    """Each stage script's default inputs and outputs are what its dvc.yaml entry declares, so running a script by
    hand reads and writes what `dvc repro` would."""
    wrong = {}
    for name, stage in stage_definitions().items():
        script = ROOT / re.search(r"stages/\w+\.py", stage["cmd"]).group(0)
        declared = set(stage.get("deps", [])) | {next(iter(o)) if isinstance(o, dict) else o
                                                 for kind in ("outs", "metrics", "plots") for o in stage.get(kind, [])}
        for option, default in stage_path_defaults(script, monkeypatch).items():
            if default.split("/")[0] in RUNTIME_FOLDERS:
                continue
            if not any(default == path or path.startswith(default.rstrip("/") + "/") for path in declared):
                wrong[f"{name} --{option}"] = default
    assert not wrong, wrong
