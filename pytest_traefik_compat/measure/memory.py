"""Memory of a process and of its container: what the kernel says the process holds
(``/proc/<pid>/status``) and what the engine says the container uses.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_traefik_compat.measure import stats

# Repeated VmRSS readings of an idle process: enough for the median's 95% interval,
# spread over half a second (RSS moves with the Go runtime's scavenger and GC).
RSS_READINGS = stats.MIN_N_INTERVAL
RSS_READING_INTERVAL_S = 0.1


def proc_status(pid: int, proc: Path = Path("/proc")) -> dict[str, int]:
    """VmRSS, VmHWM (peak) and friends of a process, in bytes."""
    values: dict[str, int] = {}
    for line in (proc / str(pid) / "status").read_text().splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if key.startswith("Vm") and len(parts) == 2 and parts[1] == "kB":
            values[key] = int(parts[0]) * 1024
    return values


def rss_readings(
    pid: int,
    count: int = RSS_READINGS,
    interval_s: float = RSS_READING_INTERVAL_S,
    proc: Path = Path("/proc"),
) -> list[int]:
    """``count`` VmRSS readings of a process, ``interval_s`` apart, in bytes (bounded:
    ``count * interval_s``)."""
    readings: list[int] = []
    for index in range(count):
        if index:
            time.sleep(interval_s)
        readings.append(proc_status(pid, proc)["VmRSS"])
    return readings


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
