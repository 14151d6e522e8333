"""Name resolution per base and per resolver: Go's own resolver, glibc's and musl's
``getaddrinfo``, pointed at name servers of the check's own, case by case.

A :class:`DnsLab` is one network with two name servers on it (``sample_apps/dnsserver``):
the real one serving the zone :data:`ZONE` and a silent one that reads queries and never
answers. Each resolver runs the probe (``sample_apps/resolveprobe``) in a container of its
own, the resolvers side by side; for each case the probe writes the case's resolv.conf
over ``/etc/resolv.conf`` (a file of the lab's own, bind-mounted) and looks the name up in
a fresh process, so the resolver talks to these servers directly and never to the
engine's embedded DNS. What the resolver returned, how long it took and the queries the
servers saw (told apart by the probe's address and the case's time window) make a
:class:`CaseResult`; :func:`predict` says what the library's documented behaviour expects,
and :func:`compare` sets the two side by side, as the start matrix does.

Reaches Docker only through :mod:`pytest_traefik_compat.engine`; no pytest, no records.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, get_args

import docker.errors
import docker.types
import requests

from pytest_traefik_compat import engine
from pytest_traefik_compat.errors import CompatError

if TYPE_CHECKING:
    from pytest_traefik_compat.gobuild import Linkage

__all__ = [
    "CASES",
    "CASE_NAMES",
    "LARGE_COUNT",
    "RESOLVERS",
    "RESOLVER_LINKAGE",
    "ZONE",
    "Case",
    "CaseResult",
    "Comparison",
    "DnsLab",
    "Prediction",
    "Probe",
    "Resolver",
    "ResolverRun",
    "SeenQuery",
    "compare",
    "parse_version",
    "predict",
    "render_resolv_conf",
]

Resolver = Literal["go", "glibc", "musl"]
RESOLVERS: tuple[Resolver, ...] = get_args(Resolver)
# The probe's linkage per resolver: Go's resolver from the static build, each C
# library's getaddrinfo from the build linked against it.
RESOLVER_LINKAGE: Mapping[Resolver, Linkage] = {"go": "static", "glibc": "glibc", "musl": "musl"}
Server = Literal["real", "silent"]

ZONE = "compat.test"
# The A records of large.compat.test (the server's largeCount): 40 make 675 bytes, over
# 512 and under EDNS0's common 1232, and under musl's cap of 48 addresses per lookup.
LARGE_COUNT = 40
# What a UDP answer of large.compat.test keeps when cut at 512 bytes (TC set, the
# records that fit stay, as miekg/dns and CoreDNS truncate).
LARGE_UDP_512 = 29

# resolv.conf defaults where a case sets none (glibc, musl and Go agree on them).
DEFAULT_TIMEOUT_S = 5
DEFAULT_ATTEMPTS = 2
# The probe gives up after this long; every documented wait here is far shorter.
PROBE_LIMIT_S = 30
PROBE_WAIT_S = PROBE_LIMIT_S + 15
READY_TIMEOUT_S = 15.0
# After a probe exits, its queries are in the servers' logs once the count holds still.
SETTLE_S = 0.15
# A query read this long after its case's lookup returned is still that case's (the
# probe leaves 100 ms between cases; a silent server reads late under load).
STRAY_NS = 50_000_000
SETTLE_MAX_S = 2.0
POLL_S = 0.05
# Slack of a predicted wait: the resolver's own timers plus a container's scheduling.
WAIT_LOW = 0.9
WAIT_SLACK_MS = 1500.0
FAST_MS = 1000.0


@dataclass(frozen=True)
class Case:
    """One resolution: a name, the servers in resolv.conf (in order) and its options."""

    name: str  # the figure name
    query: str
    servers: tuple[Server, ...]
    expected: int  # addresses the zone serves for the name; 0: nothing can answer
    shows: str
    options: tuple[str, ...] = ()
    search: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return self.expected > 0 and "real" in self.servers

    def option(self, key: str, default: int) -> int:
        for option in self.options:
            name, _, value = option.partition(":")
            if name == key and value.isdigit():
                return int(value)
        return default


CASES: tuple[Case, ...] = (
    Case(
        "large-answer",
        f"large.{ZONE}",
        ("real",),
        LARGE_COUNT,
        f"{LARGE_COUNT} A records, 675 bytes: over 512, so a UDP answer without EDNS0 comes "
        "truncated (TC) and the full one needs TCP; musl before 1.2.4 has no TCP fallback",
    ),
    Case(
        "silent-first-nameserver",
        f"ok.{ZONE}",
        ("silent", "real"),
        1,
        "the first nameserver reads queries and never answers: glibc and Go ask in order and "
        "wait out its timeout, musl asks all at once and takes the first answer",
    ),
    Case(
        "search-ndots",
        "svc.ns",
        ("real",),
        1,
        f"only svc.ns.{ZONE} exists; the name has 1 dot >= ndots:1, so it is tried as is "
        "first: glibc and Go then try the search list, musl never does",
        options=("ndots:1",),
        search=(ZONE,),
    ),
    Case(
        "aaaa-only",
        f"aaaa-only.{ZONE}",
        ("real",),
        1,
        "only an AAAA record, asked by getaddrinfo with NULL hints from a container without "
        "IPv6: glibc's default AI_ADDRCONFIG drops the AAAA query, musl (no default flags) "
        "and Go return the address",
    ),
    Case(
        "options-timeout",
        f"ok.{ZONE}",
        ("silent",),
        0,
        "only a silent nameserver with timeout:1 attempts:2: the time to failure shows "
        "whether and how the resolver honours them (glibc and Go wait timeout per try, "
        "musl's timeout is the whole lookup's)",
        options=("timeout:1", "attempts:2"),
    ),
)
CASE_NAMES: tuple[str, ...] = tuple(case.name for case in CASES)


def render_resolv_conf(case: Case, addresses: Mapping[Server, str]) -> str:
    """The case's resolv.conf, with each server's address on the lab's network."""
    lines = [f"nameserver {addresses[server]}" for server in case.servers]
    if case.search:
        lines.append("search " + " ".join(case.search))
    if case.options:
        lines.append("options " + " ".join(case.options))
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SeenQuery:
    """A query one of the servers read."""

    server: Server
    name: str
    type: str
    transport: str  # "udp" or "tcp"
    edns: int = 0  # the EDNS0 UDP size offered, 0 without EDNS0
    answers: int = 0
    truncated: bool = False
    client: str = ""  # the resolver's address, as the server saw it
    at_ns: int = 0  # when the server read it (Unix ns)

    @property
    def client_host(self) -> str:
        host, _, _ = self.client.rpartition(":")
        return host.strip("[]")

    def __str__(self) -> str:
        edns = f" edns{self.edns}" if self.edns else ""
        return f"{self.server} {self.transport}{edns} {self.type} {self.name}"


