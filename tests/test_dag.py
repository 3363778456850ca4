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


def test_the_package_has_no_import_cycle():
    for module in (ROOT / PACKAGE).glob("*.py"):
        assert module not in import_closure(module), f"{module.name} imports itself through {sorted(p.name for p in import_closure(module))}"


def test_training_never_imports_evaluation():
    names = {p.name for p in import_closure(ROOT / "stages/train.py")}
    assert "evaluate.py" not in names and "predict.py" not in names


def test_render_depends_on_every_soundfont_it_reads():
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert set(params["render"]["soundfonts"]) <= set(stage_definitions()["render"]["deps"])


def test_stage_commands_do_not_depend_on_the_callers_path():
    for name, stage in stage_definitions().items():
        assert stage["cmd"].startswith("sh scripts/python "), name
