"""The machine-wide quiet lock and the conditions each timing series was measured under.

:func:`quiet` and :func:`busy` share one reader/writer lock in the cache directory
(filelock's SQLite ``ReadWriteLock``, which makes new readers wait behind a waiting
writer). Other work on the engine (builds, gateways, checks) holds it shared through
:func:`busy`; a timing series holds it exclusively, so xdist workers, CI shards on one
machine and concurrent runs neither time each other nor load the cores under a series.
The :class:`Conditions` say how long it waited, how busy the CPUs were during the
series, the load average and how many other containers were running;
:attr:`Conditions.noisy` flags a series measured on a busy machine.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from filelock import ReadWriteLock, Timeout

from pytest_traefik_compat import engine

LOCK_NAME = "machine.lock.db"  # SQLite: filelock's ReadWriteLock keeps its state there
EVENTS_NAME = "timing-events.log"
LOCK_TIMEOUT_S = 600.0
# A series is noisy when the CPUs were busier than this during it (all cores, /proc/stat).
# On 2 cores a series alone keeps them 45-71 % busy (the client, dockerd, containerd and
# runc starting containers, or the in-process starts); with a unit-test run beside it, 95 %.
NOISY_CPU_BUSY = 0.8
_EVENTS_MAX_BYTES = 1 << 20


@dataclass
class Conditions:
    """What the machine was doing while a series was measured."""

    cpus: int
    load_1m: float
    load_1m_after: float | None = None
    other_containers: int | None = None
    lock_wait_ms: float = 0.0
    waited_for_lock: bool = False
    lock_timed_out: bool = False
    # Share of all CPUs' time spent busy during the series (/proc/stat), None where
    # the kernel does not say. It counts the series' own work (client and engine) too.
    cpu_busy: float | None = None
    owner: str = ""

    @property
    def load_per_core(self) -> float:
        return max(self.load_1m, self.load_1m_after or 0.0) / max(self.cpus, 1)

    @property
    def noisy(self) -> bool:
        """The 1-minute load average lags (a series right after a build would always
        look busy), so the flag reads how busy the CPUs were during the series."""
        return self.lock_timed_out or (self.cpu_busy or 0.0) > NOISY_CPU_BUSY

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["load_per_core"] = round(self.load_per_core, 3)
        data["noisy"] = self.noisy
        return data


def _load() -> float:
    with suppress(OSError):
        return float(os.getloadavg()[0])
    return 0.0


def cpu_times(stat: Path = Path("/proc/stat")) -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs since boot; busy leaves out idle and iowait."""
    with suppress(OSError, ValueError, IndexError):
        fields = [int(v) for v in stat.read_text().splitlines()[0].split()[1:]]
        total = sum(fields[:8])  # user..steal; guest time is already in user
        return total - fields[3] - fields[4], total
    return None


def busy_fraction(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    if before is None or after is None or after[1] <= before[1]:
        return None
    return round((after[0] - before[0]) / (after[1] - before[1]), 3)


def _event(lock_dir: Path, what: str, owner: str) -> None:
    """One line per lock event (tests read the order; bounded in size)."""
    path = lock_dir / EVENTS_NAME
    with suppress(OSError):
        if path.exists() and path.stat().st_size > _EVENTS_MAX_BYTES:
            path.unlink()
        with path.open("a") as out:
            out.write(f"{time.time_ns()} {what} {owner}\n")


@dataclass
class _Share:
    """This process's shared hold of one lock directory's machine lock."""

    lock: ReadWriteLock
    depth: int = 0
    held: bool = False


_shares: dict[Path, _Share] = {}


def _machine_lock(lock_dir: Path) -> ReadWriteLock:
    lock_dir.mkdir(parents=True, exist_ok=True)
    # is_singleton=False: the shared hold and a series' exclusive hold are two holders.
    return ReadWriteLock(str(lock_dir / LOCK_NAME), is_singleton=False)


@contextmanager
def busy(lock_dir: Path, *, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the machine lock shared while doing work that is not a timing series (a
    build, a gateway, a check): a series waits until it is done, and it waits while a
    series runs or waits. Re-entrant within a process; after ``timeout`` the work goes
    ahead without it (a series then finds the machine busy and says so)."""
    key = lock_dir.resolve()
    share = _shares.get(key)
    if share is None:
        share = _shares[key] = _Share(_machine_lock(key))
    share.depth += 1
    try:
        if share.depth == 1:
            with suppress(Timeout):
                share.lock.acquire_read(timeout=timeout)
                share.held = True
        yield
    finally:
        share.depth -= 1
        if share.depth == 0 and share.held:
            share.lock.release()
            share.held = False


@contextmanager
def _own_share_released(lock_dir: Path) -> Iterator[None]:
    """A series inside work this process holds shared would wait for itself: give the
    shared hold up for the series and take it back afterwards."""
    share = _shares.get(lock_dir.resolve())
    if share is None or not share.held:
        yield
        return
    share.lock.release()
    share.held = False
    try:
        yield
    finally:
        with suppress(Timeout):
            share.lock.acquire_read(timeout=LOCK_TIMEOUT_S)
            share.held = True


@contextmanager
def quiet(
    lock_dir: Path,
    *,
    owner: str,
    others: Callable[[], int] | None = None,
    timeout: float = LOCK_TIMEOUT_S,
) -> Iterator[Conditions]:
    """Hold the machine lock exclusively for a timing series; yields the conditions
    (filled in at the end).

    It waits for other series and for work holding the lock shared to finish; new
    shared holders wait behind it. ``others`` counts the other running containers (not
    this stack's). After ``timeout`` the measurement goes ahead unlocked, marked noisy.
    """
    with _own_share_released(lock_dir):
        lock = _machine_lock(lock_dir)
        started = time.monotonic()
        acquired = waited = False
        try:
            lock.acquire_write(timeout=0, blocking=False)
            acquired = True
        except Timeout:
            waited = True
            with suppress(Timeout):
                lock.acquire_write(timeout=timeout)
                acquired = True
        conditions = Conditions(
            cpus=os.cpu_count() or 1,
            load_1m=_load(),
            lock_wait_ms=round((time.monotonic() - started) * 1000, 1),
            waited_for_lock=waited,
            lock_timed_out=not acquired,
            owner=owner,
        )
        if others is not None:
            with suppress(Exception):
                conditions.other_containers = others()
        _event(lock_dir, "acquired" if acquired else "timeout", owner)
        before = cpu_times()
        try:
            yield conditions
        finally:
            conditions.cpu_busy = busy_fraction(before, cpu_times())
            conditions.load_1m_after = _load()
            if acquired:
                _event(lock_dir, "released", owner)
                lock.release()
            lock.close()


def other_running_containers(stack_label: str) -> int:
    """Running containers on the engine that are not this stack's."""
    running = engine.client().containers.list(filters={"status": "running"})
    return sum(1 for c in running if (c.labels or {}).get(engine.LABEL_STACK) != stack_label)