def parse_queries(server: Server, lines: Sequence[str]) -> list[SeenQuery]:
    """The query lines of a server's log (one JSON object a line; others skipped)."""
    found: list[SeenQuery] = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict) or entry.get("event") != "query":
            continue
        found.append(
            SeenQuery(
                server=server,
                name=str(entry.get("name", "")),
                type=str(entry.get("type", "")),
                transport=str(entry.get("transport", "")),
                edns=int(entry.get("edns") or 0),
                answers=int(entry.get("answers") or 0),
                truncated=bool(entry.get("truncated")),
                client=str(entry.get("from") or ""),
                at_ns=int(entry.get("ts") or 0),
            )
        )
    return found


@dataclass(frozen=True)
class CaseResult:
    """What one resolver made of one case."""

    case: Case
    resolver: Resolver
    addresses: tuple[str, ...]
    error: str
    error_code: str  # EAI_* for getaddrinfo, NOTFOUND/TIMEOUT/... for Go
    elapsed_ms: float  # inside the probe: the lookup alone
    queries: tuple[SeenQuery, ...]
    wall_s: float = 0.0  # the probe container, create to removal

    @property
    def count(self) -> int:
        return len(self.addresses)

    @property
    def answered(self) -> bool:
        """Every address the zone serves for the name, and no error."""
        return self.case.expected > 0 and not self.error and self.count == self.case.expected

    @property
    def outcome(self) -> str:
        """The figure's value: ``"40/40"``, ``"29/40"`` or ``"EAI_NONAME: ..."``."""
        if self.error:
            return f"{self.error_code}: {self.error}" if self.error_code else self.error
        return f"{self.count}/{self.case.expected}"

    @property
    def tcp_seen(self) -> bool:
        return any(q.transport == "tcp" for q in self.queries)

    def asked(self, qtype: str) -> bool:
        return any(q.type == qtype for q in self.queries)

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case.name,
            "resolver": self.resolver,
            "outcome": self.outcome,
            "answered": self.answered,
            "addresses": list(self.addresses),
            "expected": self.case.expected,
            "error": self.error,
            "error_code": self.error_code,
            "elapsed_ms": self.elapsed_ms,
            "queries": [str(q) for q in self.queries],
        }


