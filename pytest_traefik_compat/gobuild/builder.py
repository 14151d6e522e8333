"""Run ``go build`` for a request into a content-addressed cache, once per key.

Safe under pytest-xdist: a file lock per key, entries appear by an atomic rename,
and a cache hit runs no ``go`` at all.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from pytest_traefik_compat.errors import BuildError
from pytest_traefik_compat.gobuild.elf import ElfFacts, inspect_elf
from pytest_traefik_compat.gobuild.gomod import check_module_go, no_go_mod_message
from pytest_traefik_compat.gobuild.request import CACHE_SCHEMA, BuildRequest, Linkage, cache_key
from pytest_traefik_compat.gobuild.toolchain import (
    MIN_GO,
    GoToolchain,
    find_go,
    go_command_env,
    require_go,
    tail_lines,
)

__all__ = [
    "DEFAULT_BUILD_TIMEOUT",
    "BuiltBinary",
    "GoBuilder",
]

DEFAULT_BUILD_TIMEOUT: float = 600.0
_MUSL_MISSING = "musl-gcc not found: apt-get install musl-tools (only the musl linkage needs it)"


@dataclass(frozen=True)
class BuiltBinary:
    path: Path
    key: str
    linkage: Linkage
    elf: ElfFacts
    cached: bool  # True: found in the cache, `go build` did not run
    seconds: float  # wall time of this build() call
    build_seconds: float  # how long `go build` took when the entry was made
    go_version: str
    request: BuildRequest


_META = "meta.json"
_TMP_PREFIX = ".tmp-"


def _entry_meta(
    request: BuildRequest,
    key: str,
    toolchain: GoToolchain,
    output: Path,
    elf: ElfFacts,
    build_seconds: float,
) -> dict[str, object]:
    """What ``meta.json`` records of a fresh entry; :meth:`GoBuilder._load` checks it."""
    return {
        "schema": CACHE_SCHEMA,
        "key": key,
        "name": request.name,
        "size": output.stat().st_size,
        "linkage": request.linkage,
        "buildmode": request.buildmode,
        "package": request.package,
        "module_dir": str(request.module_dir),
        "go_version": toolchain.version,
        "goos": toolchain.goos,
        "goarch": toolchain.goarch,
        "build_seconds": round(build_seconds, 3),
        "built_at": time.time(),
        "interpreter": elf.interpreter,
        "needed": list(elf.needed),
    }


_IMPORT_C = re.compile(r'^import\s+(?:\(\s*)?"C"', re.MULTILINE)


def _cgo_only_files(request: BuildRequest) -> list[str]:
    """The package's files that import "C" (CGO_ENABLED=0 excludes them all)."""
    package_dir = request.module_dir
    if request.package.startswith("./") or request.package == ".":
        package_dir = request.module_dir / request.package
    if not package_dir.is_dir():
        return []
    return sorted(
        path.name
        for path in package_dir.glob("*.go")
        if not path.name.endswith("_test.go") and _IMPORT_C.search(path.read_text(errors="replace"))
    )


def _failure_hint(output: str, module_dir: Path) -> str:
    if "missing go.sum entry" in output or "go mod tidy" in output:
        return f": run `go mod tidy` in {module_dir}"
    if re.search(r"dial tcp|proxy\.golang\.org|connection refused|i/o timeout", output):
        return ": the Go module proxy was not reachable (check GOPROXY and network access)"
    if "requires go >=" in output:
        return ": a dependency needs a newer Go toolchain"
    return ""


