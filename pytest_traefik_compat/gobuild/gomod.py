"""What a module's go.mod and package clauses say, read without running ``go``.

Owns the one-line refusals for a module that needs a newer Go or a package that is
not a command of the module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pytest_traefik_compat.errors import BuildError
from pytest_traefik_compat.gobuild.toolchain import GoToolchain, parse_go_version

__all__ = [
    "GoModInfo",
    "check_command_package",
    "check_module_go",
    "read_go_mod",
]


@dataclass(frozen=True)
class GoModInfo:
    """The parts of go.mod that decide which toolchain and which sources build it."""

    module: str | None
    go: str | None
    toolchain: str | None
    # Right-hand sides of `replace` directives that are directories on disk: their
    # sources are part of the build but live outside the module directory.
    local_replaces: tuple[str, ...] = ()


def no_go_mod_message(module_dir: Path) -> str:
    return f"no go.mod in {module_dir}: point the builder at a Go module directory"


def read_go_mod(module_dir: Path) -> GoModInfo:
    gomod = Path(module_dir) / "go.mod"
    try:
        text = gomod.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BuildError(no_go_mod_message(module_dir)) from None
    module = go = toolchain = None
    replaces: list[str] = []
    block: str | None = None
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if block is not None:
            if line == ")":
                block = None
                continue
            words = f"{block} {line}".split()
        else:
            words = line.split()
            if len(words) == 2 and words[1] == "(":
                block = words[0]
                continue
        verb, args = words[0], words[1:]
        if verb == "module" and args:
            module = args[0].strip('"')
        elif verb == "go" and args:
            go = args[0]
        elif verb == "toolchain" and args:
            toolchain = args[0]
        elif verb == "replace" and "=>" in args:
            target = args[args.index("=>") + 1 :]
            # A filesystem replacement has no version and starts like a path
            # (go.mod's own rule for telling a directory from a module path).
            if len(target) == 1 and target[0].startswith(("./", "../", "/")):
                replaces.append(target[0])
    return GoModInfo(module=module, go=go, toolchain=toolchain, local_replaces=tuple(replaces))


def check_module_go(toolchain: GoToolchain, module_dir: Path) -> GoModInfo:
    """Fail in one line if the module's ``go`` line asks for a newer Go than ``toolchain``.

    With GOTOOLCHAIN=local the go command would refuse anyway, but with a message
    that does not say which module or what to install. The ``toolchain`` line is a
    preference, not a requirement, and is ignored under GOTOOLCHAIN=local.
    """
    info = read_go_mod(module_dir)
    if info.go is None:
        return info
    try:
        wanted = parse_go_version(info.go)
    except ValueError:
        raise BuildError(
            f"{module_dir}/go.mod has an unreadable `go {info.go}` line: fix it"
        ) from None
    if toolchain.version_tuple < wanted:
        hint = f" (it also names toolchain {info.toolchain})" if info.toolchain else ""
        raise BuildError(
            f"{module_dir}/go.mod needs go >= {info.go}{hint} but {toolchain.path} is "
            f"{toolchain.version}: install a newer Go "
            "(toolchain downloads are off: GOTOOLCHAIN=local)"
        )
    return info


_PACKAGE_CLAUSE = re.compile(rb"^package\s+(\w+)", re.MULTILINE)


def check_command_package(module_dir: Path, package: str) -> None:
    """Raise BuildError (one line) when ``package`` cannot be a command of the module.

    ``go build`` would also fail, but with "stat ...: directory not found" or
    "no required module provides package" under a generic "go build failed", and
    a library package even "builds" (an archive, not a program). Packages outside
    the module (a tool from a dependency) are left to ``go build``.
    """
    if not module_dir.exists():
        raise BuildError(f"module directory {module_dir} does not exist")
    if not module_dir.is_dir():
        raise BuildError(f"{module_dir} is a file, not a Go module directory")
    if not (module_dir / "go.mod").is_file():
        return  # the build names the missing go.mod itself
    module = read_go_mod(module_dir).module or ""
    if package == "." or package.startswith(("./", "../")):
        package_dir = module_dir / package
    elif module and (package == module or package.startswith(module + "/")):
        package_dir = module_dir / package[len(module) :].lstrip("/")
    else:
        return
    where = f"module {module or '?'} ({module_dir})"
    if not package_dir.is_dir():
        raise BuildError(f"package {package} does not exist in {where}")
    sources = [p for p in sorted(package_dir.glob("*.go")) if not p.name.endswith("_test.go")]
    if not sources:
        raise BuildError(f"package {package} in {where} has no Go files")
    names = {
        m.group(1).decode() for p in sources for m in [_PACKAGE_CLAUSE.search(p.read_bytes())] if m
    }
    if names and "main" not in names:
        raise BuildError(
            f"package {package} in {where} is package "
            f"{', '.join(sorted(names))}, not a command (package main)"
        )
