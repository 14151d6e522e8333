"""Unit tests for gobuild that run ``go build``: real builds in three linkages, the
cache under interruption, timeouts and concurrency, and the ELF facts of real
binaries. No Docker; the modules are tiny and stdlib-only, so no network is needed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pytest_traefik_compat.bases.startcheck import (
    GLIBC_LOADER,
    MUSL_LOADER,
    StartCategory,
    predict_start,
)
from pytest_traefik_compat.errors import BuildError
from pytest_traefik_compat.gobuild import (
    LINKAGES,
    BuildRequest,
    BuiltBinary,
    GoBuilder,
    GoToolchain,
    Linkage,
    require_go,
)
from tests.helpers.go_modules import MAIN_GO, neutral_go_env, write_module
from tests.helpers.start_images import EXPECTED, IMAGES, FileSet

REPO = Path(__file__).resolve().parents[2]
HAVE_MUSL_GCC = shutil.which("musl-gcc") is not None


@pytest.fixture(autouse=True)
def _neutral_go_env(monkeypatch: pytest.MonkeyPatch) -> None:
    neutral_go_env(monkeypatch)


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
    assert b.elf.interpreter == GLIBC_LOADER
    assert "libc.so.6" in b.elf.needed and b.elf.libc_kind == "glibc"
    assert b.elf.min_glibc is not None and b.elf.min_glibc >= (2, 2)
    assert b.elf.go_buildinfo is not None
    assert b.elf.go_buildinfo.setting("CGO_ENABLED") == "1"
    out = subprocess.run([b.path], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.strip() == "linkage glibc cgo 42"


def test_musl_build(built: dict[Linkage, BuiltBinary]) -> None:
    b = _get(built, "musl")
    assert not b.elf.static
    assert b.elf.interpreter == MUSL_LOADER
    # musl-gcc links against plain `libc.so`, which the musl loader provides itself.
    assert b.elf.needed == ("libc.so",) and b.elf.libc_kind == "musl"
    assert b.elf.min_glibc is None
    if os.path.exists(MUSL_LOADER):
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


def test_start_physics_with_real_binaries(built: dict[Linkage, BuiltBinary]) -> None:
    for linkage, binary in built.items():
        for image, view in IMAGES.items():
            assert predict_start(binary.elf, view).starts is EXPECTED[(linkage, image)]


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


def test_cgo_only_module_built_static_says_it_needs_cgo(
    toolchain: GoToolchain, tmp_path: Path
) -> None:
    """Go's own words ("build constraints exclude all Go files") are true but not useful."""
    mod = tmp_path / "cgoonly"
    mod.mkdir()
    (mod / "go.mod").write_text("module example.com/cgoonly\n\ngo 1.22\n")
    (mod / "main.go").write_text(
        'package main\n\n// static int answer(void) { return 42; }\nimport "C"\n\n'
        "func main() { println(int(C.answer())) }\n"
    )
    with pytest.raises(BuildError) as failure:
        GoBuilder(tmp_path / "cache", toolchain).build(BuildRequest(mod, linkage="static"))
    assert failure.value.message.endswith(
        'needs cgo (import "C" in main.go): build it with linkage="glibc" or "musl"'
    ), failure.value.message
