"""Unit tests for gobuild: cache keys, real builds in three linkages, ELF facts,
start prediction. No Docker; Go builds use tiny stdlib-only modules made here, so
no network is needed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from pytest_traefik_compat import gobuild
from pytest_traefik_compat.errors import BuildError
from pytest_traefik_compat.gobuild import (
    GLIBC_INTERPRETER_X86_64,
    LINKAGES,
    MUSL_INTERPRETER_X86_64,
    BuildRequest,
    BuiltBinary,
    ElfFacts,
    GoBuilder,
    GoToolchain,
    Linkage,
    StartCategory,
    cache_key,
    check_module_go,
    describe_exec_failure,
    diagnose_exec_failure,
    find_go,
    inspect_elf,
    parse_go_version,
    parse_linkages,
    predict_start,
    read_go_mod,
    require_go,
)

REPO = Path(__file__).resolve().parents[2]
FAKE_GO = GoToolchain(path=Path("/nonexistent/go"), version="go1.26.0")
HAVE_MUSL_GCC = shutil.which("musl-gcc") is not None

MAIN_GO = """\
package main

import "fmt"

var linkage = "unset"

func main() { fmt.Println("linkage", linkage, "cgo", cval()) }
"""
# A real cgo call, so the glibc and musl builds actually link a C library.
CGO_GO = """\
//go:build cgo

package main

/*
static int answer(void) { return 42; }
*/
import "C"

func cval() int { return int(C.answer()) }
"""
NOCGO_GO = """\
//go:build !cgo

package main

