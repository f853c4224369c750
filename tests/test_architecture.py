"""The layering of docs/CONVENTIONS.md holds, and the workflow's states are listed in one place only."""

from __future__ import annotations

import ast
import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from pingxuan.paths import PROJECT_ROOT
from workflow.definition import STATE_NAMES

CONFIG = PROJECT_ROOT / ".importlinter"
SKIP_DIRS = {".venv", ".git", "tests", "migrations", "node_modules", "instance", "__pycache__", ".ruff_cache"}
TOP_LAYER = ("views", ".tasks", ".cli", ".admin")
TOP_PACKAGES = ("api", "backoffice", "forms")
TOP_MODULES = ("shell", "wsgi")
DOMAIN_PACKAGES = (
    "accounts",
    "archives",
    "books",
    "workflow",
    "cases",
    "campaigns",
    "reviewers",
    "notifications",
    "voting",
    "awards",
)
BOTTOM = ("models", "definition", "__init__")


def _operation_modules() -> tuple[str, ...]:
    """Every module of a domain package that is neither a model nor of the top layer is an operations module."""
    found = []
    for package in DOMAIN_PACKAGES:
        for path in sorted((PROJECT_ROOT / package).glob("*.py")):
            name = ".".join((*Path(package).parts, path.stem))
            if path.stem not in BOTTOM and not name.endswith(TOP_LAYER):
                found.append(name)
    return tuple(found)


OPERATION_MODULES = _operation_modules()


def project_files(*suffixes: str) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(PROJECT_ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        found.extend(Path(folder) / name for name in files if name.endswith(suffixes))
    return sorted(found)


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts)


def modules_named(last: str) -> list[str]:
    return [module_name(p) for p in project_files(".py") if p.name == f"{last}.py"]


def contract(name: str) -> dict[str, list[str]]:
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    section = parser[f"importlinter:contract:{name}"]
    return {key: section[key].split() for key in ("source_modules", "forbidden_modules")}


def root_packages() -> list[str]:
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    return parser["importlinter"]["root_packages"].split()


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth in the file (function-level imports count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def is_above_operations(name: str) -> bool:
    return (
        name.endswith(TOP_LAYER)
        or name.split(".")[0] in TOP_PACKAGES
        or any(name == m or name.startswith(m + ".") for m in TOP_MODULES)
    )


def is_operation(name: str) -> bool:
    return name.endswith(".operations") or name in OPERATION_MODULES


# The import rule ------------------------------------------------------------------------------------------


def test_import_linter_contracts_hold():
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--config", str(CONFIG)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_contracts_cover_every_models_and_operations_module():
    """A new package or a nested models module must not slip past the wildcards unchecked."""
    graph = grimp.build_graph(*root_packages(), include_external_packages=False)
    models = contract("models-are-the-bottom")["source_modules"]
    operations = contract("operations-below-the-top")["source_modules"]

    def matched(expressions: list[str]) -> set[str]:
        found: set[str] = set()
        for expression in expressions:
            found |= graph.find_matching_modules(expression) if "*" in expression else {expression}
        return found

    unchecked_models = set(modules_named("models")) - matched(models)
    assert not unchecked_models, f"add their packages to root_packages in .importlinter: {sorted(unchecked_models)}"
    assert "workflow.definition" in matched(models)
    unchecked_operations = (set(modules_named("operations")) | set(OPERATION_MODULES)) - matched(operations)
    assert not unchecked_operations, f"add them to .importlinter: {sorted(unchecked_operations)}"


def test_a_model_importing_an_operation_breaks_the_contract(tmp_path):
    """The contracts bite: a copy of the code with one forbidden import fails lint-imports."""
    for path in project_files(".py"):
        target = tmp_path / path.relative_to(PROJECT_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    shutil.copy(CONFIG, tmp_path / ".importlinter")
    # pingxuan is a regular package, so the copy wins over the editable install (namespace packages would merge).
    model = tmp_path / "campaigns" / "models.py"
    model.write_text(model.read_text(encoding="utf-8") + "\nfrom cases.operations import create_case  # noqa\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--config", str(tmp_path / ".importlinter")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode != 0, done.stdout
    assert "campaigns.models is not allowed to import cases.operations" in done.stdout


def test_the_kernel_is_the_floor_and_the_shell_the_roof():
    """Every kernel module is bound by the kernel contract; nothing below the shell imports it; no import circle
    inside a domain package (each module builds on the ones below it)."""
    assert contract("kernel-is-the-floor")["source_modules"] == ["pingxuan"]
    assert not (PROJECT_ROOT / "pingxuan" / "shell").exists(), "the shell is a top-level package of its own"
    graph = grimp.build_graph(*root_packages(), include_external_packages=False)
    kernel = {"pingxuan", *graph.find_descendants("pingxuan")}
    for module in kernel:
        above = {m for m in graph.find_modules_directly_imported_by(module) if m.split(".")[0] != "pingxuan"}
        assert not above, f"{module} imports {sorted(above)}"
    for package in DOMAIN_PACKAGES:
        members = sorted(graph.find_children(package))
        for i, first in enumerate(members):
            for second in members[i + 1 :]:
                there = graph.chain_exists(first, second)
                back = graph.chain_exists(second, first)
                assert not (there and back), f"import circle between {first} and {second}"


def test_the_models_build_on_each_other_without_a_circle():
    """Across domains too: a model module that needs another's class is above it, never also below it (type
    annotations included: a relationship is declared in the module above, where both classes are known)."""
    graph = grimp.build_graph(*root_packages(), include_external_packages=False)
    models = sorted(m for m in graph.modules if m.endswith(".models") or m == "workflow.definition")
    for i, first in enumerate(models):
        for second in models[i + 1 :]:
            there, back = graph.chain_exists(first, second), graph.chain_exists(second, first)
            assert not (there and back), f"import circle between {first} and {second}"


@pytest.mark.parametrize("path", project_files(".py"), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_layers_import_only_downwards(path):
    name = module_name(path)
    imports = imported_modules(path)
    if name.endswith(".models") or name == "workflow.definition":
        wrong = sorted(i for i in imports if is_operation(i) or is_above_operations(i))
        assert not wrong, f"{name} is a model module and imports from above it: {wrong}"
    elif is_operation(name):
        wrong = sorted(i for i in imports if is_above_operations(i))
        assert not wrong, f"{name} is an operations module and imports from pages/API/admin/CLI/tasks: {wrong}"


# The workflow is declared once -------------------------------------------------------------------------------

DECLARATION = PROJECT_ROOT / "workflow" / "definition.py"
TEMPLATE_SUFFIXES = (".html", ".jinja", ".j2", ".txt", ".xml")
QUOTED = re.compile(r"""(["'])([a-z_]+)\1""")


def state_literals(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".py":
        return {
            node.value
            for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in STATE_NAMES
        }
    return {m.group(2) for m in QUOTED.finditer(text) if m.group(2) in STATE_NAMES}


def test_states_are_listed_only_in_the_declaration():
    """No module or template spells out three or more state names: they iterate the declaration instead."""
    offenders = {}
    for path in project_files(".py", *TEMPLATE_SUFFIXES):
        if path == DECLARATION:
            continue
        found = state_literals(path)
        if len(found) >= 3:
            offenders[str(path.relative_to(PROJECT_ROOT))] = sorted(found)
    assert not offenders, f"state names listed outside workflow/definition.py: {offenders}"
    assert len(state_literals(DECLARATION)) == len(STATE_NAMES)
