"""Unit tests for gobuild that need no Go toolchain: cache keys, requests, go.mod,
toolchain discovery and the builder's refusals before it would run ``go``."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_traefik_compat import gobuild
from pytest_traefik_compat.errors import BuildError
from pytest_traefik_compat.gobuild import (
    LINKAGES,
    BuildRequest,
    GoBuilder,
    GoToolchain,
    cache_key,
    check_module_go,
    find_go,
    inspect_elf,
    parse_go_version,
    parse_linkages,
    read_go_mod,
    require_go,
)
from tests.helpers.go_modules import FAKE_GO, MAIN_GO, neutral_go_env, write_module


@pytest.fixture(autouse=True)
def _neutral_go_env(monkeypatch: pytest.MonkeyPatch) -> None:
    neutral_go_env(monkeypatch)


@pytest.fixture
def module(tmp_path: Path) -> Path:
    return write_module(tmp_path / "tiny")


def key_of(module_dir: Path, *, toolchain: GoToolchain = FAKE_GO, **kwargs: object) -> str:
    return cache_key(BuildRequest(module_dir, **kwargs), toolchain)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- #
# Cache keys: change when, and only when, the binary could
# --------------------------------------------------------------------------- #


def test_same_inputs_same_key(module: Path) -> None:
    assert key_of(module) == key_of(module)
    assert key_of(module, linkage="glibc", env={"A": "1", "B": "2"}) == key_of(
        module, linkage="glibc", env={"B": "2", "A": "1"}
    )


def test_key_ignores_location(module: Path, tmp_path: Path) -> None:
    # -trimpath removes the location from the binary, so a copy shares the entry.
    copy = tmp_path / "elsewhere" / "tiny"
    shutil.copytree(module, copy)
    assert key_of(module) == key_of(copy)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda m: (m / "main.go").write_text(MAIN_GO + "// edit\n"), id="go-file"),
        pytest.param(lambda m: (m / "extra.go").write_text("package main\n"), id="new-go-file"),
        pytest.param(
            lambda m: (m / "go.mod").write_text("module example.com/tiny\n\ngo 1.23\n"), id="go.mod"
        ),
        pytest.param(lambda m: (m / "go.sum").write_text("x v1 h1:abc=\n"), id="go.sum"),
        pytest.param(lambda m: (m / "asm.s").write_text("// asm\n"), id="asm"),
        pytest.param(lambda m: (m / "helper.h").write_text("int x;\n"), id="c-header"),
        pytest.param(lambda m: (m / "main.go").rename(m / "main2.go"), id="rename"),
        pytest.param(lambda m: (m / "data.txt").write_text("payload\n"), id="other-file"),
    ],
)
def test_key_changes_with_sources(module: Path, change: Callable[[Path], object]) -> None:
    before = key_of(module)
    change(module)
    assert key_of(module) != before


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda m: os.utime(m / "main.go", (1, 1)), id="mtime"),
        pytest.param(lambda m: (m / "README.md").write_text("# changed\n"), id="readme-edit"),
        pytest.param(lambda m: (m / "NOTES.md").write_text("notes\n"), id="new-md"),
        pytest.param(lambda m: (m / "LICENSE").write_text("MIT\n"), id="license"),
        pytest.param(lambda m: (m / "main_test.go").write_text("package main\n"), id="test-file"),
        pytest.param(lambda m: (m / ".editorconfig").write_text("x\n"), id="hidden-file"),
        pytest.param(
            lambda m: (m / ".git").mkdir() or (m / ".git" / "HEAD").write_text("x"), id="git-dir"
        ),
        pytest.param(lambda m: os.chmod(m / "main.go", 0o600), id="mode"),
    ],
)
def test_key_ignores_irrelevant_changes(module: Path, change: Callable[[Path], object]) -> None:
    before = key_of(module)
    change(module)
    assert key_of(module) == before


def test_docs_count_once_something_is_embedded(module: Path) -> None:
    # A module that embeds files may embed its README: then docs are part of the build.
    (module / "embed.go").write_text(
        'package main\n\nimport _ "embed"\n\n//go:embed README.md\nvar readme string\n'
    )
    before = key_of(module)
    (module / "README.md").write_text("# changed\n")
    assert key_of(module) != before


def test_local_replace_target_is_hashed(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "go.mod").write_text("module example.com/lib\n\ngo 1.22\n")
    (lib / "lib.go").write_text("package lib\n\nconst V = 1\n")
    app = write_module(tmp_path / "app")
    (app / "go.mod").write_text(
        "module example.com/tiny\n\ngo 1.22\n\nrequire example.com/lib v0.0.0\n\n"
        "replace example.com/lib => ../lib\n"
    )
    before = key_of(app)
    (lib / "lib.go").write_text("package lib\n\nconst V = 2\n")
    assert key_of(app) != before


@pytest.mark.parametrize(
    "kwargs",
    [
        {"linkage": "glibc"},
        {"linkage": "musl"},
        {"package": "./cmd/x"},
        {"ldflags": ("-X", "main.extra=1")},
        {"tags": ("netgo",)},
        {"flags": ("-race",)},
        {"env": {"GODEBUG": "x=1"}},
        {"buildmode": "pie"},
        {"output_name": "app"},
        {"strip": False},
        {"linkage_var": None},
    ],
)
def test_key_changes_with_request(module: Path, kwargs: dict[str, Any]) -> None:
    assert cache_key(BuildRequest(module, **kwargs), FAKE_GO) != key_of(module)


def test_key_changes_with_toolchain(module: Path) -> None:
    newer = GoToolchain(path=FAKE_GO.path, version="go1.26.1")
    arm = GoToolchain(path=FAKE_GO.path, version=FAKE_GO.version, goarch="arm64")
    moved = GoToolchain(path=Path("/elsewhere/go"), version=FAKE_GO.version)
    assert key_of(module, toolchain=newer) != key_of(module)
    assert key_of(module, toolchain=arm) != key_of(module)
    # The same version installed elsewhere builds the same binary.
    assert key_of(module, toolchain=moved) == key_of(module)


def test_key_changes_with_ambient_compiler_env(
    module: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = key_of(module, linkage="glibc")
    monkeypatch.setenv("CGO_CFLAGS", "-O0")
    assert key_of(module, linkage="glibc") != before


def test_key_changes_with_schema(module: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = key_of(module)
    monkeypatch.setattr(gobuild.request, "CACHE_SCHEMA", gobuild.CACHE_SCHEMA + 1)
    assert key_of(module) != before


# --------------------------------------------------------------------------- #
# Requests, go.mod, toolchain discovery
# --------------------------------------------------------------------------- #


def test_request_normalises_and_validates(tmp_path: Path) -> None:
    a = BuildRequest(tmp_path, env={"X": "1"}, tags=["a"])  # type: ignore[arg-type]
    b = BuildRequest(tmp_path, env={"X": "1"}, tags=("a",))
    assert a == b and hash(a) == hash(b)
    assert a.name == tmp_path.name
    assert BuildRequest(tmp_path, package="./cmd/server").name == "server"
    assert BuildRequest(tmp_path, buildmode="plugin", linkage="glibc").name == f"{tmp_path.name}.so"
    with pytest.raises(ValueError, match="linkage"):
        BuildRequest(tmp_path, linkage="uclibc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="CGO_ENABLED"):
        BuildRequest(tmp_path, env={"CGO_ENABLED": "1"})
    with pytest.raises(ValueError, match="plain file name"):
        BuildRequest(tmp_path, output_name="a/b")
    with pytest.raises(ValueError, match="one package"):
        BuildRequest(tmp_path, package="./...")


def test_request_go_command_line(tmp_path: Path) -> None:
    req = BuildRequest(tmp_path, linkage="musl", tags=("a", "b"), ldflags=("-X", "main.v=1 2"))
    args = req.go_args(Path("/out/bin"))
    assert args[:3] == ["build", "-trimpath", "-buildmode=exe"]
    assert '-ldflags=-s -w -X main.linkage=musl -X "main.v=1 2"' in args
    assert "-tags=a,b" in args and args[-1] == "."
    env = req.build_env()
    assert env["CGO_ENABLED"] == "1" and env["CC"] == "musl-gcc" and env["GOWORK"] == "off"
    assert BuildRequest(tmp_path).build_env()["CGO_ENABLED"] == "0"
    assert "CC" not in BuildRequest(tmp_path).build_env()
    assert BuildRequest(tmp_path, linkage_var=None, strip=False).go_ldflags() == ""


def test_parse_linkages() -> None:
    assert parse_linkages(["musl", " static"]) == ("musl", "static")
    assert LINKAGES == ("static", "glibc", "musl")
    with pytest.raises(ValueError, match="uclibc"):
        parse_linkages(["uclibc"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("go1.26.8", (1, 26, 8)),
        ("1.22", (1, 22, 0)),
        ("go1.23rc1", (1, 23, 0)),
        ("devel go1.24-abcdef Tue", (1, 24, 0)),
    ],
)
def test_parse_go_version(text: str, expected: tuple[int, int, int]) -> None:
    assert parse_go_version(text) == expected


def test_read_go_mod(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text(
        textwrap.dedent(
            """\
            module example.com/svc // comment

            go 1.23.4

            toolchain go1.24.1

            require example.com/a v1.0.0

            replace (
                example.com/a => ../a
                example.com/b v1.2.0 => example.com/c v1.3.0
            )
            replace example.com/d => /abs/d
            """
        )
    )
    info = read_go_mod(tmp_path)
    assert info.module == "example.com/svc"
    assert info.go == "1.23.4" and info.toolchain == "go1.24.1"
    assert info.local_replaces == ("../a", "/abs/d")


def test_module_newer_than_toolchain_is_one_line(tmp_path: Path) -> None:
    write_module(tmp_path)
    (tmp_path / "go.mod").write_text("module example.com/x\n\ngo 1.99.1\n\ntoolchain go1.99.2\n")
    old = GoToolchain(path=Path("/usr/bin/go"), version="go1.22.5")
    with pytest.raises(BuildError) as err:
        check_module_go(old, tmp_path)
    message = str(err.value)
    assert "\n" not in message
    assert f"{tmp_path}/go.mod needs go >= 1.99.1" in message
    assert "go1.22.5" in message and "GOTOOLCHAIN=local" in message
    # The builder says the same thing before ever running go.
    with pytest.raises(BuildError, match=r"needs go >= 1\.99\.1"):
        GoBuilder(tmp_path / "cache", old).build(BuildRequest(tmp_path))
    assert not (tmp_path / "cache").exists()


def test_missing_go_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(BuildError) as err:
        find_go(search_path=str(tmp_path), fallbacks=())
    assert str(err.value) == (
        "Go toolchain not found: install Go >= 1.22 (https://go.dev/dl) or put `go` on PATH"
    )
    with pytest.raises(BuildError, match="Go toolchain not found"):
        find_go(tmp_path / "no-such-go", search_path=str(tmp_path), fallbacks=())


def test_builder_without_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(gobuild.toolchain, "_default_go_candidates", lambda: [])
    write_module(tmp_path / "m")
    with pytest.raises(BuildError, match=r"^Go toolchain not found") as err:
        GoBuilder(tmp_path / "cache").build(BuildRequest(tmp_path / "m"))
    assert "\n" not in str(err.value)


def test_require_go() -> None:
    with pytest.raises(BuildError, match=r"Go go1\.21\.9 at .* is too old: install Go >= 1\.22"):
        require_go((1, 22), GoToolchain(FAKE_GO.path, "go1.21.9"))
    ok = GoToolchain(FAKE_GO.path, "go1.22.0")
    assert require_go((1, 22), ok) is ok


def test_missing_musl_gcc_fails_only_musl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_module(tmp_path / "m")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    builder = GoBuilder(tmp_path / "cache", FAKE_GO)
    with pytest.raises(BuildError) as err:
        builder.build(BuildRequest(tmp_path / "m", linkage="musl"))
    assert str(err.value) == (
        "musl-gcc not found: apt-get install musl-tools (only the musl linkage needs it)"
    )
    with pytest.raises(BuildError, match="C compiler gcc not found"):
        builder.build(BuildRequest(tmp_path / "m", linkage="glibc"))
    # The static linkage needs no C compiler: it gets as far as running (fake) go.
    with pytest.raises(BuildError, match="could not run /nonexistent/go"):
        builder.build(BuildRequest(tmp_path / "m", linkage="static"))


def test_plugin_needs_cgo(tmp_path: Path) -> None:
    write_module(tmp_path / "m")
    with pytest.raises(BuildError, match="-buildmode=plugin needs cgo"):
        GoBuilder(tmp_path / "cache", FAKE_GO).build(
            BuildRequest(tmp_path / "m", buildmode="plugin")
        )


def test_inspect_elf_rejects_non_elf(tmp_path: Path) -> None:
    junk = tmp_path / "app"
    junk.write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(BuildError, match="not a readable ELF binary"):
        inspect_elf(junk)
