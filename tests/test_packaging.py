"""pyproject.toml, constraints.txt and environment.yml must agree."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"tzdata": "python-tzdata"}  # PyPI name -> conda-forge name, where they differ


def _pyproject():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = data["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    reqs += [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    return {canonicalize_name(r.name): r for r in reqs}


def _constraints():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def _environment():
    conda, pip = {}, {}
    for line in (ROOT / "environment.yml").read_text(encoding="utf-8").splitlines():
        if m := re.fullmatch(r"  - ([\w.-]+)=([\w.]+)", line):
            conda[m[1]] = m[2]
        elif m := re.fullmatch(r"      - ([\w.-]+)==([\w.]+)", line):
            pip[canonicalize_name(m[1])] = m[2]
    return conda, pip


def test_every_pin_satisfies_its_range():
    pins = _constraints()
    for name, req in _pyproject().items():
        assert name in pins, f"{name} is not pinned in constraints.txt"
        assert req.specifier.contains(pins[name]), f"{name}=={pins[name]} not in {req.specifier}"


def test_environment_mirrors_pyproject_at_the_tested_versions():
    pins = _constraints()
    conda, pip = _environment()
    conda.pop("python")
    wanted = {CONDA_NAMES.get(n, n) for n in _pyproject()}
    have = set(conda) | set(pip)
    assert wanted == have, (
        f"only in pyproject: {wanted - have}; only in environment.yml: {have - wanted}"
    )
    by_conda = {CONDA_NAMES.get(n, n): n for n in _pyproject()}
    for name, version in {**conda, **pip}.items():
        assert version == pins[by_conda[name]], f"{name}: environment.yml {version} != constraints"
