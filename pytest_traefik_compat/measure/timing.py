"""Timing measurements that hold up: a machine-wide quiet lock, the conditions each
series was measured under, and container starts decomposed into their parts.

- :func:`quiet` and :func:`busy`: one reader/writer lock in the cache directory
  (filelock's SQLite ``ReadWriteLock``, which makes new readers wait behind a waiting
  writer). Other work on the engine (builds, gateways, checks) holds it shared through
  :func:`busy`; a timing series holds it exclusively, so xdist workers, CI shards on one
  machine and concurrent runs neither time each other nor load the cores under a
  series. The :class:`Conditions` say how long it waited, how busy the CPUs were during
  the series, the load average and how many other containers were running;
  :attr:`Conditions.noisy` flags a series measured on a busy machine.
- :func:`time_start`: one container start, from the create call to the first 200 the
  client sees, split into engine create, engine start (``State.StartedAt``), the
  hand-off to the program (StartedAt to the Go program's first package init), init to
  listeners ready (as the process reports it in its ``"ready"`` log line) and ready to
  the first 200 (with the poll interval as its resolution). The parts come from wall
  clocks on one machine and add up to the total; a service that logs no ready line
  gets engine create, engine start and start -> first 200 only.

  Measured here: ``/proc/self/stat``'s start time of a container's first process is
  when the runtime *forked* it (runc init), hundreds of ms before it execs the binary
  (execve keeps the start time), while ``StartedAt`` lands within a few ms of the
  program's first init. So the process's init stamp, not its /proc start time, ends
  the engine's part; the /proc figure is kept in the samples as ``fork_ns``.
- :func:`time_route_ready`: the service's first 200 to Traefik routing to it, which
  depends on the load balancer's health-check interval and is never part of a start.

No pytest: the suite and users' tests call these with a :class:`Gateway`.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests
from filelock import ReadWriteLock, Timeout

from pytest_traefik_compat import engine
from pytest_traefik_compat.errors import StackError
from pytest_traefik_compat.gateway.stack import Gateway, RunningService, ServiceSpec

POLL_S = 0.02  # the poll interval of every start measurement (its resolution)
REQUEST_TIMEOUT_S = 0.5
START_TIMEOUT_S = 20.0
LOCK_NAME = "machine.lock.db"  # SQLite: filelock's ReadWriteLock keeps its state there
EVENTS_NAME = "timing-events.log"
LOCK_TIMEOUT_S = 600.0
# A series is noisy when the CPUs were busier than this during it (all cores, /proc/stat).
# Measured here on 2 cores: a series alone keeps them 45-71 % busy (the client, dockerd,
# containerd and runc starting containers, or the in-process starts); with a unit-test
# run beside it, 95 %.
NOISY_CPU_BUSY = 0.8
_EVENTS_MAX_BYTES = 1 << 20

# The parts of one start, in order; they add up to the total.
PARTS = ("create", "start", "handoff", "init_ready", "first_answer")
PART_MEANING = {
    "create": "client create call to the engine's Created time",
    "start": "Created to State.StartedAt (engine start)",
    "handoff": "State.StartedAt to the program's first package init (signed: the engine "
    "stamps StartedAt around the exec; Go's runtime start is in here)",
    "init_ready": "the program's init to listeners ready, as the process logged it (sub-ms)",
    "first_answer": "listeners ready to the first 200 the client received (poll every 20 ms)",
}


# ---------------------------------------------------------------- the quiet lock


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


# ---------------------------------------------------------------- one start


_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def parse_engine_time(text: str | None) -> int | None:
    """An engine timestamp (RFC 3339 with nanoseconds) as Unix nanoseconds."""
    if not text or text.startswith("0001-"):
        return None
    match = _TIMESTAMP.match(text.strip())
    if not match:
        return None
    from datetime import datetime, timezone

    whole, fraction, zone = match.groups()
    moment = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    seconds = int(moment.timestamp())
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    nanos = int((fraction or "0")[:9].ljust(9, "0"))
    return seconds * 1_000_000_000 + nanos


def ready_report(log_text: str) -> dict[str, Any] | None:
    """The process's own ``{"msg": "ready", ...}`` JSON log line, if it printed one."""
    for line in log_text.splitlines():
        line = line.strip()
        if not line.startswith("{") or '"ready"' not in line:
            continue
        with suppress(ValueError):
            data = json.loads(line)
            if isinstance(data, dict) and data.get("msg") == "ready":
                return data
    return None


