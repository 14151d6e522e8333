"""The layout's rules, read from the source: no import cycles, pytest only at the edges,
reports that never reach into Go builds or the engine."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pytest_traefik_compat

PACKAGE = "pytest_traefik_compat"
ROOT = Path(pytest_traefik_compat.__file__).parent
# Code about Docker, bases, Go, start physics, the gateway, measurements, reports and
# certificates: usable without pytest.
DOMAIN = ("engine", "bases", "gobuild", "gateway", "measure", "records", "report", "pki")
# The top level holds entry points only; everything else lives in a package.
TOP_LEVEL = {"__init__.py", "__main__.py", "cli.py", "errors.py", "py.typed"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {
    _module_name(path): path
    for path in ROOT.rglob("*.py")
    if "grpc_stubs" not in path.parts and "suite" not in path.parts
}


def _imports(name: str) -> set[str]:
    """Everything a module imports (module level and inside functions), as module names."""
    tree = ast.parse(MODULES[name].read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {
                f"{node.module}.{alias.name}"
                for alias in node.names
                if f"{node.module}.{alias.name}" in MODULES
            }
            # "from pkg import mod" imports the module pkg.mod, not what pkg re-exports.
            found.update(submodules or {node.module})
    return found


def _internal_edges() -> dict[str, set[str]]:
    return {name: {m for m in _imports(name) if m in MODULES and m != name} for name in MODULES}


def _in(module: str, area: str) -> bool:
    full = f"{PACKAGE}.{area}"
    return module == full or module.startswith(full + ".")


def test_no_import_cycles() -> None:
    edges = _internal_edges()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for target in sorted(edges[name]):
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target) :], target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            elif target not in state:
                visit(target)
        stack.pop()
        state[name] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name)


@pytest.mark.parametrize("area", DOMAIN)
def test_domain_code_does_not_import_pytest(area: str) -> None:
    offenders = [
        name
        for name in MODULES
        if _in(name, area) and any(m == "pytest" or m.startswith("_pytest") for m in _imports(name))
    ]
    assert not offenders, f"{area} must not import pytest: {offenders}"


@pytest.mark.parametrize("forbidden", ["gobuild", "engine", "gateway", "bases"])
def test_report_reads_records_only(forbidden: str) -> None:
    offenders = [
        (name, m)
        for name in MODULES
        if _in(name, "report")
        for m in _imports(name)
        if _in(m, forbidden)
    ]
    assert not offenders, f"report/ must not import {forbidden}/: {offenders}"


def test_every_subpackage_says_what_it_owns_and_must_not_import() -> None:
    for init in ROOT.glob("*/__init__.py"):
        if init.parent.name in ("grpc_stubs", "suite", "data"):
            continue
        docstring = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "not import" in docstring, f"{init}: say what it must not import"


def test_the_walk_sees_the_layout() -> None:
    """Guards the test itself: an empty walk would pass every rule above."""
    for area in DOMAIN:
        assert any(_in(name, area) for name in MODULES), area
    assert f"{PACKAGE}.report" in _internal_edges()[f"{PACKAGE}.plugin.reporting"]


def test_public_api_is_the_package_face() -> None:
    """Every name in ``__all__`` resolves, and importing the package loads no pytest."""
    import subprocess
    import sys

    code = (
        "import sys, pytest_traefik_compat as p\n"
        "assert 'pytest' not in sys.modules, 'pytest loaded'\n"
        "[getattr(p, name) for name in p.__all__]\n"
        "print(sorted(p.__all__))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Gateway" in done.stdout and "ServiceBuild" in done.stdout


def test_top_level_holds_entry_points_only() -> None:
    """pytest glue, measurement and the record model each live in their own package."""
    loose = {path.name for path in ROOT.iterdir() if path.is_file()} - TOP_LEVEL
    assert not loose, f"move these into the package they belong to: {sorted(loose)}"


@pytest.mark.parametrize("area", ["records", "measure"])
def test_records_and_measurements_stay_below_the_glue(area: str) -> None:
    offenders = [
        (name, m)
        for name in MODULES
        if _in(name, area)
        for m in _imports(name)
        if _in(m, "plugin") or (area == "measure" and (_in(m, "records") or _in(m, "report")))
    ]
    assert not offenders, f"{area}/ imports what sits above it: {offenders}"
