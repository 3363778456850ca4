"""pyproject.toml declares what pitchpipe imports, with ranges; requirements.txt, the lock set-up installs,
satisfies every one of them (extras included), so neither drifts from the other."""

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;]+).*", line).groups()
            pins[canonicalize_name(name)] = version
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    return [Requirement(text) for text in project["dependencies"] + [r for group in extras.values() for r in group]]


def test_the_lock_satisfies_every_declared_dependency():
    pins = locked()
    wrong = {str(r): pins.get(canonicalize_name(r.name), "not locked") for r in declared()
             if canonicalize_name(r.name) not in pins or not r.specifier.contains(pins[canonicalize_name(r.name)])}
    assert not wrong, wrong


def test_every_third_party_import_of_the_package_is_declared():
    import ast
    import sys

    names = set()
    for path in (ROOT / "pitchpipe").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    third_party = names - set(sys.stdlib_module_names) - {"pitchpipe", "__future__"}
    # import name -> distribution name where they differ; torch is only probed for a torch Keras backend
    distribution = {"yaml": "pyyaml", "fluidsynth": "pyfluidsynth"}
    wanted = {canonicalize_name(distribution.get(name, name)) for name in third_party - {"torch"}}
    have = {canonicalize_name(r.name) for r in declared()}
    assert wanted <= have, sorted(wanted - have)