func cval() int { return 0 }
"""


def write_module(root: Path, module: str = "example.com/tiny", marker: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text(f"module {module}\n\ngo 1.22\n")
    (root / "main.go").write_text(MAIN_GO + (f"\n// {marker}\n" if marker else ""))
    (root / "cgo.go").write_text(CGO_GO)
    (root / "nocgo.go").write_text(NOCGO_GO)
    (root / "README.md").write_text("# tiny\n")
    return root


@pytest.fixture
def module(tmp_path: Path) -> Path:
    return write_module(tmp_path / "tiny")


def key_of(module_dir: Path, *, toolchain: GoToolchain = FAKE_GO, **kwargs: object) -> str:
    return cache_key(BuildRequest(module_dir, **kwargs), toolchain)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- #
# Cache keys: change when, and only when, the binary could
# --------------------------------------------------------------------------- #


@pytest.fixture(autouse=True)
def _neutral_go_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Keys read a few ambient variables; the tests must not depend on the caller's.
    for name in (
        "GOFLAGS",
        "GOAMD64",
        "GOEXPERIMENT",
        "GOWORK",
        "GOOS",
        "GOARCH",
        "CGO_CFLAGS",
        "CGO_LDFLAGS",
        "CGO_CPPFLAGS",
        "CGO_CXXFLAGS",
        "GOARM64",
    ):
        monkeypatch.delenv(name, raising=False)


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
    monkeypatch.setattr(gobuild.builder, "CACHE_SCHEMA", gobuild.CACHE_SCHEMA + 1)
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
    monkeypatch.setattr(gobuild.builder, "_default_go_candidates", lambda: [])
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


# --------------------------------------------------------------------------- #
# Real builds
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="session")
def toolchain() -> GoToolchain:
    try:
        return require_go()
    except BuildError as exc:
        pytest.skip(f"no usable Go: {exc.message}")


@pytest.fixture(scope="session")
def build_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gobuild")


@pytest.fixture(scope="session")
def shared_module(build_root: Path) -> Path:
    return write_module(build_root / "tiny")


@pytest.fixture(scope="session")
def built(
    toolchain: GoToolchain, build_root: Path, shared_module: Path
) -> dict[Linkage, BuiltBinary]:
    builder = GoBuilder(build_root / "cache", toolchain)
    out: dict[Linkage, BuiltBinary] = {}
    for linkage in LINKAGES:
        if linkage == "musl" and not HAVE_MUSL_GCC:
            continue
        out[linkage] = builder.build(BuildRequest(shared_module, linkage=linkage))
    return out


def _get(built: dict[Linkage, BuiltBinary], linkage: Linkage) -> BuiltBinary:
    if linkage not in built:
        pytest.skip(f"{linkage} not built (musl-gcc missing)")
    return built[linkage]


def test_static_build(built: dict[Linkage, BuiltBinary]) -> None:
    b = _get(built, "static")
    assert not b.cached and b.path.name == "tiny" and b.path.parent.name == b.key
    assert b.elf.static and b.elf.interpreter is None and b.elf.needed == ()
    assert b.elf.libc_kind == "static" and b.elf.machine == "EM_X86_64"
    assert b.elf.go_buildinfo is not None
    assert b.elf.go_buildinfo.setting("CGO_ENABLED") == "0"
    assert b.elf.go_buildinfo.path == "example.com/tiny"
    out = subprocess.run([b.path], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.strip() == "linkage static cgo 0"


def test_glibc_build(built: dict[Linkage, BuiltBinary]) -> None:
    b = _get(built, "glibc")
    assert not b.elf.static
    assert b.elf.interpreter == GLIBC_INTERPRETER_X86_64
    assert "libc.so.6" in b.elf.needed and b.elf.libc_kind == "glibc"
    assert b.elf.min_glibc is not None and b.elf.min_glibc >= (2, 2)
    assert b.elf.go_buildinfo is not None
    assert b.elf.go_buildinfo.setting("CGO_ENABLED") == "1"
    out = subprocess.run([b.path], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.strip() == "linkage glibc cgo 42"


def test_musl_build(built: dict[Linkage, BuiltBinary]) -> None:
    b = _get(built, "musl")
    assert not b.elf.static
    assert b.elf.interpreter == MUSL_INTERPRETER_X86_64
    # musl-gcc links against plain `libc.so`, which the musl loader provides itself.
    assert b.elf.needed == ("libc.so",) and b.elf.libc_kind == "musl"
    assert b.elf.min_glibc is None
    if os.path.exists(MUSL_INTERPRETER_X86_64):
        out = subprocess.run([b.path], capture_output=True, text=True, timeout=30, check=True)
        assert out.stdout.strip() == "linkage musl cgo 42"


def test_cache_hit_runs_no_go(
    built: dict[Linkage, BuiltBinary],
    build_root: Path,
    shared_module: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = _get(built, "glibc")

    def no_subprocess(*args: object, **kwargs: object) -> object:
        raise AssertionError(f"subprocess started on a cache hit: {args!r}")

    # A fresh builder without a toolchain: the version comes from the per-process
    # cache, the binary from disk, and nothing is run.
    monkeypatch.setattr(subprocess, "Popen", no_subprocess)
    monkeypatch.setattr(subprocess, "run", no_subprocess)
    builder = GoBuilder(build_root / "cache")
    start = time.monotonic()
    again = builder.build(BuildRequest(shared_module, linkage="glibc"))
    elapsed = time.monotonic() - start
    assert again.cached and builder.builds_run == 0
    assert again.path == first.path and again.key == first.key
    assert again.build_seconds == pytest.approx(first.build_seconds, abs=0.01)
    assert again.elf == first.elf
    assert elapsed < 1.0
    assert builder.lookup(BuildRequest(shared_module, linkage="glibc")) is not None
    assert builder.lookup(BuildRequest(shared_module, linkage="glibc", tags=("x",))) is None


def test_cache_entry_layout(built: dict[Linkage, BuiltBinary], build_root: Path) -> None:
    import json

    b = _get(built, "static")
    entry = build_root / "cache" / b.key
    assert sorted(p.name for p in entry.iterdir()) == ["meta.json", "tiny"]
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["key"] == b.key and meta["linkage"] == "static" and meta["size"] > 0
    assert oct(entry.stat().st_mode & 0o777) == "0o755"
    assert not list((build_root / "cache").glob(".tmp-*"))


def _leftovers(cache: Path) -> list[str]:
    if not cache.exists():
        return []
    return sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock"))


def test_compile_error(toolchain: GoToolchain, tmp_path: Path) -> None:
    mod = write_module(tmp_path / "broken")
    (mod / "main.go").write_text(MAIN_GO.replace("cval()", "nosuch()"))
    cache = tmp_path / "cache"
    with pytest.raises(BuildError) as err:
        GoBuilder(cache, toolchain).build(BuildRequest(mod, linkage="static"))
    assert err.value.message == f"go build failed for {mod} (., static)"
    assert "undefined: nosuch" in err.value.detail
    assert _leftovers(cache) == []  # neither an entry nor a temp dir


def test_interrupted_build_leaves_no_entry(
    toolchain: GoToolchain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mod = write_module(tmp_path / "m", marker="interrupted")
    cache = tmp_path / "cache"
    builder = GoBuilder(cache, toolchain)

    def half_then_interrupt(tc: GoToolchain, request: BuildRequest, output: Path) -> None:
        output.write_bytes(b"\x7fELF half a binary")
        raise KeyboardInterrupt

    monkeypatch.setattr(builder, "_run_go", half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        builder.build(BuildRequest(mod))
    assert _leftovers(cache) == []
    monkeypatch.undo()
    # A temp dir from a process that was killed outright is ignored and cleaned.
    key = builder.key(BuildRequest(mod))
    stale = cache / f".tmp-{key}-dead"
    stale.mkdir()
    (stale / "m").write_bytes(b"junk")
    assert builder.lookup(BuildRequest(mod)) is None
    result = builder.build(BuildRequest(mod))
    assert not result.cached and not stale.exists()
    assert _leftovers(cache) == [key]


def test_timeout_kills_build(toolchain: GoToolchain, tmp_path: Path) -> None:
    mod = write_module(tmp_path / "m", marker="timeout")
    cache = tmp_path / "cache"
    builder = GoBuilder(cache, toolchain, timeout=0.05)
    with pytest.raises(BuildError) as err:
        builder.build(BuildRequest(mod, linkage="glibc", flags=("-a",)))
    assert err.value.message.startswith("go build timed out after 0.05 s for")
    assert "\n" not in err.value.message
    assert _leftovers(cache) == []


def test_corrupt_entry_is_rebuilt(toolchain: GoToolchain, tmp_path: Path) -> None:
    mod = write_module(tmp_path / "m", marker="corrupt")
    builder = GoBuilder(tmp_path / "cache", toolchain)
    first = builder.build(BuildRequest(mod))
    first.path.write_bytes(b"truncated")  # size no longer matches meta.json
    again = builder.build(BuildRequest(mod))
    assert not again.cached and again.elf.static


def test_concurrent_processes_build_once(toolchain: GoToolchain, tmp_path: Path) -> None:
    # What pytest-xdist workers do: the same request from several processes.
    mod = write_module(tmp_path / "m", marker=f"concurrent {time.time_ns()}")
    cache = tmp_path / "cache"
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from pytest_traefik_compat.gobuild import GoBuilder, BuildRequest
        b = GoBuilder(Path({str(cache)!r})).build(BuildRequest(Path({str(mod)!r})))
        print("cached" if b.cached else "built", b.key)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=300)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(o[0] for o in outputs) == ["built", "cached", "cached"]
    assert len({o[1] for o in outputs}) == 1
    assert _leftovers(cache) == [outputs[0][1]]


PLUGIN_GO = """\
package main