@dataclass
class StartSample:
    """One container start: wall-clock stamps (Unix ns) and the client's total."""

    requested_ns: int
    first_answer_ns: int
    total_ms: float  # monotonic, create call to first 200
    created_ns: int | None = None
    started_ns: int | None = None
    init_ns: int | None = None
    ready_ns: int | None = None
    fork_ns: int | None = None  # /proc/self/stat start (runc init's fork), 10 ms ticks
    init_to_ready_ms: float | None = None
    polls: int = 0
    poll_s: float = POLL_S

    def parts(self) -> dict[str, float | None]:
        """Milliseconds per part (None where the stamp is missing). Consecutive stamps,
        so the parts present always add up to first answer - request."""
        stamps = [
            ("create", self.created_ns),
            ("start", self.started_ns),
            ("handoff", self.init_ns),
            ("init_ready", self.ready_ns if self.init_ns else None),
            ("first_answer", self.first_answer_ns),
        ]
        parts: dict[str, float | None] = {}
        previous = self.requested_ns
        for name, stamp in stamps:
            if stamp is None:
                parts[name] = None
                continue
            parts[name] = (stamp - previous) / 1e6
            previous = stamp
        return parts

    @property
    def started_to_ready_ms(self) -> float | None:
        """State.StartedAt to listeners ready as the process logged it (else to the first
        200): the program's share of a start, without the engine's create and start
        whose jitter (tens of ms) swamps a program's own few ms."""
        end = self.ready_ns if self.init_ns and self.ready_ns else self.first_answer_ns
        if self.started_ns is None:
            return None
        return (end - self.started_ns) / 1e6

    @property
    def wall_total_ms(self) -> float:
        return (self.first_answer_ns - self.requested_ns) / 1e6

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["parts_ms"] = self.parts()
        return data


def _wait_first_200(
    url: str, container: Any, name: str, *, poll_s: float, timeout: float
) -> tuple[int, float, int]:
    """Poll ``url`` every ``poll_s`` (bounded): (wall ns, monotonic, polls)."""
    deadline = time.monotonic() + timeout
    polls = 0
    session = requests.Session()
    session.headers["Connection"] = "close"  # every poll a fresh connection
    while time.monotonic() < deadline:
        polls += 1
        with suppress(requests.RequestException):
            if session.get(url, timeout=REQUEST_TIMEOUT_S).status_code == 200:
                return time.time_ns(), time.monotonic(), polls
        if polls % 10 == 0 and engine.exit_summary(container):
            break
        time.sleep(poll_s)
    exited = engine.exit_summary(container) or "still running"
    raise StackError(
        f"{name}: no 200 on {url} within {timeout:.0f} s ({exited})",
        detail=engine.log_tail(container, 25),
    )


def _decompose(
    container: Any,
    url: str,
    name: str,
    requested_ns: int,
    started: float,
    *,
    poll_s: float,
    timeout: float,
) -> StartSample:
    first_ns, first_mono, polls = _wait_first_200(
        url, container, name, poll_s=poll_s, timeout=timeout
    )
    sample = StartSample(
        requested_ns, first_ns, (first_mono - started) * 1000, polls=polls, poll_s=poll_s
    )
    container.reload()
    attrs = container.attrs
    state = attrs.get("State") or {}
    sample.created_ns = parse_engine_time(attrs.get("Created"))
    sample.started_ns = parse_engine_time(state.get("StartedAt"))
    report = ready_report(engine.log_tail(container, 50))
    if report is not None:
        sample.init_ns = report.get("init_unix_ns") or None
        sample.ready_ns = report.get("ready_unix_ns") or None
        sample.fork_ns = report.get("exec_unix_ns") or None
        sample.init_to_ready_ms = report.get("init_to_ready_ms")
    return sample


def time_start(
    gateway: Gateway,
    spec: ServiceSpec,
    *,
    poll_s: float = POLL_S,
    timeout: float = START_TIMEOUT_S,
) -> tuple[StartSample, RunningService]:
    """Start ``spec`` on the gateway's network (replacing a container of the same
    alias, removed before the clock starts) and time it to the first 200, decomposed."""
    old = gateway.services.pop(spec.alias, None)
    if old is not None:
        engine.remove(old.container)
    requested_ns, started = time.time_ns(), time.monotonic()
    service = gateway.start_service(spec, wait=False)
    url = service.url(spec.http_port, spec.health_path)
    sample = _decompose(
        service.container,
        url,
        service.name,
        requested_ns,
        started,
        poll_s=poll_s,
        timeout=timeout,
    )
    return sample, service


def time_container(
    run: Callable[[], Any],
    url_of: Callable[[Any], str],
    *,
    poll_s: float = POLL_S,
    timeout: float = START_TIMEOUT_S,
) -> tuple[StartSample, Any]:
    """Any container (Traefik, a user's): ``run()`` creates and starts it, ``url_of``
    names the URL whose first 200 ends the measurement. The caller removes it."""
    requested_ns, started = time.time_ns(), time.monotonic()
    container = run()
    try:
        sample = _decompose(
            container,
            url_of(container),
            container.name,
            requested_ns,
            started,
            poll_s=poll_s,
            timeout=timeout,
        )
    except BaseException:
        engine.remove(container)
        raise
    return sample, container


