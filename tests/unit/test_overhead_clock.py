"""The gateway-overhead measurement without a network: keep-alive connections are
opened before the clock starts, and direct and through-Traefik requests take turns."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from pytest_traefik_compat.measure import overhead

CONNECT_S = 0.05  # far above a fake request's cost: a timed connect would show


class _Answer:
    status = 200

    def read(self) -> bytes:
        return b"ok"


@dataclass
class _Log:
    """Every request in the order it was made, by target name."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[str] = field(default_factory=list)
    connects: int = 0


class _FakeConnection:
    def __init__(self, name: str, log: _Log) -> None:
        self.name, self.log, self.open = name, log, False

    def connect(self) -> None:
        time.sleep(CONNECT_S)
        with self.log.lock:
            self.log.connects += 1
        self.open = True

    def request(self, method: str, path: str, headers: dict[str, str]) -> None:
        if not self.open:  # http.client connects on the first request
            self.connect()
        with self.log.lock:
            self.log.requests.append(self.name)

    def getresponse(self) -> _Answer:
        return _Answer()

    def close(self) -> None:
        self.open = False


@dataclass(frozen=True)
class _FakeTarget(overhead.Target):
    name: str = ""
    log: Any = None

    def connection(self, timeout: float, context: Any = None) -> Any:
        return _FakeConnection(self.name, self.log)


def _targets(log: _Log) -> tuple[overhead.Target, overhead.Target]:
    return (
        _FakeTarget(1, address="127.0.0.1", name="direct", log=log),
        _FakeTarget(2, address="127.0.0.1", name="traefik", log=log),
    )


@pytest.mark.parametrize("concurrency", [1, 8])
def test_keepalive_connections_open_before_the_clock(concurrency: int) -> None:
    log = _Log()
    direct, through = _targets(log)
    result = overhead.compare(
        direct, through, mode=overhead.KEEPALIVE, concurrency=concurrency, requests=80
    )
    assert len(result.direct.seconds) == len(result.traefik.seconds) == 80
    timed = [*result.direct.seconds, *result.traefik.seconds]
    assert max(timed) < CONNECT_S / 2, "a connect landed inside the timed region"
    # one warm-up connection per target, then one per worker per target
    assert log.connects == 2 + 2 * concurrency


def test_new_connection_mode_times_the_connect() -> None:
    log = _Log()
    direct, through = _targets(log)
    result = overhead.compare(
        direct, through, mode=overhead.NEW_CONNECTION, concurrency=1, requests=10, rounds=2
    )
    assert min(result.traefik.seconds) >= CONNECT_S


def test_direct_and_traefik_take_turns() -> None:
    log = _Log()
    direct, through = _targets(log)
    overhead.compare(direct, through, mode=overhead.KEEPALIVE, concurrency=1, requests=40, rounds=4)
    timed = log.requests[20:]  # after 10 warm-up requests each
    blocks = [set(timed[i : i + 10]) for i in range(0, 80, 10)]
    # rounds of 10 each way, the order alternating: A B, B A, A B, B A
    order = ["direct", "traefik", "traefik", "direct"] * 2
    assert blocks == [{name} for name in order]


@pytest.mark.parametrize(
    ("count", "reported"),
    [
        (1, ["p50"]),
        (19, ["p50"]),
        (20, ["p50", "p95"]),
        (99, ["p50", "p95"]),
        (100, ["p50", "p95", "p99"]),
    ],
)
def test_a_percentile_is_reported_only_where_the_count_supports_it(
    count: int, reported: list[str]
) -> None:
    series = overhead.Series("direct", overhead.KEEPALIVE, 1)
    series.seconds = [i / 1000 for i in range(1, count + 1)]
    assert list(series.percentiles()) == reported