import "C"

var Greeting = "hello from plugin"

func Answer() int { return 42 }
"""
HOST_GO = """\
package main

import (
	"fmt"
	"os"
	"plugin"
)

func main() {
	p, err := plugin.Open(os.Args[1])
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	sym, err := p.Lookup("Answer")
	if err != nil {
		fmt.Println("lookup:", err)
		os.Exit(1)
	}
	fmt.Println("answer", sym.(func() int)())
}
"""


@pytest.mark.slow
def test_plugin_build_loads(toolchain: GoToolchain, tmp_path: Path) -> None:
    plug = tmp_path / "plug"
    plug.mkdir()
    (plug / "go.mod").write_text("module example.com/plug\n\ngo 1.22\n")
    (plug / "plug.go").write_text(PLUGIN_GO)
    host = tmp_path / "host"
    host.mkdir()
    (host / "go.mod").write_text("module example.com/host\n\ngo 1.22\n")
    (host / "main.go").write_text(HOST_GO)
    builder = GoBuilder(tmp_path / "cache", toolchain)
    so = builder.build(BuildRequest(plug, linkage="glibc", buildmode="plugin"))
    assert so.path.name == "plug.so"
    assert so.elf.elf_type == "ET_DYN" and so.elf.interpreter is None
    assert not so.elf.static and "libc.so.6" in so.elf.needed
    assert so.elf.libc_kind == "glibc" and not so.elf.is_pie
    exe = builder.build(BuildRequest(host, linkage="glibc"))
    out = subprocess.run(
        [exe.path, so.path], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.stdout.strip() == "answer 42", out.stdout + out.stderr
    # A shared object is not a program: the prediction says so instead of guessing.
    assert predict_start(so.elf, FileSet([])).category == StartCategory.NOT_A_PROGRAM


def test_inspect_elf_rejects_non_elf(tmp_path: Path) -> None:
    junk = tmp_path / "app"
    junk.write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(BuildError, match="not a readable ELF binary"):
        inspect_elf(junk)


# --------------------------------------------------------------------------- #
# Start prediction: the 3 x 3 physics
# --------------------------------------------------------------------------- #


class FileSet:
    """A dict-free fake of the lead's image view: a set of absolute paths."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = frozenset(paths)

    def exists(self, path: str) -> bool:
        return path in self.paths


