"""Traefik itself on the base: its memory after the base's other checks, and its start."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

from pytest_traefik_compat import engine
from pytest_traefik_compat.gateway import traefik
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.measure import memory, startup, stats
from pytest_traefik_compat.plugin.session import CompatSession
from pytest_traefik_compat.records.checks import TRAEFIK_FIGURES
from pytest_traefik_compat.suite.common import RecordFactory, add_parts

# Traefik starts per base: the smallest series with a 95% interval of its median and a
# comparison between bases that can reach p < 0.05 (Mann-Whitney 6 vs 6: p >= 0.002;
# 3 vs 3 could never go below 0.1). Each start costs about 0.8 s with its removal, so
# this check is in the full profile.
TRAEFIK_START_SAMPLES = stats.MIN_N_INTERVAL


def _traefik_run(stack: Gateway, index: int) -> Callable[[], Any]:
    """Start a second Traefik exactly like the gateway's own (image, user, command,
    config mount, ports), for timing its start."""
    assert stack.traefik is not None
    stack.traefik.reload()
    config = stack.traefik.attrs["Config"]
    binds = stack.traefik.attrs["HostConfig"].get("Binds") or []
    volumes = {b.split(":")[0]: b.split(":")[1] for b in binds}

    def run() -> Any:
        return stack.run_container(
            stack.traefik_image,
            f"traefik-timing{index}",
            ports=[traefik.WEBSECURE_PORT, traefik.ADMIN_PORT],
            command=list(config.get("Cmd") or []),
            user=config.get("User") or "",
            volumes=volumes,
        )

    return run


def _admin_ping_url(container: Any) -> str:
    port = engine.host_ports(container)[traefik.ADMIN_PORT]
    return f"http://{engine.engine_address()}:{port}/ping"


def test_traefik_figures(
    compat_stack: Gateway,
    traefik_compat: CompatSession,
    traefik_record: RecordFactory,
) -> None:
    """Traefik on this base: its memory after the base's other checks, and its own start.

    RUN_ORDER puts this test after every other check of the base but the budgets, so
    the memory is read after the base's last traffic through the gateway: VmRSS 6 times
    over half a second, then VmHWM. The start is create to /ping 200 of a second
    Traefik run exactly like the gateway's, 6 times in a timing series (the smallest
    series with a 95% interval), decomposed (Traefik logs no ready line, so exec comes
    from the host's /proc).

    Asserts: Traefik's peak RSS is at least its RSS, above 0; 6 starts were timed.
    Records: VmRSS readings (the traefik_rss_mb budget's series) and the last of them,
    VmHWM of the gateway's Traefik, its container's cgroup memory without page cache,
    start times and their parts (ms); details: the timing conditions, every start.
    """
    record = traefik_record(TRAEFIK_FIGURES.check)
    assert compat_stack.traefik is not None
    pid = engine.pid(compat_stack.traefik)
    readings = memory.rss_readings(pid)
    status = memory.proc_status(pid)
    record.add_samples(TRAEFIK_FIGURES.rss_readings, readings, "bytes")
    record.figure(TRAEFIK_FIGURES.rss, readings[-1], "bytes")
    record.figure(TRAEFIK_FIGURES.rss_peak, status["VmHWM"], "bytes")
    with suppress(Exception):
        record.figure(
            TRAEFIK_FIGURES.cgroup_memory,
            memory.cgroup_memory_without_cache(
                compat_stack.traefik.stats(stream=False, one_shot=True)
            ),
            "bytes",
        )
    starts: list[startup.StartSample] = []
    with traefik_compat.timing_series(compat_stack, "traefik") as conditions:
        for index in range(TRAEFIK_START_SAMPLES):
            sample, container = startup.time_container(
                _traefik_run(compat_stack, index), _admin_ping_url
            )
            engine.remove(container)
            starts.append(sample)
    record.add_samples(TRAEFIK_FIGURES.start, [s.total_ms for s in starts], "ms")
    add_parts(record, TRAEFIK_FIGURES.start, starts)
    record.details[TRAEFIK_FIGURES.conditions] = conditions.as_dict()
    record.details[TRAEFIK_FIGURES.starts] = [s.as_dict() for s in starts]
    assert status["VmHWM"] >= readings[-1] > 0
    assert len(starts) == TRAEFIK_START_SAMPLES
