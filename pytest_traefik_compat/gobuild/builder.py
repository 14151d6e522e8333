"""Build Go modules in three linkages, cache the binaries, and read their ELF facts.

The compatibility suite needs the same Go service as a static binary, as a
glibc-linked binary and as a musl-linked binary, and it needs to know *before*
running one on a base image whether it can start there. This module:

- finds the host Go toolchain and refuses, in one line, one that is too old;
- builds a module with ``go build`` into a content-addressed cache that is safe
  under pytest-xdist (a file lock per key, atomic renames);
- reads what the kernel and the dynamic loader will need from the binary
  (``PT_INTERP``, ``DT_NEEDED``, glibc symbol versions) with pyelftools;
- predicts whether the binary starts on an image from the image's file list, and
  classifies what the container runtime said when it did not.
"""

from __future__ import annotations

import contextlib
import enum
import fnmatch
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple, Protocol, get_args, runtime_checkable

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection
from elftools.elf.segments import InterpSegment
from filelock import FileLock, Timeout

from pytest_traefik_compat.errors import BuildError

__all__ = [
    "BUILDMODES",
    "CACHE_SCHEMA",
    "DEFAULT_BUILD_TIMEOUT",
    "GLIBC_INTERPRETER_X86_64",
    "GO_ENV",
    "LINKAGES",
    "MIN_GO",
    "MUSL_INTERPRETER_X86_64",
    "BuildMode",
    "BuildRequest",
    "BuiltBinary",
    "ElfFacts",
    "ExecDiagnosis",
    "GoBuildInfo",
    "GoBuilder",
    "GoModInfo",
    "GoToolchain",
    "ImageFileView",
    "LibcKind",
    "Linkage",
    "Prediction",
    "StartCategory",
    "cache_key",
    "check_module_go",
    "default_cache_dir",
    "describe_exec_failure",
    "diagnose_exec_failure",
    "find_go",
    "inspect_elf",
    "linkage_env",
    "parse_go_version",
    "parse_linkages",
    "predict_start",
    "read_go_mod",
    "require_go",
]

# --------------------------------------------------------------------------- #
# Linkages
# --------------------------------------------------------------------------- #

Linkage = Literal["static", "glibc", "musl"]
# The order is the order of the report's columns: simplest first.
LINKAGES: tuple[Linkage, ...] = get_args(Linkage)

BuildMode = Literal["exe", "pie", "plugin"]
BUILDMODES: tuple[BuildMode, ...] = get_args(BuildMode)

LibcKind = Literal["static", "glibc", "musl", "unknown"]

# The C compiler per cgo linkage; static builds run no C compiler at all.
_LINKAGE_CC: Mapping[Linkage, str | None] = {"static": None, "glibc": "gcc", "musl": "musl-gcc"}

MIN_GO: tuple[int, int] = (1, 22)
DEFAULT_BUILD_TIMEOUT: float = 600.0
# Bump when the key recipe or the entry layout changes, so old entries are never
# mistaken for new ones (they simply stop being looked up).
CACHE_SCHEMA = 1

GLIBC_INTERPRETER_X86_64 = "/lib64/ld-linux-x86-64.so.2"
MUSL_INTERPRETER_X86_64 = "/lib/ld-musl-x86_64.so.1"

_GO_NOT_FOUND = (
    "Go toolchain not found: install Go >= {min} (https://go.dev/dl) or put `go` on PATH"
)
# Names the go command to use (a path, or a name looked up on PATH only). An explicit
# choice turns the fallbacks off: a CI job that pins its Go must never quietly get
# /usr/local/go instead, and a test can simulate "no Go" on a machine that has one.
GO_ENV = "PYTEST_TRAEFIK_GO"
_MUSL_MISSING = "musl-gcc not found: apt-get install musl-tools (only the musl linkage needs it)"


def linkage_env(linkage: Linkage) -> dict[str, str]:
    """The environment that selects ``linkage`` for ``go build``."""
    if linkage not in LINKAGES:
        raise ValueError(f"unknown linkage {linkage!r}: expected one of {', '.join(LINKAGES)}")
    cc = _LINKAGE_CC[linkage]
    env = {"CGO_ENABLED": "0" if cc is None else "1"}
    if cc is not None:
        env["CC"] = cc
    return env


# --------------------------------------------------------------------------- #
# Toolchain discovery
# --------------------------------------------------------------------------- #

