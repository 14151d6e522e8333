"""The route wait's settling after a replacement, on a fake clock and a fake gateway:
the whole health-check cycle is waited out unless it already passed since the
replacement itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from pytest_traefik_compat.gateway import wait
from pytest_traefik_compat.gateway.services import ServiceSpec

WINDOW_S = 1.0 + 1.5  # a 1s health interval plus the margin


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class _Client:
    def __enter__(self) -> _Client:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def get(self, path: str, timeout: float) -> Any:
        return type("Answer", (), {"status_code": 200})()


@dataclass
class _Stack:
    health_interval: str = "1s"
    traefik: Any = field(default_factory=object)
    service_specs: list[ServiceSpec] = field(default_factory=lambda: [ServiceSpec("img")])

    def route_problems(self) -> list[str]:
        return []

    def https_client(self, host: str = "") -> _Client:
        return _Client()

    def traefik_logs(self, lines: int = 0) -> str:
        return ""

    def failure_detail(self) -> str:
        return ""


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(wait, "time", fake)
    monkeypatch.setattr(wait.engine, "exit_summary", lambda container: "")
    return fake


@pytest.mark.parametrize(
    ("replaced_ago", "waited"),
    [(None, WINDOW_S), (0.0, WINDOW_S), (1.0, WINDOW_S - 1.0), (WINDOW_S, 0.0), (9.0, 0.0)],
)
def test_settling_counts_from_the_replacement_when_given(
    clock: _Clock, replaced_ago: float | None, waited: float
) -> None:
    started = clock.now
    replaced_at = None if replaced_ago is None else started - replaced_ago
    wait.wait_routes_ready(_Stack(), timeout=30, replaced_at=replaced_at)
    assert clock.now - started == pytest.approx(waited, abs=2 * wait.POLL_S + 1e-6)


def test_without_settling_the_first_answer_is_enough(clock: _Clock) -> None:
    started = clock.now
    wait.wait_routes_ready(_Stack(), timeout=30, settle=False)
    assert clock.now == started
