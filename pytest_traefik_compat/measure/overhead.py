"""The gateway's overhead at steady state: the same GET directly to the service (plain
HTTP on its published port) and through Traefik (HTTPS with mTLS), with keep-alive and
with a new connection per request (for Traefik a full mTLS handshake each time), at a
given concurrency. Bounded in count and in time; statistics from numpy/scipy.

Direct and through Traefik are measured interleaved (rounds, the order alternating), and
in keep-alive mode every worker's connection is open before the clock starts, so each
timed request is one request on a warm connection.

What "added latency" means: the median of the through-Traefik latencies minus the
median of the direct ones, with a bootstrap 95% confidence interval (``stats``). It
includes everything Traefik adds: TLS (and for new connections the handshake and the
client-certificate verification), routing, the middlewares, the proxy hop.
"""

from __future__ import annotations

import http.client
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pytest_traefik_compat import engine
from pytest_traefik_compat.measure import stats

KEEPALIVE = "keepalive"
NEW_CONNECTION = "new-connection"
MODES = (KEEPALIVE, NEW_CONNECTION)
CONCURRENCIES = (1, 8)
PERCENTILES = (50, 95, 99)
DEFAULT_REQUESTS = 200
# p95 and p99 only where the count supports them (stats.MIN_N_FOR): with fewer, "p99"
# would be the maximum under another name.
P99_MIN_REQUESTS = stats.MIN_N_FOR["p99"]
SEED = 14  # the bootstrap's: the same latencies give the same interval in every report
# Direct and through Traefik take turns in this many rounds (order alternating), so
# neither is measured wholly before the other.
ROUNDS = 10


class _SniHttps(http.client.HTTPSConnection):
    """HTTPS to ``address`` (the engine host) presenting (and verifying) ``sni``."""

    def __init__(
        self, address: str, port: int, *, context: ssl.SSLContext, sni: str, timeout: float
    ) -> None:
        super().__init__(address, port, timeout=timeout, context=context)
        self._sni = sni
        self._ctx = context

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._ctx.wrap_socket(self.sock, server_hostname=self._sni)


@dataclass(frozen=True)
class Target:
    """Where to send: plain HTTP (context None) or HTTPS with mTLS as ``sni``."""

    port: int
    path: str = "/healthz"
    context_factory: Callable[[], ssl.SSLContext] | None = None
    sni: str = ""
    # Where the engine publishes ports: 127.0.0.1 for a local engine (engine.engine_host).
    address: str = field(default_factory=engine.engine_host)

    def connection(
        self, timeout: float, context: ssl.SSLContext | None = None
    ) -> http.client.HTTPConnection:
        if self.context_factory is None:
            return http.client.HTTPConnection(self.address, self.port, timeout=timeout)
        context = context or self.context_factory()
        return _SniHttps(self.address, self.port, context=context, sni=self.sni, timeout=timeout)

    @property
    def host(self) -> str:
        return self.sni or self.address


@dataclass
class Series:
    """Latencies (seconds) of one target x mode x concurrency."""

    target: str
    mode: str
    concurrency: int
    seconds: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def ms(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        return np.asarray(self.seconds, dtype=float) * 1000.0

    def percentiles(self) -> dict[str, float]:
        """The percentiles the sample count supports (stats.MIN_N_FOR)."""
        n = len(self.seconds)
        supported = [p for p in PERCENTILES if n >= stats.MIN_N_FOR.get(f"p{p}", 1)]
        if not supported:
            return {}
        values = np.percentile(self.ms, supported)
        return {f"p{p}": float(v) for p, v in zip(supported, values, strict=True)}


class _Client:
    """One worker's connection to one target. In keep-alive mode the connection is
    opened before the clock starts (and again, untimed, after a failed request); in
    new-connection mode each timed request opens its own."""

    def __init__(self, target: Target, mode: str, timeout: float) -> None:
        self.target = target
        self.mode = mode
        self.timeout = timeout
        # One context per client (building one costs ~30 ms); without a session
        # offered every new connection is a full handshake.
        self.context = target.context_factory() if target.context_factory else None
        self.conn: http.client.HTTPConnection | None = None
        self.headers = {"Host": target.host, "User-Agent": "pytest-traefik-compat"}

    def prepare(self) -> None:
        """Untimed: open the keep-alive connection (TCP and, for HTTPS, the handshake)."""
        if self.mode == KEEPALIVE and self.conn is None:
            conn = self.target.connection(self.timeout, self.context)
            try:
                conn.connect()
            except BaseException:
                conn.close()
                raise
            self.conn = conn

    def get(self) -> float:
        """One GET, timed from the request (keep-alive) or from the connect (new
        connection) to the answer read; raises OSError/HTTPException on failure."""
        if self.mode == NEW_CONNECTION:
            self.close()
            self.conn = self.target.connection(self.timeout, self.context)
        else:
            self.prepare()
        assert self.conn is not None
        started = time.perf_counter()
        try:
            self.conn.request("GET", self.target.path, headers=self.headers)
            response = self.conn.getresponse()
            response.read()
            if response.status != 200:
                raise http.client.HTTPException(f"HTTP {response.status}")
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        return time.perf_counter() - started

    def close(self) -> None:
        if self.conn is not None:
            with suppress(OSError):
                self.conn.close()
        self.conn = None


def _run(client: _Client, count: int, deadline: float) -> tuple[list[float], dict[str, int]]:
    """``count`` timed GETs of one client (bounded by ``deadline``)."""
    seconds: list[float] = []
    errors: dict[str, int] = {}
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        try:
            client.prepare()
            seconds.append(client.get())
        except (OSError, http.client.HTTPException) as error:
            key = f"{type(error).__name__}: {str(error)[:80]}"
            errors[key] = errors.get(key, 0) + 1
    return seconds, errors


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (i < total % parts) for i in range(parts)]