_VERSION_RE = re.compile(r"(?:go)?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_go_version(text: str) -> tuple[int, int, int]:
    """``go1.26.8`` / ``1.22`` / ``go1.23rc1`` / ``devel go1.24-abc`` -> (major, minor, patch).

    Pre-releases count as their release: the go.mod ``go`` line never names one in
    practice, and a release candidate has the language features of its release.
    """
    match = _VERSION_RE.search(text)
    if match is None:
        raise ValueError(f"not a Go version: {text!r}")
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


@dataclass(frozen=True)
class GoToolchain:
    """A Go command and the facts the cache key needs from it."""

    path: Path
    version: str  # as `go env GOVERSION` prints it, e.g. "go1.26.8"
    goos: str = "linux"
    goarch: str = "amd64"

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        return parse_go_version(self.version)


# `go env` costs ~20 ms; a session asks for the same toolchain once per build, so the
# answer is remembered per process, keyed by the binary's identity and the
# environment variables that change the answer.
_TOOLCHAIN_CACHE: dict[tuple[str, int, int, str, str], GoToolchain] = {}


def _go_base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    # GOTOOLCHAIN=local: the go command must never fetch another toolchain because a
    # go.mod asked for it. Nothing but modules may be downloaded (the module proxy is
    # the only Go source these machines reach), and a build must use the toolchain
    # whose version went into the cache key, or the key would lie.
    env["GOTOOLCHAIN"] = "local"
    if extra:
        env.update(extra)
    return env


def _default_go_candidates() -> list[Path]:
    # The official tarball installs to /usr/local/go and many shells (sudo, CI
    # steps) do not have its bin/ on PATH; GOROOT, where set, names it exactly.
    candidates: list[Path] = []
    goroot = os.environ.get("GOROOT")
    if goroot:
        candidates.append(Path(goroot) / "bin" / "go")
    candidates.append(Path("/usr/local/go/bin/go"))
    return candidates


def find_go(
    go: str | os.PathLike[str] | None = None,
    *,
    search_path: str | None = None,
    fallbacks: Sequence[Path] | None = None,
) -> GoToolchain:
    """Locate ``go`` and ask it for its version, GOOS and GOARCH.

    ``go`` (or else ``$PYTEST_TRAEFIK_GO``) names the command explicitly, with no
    fallbacks; otherwise PATH (or ``search_path``) is searched, then ``fallbacks``
    (default: ``$GOROOT/bin/go``, ``/usr/local/go/bin/go``).
    """
    minimum = ".".join(map(str, MIN_GO))
    found: str | None
    from_env = go is None and bool(os.environ.get(GO_ENV))
    if from_env:
        go = os.environ[GO_ENV]
    if go is not None:
        given = os.fspath(go)
        is_exe = os.path.isfile(given) and os.access(given, os.X_OK)
        found = given if is_exe else shutil.which(given, path=search_path)
        if found is None and from_env:
            raise BuildError(
                f"Go toolchain not found: {GO_ENV}={given} is not an executable nor a "
                f"command on PATH; install Go >= {minimum} (https://go.dev/dl) or fix {GO_ENV}"
            )
    else:
        found = shutil.which("go", path=search_path)
        if found is None:
            for candidate in _default_go_candidates() if fallbacks is None else fallbacks:
                if candidate.is_file() and os.access(candidate, os.X_OK):
                    found = str(candidate)
                    break
    if found is None:
        raise BuildError(_GO_NOT_FOUND.format(min=minimum))

    path = Path(found).resolve()
    stat = path.stat()
    cache_key_ = (
        str(path),
        stat.st_mtime_ns,
        stat.st_size,
        os.environ.get("GOOS", ""),
        os.environ.get("GOARCH", ""),
    )
    cached = _TOOLCHAIN_CACHE.get(cache_key_)
    if cached is not None:
        return cached
    try:
        proc = subprocess.run(
            [str(path), "env", "GOVERSION", "GOOS", "GOARCH"],
            env=_go_base_env(),
            # Outside any module: a go.mod or go.work in the caller's directory must
            # not influence (or break) the version query.
            cwd=tempfile.gettempdir(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(
            f"{path} did not answer `go env GOVERSION`: reinstall Go >= {minimum}", detail=str(exc)
        ) from exc
    lines = proc.stdout.split()
    if proc.returncode != 0 or len(lines) != 3:
        raise BuildError(
            f"{path} env GOVERSION failed: reinstall Go >= {minimum} (https://go.dev/dl)",
            detail=_tail(proc.stdout + proc.stderr),
        )
    toolchain = GoToolchain(path=path, version=lines[0], goos=lines[1], goarch=lines[2])
    try:
        parse_go_version(toolchain.version)
    except ValueError as exc:
        raise BuildError(
            f"{path} reports an unreadable version {lines[0]!r}: install Go >= {minimum}"
        ) from exc
    _TOOLCHAIN_CACHE[cache_key_] = toolchain
    return toolchain


def require_go(
    minimum: tuple[int, ...] = MIN_GO, toolchain: GoToolchain | None = None
) -> GoToolchain:
    """Return ``toolchain`` (found with :func:`find_go` if not given) if it is new enough."""
    toolchain = toolchain if toolchain is not None else find_go()
    want = ".".join(map(str, minimum))
    if toolchain.version_tuple < tuple(minimum) + (0,) * (3 - len(minimum)):
        raise BuildError(
            f"Go {toolchain.version} at {toolchain.path} is too old: install Go >= {want} "
            "(https://go.dev/dl) or put a newer `go` on PATH"
        )
    return toolchain


# --------------------------------------------------------------------------- #
# go.mod
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class GoModInfo:
    """The parts of go.mod that decide which toolchain and which sources build it."""

    module: str | None
    go: str | None
    toolchain: str | None
    # Right-hand sides of `replace` directives that are directories on disk: their
    # sources are part of the build but live outside the module directory.
    local_replaces: tuple[str, ...] = ()


def _no_go_mod(module_dir: Path) -> str:
    return f"no go.mod in {module_dir}: point the builder at a Go module directory"


def read_go_mod(module_dir: Path) -> GoModInfo:
    gomod = Path(module_dir) / "go.mod"
    try:
        text = gomod.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BuildError(_no_go_mod(module_dir)) from None
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


# --------------------------------------------------------------------------- #
# Build requests and cache keys
# --------------------------------------------------------------------------- #


class _FrozenEnv(Mapping[str, str]):
    """A sorted, immutable, hashable str->str mapping, so BuildRequest stays hashable."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str]) -> None:
        for k, v in items.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError(f"build env must map str to str, got {k!r}: {v!r}")
        self._items: tuple[tuple[str, str], ...] = tuple(sorted(items.items()))

    def __getitem__(self, key: str) -> str:
        for k, v in self._items:
            if k == key:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._items) == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"{dict(self._items)!r}"


# The linkage *is* CGO_ENABLED; letting the env override it would label a binary
# with a linkage it does not have.
_RESERVED_ENV = frozenset({"CGO_ENABLED", "GOTOOLCHAIN"})


@dataclass(frozen=True)
class BuildRequest:
    """One ``go build`` of one package of one module."""

    module_dir: Path
    package: str = "."
    linkage: Linkage = "static"
    output_name: str | None = None  # default: the package's last element (+ ".so" for plugins)
    ldflags: tuple[str, ...] = ()  # appended after the defaults below
    tags: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # extra `go build` flags, before the package
    env: Mapping[str, str] = field(default_factory=dict)
    buildmode: BuildMode = "exe"
    strip: bool = True  # -s -w: smaller binaries; the suite measures image sizes
    # The sample service reports its linkage from `main.linkage`; None leaves -X out.
    linkage_var: str | None = "main.linkage"

    def __post_init__(self) -> None:
        if self.linkage not in LINKAGES:
            raise ValueError(
                f"unknown linkage {self.linkage!r}: expected one of {', '.join(LINKAGES)}"
            )
        if self.buildmode not in BUILDMODES:
            raise ValueError(
                f"unknown buildmode {self.buildmode!r}: expected one of {', '.join(BUILDMODES)}"
            )
        if self.package.endswith("..."):
            raise ValueError(f"build one package at a time, not {self.package!r}")
        # Normalise so equal requests compare, hash and key equal however given.
        object.__setattr__(self, "module_dir", Path(self.module_dir).absolute())
        for name in ("ldflags", "tags", "flags"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise TypeError(f"BuildRequest.{name} must be a sequence of strings, not a string")
            object.__setattr__(self, name, tuple(value))
        env = _FrozenEnv(self.env)
        reserved = _RESERVED_ENV.intersection(env)
        if reserved:
            raise ValueError(
                f"BuildRequest.env may not set {', '.join(sorted(reserved))}: "
                "choose the linkage instead"
            )
        object.__setattr__(self, "env", env)
        name = self.name
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"output name must be a plain file name, got {name!r}")

    @property
    def name(self) -> str:
        """The binary's file name inside its cache entry."""
        if self.output_name is not None:
            return self.output_name
        element = self.package.rstrip("/").rsplit("/", 1)[-1]
        base = self.module_dir.name if element in ("", ".") else element
        return f"{base}.so" if self.buildmode == "plugin" and not base.endswith(".so") else base

    @property
    def cc(self) -> str | None:
        """The C compiler this request runs, or None for a cgo-free build."""
        default = _LINKAGE_CC[self.linkage]
        return None if default is None else self.env.get("CC", default)

    def go_ldflags(self) -> str:
        parts: list[str] = ["-s", "-w"] if self.strip else []
        if self.linkage_var is not None:
            parts += ["-X", f"{self.linkage_var}={self.linkage}"]
        parts += list(self.ldflags)
        # `go build` splits -ldflags like a shell would, honouring quotes.
        return " ".join(f'"{p}"' if (" " in p and '"' not in p) else p for p in parts)

    def go_args(self, output: Path) -> list[str]:
        args = [
            "build",
            "-trimpath",
            f"-buildmode={self.buildmode}",
            "-o",
            str(output),
            f"-ldflags={self.go_ldflags()}",
        ]
        if self.tags:
            args.append(f"-tags={','.join(self.tags)}")
        return [*args, *self.flags, self.package]

    def build_env(self) -> dict[str, str]:
        """Only what this request sets; the builder lays it over the process env."""
        env = linkage_env(self.linkage)
        # A go.work in a parent directory would pull in sources the key does not
        # hash; a module builds as itself unless the request asks for a workspace.
        env["GOWORK"] = "off"
        env.update(self.env)
        return env


# Files that cannot change a `go build` result. Docs are only skipped when the
# module embeds nothing (see _module_files); tests never take part in `go build`.
_DOC_PATTERNS = (
    "*.md",
    "*.markdown",
    "*.rst",
    "README",
    "README.*",
    "LICENSE",
    "LICENSE.*",
    "COPYING",
    "NOTICE",
    "AUTHORS",
    "CHANGELOG",
    "CHANGELOG.*",
    "CODEOWNERS",
)
_ALWAYS_IGNORED = ("*_test.go",)
# Ambient variables that change the compiled output without being in the request.
_KEY_AMBIENT_ENV = (
    "GOFLAGS",
    "GOAMD64",
    "GOARM64",
    "GOEXPERIMENT",
    "GOWORK",
    "CGO_CFLAGS",
    "CGO_CPPFLAGS",
    "CGO_CXXFLAGS",
    "CGO_LDFLAGS",
    "GOOS",
    "GOARCH",
)


def _module_files(root: Path) -> list[tuple[str, Path]]:
    """(relative path, file) for every file under ``root`` that can affect a build."""
    found: list[tuple[str, Path]] = []
    embeds = False
    for dirpath, dirnames, filenames in os.walk(root):
        # Hidden directories (.git, .idea, caches) are never Go sources, and
        # //go:embed skips them unless `all:` is used.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            if filename.startswith(".") or _matches(filename, _ALWAYS_IGNORED):
                continue
            path = Path(dirpath) / filename
            rel = path.relative_to(root).as_posix()
            found.append((rel, path))
            if filename.endswith(".go") and not embeds:
                with contextlib.suppress(OSError):
                    embeds = b"//go:embed" in path.read_bytes()
    if embeds:
        # An embedded README is rare but real; when anything is embedded, every
        # file counts (a stale binary is worse than a rebuild).
        return found
    return [(rel, p) for rel, p in found if not _matches(p.name, _DOC_PATTERNS)]


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in patterns)


def _hash_tree(digest: hashlib._Hash, root: Path, prefix: str) -> None:
    for rel, path in _module_files(root):
        h = hashlib.sha256()
        try:
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            content = h.hexdigest()
        except OSError:
            # A dangling symlink: its target text is what there is to hash.
            content = "link:" + os.readlink(path) if path.is_symlink() else "unreadable"
        # Paths are hashed with the content: a rename moves a file between
        # packages. Mode and mtime are not: go build ignores them.
        digest.update(f"{prefix}{rel}\0{content}\n".encode())


def cache_key(request: BuildRequest, toolchain: GoToolchain) -> str:
    """A hex digest that changes when, and only when, the built binary could.

    Hashed: every build-relevant file of the module (and of directories it
    `replace`s into), with relative paths; the Go version, GOOS and GOARCH; the
    linkage, package, buildmode, output name, ldflags, tags, flags and env of the
    request; ambient variables that change compiler output; the schema version.
    Not hashed: mtimes, docs (unless something is embedded), *_test.go, hidden
    files, the module's location (-trimpath removes it from the binary), and the
    C compiler's own version (assumed stable on one machine).
    """
    module_dir = request.module_dir
    digest = hashlib.sha256()
    ambient = {k: os.environ[k] for k in _KEY_AMBIENT_ENV if k in os.environ}
    effective = {**ambient, **request.build_env()}
    recipe = {
        "schema": CACHE_SCHEMA,
        "go": toolchain.version,
        "goos": effective.get("GOOS", toolchain.goos),
        "goarch": effective.get("GOARCH", toolchain.goarch),
        "linkage": request.linkage,
        "package": request.package,
        "buildmode": request.buildmode,
        "name": request.name,
        "args": request.go_args(Path("OUT"))[:-1],
        "env": effective,
        "cc": request.cc,
    }
    digest.update(json.dumps(recipe, sort_keys=True).encode())
    _hash_tree(digest, module_dir, "")
    if (module_dir / "go.mod").is_file():
        for target in read_go_mod(module_dir).local_replaces:
            target_dir = (module_dir / target).resolve()
            if target_dir.is_dir():
                _hash_tree(digest, target_dir, f"replace:{target}/")
    return digest.hexdigest()[:40]


# --------------------------------------------------------------------------- #
# ELF facts
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class GoBuildInfo:
    """What `go version -m` prints, read from the binary's .go.buildinfo section."""

    go_version: str
    path: str | None  # main package path
    settings: tuple[tuple[str, str], ...]  # `build KEY=VALUE` lines, in order

    def setting(self, key: str) -> str | None:
        for k, v in self.settings:
            if k == key:
                return v
        return None


@dataclass(frozen=True)
class ElfFacts:
    """What the kernel and the dynamic loader need to start a binary."""

    static: bool  # no interpreter and no needed libraries: runs on any Linux of its arch
    interpreter: str | None  # PT_INTERP, the loader the kernel runs first
    needed: tuple[str, ...]  # DT_NEEDED, in load order
    machine: str  # e_machine, e.g. "EM_X86_64"
    elf_type: str  # "ET_EXEC", "ET_DYN"
    is_pie: bool
    size_bytes: int
    runpath: tuple[str, ...] = ()  # DT_RUNPATH / DT_RPATH entries, searched first
    # Symbol versions required from each needed library, e.g. libc.so.6 -> GLIBC_2.34:
    # a glibc-linked binary needs a glibc at least that new.
    version_needs: tuple[tuple[str, tuple[str, ...]], ...] = ()
    go_buildinfo: GoBuildInfo | None = None

    @property
    def libc_kind(self) -> LibcKind:
        interp = self.interpreter or ""
        if "ld-musl" in interp:
            return "musl"
        if "ld-linux" in interp:
            return "glibc"
        if interp:
            return "unknown"
        # No interpreter: a static program, or a shared object (a Go plugin) that
        # inherits the host's loader; its NEEDED names still say which libc.
        if not self.needed:
            return "static"
        if "libc.so.6" in self.needed:
            return "glibc"
        if any(n == "libc.so" or n.startswith("libc.musl-") for n in self.needed):
            return "musl"
        return "unknown"

    @property
    def min_glibc(self) -> tuple[int, int] | None:
        """The newest GLIBC_x.y symbol version the binary requires, if any."""
        best: tuple[int, int] | None = None
        for _lib, versions in self.version_needs:
            for v in versions:
                m = re.fullmatch(r"GLIBC_(\d+)\.(\d+)(?:\.\d+)?", v)
                if m:
                    cur = (int(m.group(1)), int(m.group(2)))
                    best = cur if best is None or cur > best else best
        return best


_BUILDINFO_MAGIC = b"\xff Go buildinf:"
_DF_1_PIE = 0x08000000


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data):
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
    raise ValueError("truncated varint")


def _parse_buildinfo(data: bytes) -> GoBuildInfo | None:
    # Go >= 1.18 stores the strings inline after a 32-byte header (flag bit 2);
    # older layouts point into the data segment and are not worth chasing here.
    if not data.startswith(_BUILDINFO_MAGIC) or len(data) < 32 or not data[15] & 0x2:
        return None
    try:
        vlen, pos = _read_varint(data, 32)
        version = data[pos : pos + vlen].decode("utf-8", "replace")
        mlen, pos = _read_varint(data, pos + vlen)
        modinfo = data[pos : pos + mlen]
    except ValueError:
        return None
    # modinfo is wrapped in 16-byte sentinels.
    if len(modinfo) >= 33 and modinfo[-17:-16] == b"\n":
        modinfo = modinfo[16:-16]
    path: str | None = None
    settings: list[tuple[str, str]] = []
    for line in modinfo.decode("utf-8", "replace").splitlines():
        kind, _, rest = line.partition("\t")
        if kind == "path":
            path = rest
        elif kind == "build" and "=" in rest:
            key, _, value = rest.partition("=")
            if value.startswith('"'):
                # Go quotes values with spaces via strconv.Quote; JSON reads those.
                with contextlib.suppress(ValueError):
                    value = str(json.loads(value))
            settings.append((key, value))
    return GoBuildInfo(go_version=version, path=path, settings=tuple(settings))


def _split_path(value: object) -> list[str]:
    return [p for p in str(value).split(":") if p]


def inspect_elf(path: Path) -> ElfFacts:
    """Read interpreter, needed libraries and build facts from an ELF file."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            elf = ELFFile(fh)
            interpreter: str | None = None
            for segment in elf.iter_segments():
                if isinstance(segment, InterpSegment):
                    interpreter = segment.get_interp_name()
            needed: list[str] = []
            runpath: list[str] = []
            flags_1 = 0
            version_needs: list[tuple[str, tuple[str, ...]]] = []
            buildinfo: GoBuildInfo | None = None
            for section in elf.iter_sections():
                if isinstance(section, DynamicSection):
                    for tag in section.iter_tags():
                        d_tag = tag.entry.d_tag
                        # pyelftools sets the decoded string attributes per tag kind
                        # at run time, hence the ignores.
                        if d_tag == "DT_NEEDED":
                            needed.append(str(tag.needed))  # type: ignore[attr-defined]
                        elif d_tag == "DT_RUNPATH":
                            runpath.extend(_split_path(tag.runpath))  # type: ignore[attr-defined]
                        elif d_tag == "DT_RPATH":
                            runpath.extend(_split_path(tag.rpath))  # type: ignore[attr-defined]
                        elif d_tag == "DT_FLAGS_1":
                            flags_1 = tag.entry.d_val
                elif isinstance(section, GNUVerNeedSection):
                    for verneed, auxes in section.iter_versions():
                        names = tuple(str(aux.name) for aux in auxes)
                        version_needs.append((str(verneed.name), names))
                elif section.name == ".go.buildinfo":
                    buildinfo = _parse_buildinfo(section.data())
            elf_type = str(elf.header["e_type"])
            machine = str(elf.header["e_machine"])
    except (ELFError, OSError) as exc:
        raise BuildError(
            f"{path} is not a readable ELF binary: rebuild it", detail=str(exc)
        ) from exc
    return ElfFacts(
        static=interpreter is None and not needed,
        interpreter=interpreter,
        needed=tuple(needed),
        machine=machine,
        elf_type=elf_type,
        # A position-independent *executable*: ET_DYN that the kernel starts through
        # a loader, or that says so in DT_FLAGS_1 (static-pie has no loader).
        is_pie=elf_type == "ET_DYN" and (interpreter is not None or bool(flags_1 & _DF_1_PIE)),
        size_bytes=path.stat().st_size,
        runpath=tuple(runpath),
        version_needs=tuple(version_needs),
        go_buildinfo=buildinfo,
    )


# --------------------------------------------------------------------------- #
# Start prediction and runtime diagnosis
# --------------------------------------------------------------------------- #


@runtime_checkable
class ImageFileView(Protocol):
    """Which paths exist in an image; resolving symlinks is the view's job."""

    def exists(self, path: str) -> bool: ...


class StartCategory(str, enum.Enum):
    """Shared vocabulary of predictions and observed runtime failures, so they compare."""

    STARTS = "starts"
    MISSING_LOADER = "missing loader"
    MISSING_LIBRARY = "missing library"
    MISSING_EXECUTABLE = "missing executable"
    LIBC_TOO_OLD = "libc too old"
    MISSING_SYMBOL = "missing symbol"
    WRONG_FORMAT = "exec format error"
    PERMISSION_DENIED = "permission denied"
    NOT_A_PROGRAM = "not a program"
    CRASHED = "crashed"
    EXITED = "exited"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Prediction:
    starts: bool
    reason: str
    category: StartCategory = StartCategory.STARTS
    missing: tuple[str, ...] = ()


_TRIPLETS = {
    "EM_X86_64": "x86_64-linux-gnu",
    "EM_AARCH64": "aarch64-linux-gnu",
    "EM_386": "i386-linux-gnu",
}
_MUSL_DIRS = ("/lib", "/usr/local/lib", "/usr/lib")
# musl's loader *is* libc: it answers requests for these names itself without
# opening a file (ldso/dynlink.c, "reserved" names), which is why a musl-gcc binary
# needing plain `libc.so` runs on Alpine, where no file of that name exists.
_MUSL_BUILTIN_PREFIXES = (
    "libc.",
    "libpthread.",
    "librt.",
    "libm.",
    "libdl.",
    "libutil.",
    "libxnet.",
)


def _library_dirs(elf: ElfFacts) -> tuple[str, ...]:
    runpath = tuple(p for p in elf.runpath if "$" not in p)  # $ORIGIN needs the install path
    if elf.libc_kind == "musl":
        return runpath + _MUSL_DIRS
    triplet = _TRIPLETS.get(elf.machine)
    multiarch = (f"/lib/{triplet}", f"/usr/lib/{triplet}") if triplet else ()
    return runpath + multiarch + ("/lib64", "/usr/lib64", "/lib", "/usr/lib")


def predict_start(
    elf: ElfFacts, image: ImageFileView, *, image_glibc: tuple[int, int] | None = None
) -> Prediction:
    """Whether the kernel and loader can start ``elf`` in ``image``, and why.

    ``image_glibc`` (the image's glibc version, when known) additionally checks the
    binary's GLIBC_x.y symbol versions, which file existence alone cannot.
    """
    if elf.static:
        return Prediction(True, "statically linked: needs no loader")
    if elf.interpreter is None:
        return Prediction(
            False,
            "no ELF interpreter but needs shared libraries: a shared object, not a program",
            StartCategory.NOT_A_PROGRAM,
        )
    if not image.exists(elf.interpreter):
        # The kernel reports the missing loader as ENOENT for the binary itself:
        # `exec /app: no such file or directory`.
        return Prediction(
            False,
            f"interpreter {elf.interpreter} not in image",
            StartCategory.MISSING_LOADER,
            (elf.interpreter,),
        )
    dirs = _library_dirs(elf)
    missing: list[str] = []
    for lib in elf.needed:
        if elf.libc_kind == "musl" and lib.startswith(_MUSL_BUILTIN_PREFIXES):
            continue
        if "/" in lib:
            if not image.exists(lib):
                missing.append(lib)
        elif not any(image.exists(f"{d}/{lib}") for d in dirs):
            missing.append(lib)
    if missing:
        return Prediction(
            False,
            f"needed {'library' if len(missing) == 1 else 'libraries'} {', '.join(missing)} "
            f"not found in image (searched {', '.join(dirs)})",
            StartCategory.MISSING_LIBRARY,
            tuple(missing),
        )
    needs = elf.min_glibc
    if (
        image_glibc is not None
        and needs is not None
        and elf.libc_kind == "glibc"
        and image_glibc < needs
    ):
        have = f"{image_glibc[0]}.{image_glibc[1]}"
        return Prediction(
            False,
            f"needs GLIBC_{needs[0]}.{needs[1]} but the image has glibc {have}",
            StartCategory.LIBC_TOO_OLD,
        )
    n = len(elf.needed)
    return Prediction(True, f"loader and {n} needed {'library' if n == 1 else 'libraries'} present")


class ExecDiagnosis(NamedTuple):
    category: StartCategory
    evidence: str  # the line of output that decided it ("" if none)


# By priority, most specific first; the first *pattern* that matches any line wins
# (an application's own "open x: no such file or directory" must not outrank the
# loader's message, whatever the line order).
_EXEC_PATTERNS: tuple[tuple[re.Pattern[str], StartCategory], ...] = tuple(
    (re.compile(p, re.IGNORECASE), c)
    for p, c in (
        # glibc: "error while loading shared libraries: libfoo.so.1: cannot open ..."
        (r"error while loading shared libraries: \S+?:", StartCategory.MISSING_LIBRARY),
        # musl: "Error loading shared library libfoo.so: No such file or directory"
        (r"error loading shared library \S+?:", StartCategory.MISSING_LIBRARY),
        (r"version `GLIBC_[\d.]+' not found", StartCategory.LIBC_TOO_OLD),
        (r"error relocating .*symbol not found|undefined symbol", StartCategory.MISSING_SYMBOL),
        # runc when the file itself is absent: exec: "/app": stat /app: no such file ...
        (
            r"stat \S+: no such file or directory|executable file not found",
            StartCategory.MISSING_EXECUTABLE,
        ),
        # The binary exists but its ELF interpreter does not: the kernel says ENOENT
        # for the exec. runc/Docker >= 23: "exec /app: no such file or directory";
        # older: "exec user process caused: no such file or directory"; bash >= 5.1:
        # "cannot execute: required file not found".
        (
            r"exec\b.*no such file or directory|required file not found",
            StartCategory.MISSING_LOADER,
        ),
        (r"exec format error", StartCategory.WRONG_FORMAT),
        (r"permission denied", StartCategory.PERMISSION_DENIED),
        (r"segmentation fault|SIGSEGV|SIGILL|SIGBUS|^panic:|fatal error:", StartCategory.CRASHED),
    )
)
# Only when nothing specific matched and the process did fail: a bare ENOENT from
# a start attempt is, in this suite, almost always the missing loader.
_BARE_ENOENT = re.compile(r"no such file or directory", re.IGNORECASE)


def diagnose_exec_failure(returncode: int | None, log_text: str) -> ExecDiagnosis:
    """Classify what a container or process reported when it (maybe) failed to start.

    ``returncode`` None means still running, which means it started. Recognises the
    glibc and musl loaders' messages, the runtime's exec errors and common crashes.
    """
    if returncode is None:
        return ExecDiagnosis(StartCategory.STARTS, "")
    lines = [ln.strip() for ln in log_text.splitlines() if ln.strip()]
    for pattern, category in _EXEC_PATTERNS:
        for line in lines:
            if pattern.search(line):
                return ExecDiagnosis(category, line)
    if returncode in (-11, 139, -4, 132, -7, 135):  # SIGSEGV, SIGILL, SIGBUS
        return ExecDiagnosis(StartCategory.CRASHED, f"exit status {returncode}")
    if returncode == 0:
        return ExecDiagnosis(StartCategory.EXITED, "exit status 0")
    for line in lines:
        if _BARE_ENOENT.search(line):
            return ExecDiagnosis(StartCategory.MISSING_LOADER, line)
    return ExecDiagnosis(StartCategory.UNKNOWN, lines[-1] if lines else f"exit status {returncode}")


def describe_exec_failure(returncode: int | None, log_text: str) -> str:
    """One line for the report, e.g. ``missing loader (exec /app: no such file or directory)``."""
    diagnosis = diagnose_exec_failure(returncode, log_text)
    if diagnosis.evidence:
        return f"{diagnosis.category.value} ({diagnosis.evidence[:200]})"
    return diagnosis.category.value


# --------------------------------------------------------------------------- #
# The builder and its cache
# --------------------------------------------------------------------------- #


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


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pytest-traefik-compat" / "go"


def _tail(text: str, lines: int = 40) -> str:
    kept = [ln.rstrip() for ln in text.strip().splitlines()]
    if len(kept) > lines:
        kept = [f"... ({len(kept) - lines} earlier lines omitted)", *kept[-lines:]]
    return "\n".join(kept)


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
    ) -> None:
        self.cache_dir = Path(cache_dir)
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
            raise BuildError(_no_go_mod(request.module_dir))
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
            meta = {
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
        env = _go_base_env(request.build_env())
        if request.linkage == "static":
            env.pop("CC", None)  # irrelevant without cgo; keep it out of the record
        what = f"{request.module_dir} ({request.package}, {request.linkage})"
        self.builds_run += 1
        try:
            proc = subprocess.Popen(
                [str(toolchain.path), *request.go_args(output)],
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
            out, _ = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, _ = proc.communicate()
            raise BuildError(
                f"go build timed out after {self.timeout:g} s for {what}: check access to the Go "
                "module proxy or raise the build timeout",
                detail=_tail(out.decode("utf-8", "replace")),
            ) from None
        except BaseException:
            _kill_group(proc)
            proc.wait()
            raise
        text = out.decode("utf-8", "replace")
        if proc.returncode != 0:
            raise BuildError(
                f"go build failed for {what}{_failure_hint(text, request.module_dir)}",
                detail=_tail(text),
            )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def parse_linkages(names: Iterable[str]) -> tuple[Linkage, ...]:
    """Validate user-supplied linkage names (e.g. from a command-line option)."""
    out: list[Linkage] = []
    for name in names:
        for linkage in LINKAGES:
            if name.strip() == linkage:
                out.append(linkage)
                break
        else:
            raise ValueError(f"unknown linkage {name!r}: expected one of {', '.join(LINKAGES)}")
    return tuple(out)


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