COMMON = ["/etc/passwd", "/etc/ssl/certs/ca-certificates.crt", "/usr/share/zoneinfo/UTC"]
IMAGES: dict[str, FileSet] = {
    # Alpine-like: musl loader (which is libc), BusyBox, no glibc loader.
    "alpine": FileSet(
        [*COMMON, MUSL_INTERPRETER_X86_64, "/lib/libc.musl-x86_64.so.1", "/bin/busybox"]
    ),
    "debian-slim": FileSet(
        [
            *COMMON,
            GLIBC_INTERPRETER_X86_64,
            "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/bin/bash",
        ]
    ),
    "distroless": FileSet(COMMON),
}
ELF_BY_LINKAGE: dict[str, ElfFacts] = {
    "static": ElfFacts(True, None, (), "EM_X86_64", "ET_EXEC", False, 1),
    "glibc": ElfFacts(
        False,
        GLIBC_INTERPRETER_X86_64,
        ("libc.so.6",),
        "EM_X86_64",
        "ET_EXEC",
        False,
        1,
        version_needs=(("libc.so.6", ("GLIBC_2.2.5", "GLIBC_2.34")),),
    ),
    "musl": ElfFacts(
        False, MUSL_INTERPRETER_X86_64, ("libc.so",), "EM_X86_64", "ET_EXEC", False, 1
    ),
}
EXPECTED = {
    ("static", "alpine"): True,
    ("static", "debian-slim"): True,
    ("static", "distroless"): True,
    ("glibc", "alpine"): False,
    ("glibc", "debian-slim"): True,
    ("glibc", "distroless"): False,
    ("musl", "alpine"): True,
    ("musl", "debian-slim"): False,
    ("musl", "distroless"): False,
}


@pytest.mark.parametrize(("linkage", "image"), sorted(EXPECTED))
def test_start_physics(linkage: str, image: str) -> None:
    prediction = predict_start(ELF_BY_LINKAGE[linkage], IMAGES[image])
    assert prediction.starts is EXPECTED[(linkage, image)], prediction.reason
    if linkage == "static":
        assert prediction.reason == "statically linked: needs no loader"
    elif prediction.starts:
        assert prediction.reason == "loader and 1 needed library present"
        assert prediction.category == StartCategory.STARTS
    else:
        interp = ELF_BY_LINKAGE[linkage].interpreter
        assert prediction.reason == f"interpreter {interp} not in image"
        assert prediction.category == StartCategory.MISSING_LOADER
        assert prediction.missing == (interp,)


def test_start_physics_with_real_binaries(built: dict[Linkage, BuiltBinary]) -> None:
    for linkage, binary in built.items():
        for image, view in IMAGES.items():
            assert predict_start(binary.elf, view).starts is EXPECTED[(linkage, image)]


def test_missing_needed_library() -> None:
    loader_only = FileSet([GLIBC_INTERPRETER_X86_64])
    prediction = predict_start(ELF_BY_LINKAGE["glibc"], loader_only)
    assert not prediction.starts and prediction.category == StartCategory.MISSING_LIBRARY
    assert prediction.reason == (
        "needed library libc.so.6 not found in image (searched /lib/x86_64-linux-gnu, "
        "/usr/lib/x86_64-linux-gnu, /lib64, /usr/lib64, /lib, /usr/lib)"
    )
    assert prediction.missing == ("libc.so.6",)


