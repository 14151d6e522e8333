"""Cross-process locks: build once under a file lock, then check again.

Shared by the Go builder and the image builders (xdist workers and concurrent runs
build each artefact once); knows nothing of Docker, Go or pytest.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout

from pytest_traefik_compat.errors import BuildError

LOCK_TIMEOUT_S = 1200


def lock_file(lock_dir: Path, name: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    lock_dir.mkdir(parents=True, exist_ok=True)
    return lock_dir / f"{safe}.lock"


def build_once(
    lock_path: Path,
    *,
    exists: Callable[[], bool],
    build: Callable[[], None],
    what: str,
    timeout: float = LOCK_TIMEOUT_S,
) -> bool:
    """Run ``build`` unless ``exists()``; once across processes. True if built here.

    The second ``exists()`` under the lock sees another process's finished build.
    Waiting longer than ``timeout`` is one line naming the lock file to remove.
    """
    if exists():
        return False
    lock = FileLock(str(lock_path))
    try:
        with lock.acquire(timeout=timeout):
            if exists():
                return False
            build()
            return True
    except Timeout:
        raise BuildError(
            f"waited {timeout:.0f} s for another process building {what}; "
            f"remove {lock_path} if no build is running"
        ) from None
