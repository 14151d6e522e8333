"""Temporary: re-exports for call sites being moved; remove.

The quiet lock lives in ``measure.quiet``, starts in ``measure.startup``, memory in
``measure.memory``, the HEALTHCHECK timing in ``measure.healthcheck`` and the exec
helper in ``engine.exec_in``. ``run_in`` keeps the (exit code, output) shape the suite
still unpacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pytest_traefik_compat import engine
from pytest_traefik_compat.measure.healthcheck import health_timing as health_timing
from pytest_traefik_compat.measure.memory import (
    cgroup_memory_without_cache as cgroup_memory_without_cache,
)
from pytest_traefik_compat.measure.memory import proc_status as proc_status
from pytest_traefik_compat.measure.quiet import Conditions as Conditions
from pytest_traefik_compat.measure.quiet import busy as busy
from pytest_traefik_compat.measure.quiet import (
    other_running_containers as other_running_containers,
)
from pytest_traefik_compat.measure.quiet import quiet as quiet
from pytest_traefik_compat.measure.startup import PART_MEANING as PART_MEANING
from pytest_traefik_compat.measure.startup import PARTS as PARTS
from pytest_traefik_compat.measure.startup import POLL_S as POLL_S
from pytest_traefik_compat.measure.startup import InProcessStarts as InProcessStarts
from pytest_traefik_compat.measure.startup import StartSample as StartSample
from pytest_traefik_compat.measure.startup import container_spec as container_spec
from pytest_traefik_compat.measure.startup import medians_by_part as medians_by_part
from pytest_traefik_compat.measure.startup import parse_start_samples as parse_start_samples
from pytest_traefik_compat.measure.startup import split_rounds as split_rounds
from pytest_traefik_compat.measure.startup import time_container as time_container
from pytest_traefik_compat.measure.startup import time_route_ready as time_route_ready
from pytest_traefik_compat.measure.startup import time_start as time_start

RUN_IN_TIMEOUT_S = 600.0


def run_in(container: Any, command: Sequence[str]) -> tuple[int | None, str]:
    """``engine.exec_in`` keeping the whole output, as (exit code, output)."""
    result = engine.exec_in(container, command, timeout_s=RUN_IN_TIMEOUT_S, keep=None)
    return result.exit_code, result.output or result.error