class GoBuilder:
    """Builds :class:`BuildRequest` s into ``cache_dir/<key>/<name>``, once per key.

    Safe to share between processes (pytest-xdist workers): a file lock per key
    serialises builders of the same binary, entries appear by an atomic rename of
    a finished directory, and a hit never runs ``go build``.
    """

    def __init__(
        self,
        cache_dir: Path,
        toolchain: GoToolchain | None = None,
        *,
        timeout: float = DEFAULT_BUILD_TIMEOUT,
        min_go: tuple[int, ...] = MIN_GO,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        # Long builds (a cold module cache takes minutes) report a running count of
        # compiled packages, at most every PROGRESS_EVERY_S.
        self.progress = progress
        self._toolchain = toolchain
        self.timeout = timeout
        self.min_go = min_go
        self.builds_run = 0  # `go build` invocations by this builder (tests, reports)

    @property
    def toolchain(self) -> GoToolchain:
        # Found lazily: a session that only reads cached binaries still needs the
        # version for the key, but a builder that is never used needs no Go at all.
        if self._toolchain is None:
            self._toolchain = require_go(self.min_go, find_go())
        return self._toolchain

    def entry_dir(self, key: str) -> Path:
        return self.cache_dir / key

    def key(self, request: BuildRequest) -> str:
        return cache_key(request, self.toolchain)

    def lookup(self, request: BuildRequest) -> BuiltBinary | None:
        """The cached binary for ``request``, or None; never builds."""
        start = time.monotonic()
        key = self.key(request)
        return self._load(request, key, start)

    def build(self, request: BuildRequest) -> BuiltBinary:
        start = time.monotonic()
        toolchain = self.toolchain
        if not (request.module_dir / "go.mod").is_file():
            raise BuildError(no_go_mod_message(request.module_dir))
        check_module_go(toolchain, request.module_dir)
        key = cache_key(request, toolchain)
        hit = self._load(request, key, start)
        if hit is not None:
            return hit
        # After the lookup: a cached musl binary needs no musl-gcc to be reused.
        self._check_compilers(request)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.cache_dir / f"{key}.lock"))
        try:
            # Waiting on another worker's build of the same key is bounded by that
            # build's own timeout plus slack for the rename.
            with lock.acquire(timeout=self.timeout + 60):
                hit = self._load(request, key, start)  # built by someone else meanwhile
                if hit is not None:
                    return hit
                return self._build_locked(request, key, start)
        except Timeout:
            raise BuildError(
                f"timed out waiting for another build of {request.module_dir} ({request.package}, "
                f"{request.linkage}): remove {lock.lock_file} if no build is running"
            ) from None

    # -- internals --------------------------------------------------------- #

    def _check_compilers(self, request: BuildRequest) -> None:
        if request.buildmode == "plugin" and request.cc is None:
            raise BuildError(
                f"-buildmode=plugin needs cgo: build {request.module_dir} "
                "with the glibc or musl linkage"
            )
        cc = request.cc
        if cc is None:
            return
        program = cc.split()[0] if cc.split() else cc
        if shutil.which(program, path=request.env.get("PATH")) is not None:
            return
        if request.linkage == "musl" and "CC" not in request.env:
            raise BuildError(_MUSL_MISSING)
        raise BuildError(
            f"C compiler {program} not found: apt-get install gcc "
            f"(the {request.linkage} linkage needs cgo)"
        )

    def _load(self, request: BuildRequest, key: str, start: float) -> BuiltBinary | None:
        entry = self.entry_dir(key)
        try:
            meta = json.loads((entry / _META).read_text(encoding="utf-8"))
            binary = entry / str(meta["name"])
            valid = (
                meta.get("schema") == CACHE_SCHEMA
                and meta.get("key") == key
                and meta["name"] == request.name
                and binary.is_file()
                and binary.stat().st_size == meta.get("size")
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not valid:
            return None
        return BuiltBinary(
            path=binary,
            key=key,
            linkage=request.linkage,
            elf=inspect_elf(binary),
            cached=True,
            seconds=time.monotonic() - start,
            build_seconds=float(meta.get("build_seconds", 0.0)),
            go_version=str(meta.get("go_version", self.toolchain.version)),
            request=request,
        )

    def _clean_stale_temps(self, key: str) -> None:
        # Under the key's lock no live build of this key exists, so any temp dir of
        # this key is left over from a killed process. Other keys' temp dirs are
        # only removed once far older than any build may run.
        cutoff = time.time() - 2 * self.timeout - 3600
        for tmp in self.cache_dir.glob(f"{_TMP_PREFIX}*"):
            try:
                if tmp.name.startswith(f"{_TMP_PREFIX}{key}-") or tmp.stat().st_mtime < cutoff:
                    shutil.rmtree(tmp, ignore_errors=True)
            except OSError:
                pass

    def _build_locked(self, request: BuildRequest, key: str, start: float) -> BuiltBinary:
        toolchain = self.toolchain
        self._clean_stale_temps(key)
        entry = self.entry_dir(key)
        if entry.exists():
            # Present but invalid (hand-edited, older schema under the same name):
            # replace it rather than trust it.
            shutil.rmtree(entry)
        tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{key}-", dir=self.cache_dir))
        try:
            output = tmp / request.name
            build_start = time.monotonic()
            self._run_go(toolchain, request, output)
            build_seconds = time.monotonic() - build_start
            if not output.is_file():
                raise BuildError(
                    f"go build produced no binary for {request.module_dir} ({request.package}): "
                    "is it a main package?"
                )
            elf = inspect_elf(output)
            meta = _entry_meta(request, key, toolchain, output, elf, build_seconds)
            (tmp / _META).write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
            # mkdtemp makes the directory 0700; entries are read by other users and
            # tools (image build contexts), so open it up before it becomes visible.
            tmp.chmod(0o755)
            # The entry appears whole or not at all: a reader never sees a half
            # written binary, and a killed build leaves only a temp dir behind.
            os.replace(tmp, entry)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        binary = entry / request.name
        return BuiltBinary(
            path=binary,
            key=key,
            linkage=request.linkage,
            elf=elf,
            cached=False,
            seconds=time.monotonic() - start,
            build_seconds=build_seconds,
            go_version=toolchain.version,
            request=request,
        )

    def _run_go(self, toolchain: GoToolchain, request: BuildRequest, output: Path) -> None:
        env = go_command_env(request.build_env())
        if request.linkage == "static":
            env.pop("CC", None)  # irrelevant without cgo; keep it out of the record
        what = f"{request.module_dir} ({request.package}, {request.linkage})"
        self.builds_run += 1
        try:
            proc = subprocess.Popen(
                # -v names each package as it is compiled: the running count.
                [str(toolchain.path), "build", "-v", *request.go_args(output)[1:]],
                cwd=request.module_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                # Own process group: on timeout or interrupt the compiler and linker
                # children die with `go`, instead of writing on after we gave up.
                start_new_session=True,
            )
        except OSError as exc:
            raise BuildError(
                f"could not run {toolchain.path} for {what}: reinstall Go", detail=str(exc)
            ) from exc
        try:
            out = self._wait(proc, what)
        except subprocess.TimeoutExpired as expired:
            _kill_group(proc)
            proc.wait()
            raise BuildError(
                f"go build timed out after {self.timeout:g} s for {what}: check access to the Go "
                "module proxy or raise the build timeout",
                detail=tail_lines(_without_package_lines(bytes(expired.output or b""))),
            ) from None
        except BaseException:
            _kill_group(proc)
            proc.wait()
            raise
        text = _without_package_lines(out)
        if proc.returncode != 0:
            needs_cgo = _cgo_only_files(request) if request.linkage == "static" else []
            if needs_cgo and "build constraints exclude all Go files" in text:
                raise BuildError(
                    f'{what} needs cgo (import "C" in {", ".join(needs_cgo)}): build it '
                    'with linkage="glibc" or "musl"',
                    detail=tail_lines(text),
                )
            raise BuildError(
                f"go build failed for {what}{_failure_hint(text, request.module_dir)}",
                detail=tail_lines(text),
            )

    def _wait(self, proc: subprocess.Popen[bytes], what: str) -> bytes:
        """All of go's output once it exits (bounded by ``timeout``), with progress lines
        while it runs: ``go build -v`` names each package as it is compiled."""
        assert proc.stdout is not None
        lines: list[bytes] = []
        reader = threading.Thread(
            target=lambda: lines.extend(iter(proc.stdout.readline, b"")),  # type: ignore[union-attr]
            name="go-build-output",
            daemon=True,
        )
        reader.start()
        deadline = time.monotonic() + self.timeout
        last_report = time.monotonic()
        while proc.poll() is None:
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(proc.args, self.timeout, output=b"".join(lines))
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=min(0.5, max(0.01, deadline - time.monotonic())))
            if self.progress is not None and time.monotonic() - last_report >= PROGRESS_EVERY_S:
                packages = [ln for ln in list(lines) if _PACKAGE_LINE.match(ln)]
                current = packages[-1].decode("utf-8", "replace").strip() if packages else "..."
                self.progress(f"go build {what}: {len(packages)} packages compiled, last {current}")
                last_report = time.monotonic()
        reader.join(timeout=5)
        return b"".join(lines)


# `go build -v` prints each package's import path alone on a line.
_PACKAGE_LINE = re.compile(rb"^[\w.~+-]+(?:/[\w.~+-]+)*\s*$")
PROGRESS_EVERY_S = 5.0


def _without_package_lines(output: bytes) -> str:
    """go's output without the ``-v`` package lines: what a failure shows."""
    return "".join(
        line.decode("utf-8", "replace")
        for line in output.splitlines(keepends=True)
        if not _PACKAGE_LINE.match(line)
    )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
