"""Memory of a process and of its container: what the kernel says the process holds
(``/proc/<pid>/status``) and what the engine says the container uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def proc_status(pid: int, proc: Path = Path("/proc")) -> dict[str, int]:
    """VmRSS, VmHWM (peak) and friends of a process, in bytes."""
    values: dict[str, int] = {}
    for line in (proc / str(pid) / "status").read_text().splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if key.startswith("Vm") and len(parts) == 2 and parts[1] == "kB":
            values[key] = int(parts[0]) * 1024
    return values


def cgroup_memory_without_cache(stats: Mapping[str, Any]) -> int | None:
    """The container's memory as the engine reports it, minus the page cache
    (cgroup v2 ``inactive_file``, v1 ``total_inactive_file``/``cache``), as ``docker
    stats`` shows it."""
    memory = stats.get("memory_stats") or {}
    usage = memory.get("usage")
    if usage is None:
        return None
    detail = memory.get("stats") or {}
    for key in ("inactive_file", "total_inactive_file", "cache"):
        if key in detail:
            return int(usage) - int(detail[key])
    return int(usage)