def container_spec(service: RunningService) -> dict[str, Any]:
    """What makes two starts the same measurement: published ports, network, user,
    hardening, HEALTHCHECK style, and where the client polls."""
    service.container.reload()
    attrs = service.container.attrs
    host = attrs.get("HostConfig") or {}
    config = attrs.get("Config") or {}
    bindings = host.get("PortBindings") or {}
    health = config.get("Healthcheck") or {}
    test = health.get("Test") or []
    return {
        "published": sorted(
            f"{port}->{binding.get('HostIp')}"
            for port, entries in bindings.items()
            for binding in (entries or [])
        ),
        "networks": sorted((attrs.get("NetworkSettings") or {}).get("Networks") or {}),
        "user": config.get("User"),
        "cap_drop": sorted(host.get("CapDrop") or []),
        "read_only": bool(host.get("ReadonlyRootfs")),
        "memory": host.get("Memory"),
        "healthcheck": [test[0], *[t.rsplit("/", 1)[-1] for t in test[1:]]] if test else [],
        "healthcheck_interval_ns": health.get("Interval"),
        "poll": {"path": service.spec.health_path, "interval_s": POLL_S},
    }


# ---------------------------------------------------------------- route ready


def time_route_ready(
    gateway: Gateway, spec: ServiceSpec, *, poll_s: float = POLL_S, timeout: float = 20.0
) -> tuple[StartSample, float]:
    """Replace the routed service and time (ms) from its first direct 200 to the first
    200 through Traefik: Traefik's health check has to see the new server UP."""
    sample, _service = time_start(gateway, spec, poll_s=poll_s, timeout=timeout)
    direct_mono = time.monotonic()
    deadline = direct_mono + timeout
    with gateway.https_client() as client:
        while time.monotonic() < deadline:
            with suppress(requests.RequestException):
                if client.get(spec.health_path, timeout=1).status_code == 200:
                    return sample, (time.monotonic() - direct_mono) * 1000
            time.sleep(poll_s)
    raise StackError(f"Traefik did not route to the new {spec.alias} within {timeout:.0f} s")


# ---------------------------------------------------------------- memory


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


def medians_by_part(samples: Sequence[StartSample]) -> dict[str, list[float]]:
    """Per part, the list of values over samples (missing parts left out)."""
    series: dict[str, list[float]] = {part: [] for part in PARTS}
    for sample in samples:
        for part, value in sample.parts().items():
            if value is not None:
                series[part].append(value)
    return {part: values for part, values in series.items() if values}


@dataclass
class InProcessStarts:
    """The binary's own -start-samples output for one mode."""

    mode: str
    exec_to_ready_ms: list[float] = field(default_factory=list)
    init_to_ready_ms: list[float] = field(default_factory=list)

    def extend(self, other: InProcessStarts) -> None:
        """Add another round of the same mode."""
        if other.mode and other.mode != self.mode:
            raise ValueError(f"round of -mode={other.mode} added to {self.mode}")
        self.exec_to_ready_ms += other.exec_to_ready_ms
        self.init_to_ready_ms += other.init_to_ready_ms


def split_rounds(n: int, rounds: int) -> list[int]:
    """``n`` samples in at most ``rounds`` near-equal rounds, none empty: series that
    take turns round by round share the machine's drift alike."""
    count = max(1, min(rounds, n))
    return [n // count + (1 if i < n % count else 0) for i in range(count)]


def parse_start_samples(output: str) -> InProcessStarts:
    """Read ``{"mode": ..., "samples": [...]}`` printed by ``-start-samples=N``."""
    for line in reversed(output.strip().splitlines()):
        with suppress(ValueError):
            data = json.loads(line)
            if isinstance(data, dict) and "samples" in data:
                result = InProcessStarts(str(data.get("mode", "")))
                for sample in data["samples"]:
                    if sample.get("exec_to_ready_ms") and not sample.get("exec_error"):
                        result.exec_to_ready_ms.append(float(sample["exec_to_ready_ms"]))
                    result.init_to_ready_ms.append(float(sample["init_to_ready_ms"]))
                return result
    raise ValueError(f"no start samples in output: {output[-300:]!r}")


# ---------------------------------------------------------------- HEALTHCHECK


def health_timing(container: Any) -> dict[str, Any]:
    """A container's HEALTHCHECK timing from the engine's own health log: StartedAt to
    the end of the first passing probe, with the interval and start period it depends
    on (the first probe runs one interval after the start)."""
    container.reload()
    attrs = container.attrs
    state = attrs.get("State") or {}
    config = (attrs.get("Config") or {}).get("Healthcheck") or {}
    log = (state.get("Health") or {}).get("Log") or []
    started = parse_engine_time(state.get("StartedAt"))
    result: dict[str, Any] = {
        "interval_ms": (config.get("Interval") or 30_000_000_000) / 1e6,
        "start_period_ms": (config.get("StartPeriod") or 0) / 1e6,
        "log": [
            {
                "start": entry.get("Start"),
                "end": entry.get("End"),
                "exit_code": entry.get("ExitCode"),
            }
            for entry in log
        ],
    }
    passing = next((e for e in log if e.get("ExitCode") == 0), None)
    end = parse_engine_time(passing.get("End")) if passing else None
    if started is not None and end is not None:
        result["healthy_after_ms"] = round((end - started) / 1e6, 1)
    return result


def run_in(container: Any, command: Sequence[str]) -> tuple[int | None, str]:
    """Run a command in a running container: exit code and the whole output (the
    in-process sampler prints one long JSON line). Bounded by the command itself."""
    result = container.exec_run(list(command), demux=False)
    return result.exit_code, (result.output or b"").decode("utf-8", "replace")
