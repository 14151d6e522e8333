"""Container starts decomposed into their parts, the binary's own in-process starts,
and the time until Traefik routes to a new service.

- :func:`time_start`: one container start, from the create call to the first 200 the
  client sees, split into engine create, engine start (``State.StartedAt``), the
  hand-off to the program (StartedAt to the Go program's first package init), init to
  listeners ready (as the process reports it in its ``"ready"`` log line) and ready to
  the first 200 (with the poll interval as its resolution). The parts come from wall
  clocks on one machine and add up to the total; a service that logs no ready line
  gets engine create, engine start and start -> first 200 only.

  The process's init stamp, not its ``/proc/self/stat`` start time, ends the engine's
  part: that start time is when the runtime *forked* the first process (runc init),
  hundreds of ms before it execs the binary (execve keeps the start time), while
  ``StartedAt`` lands within a few ms of the program's first init. The /proc figure is
  kept in the samples as ``fork_ns``.
- :class:`InProcessStarts`: the binary re-running itself ``-start-samples`` times
  inside a container reports exec -> listeners ready per mode.
- :func:`route_ready_ms` (and :func:`time_route_ready`, a replacement then that wait):
  the routed service's first 200 to Traefik routing to it, which depends on the load
  balancer's health-check interval and is never part of a start.

No pytest: the suite and users' tests call these with a :class:`Gateway`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from typing import Any

import requests

from pytest_traefik_compat import engine
from pytest_traefik_compat.errors import StackError
from pytest_traefik_compat.gateway.services import RunningService, ServiceSpec
from pytest_traefik_compat.gateway.stack import Gateway

POLL_S = 0.02  # the poll interval of every start measurement (its resolution)
REQUEST_TIMEOUT_S = 0.5
START_TIMEOUT_S = 20.0

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


def route_ready_ms(
    gateway: Gateway, spec: ServiceSpec, *, poll_s: float = POLL_S, timeout: float = 20.0
) -> float:
    """Milliseconds from now (the routed service's first direct 200, just seen) to the
    first 200 through Traefik: Traefik's health check has to see the new server UP."""
    direct_mono = time.monotonic()
    deadline = direct_mono + timeout
    with gateway.https_client() as client:
        while time.monotonic() < deadline:
            with suppress(requests.RequestException):
                if client.get(spec.health_path, timeout=1).status_code == 200:
                    return (time.monotonic() - direct_mono) * 1000
            time.sleep(poll_s)
    raise StackError(f"Traefik did not route to the new {spec.alias} within {timeout:.0f} s")


def time_route_ready(
    gateway: Gateway, spec: ServiceSpec, *, poll_s: float = POLL_S, timeout: float = 20.0
) -> tuple[StartSample, float]:
    """Replace the routed service and time (ms) from its first direct 200 to the first
    200 through Traefik."""
    sample, _service = time_start(gateway, spec, poll_s=poll_s, timeout=timeout)
    return sample, route_ready_ms(gateway, spec, poll_s=poll_s, timeout=timeout)


def remove_services(gateway: Gateway, aliases: Sequence[str]) -> None:
    """Remove these services' containers together: a killed container's teardown is
    mostly the engine waiting, so removing them side by side costs about one."""
    containers = [
        gone.container
        for alias in aliases
        if (gone := gateway.services.pop(alias, None)) is not None
    ]
    if len(containers) <= 1:
        for container in containers:
            engine.remove(container)
        return
    with ThreadPoolExecutor(max_workers=len(containers)) as pool:
        list(pool.map(engine.remove, containers))


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
