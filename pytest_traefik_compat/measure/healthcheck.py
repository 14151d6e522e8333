"""A container's HEALTHCHECK: when the engine first saw it pass, and waiting for a status."""

from __future__ import annotations

from typing import Any

from pytest_traefik_compat import engine
from pytest_traefik_compat.measure.startup import parse_engine_time
from pytest_traefik_compat.measure.waiting import wait_for


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


def wait_health_status(
    container: Any, wanted: str, *, timeout: float
) -> tuple[str | None, float | None]:
    """Poll the engine's health status until it is ``wanted`` (bounded)."""
    status: str | None = None

    def check() -> bool:
        nonlocal status
        engine.drive_health(container)  # Podman without systemd: nothing runs the check
        container.reload()
        status = ((container.attrs.get("State") or {}).get("Health") or {}).get("Status")
        return status == wanted

    seconds = wait_for(check, timeout=timeout, interval=0.1)
    return status, seconds