def _warm(target: Target, count: int, deadline: float, timeout: float) -> None:
    client = _Client(target, KEEPALIVE, timeout)
    try:
        _run(client, count, deadline)
    finally:
        client.close()


def _interleaved(
    series: list[tuple[Series, Target]],
    *,
    requests: int,
    rounds: int,
    warmup: int,
    time_budget: float,
    timeout: float,
) -> None:
    """Fill each series with ``requests`` timed GETs to its target, the targets taking
    turns in ``rounds`` rounds (the order alternating A B, B A, ...), so a drift of the
    machine lands on every target alike. Every worker's clients exist, their keep-alive
    connections open, before the first round's clock starts."""
    deadline = time.monotonic() + time_budget
    if not series:
        return
    concurrency = series[0][0].concurrency
    mode = series[0][0].mode
    for _, target in series:
        _warm(target, warmup, deadline, timeout)
    clients = [[_Client(target, mode, timeout) for _ in range(concurrency)] for _, target in series]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        try:
            # Untimed: open every keep-alive connection (a failure shows in the round).
            for per_target in clients:
                list(pool.map(_prepare_quietly, per_target))
            for round_index, size in enumerate(_split(requests, rounds)):
                order = range(len(series)) if round_index % 2 == 0 else reversed(range(len(series)))
                for which in order:
                    target_series = series[which][0]
                    started = time.monotonic()
                    futures = [
                        pool.submit(_run, client, n, deadline)
                        for client, n in zip(clients[which], _split(size, concurrency), strict=True)
                    ]
                    for future in futures:
                        seconds, errors = future.result(timeout=time_budget + timeout + 5)
                        target_series.seconds += seconds
                        for key, value in errors.items():
                            target_series.errors[key] = target_series.errors.get(key, 0) + value
                    target_series.wall_s += time.monotonic() - started
        finally:
            for per_target in clients:
                for client in per_target:
                    client.close()


def _prepare_quietly(client: _Client) -> None:
    with suppress(OSError, http.client.HTTPException):
        client.prepare()


def measure(
    name: str,
    target: Target,
    *,
    mode: str,
    concurrency: int,
    requests: int = DEFAULT_REQUESTS,
    warmup: int = 10,
    time_budget: float = 30.0,
    timeout: float = 5.0,
) -> Series:
    """``requests`` GETs split over ``concurrency`` workers (each its own connection,
    opened before the clock in keep-alive mode), after ``warmup`` untimed ones; stops
    at ``time_budget``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}: {mode!r}")
    series = Series(name, mode, concurrency)
    _interleaved(
        [(series, target)],
        requests=requests,
        rounds=1,
        warmup=warmup,
        time_budget=time_budget,
        timeout=timeout,
    )
    return series


@dataclass
class Overhead:
    """Direct vs through Traefik for one mode and concurrency."""

    mode: str
    concurrency: int
    direct: Series
    traefik: Series
    added_ms: float | None = None
    ci_low_ms: float | None = None
    ci_high_ms: float | None = None

    def figures(self) -> dict[str, float | int | None]:
        out: dict[str, float | int | None] = {
            "requests_direct": len(self.direct.seconds),
            "requests_traefik": len(self.traefik.seconds),
        }
        for label, series in (("direct", self.direct), ("traefik", self.traefik)):
            for key, value in series.percentiles().items():
                out[f"{label}_{key}"] = round(value, 3)
        out["added_median"] = None if self.added_ms is None else round(self.added_ms, 3)
        out["added_ci_low"] = None if self.ci_low_ms is None else round(self.ci_low_ms, 3)
        out["added_ci_high"] = None if self.ci_high_ms is None else round(self.ci_high_ms, 3)
        return out


def added_latency(
    direct: Series, traefik: Series, *, confidence: float = 0.95, resamples: int = 2000
) -> tuple[float | None, float | None, float | None]:
    """(median difference, CI low, CI high) in ms: a bootstrap over both samples."""
    found = stats.median_difference_ci(
        traefik.ms.tolist(),
        direct.ms.tolist(),
        confidence=confidence,
        resamples=resamples,
        seed=SEED,
    )
    return found if found is not None else (None, None, None)


def compare(
    direct: Target,
    through: Target,
    *,
    mode: str,
    concurrency: int,
    requests: int = DEFAULT_REQUESTS,
    rounds: int = ROUNDS,
    time_budget: float = 30.0,
    timeout: float = 5.0,
) -> Overhead:
    """Direct and through Traefik interleaved in ``rounds`` rounds, the same count,
    concurrency and bounds each way (``time_budget`` bounds the whole comparison)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}: {mode!r}")
    d = Series("direct", mode, concurrency)
    t = Series("traefik", mode, concurrency)
    _interleaved(
        [(d, direct), (t, through)],
        requests=requests,
        rounds=rounds,
        warmup=10,
        time_budget=time_budget,
        timeout=timeout,
    )
    result = Overhead(mode, concurrency, d, t)
    result.added_ms, result.ci_low_ms, result.ci_high_ms = added_latency(d, t)
    return result