@dataclass(frozen=True)
class Prediction:
    """What the documented behaviour of a resolver and its version expects of a case."""

    answered: bool
    reason: str
    count: int | None = None  # addresses expected when not all of them
    tcp: bool | None = None  # a TCP query must (True) or must not (False) be seen
    aaaa_asked: bool | None = None
    window_ms: tuple[float, float] | None = None  # where elapsed_ms must fall

    def describe(self) -> str:
        parts = ["answers" if self.answered else "fails"]
        if self.count is not None:
            parts.append(f"{self.count} addresses")
        if self.tcp is not None:
            parts.append("over TCP" if self.tcp else "no TCP")
        if self.window_ms is not None:
            low, high = self.window_ms
            parts.append(f"{low:.0f}-{high:.0f} ms")
        return ", ".join(parts) + f" ({self.reason})"


def parse_version(version: str | None) -> tuple[int, ...] | None:
    if not version:
        return None
    match = re.match(r"(\d+(?:\.\d+)*)", version)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def _waits(seconds: float) -> tuple[float, float]:
    return (seconds * 1000 * WAIT_LOW, seconds * 1000 + WAIT_SLACK_MS)


def predict(
    resolver: Resolver, case: Case, *, libc_version: str | None = None, ipv6: bool = False
) -> Prediction:
    """The documented outcome of ``case`` for ``resolver`` (musl's version matters).

    Args:
        resolver: go, glibc or musl.
        case: one of :data:`CASES` (a case of another name gets the generic prediction).
        libc_version: the C library's version on the base (musl before 1.2.4 has no
            TCP fallback); unknown counts as the current behaviour.
        ipv6: whether the probe's container has a non-loopback IPv6 address
            (glibc's AI_ADDRCONFIG asks for AAAA only then).
    """
    timeout = case.option("timeout", DEFAULT_TIMEOUT_S)
    attempts = case.option("attempts", DEFAULT_ATTEMPTS)
    version = parse_version(libc_version)
    if case.name == "large-answer":
        if resolver == "musl" and version is not None and version < (1, 2, 4):
            return Prediction(
                False,
                f"musl {libc_version}: no TCP fallback, the truncated UDP answer is all",
                count=LARGE_UDP_512,
                tcp=False,
            )
        if resolver == "go":
            # Go offers EDNS0 with 1232 bytes, so 675 bytes come whole over UDP.
            return Prediction(True, "Go's resolver offers EDNS0 (1232 bytes)")
        return Prediction(True, f"{resolver}: retries over TCP on TC", tcp=True)
    if case.name == "silent-first-nameserver":
        if resolver == "musl":
            return Prediction(True, "musl asks every nameserver at once", window_ms=(0.0, FAST_MS))
        return Prediction(
            True,
            f"{resolver} asks nameservers in order, waiting {timeout} s on the silent one",
            window_ms=_waits(timeout),
        )
    if case.name == "search-ndots":
        if resolver == "musl":
            return Prediction(False, "musl: a name with >= ndots dots never gets the search list")
        return Prediction(True, f"{resolver}: the name as is, then the search list")
    if case.name == "aaaa-only":
        if resolver == "glibc" and not ipv6:
            return Prediction(
                False,
                "glibc: NULL hints mean AI_ADDRCONFIG; no IPv6 address, no AAAA query",
                aaaa_asked=False,
            )
        reason = {
            "musl": "musl: NULL hints mean no flags, A and AAAA both asked",
            "go": "Go's LookupHost asks A and AAAA whatever the interfaces",
            "glibc": "glibc with an IPv6 address asks AAAA",
        }[resolver]
        return Prediction(True, reason, aaaa_asked=True)
    if case.name == "options-timeout":
        if resolver == "musl":
            return Prediction(
                False,
                f"musl: timeout:{timeout} bounds the whole lookup, attempts only spaces retries",
                window_ms=_waits(timeout),
            )
        servers = len(case.servers)
        return Prediction(
            False,
            f"{resolver}: timeout:{timeout} per try, attempts:{attempts} x {servers} server(s)",
            window_ms=_waits(timeout * attempts * servers),
        )
    return Prediction(case.answerable, "no documented difference")


@dataclass(frozen=True)
class Comparison:
    """A prediction next to what happened; ``mismatches`` names each difference."""

    case: str
    resolver: Resolver
    predicted: Prediction
    observed: str
    mismatches: tuple[str, ...]

    @property
    def matches(self) -> bool:
        return not self.mismatches


