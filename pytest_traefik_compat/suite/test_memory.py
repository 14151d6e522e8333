"""The memory of the routed service on the base (per linkage: test_startup.py)."""

from __future__ import annotations

from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.records.checks import MEMORY
from pytest_traefik_compat.suite.common import RecordFactory, measure_memory


def test_memory(compat_stack: Gateway, traefik_record: RecordFactory) -> None:
    """The routed service (static) on this base: the figures the memory table shows.

    Asserts: /metrics has process_resident_memory_bytes, within 10% of the kernel's
    VmRSS (a sanity check: client_golang reads the same kernel counter).
    Records: VmRSS after 100 warm-up requests (6 kernel readings over half a second,
    the rss_mb budget's series, the last beside /metrics), VmHWM after a
    sequential load of 300 (every fourth a /metrics scrape), the container's cgroup
    memory without page cache, the Go heap in use, warm-up and load request counts,
    the VmRSS ratio; details: what the sanity check proves.
    """
    measure_memory(compat_stack.services["app"], traefik_record(MEMORY.check))