def test_musl_libraries_beyond_libc_are_searched() -> None:
    elf = ElfFacts(
        False, MUSL_INTERPRETER_X86_64, ("libc.so", "libz.so.1"), "EM_X86_64", "ET_EXEC", False, 1
    )
    prediction = predict_start(elf, IMAGES["alpine"])
    assert not prediction.starts
    assert "libz.so.1 not found in image (searched /lib, /usr/local/lib, /usr/lib)" in (
        prediction.reason
    )
    with_zlib = FileSet([*IMAGES["alpine"].paths, "/usr/lib/libz.so.1"])
    assert predict_start(elf, with_zlib).reason == "loader and 2 needed libraries present"


def test_old_glibc_is_predicted_when_version_known() -> None:
    debian = IMAGES["debian-slim"]
    glibc = ELF_BY_LINKAGE["glibc"]
    assert predict_start(glibc, debian, image_glibc=(2, 36)).starts
    old = predict_start(glibc, debian, image_glibc=(2, 31))
    assert not old.starts and old.category == StartCategory.LIBC_TOO_OLD
    assert old.reason == "needs GLIBC_2.34 but the image has glibc 2.31"


@pytest.mark.parametrize(
    ("returncode", "log", "category", "described"),
    [
        (
            255,
            "exec /app: no such file or directory",
            StartCategory.MISSING_LOADER,
            "missing loader (exec /app: no such file or directory)",
        ),
        (
            127,
            'OCI runtime create failed: exec: "/app": stat /app: no such file or directory',
            StartCategory.MISSING_EXECUTABLE,
            None,
        ),
        (
            127,
            "/app: error while loading shared libraries: libfoo.so.1: cannot open shared "
            "object file: No such file or directory",
            StartCategory.MISSING_LIBRARY,
            None,
        ),
        (
            127,
            "Error loading shared library libz.so.1: No such file or directory (needed by /app)",
            StartCategory.MISSING_LIBRARY,
            None,
        ),
        (
            1,
            "/app: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found",
            StartCategory.LIBC_TOO_OLD,
            None,
        ),
        (
            1,
            "Error relocating /app: __res_search: symbol not found",
            StartCategory.MISSING_SYMBOL,
            None,
        ),
        (1, "exec /app: exec format error", StartCategory.WRONG_FORMAT, None),
        (126, "exec /app: permission denied", StartCategory.PERMISSION_DENIED, None),
        (139, "", StartCategory.CRASHED, "crashed (exit status 139)"),
        (None, "listening on :8080", StartCategory.STARTS, "starts"),
        (
            1,
            "open /etc/app.conf: no such file or directory\n"
            "/app: error while loading shared libraries: libz.so.1: cannot open shared object",
            StartCategory.MISSING_LIBRARY,
            None,
        ),
        (
            1,
            "standard_init_linux.go:228: exec user process caused: no such file or directory",
            StartCategory.MISSING_LOADER,
            None,
        ),
        (
            127,
            "bash: ./app: cannot execute: required file not found",
            StartCategory.MISSING_LOADER,
            None,
        ),
        (255, "no such file or directory", StartCategory.MISSING_LOADER, None),
        (None, "panic: something after start", StartCategory.STARTS, "starts"),
        (0, "done", StartCategory.EXITED, "exited (exit status 0)"),
        (3, "something odd\n", StartCategory.UNKNOWN, "unknown (something odd)"),
    ],
)
def test_exec_failure_diagnosis(
    returncode: int | None, log: str, category: StartCategory, described: str | None
) -> None:
    assert diagnose_exec_failure(returncode, log).category == category
    text = describe_exec_failure(returncode, log)
    assert text.startswith(category.value) and "\n" not in text
    if described is not None:
        assert text == described


def test_prediction_and_diagnosis_share_vocabulary() -> None:
    predicted = predict_start(ELF_BY_LINKAGE["glibc"], IMAGES["alpine"])
    observed = diagnose_exec_failure(255, "exec /app: no such file or directory")
    assert predicted.category == observed.category == StartCategory.MISSING_LOADER


def test_hit_needs_no_c_compiler(
    built: dict[Linkage, BuiltBinary],
    build_root: Path,
    shared_module: Path,
    toolchain: GoToolchain,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _get(built, "musl")
    monkeypatch.setenv("PATH", str(build_root / "no-such-dir"))
    again = GoBuilder(build_root / "cache", toolchain).build(
        BuildRequest(shared_module, linkage="musl")
    )
    assert again.cached