def compare(result: CaseResult, prediction: Prediction) -> Comparison:
    wrong: list[str] = []
    if result.answered != prediction.answered:
        wrong.append(f"{'answered' if result.answered else 'failed'}: {result.outcome}")
    if prediction.count is not None and result.count != prediction.count:
        wrong.append(f"{result.count} addresses, predicted {prediction.count}")
    if prediction.tcp is not None and result.tcp_seen != prediction.tcp:
        wrong.append("a TCP query seen" if result.tcp_seen else "no TCP query seen")
    if prediction.aaaa_asked is not None and result.asked("AAAA") != prediction.aaaa_asked:
        wrong.append("AAAA asked" if result.asked("AAAA") else "AAAA not asked")
    if prediction.window_ms is not None:
        low, high = prediction.window_ms
        if not low <= result.elapsed_ms <= high:
            wrong.append(f"{result.elapsed_ms:.0f} ms, outside {low:.0f}-{high:.0f} ms")
    return Comparison(result.case.name, result.resolver, prediction, result.outcome, tuple(wrong))


@dataclass(frozen=True)
class ResolverRun:
    """Every case for one resolver on one base: the record of check ``dns``, variant
    ``resolver``."""

    base: str
    resolver: Resolver
    libc_version: str | None
    results: tuple[CaseResult, ...]
    comparisons: tuple[Comparison, ...]
    wall_s: float

    def result(self, case: str) -> CaseResult:
        return next(r for r in self.results if r.case.name == case)

    @property
    def matches(self) -> bool:
        return all(c.matches for c in self.comparisons)

    @property
    def unanswered(self) -> list[str]:
        """Answerable cases the resolver did not answer in full."""
        return [r.case.name for r in self.results if r.case.answerable and not r.answered]

    def figures(self) -> list[tuple[str, Any, str]]:
        """(name, value, unit) per case: the outcome, its time, the prediction and
        whether it held."""
        out: list[tuple[str, Any, str]] = []
        for result, comparison in zip(self.results, self.comparisons, strict=True):
            name = result.case.name
            out += [
                (name, result.outcome, ""),
                (f"{name}_ms", round(result.elapsed_ms, 1), "ms"),
                (f"{name}_answered", result.answered, ""),
                (f"{name}_predicted", comparison.predicted.describe(), ""),
                (f"{name}_as_predicted", comparison.matches, ""),
            ]
        return out

    def details(self) -> dict[str, Any]:
        return {
            "libc_version": self.libc_version,
            "wall_s": round(self.wall_s, 2),
            "cases": [r.to_json() for r in self.results],
            "mismatches": {c.case: list(c.mismatches) for c in self.comparisons if c.mismatches},
        }


@dataclass(frozen=True)
class Probe:
    """One resolver to run the cases with: the probe image (``sample_apps/resolveprobe``
    built in ``RESOLVER_LINKAGE[resolver]`` onto the base) and the C library's version
    on that base (``BaseFacts.libc_version``; musl's matters)."""

    resolver: Resolver
    image: str
    libc_version: str | None = None


@dataclass
class _Running:
    probe: Probe
    container: Any
    conf: Path
    code: int | None = None
    output: list[str] = field(default_factory=list)


@dataclass
class _ServerBox:
    container: Any
    address: str


