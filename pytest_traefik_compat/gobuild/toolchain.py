"""The host Go toolchain: find it, ask its version, refuse one too old, in one line.

Owns ``PYTEST_TRAEFIK_GO`` handling and the environment every ``go`` command runs
with (GOTOOLCHAIN=local). Imports nothing of this project but errors.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_traefik_compat.errors import BuildError

__all__ = [
    "GO_ENV",
    "MIN_GO",
    "GoToolchain",
    "find_go",
    "parse_go_version",
    "require_go",
]

MIN_GO: tuple[int, int] = (1, 22)
_MINIMUM = ".".join(map(str, MIN_GO))  # for messages

_GO_NOT_FOUND = (
    "Go toolchain not found: install Go >= {min} (https://go.dev/dl) or put `go` on PATH"
)
# Names the go command to use (a path, or a name looked up on PATH only). An explicit
# choice turns the fallbacks off: a CI job that pins its Go must never quietly get
# /usr/local/go instead, and a test can simulate "no Go" on a machine that has one.
GO_ENV = "PYTEST_TRAEFIK_GO"

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


def go_command_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment for a ``go`` command, with ``extra`` laid over it."""
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
    path = _locate_go(go, search_path, fallbacks)
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
    toolchain = _ask_go(path)
    _TOOLCHAIN_CACHE[cache_key_] = toolchain
    return toolchain


def _locate_go(
    go: str | os.PathLike[str] | None, search_path: str | None, fallbacks: Sequence[Path] | None
) -> Path:
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
                f"command on PATH; install Go >= {_MINIMUM} (https://go.dev/dl) or fix {GO_ENV}"
            )
    else:
        found = shutil.which("go", path=search_path)
        if found is None:
            for candidate in _default_go_candidates() if fallbacks is None else fallbacks:
                if candidate.is_file() and os.access(candidate, os.X_OK):
                    found = str(candidate)
                    break
    if found is None:
        raise BuildError(_GO_NOT_FOUND.format(min=_MINIMUM))
    return Path(found).resolve()


def _ask_go(path: Path) -> GoToolchain:
    """Run ``go env`` once for the facts the cache key needs."""
    try:
        proc = subprocess.run(
            [str(path), "env", "GOVERSION", "GOOS", "GOARCH"],
            env=go_command_env(),
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
            f"{path} did not answer `go env GOVERSION`: reinstall Go >= {_MINIMUM}", detail=str(exc)
        ) from exc
    lines = proc.stdout.split()
    if proc.returncode != 0 or len(lines) != 3:
        raise BuildError(
            f"{path} env GOVERSION failed: reinstall Go >= {_MINIMUM} (https://go.dev/dl)",
            detail=tail_lines(proc.stdout + proc.stderr),
        )
    toolchain = GoToolchain(path=path, version=lines[0], goos=lines[1], goarch=lines[2])
    try:
        parse_go_version(toolchain.version)
    except ValueError as exc:
        raise BuildError(
            f"{path} reports an unreadable version {lines[0]!r}: install Go >= {_MINIMUM}"
        ) from exc
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


def tail_lines(text: str, lines: int = 40) -> str:
    """The last ``lines`` lines of a command's output, for an error's detail."""
    kept = [ln.rstrip() for ln in text.strip().splitlines()]
    if len(kept) > lines:
        kept = [f"... ({len(kept) - lines} earlier lines omitted)", *kept[-lines:]]
    return "\n".join(kept)
