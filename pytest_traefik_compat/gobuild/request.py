"""One ``go build`` as a value: the linkage, the command line, and its cache key.

The key hashes the module's build-relevant files, the toolchain and the request, so
that it changes when, and only when, the built binary could.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from pytest_traefik_compat.gobuild.gomod import read_go_mod
from pytest_traefik_compat.gobuild.toolchain import GoToolchain

__all__ = [
    "BUILDMODES",
    "CACHE_SCHEMA",
    "LINKAGES",
    "BuildMode",
    "BuildRequest",
    "Linkage",
    "cache_key",
    "linkage_env",
    "parse_linkages",
]

Linkage = Literal["static", "glibc", "musl"]
# The order is the order of the report's columns: simplest first.
LINKAGES: tuple[Linkage, ...] = get_args(Linkage)

BuildMode = Literal["exe", "pie", "plugin"]
BUILDMODES: tuple[BuildMode, ...] = get_args(BuildMode)

# The C compiler per cgo linkage; static builds run no C compiler at all.
_LINKAGE_CC: Mapping[Linkage, str | None] = {"static": None, "glibc": "gcc", "musl": "musl-gcc"}

# Bump when the key recipe or the entry layout changes, so old entries are never
# mistaken for new ones (they simply stop being looked up).
CACHE_SCHEMA = 1


def linkage_env(linkage: Linkage) -> dict[str, str]:
    """The environment that selects ``linkage`` for ``go build``."""
    if linkage not in LINKAGES:
        raise ValueError(f"unknown linkage {linkage!r}: expected one of {', '.join(LINKAGES)}")
    cc = _LINKAGE_CC[linkage]
    env = {"CGO_ENABLED": "0" if cc is None else "1"}
    if cc is not None:
        env["CC"] = cc
    return env


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