@dataclass
class DnsLab:
    """A network of the check's own with a real and a silent name server on it.

    Use as a context manager: everything it creates (network, servers, probe
    containers, resolv.conf files) is removed on exit, also on failure; the labels
    let the session's cleanup find what a killed run left.

    Args:
        server_image: an image whose entrypoint is ``sample_apps/dnsserver``.
        labels: labels of every container and the network (the run's identity).
    """

    server_image: str
    labels: Mapping[str, str]
    ready_timeout: float = READY_TIMEOUT_S
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    _network: Any = field(default=None, init=False)
    _servers: dict[Server, _ServerBox] = field(default_factory=dict, init=False)
    _tmp: Path | None = field(default=None, init=False)
    # Whether the lab's network gives containers an IPv6 address (glibc's AI_ADDRCONFIG).
    ipv6: bool = field(default=False, init=False)

    @property
    def network_name(self) -> str:
        return f"ptc-dns-{self.token}"

    @property
    def addresses(self) -> dict[Server, str]:
        return {name: box.address for name, box in self._servers.items()}

    def __enter__(self) -> DnsLab:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        if engine.target().remote:
            raise CompatError(
                "the dns check bind-mounts a resolv.conf file: it needs a local engine"
            )
        engine.require_image(self.server_image, "dns server")
        self._tmp = Path(tempfile.mkdtemp(prefix="ptc-dns-"))
        self._network = engine.create_network(self.network_name, self.labels)
        for server in ("real", "silent"):
            command = ["-listen", ":53"] + (["-silent"] if server == "silent" else [])
            container = engine.run_container(
                self.server_image,
                name=f"{self.network_name}-{server}",
                labels=self.labels,
                network=self._network,
                command=command,
                # Port 53 as a non-root user without capabilities.
                sysctls={"net.ipv4.ip_unprivileged_port_start": "0"},
            )
            self._servers[server] = _ServerBox(container, "")
        for server, box in self._servers.items():
            box.address, ipv6 = self._address(box.container)
            self.ipv6 = self.ipv6 or ipv6
            self._wait_ready(server, box.container)

    def _address(self, container: Any) -> tuple[str, bool]:
        info = engine.inspect(container)
        networks = info.NetworkSettings.Networks if info.NetworkSettings else None
        entry = (networks or {}).get(self.network_name)
        address = entry.IPAddress if entry is not None else None
        if not address:
            raise CompatError(f"{container.name} has no address on {self.network_name}")
        return address, bool(entry.GlobalIPv6Address if entry is not None else None)

    def _wait_ready(self, server: Server, container: Any) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if any('"event":"ready"' in line for line in _log_lines(container)):
                return
            exited = engine.exit_summary(container)
            if exited is not None:
                break
            time.sleep(POLL_S)
        raise CompatError(
            f"dns server ({server}) not ready within {self.ready_timeout:.0f} s: "
            f"{engine.exit_summary(container) or 'no ready line'}",
            detail=engine.log_tail(container),
        )

    def _query_counts(self) -> dict[Server, int]:
        return {s: len(parse_queries(s, _log_lines(b.container))) for s, b in self._servers.items()}

    def _settled_queries(self, before: Mapping[Server, int]) -> tuple[SeenQuery, ...]:
        """The queries logged since ``before``, once the counts hold still (bounded)."""
        deadline = time.monotonic() + SETTLE_MAX_S
        last = self._query_counts()
        stable_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(POLL_S)
            now = self._query_counts()
            if now != last:
                last, stable_since = now, time.monotonic()
            elif time.monotonic() - stable_since >= SETTLE_S:
                break
        seen: list[SeenQuery] = []
        for server, box in self._servers.items():
            seen += parse_queries(server, _log_lines(box.container))[before.get(server, 0) :]
        return tuple(seen)

    def run_resolvers(
        self, probes: Sequence[Probe], *, base: str, cases: Sequence[Case] = CASES
    ) -> list[ResolverRun]:
        """Every case for each probe, the probes side by side; each result compared with
        its prediction.

        One container per probe runs the cases in turn, each lookup in a fresh process
        after writing the case's resolv.conf; the servers' queries go to the probe whose
        address sent them and to the case whose time window they fall in.

        Args:
            probes: one per resolver (its image and the C library's version).
            base: the base's name, for the records.
            cases: the cases, in the order they run.
        """
        if not self._servers or self._tmp is None:
            raise CompatError("DnsLab.run_resolvers before start()")
        before = self._query_counts()
        running: list[_Running] = []
        try:
            for probe in probes:
                running.append(self._start_probe(probe, cases))
            deadline = time.monotonic() + len(cases) * (PROBE_LIMIT_S + 5) + 15
            for run in running:
                run.code = _wait_exit(run.container, max(1.0, deadline - time.monotonic()))
                run.output = _log_lines(run.container)
            queries = self._settled_queries(before)
        finally:
            for run in running:
                engine.remove(run.container)
                with suppress(OSError):
                    run.conf.unlink()
        return [self._resolver_run(run, cases, queries, base) for run in running]

    def run_resolver(
        self,
        probe_image: str,
        resolver: Resolver,
        *,
        base: str,
        libc_version: str | None = None,
        cases: Sequence[Case] = CASES,
    ) -> ResolverRun:
        """Every case for one resolver (see :meth:`run_resolvers`).

        Args:
            probe_image: ``sample_apps/resolveprobe`` built in ``RESOLVER_LINKAGE[resolver]``
                onto the base (entrypoint: the probe).
            base: the base's name, for the record.
            libc_version: the C library's version on the base (``BaseFacts.libc_version``).
        """
        probe = Probe(resolver, probe_image, libc_version)
        return self.run_resolvers([probe], base=base, cases=cases)[0]

    def _start_probe(self, probe: Probe, cases: Sequence[Case]) -> _Running:
        assert self._tmp is not None
        conf = self._tmp / f"{probe.resolver}-{uuid.uuid4().hex[:6]}.conf"
        conf.write_text(render_resolv_conf(cases[0], self.addresses) if cases else "")
        # The probe (uid 65532, no capabilities) rewrites it for each case.
        conf.chmod(0o666)
        spec = [
            {"case": c.name, "name": c.query, "resolv_conf": render_resolv_conf(c, self.addresses)}
            for c in cases
        ]
        mode = "go" if probe.resolver == "go" else "libc"
        container = engine.run_container(
            probe.image,
            name=f"{self.network_name}-probe-{probe.resolver}-{uuid.uuid4().hex[:4]}",
            labels=self.labels,
            network=self._network,
            command=[
                "-cases",
                json.dumps(spec),
                "-resolver",
                mode,
                "-limit",
                f"{PROBE_LIMIT_S}s",
            ],
            mounts=[
                docker.types.Mount("/etc/resolv.conf", str(conf), type="bind", read_only=False)
            ],
        )
        return _Running(probe, container, conf)

    def _resolver_run(
        self, run: _Running, cases: Sequence[Case], queries: Sequence[SeenQuery], base: str
    ) -> ResolverRun:
        probe, output = run.probe, run.output
        what = f"dns probe ({probe.resolver}, {probe.image})"
        if run.code is None:
            raise CompatError(f"{what} still running at its deadline", detail=_tail(output))
        lines = _json_lines(output)
        start = next((line for line in lines if line.get("event") == "start"), None)
        by_case = {str(line.get("case")): line for line in lines if "case" in line}
        missing = [c.name for c in cases if c.name not in by_case]
        if start is None or missing:
            raise CompatError(
                f"{what} exited with {run.code} without the result of {', '.join(missing)} "
                "(does the probe start on this base?)",
                detail=_tail(output),
            )
        own = {str(a) for a in start.get("addrs") or ()}
        results: list[CaseResult] = []
        for case in cases:
            line = by_case[case.name]
            low, high = int(line.get("started_ns") or 0), int(line.get("ended_ns") or 0)
            seen = tuple(
                q for q in queries if q.client_host in own and low <= q.at_ns <= high + STRAY_NS
            )
            results.append(
                CaseResult(
                    case=case,
                    resolver=probe.resolver,
                    addresses=tuple(str(a) for a in line.get("addrs") or ()),
                    error=str(line.get("error") or ""),
                    error_code=str(line.get("error_code") or ""),
                    elapsed_ms=float(line.get("elapsed_ms") or 0.0),
                    queries=seen,
                    wall_s=(high - low) / 1e9,
                )
            )
        comparisons = tuple(
            compare(
                r, predict(probe.resolver, r.case, libc_version=probe.libc_version, ipv6=self.ipv6)
            )
            for r in results
        )
        version = None if probe.resolver == "go" else probe.libc_version
        # The cases' own span: the probes run side by side, so a container's time to
        # being waited for says nothing of this resolver.
        first = min(int(by_case[c.name].get("started_ns") or 0) for c in cases)
        last = max(int(by_case[c.name].get("ended_ns") or 0) for c in cases)
        wall_s = (last - first) / 1e9 if cases else 0.0
        return ResolverRun(base, probe.resolver, version, tuple(results), comparisons, wall_s)

    def close(self) -> None:
        for box in self._servers.values():
            engine.remove(box.container)
        self._servers.clear()
        engine.remove_network(self._network)
        self._network = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def _log_lines(container: Any) -> list[str]:
    try:
        raw = container.logs(stdout=True, stderr=False)
    except docker.errors.DockerException:
        return []
    return str(raw.decode("utf-8", "replace")).splitlines()


def _json_lines(lines: Sequence[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for line in lines:
        with suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                found.append(value)
    return found


def _tail(lines: Sequence[str]) -> str:
    return "\n".join(lines[-20:])


def _wait_exit(container: Any, timeout: float) -> int | None:
    """The exit code, or None if the container still runs after ``timeout`` s."""
    try:
        result = container.wait(timeout=timeout)
    except (requests.RequestException, docker.errors.DockerException):
        return None
    return int(result.get("StatusCode", -1))
