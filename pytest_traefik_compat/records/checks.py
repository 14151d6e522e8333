"""The vocabulary of the built-in suite's records: check, figure, sample and detail names.
Pure data: imports nothing from the package; the suite writes these names, the report reads them.

One name per thing, defined once. A check's names are the fields of a frozen dataclass
(``MEMORY.rss_kernel`` is the figure ``"rss_kernel"`` of the check ``MEMORY.check``);
plain fields are figure names, fields made with :func:`_samples` name raw sample series
(``record.add_samples``) and fields made with :func:`_detail` keys of ``record.details``.
Nothing here is validated at run time: users' own checks may use any names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

# What the suite writes where a value is unknown; the report shows it as missing.
MISSING: Final = "-"

# The kind of a name, in the field's metadata; a field without one is a figure name.
KIND: Final = "kind"
SAMPLES: Final = "samples"
DETAILS: Final = "details"


def _samples(name: str) -> Any:
    return field(default=name, metadata={KIND: SAMPLES})


def _detail(name: str) -> Any:
    return field(default=name, metadata={KIND: DETAILS})


# Record.add_samples adds one figure per statistic of a series: stat_figure(series, stat).
STAT_MIN: Final = "min"
STAT_MEDIAN: Final = "median"
STAT_P95: Final = "p95"
STAT_P99: Final = "p99"
STAT_MAX: Final = "max"
# The median's exact 95% interval (order statistics; absent below
# stats.MIN_N_INTERVAL = 6 samples), the coefficient of variation and the count
# (pytest_traefik_compat.measure.stats); every series gets these where n allows.
STAT_CI_LOW: Final = "ci_low"
STAT_CI_HIGH: Final = "ci_high"
STAT_CV: Final = "cv"
STAT_N: Final = "n"
SAMPLE_STATS: Final = (STAT_MIN, STAT_MEDIAN, STAT_CI_LOW, STAT_CI_HIGH, STAT_MAX, STAT_CV, STAT_N)
# Written only where n supports them (stats.MIN_N_FOR: 20 for p95, 100 for p99); the
# report says "max" otherwise.
PERCENTILE_STATS: Final = (STAT_P95, STAT_P99)


def stat_figure(series: str, stat: str) -> str:
    """The figure ``Record.add_samples(series, ...)`` writes for ``stat``."""
    return f"{series}_{stat}"


# ---- values the suite writes and the report compares

STARTS: Final = "starts"
FAILS: Final = "fails"
LOADS: Final = "loads"
BUILD_FAILED: Final = "build failed"
WORKS: Final = "works"
UNAVAILABLE: Final = "unavailable"

# Linkages, in gobuild.LINKAGES order (spelled out: the report never imports the Go
# builder; tests/unit/test_checks.py keeps the two equal).
STATIC: Final = "static"
GLIBC: Final = "glibc"
MUSL: Final = "musl"
LINKAGE_ORDER: Final[tuple[str, ...]] = (STATIC, GLIBC, MUSL)

# The suite's local Traefik plugin sets this header value (suite/conftest.py configures it).
PLUGIN_VALUE: Final = "yaegi-on-this-base"

# mTLS probes without a client certificate, next to pki.BAD_CLIENT_KINDS in "refusals".
NO_SNI: Final = "no-sni"
UNKNOWN_SNI: Final = "unknown-sni"
TLS12: Final = "tls12"  # a client capped at TLS 1.2

# The tls-evidence record's variants. In "refusals", "sni-host" and "chains" each case
# is a figure named by the case, its value the outcome class: "alert:<description>"
# (the TLS alert the gateway sent), "http:<status>", or a finding ("timeout", "reset",
# "eof", "client-verify", ...); details[TLS_EVIDENCE.outcomes] has stage, status and
# the served certificate's subject per case (CASE_OUTCOME keys).
TLS_REFUSALS: Final = "refusals"
TLS_HANDSHAKES: Final = "handshakes"
TLS_FORWARDED: Final = "forwarded"
TLS_SNI_HOST: Final = "sni-host"
TLS_CHAINS: Final = "chains"
TLS_CASE_VARIANTS: Final[tuple[str, ...]] = (TLS_REFUSALS, TLS_SNI_HOST, TLS_CHAINS)
RECORDED: Final = "recorded"  # an expectation: the outcome is recorded, not asserted

# SNI x Host: SNI and Host header of one route, none, an unknown SNI, and fronting
# (the SNI of one route, the Host of a route with another TLS option: 421 or refused).
SNI_CORRECT: Final = "correct"
FRONT_WEAK_TO_STRICT: Final = "front-open-to-app"  # SNI open.compat.test, Host app
FRONT_STRICT_TO_WEAK: Final = "front-app-to-open"  # SNI app.compat.test, Host open
SNI_HOST_CASES: Final[tuple[str, ...]] = (
    SNI_CORRECT,
    NO_SNI,
    UNKNOWN_SNI,
    FRONT_WEAK_TO_STRICT,
    FRONT_STRICT_TO_WEAK,
)
# Client chain variants: the leaf alone (server trusts the root), chains breaking an
# intermediate's path length or name constraint, caFiles holding the intermediate only.
CHAIN_LEAF_ONLY: Final = "leaf-only"
CHAIN_PATHLEN: Final = "pathlen-violated"
CHAIN_NAME: Final = "name-constraint-violated"
CHAIN_INTERMEDIATE_ANCHOR: Final = "intermediate-in-ca-files"
CHAIN_CASES: Final[tuple[str, ...]] = (
    CHAIN_LEAF_ONLY,
    CHAIN_PATHLEN,
    CHAIN_NAME,
    CHAIN_INTERMEDIATE_ANCHOR,
)


# ---- the checks, in the report's order


@dataclass(frozen=True)
class ImageFacts:
    """The base image alone, before the service is added."""

    check: str = "image-facts"
    size: str = "size"
    layers: str = "layers"
    libc: str = "libc"
    shell: str = "shell"
    curl: str = "curl"
    wget: str = "wget"
    ca_bundle: str = "ca_bundle"
    default_user: str = "default_user"
    os_name: str = "os_name"
    zoneinfo: str = "zoneinfo"
    files: str = "files"


@dataclass(frozen=True)
class StartMatrix:
    """The sample service built per linkage (the record's variant) and started on the base."""

    check: str = "start-matrix"
    outcome: str = "outcome"  # BUILD_FAILED, when there is nothing to start
    predicted: str = "predicted"  # STARTS / FAILS, from the ELF headers
    prediction_reason: str = "prediction_reason"
    binary_size: str = "binary_size"
    image_size: str = "image_size"
    observed: str = "observed"  # STARTS / FAILS
    observed_reason: str = "observed_reason"
    exit_code: str = "exit_code"
    seconds: str = "seconds"
    build_error: str = _detail("build_error")
    elf: str = _detail("elf")
    serves: str = _detail("serves")
    first_log_lines: str = _detail("first_log_lines")
    runtime_error: str = _detail("runtime_error")
    # Under LIBC_TOO_OLD: every GLIBC_x.y the image lacks (the loader names each one).
    glibc_missing: str = _detail("glibc_versions_missing")


@dataclass(frozen=True)
class StartupLatency:
    """Container create to first 200, directly (the service and the floor: a net/http
    server measured the same way) and, separately, the route becoming ready in Traefik.
    Each start is split into START_PARTS: series ``part_series(direct, part)``."""

    check: str = "startup-latency"
    direct: str = _samples("direct")
    # Create to first 200 through Traefik. The suite records route_ready instead (the
    # start and Traefik's health-check wait apart); the report still reads this series
    # where a report carries it.
    traefik: str = _samples("traefik")
    floor: str = _samples("floor")
    route_ready: str = _samples("route_ready")  # service's first 200 -> routed by Traefik
    init_ready: str = _samples("direct_init_ready")  # Go init -> ready (sub-ms)
    samples: str = "samples"
    service_cost: str = "service_cost"  # median(direct) - median(floor), ms
    floor_below_direct: str = "floor_below_direct"
    floor_vs_direct_p: str = "floor_vs_direct_p"  # Wilcoxon signed-rank over the rounds
    floor_vs_direct_verdict: str = "floor_vs_direct_verdict"  # stats.Comparison.verdict
    # The drift control: the floor on the run's first base, the same image in every
    # base's series, started interleaved with the service and the floor.
    control: str = _samples("control")
    control_image: str = "control_image"
    # Per round, service - control (adjacent starts): the machine's drift between the
    # bases' series cancels; bases are compared on this.
    direct_vs_control: str = _samples("direct_vs_control")
    # StartedAt -> the process's ready line: the program's share of each start
    direct_program: str = _samples("direct_program")
    floor_program: str = _samples("floor_program")
    program_cost: str = "program_cost"  # median(direct_program) - median(floor_program)
    floor_below_direct_program: str = "floor_below_direct_program"
    floor_vs_direct_program_p: str = "floor_vs_direct_program_p"
    floor_vs_direct_program_verdict: str = "floor_vs_direct_program_verdict"
    health_interval: str = "health_interval"
    poll_interval: str = "poll_interval"
    noisy: str = "noisy"  # the CPUs were busy during the series, or a series' CV is high
    lock_wait: str = "lock_wait"
    definition: str = _detail("definition")
    conditions: str = _detail("conditions")
    container_specs: str = _detail("container_specs")  # {"direct": ..., "floor": ...}
    parts: str = _detail("parts")  # {part: meaning}
    starts: str = _detail("starts")  # every sample's stamps


@dataclass(frozen=True)
class Memory:
    check: str = "memory"
    rss_kernel: str = "rss_kernel"
    # VmRSS read stats.MIN_N_INTERVAL times after warm-up: the rss_mb budget's series
    rss_readings: str = _samples("rss_readings")
    rss_metrics: str = "rss_metrics"
    rss_kernel_after_scrape: str = "rss_kernel_after_scrape"
    warmup_requests: str = "warmup_requests"
    ratio: str = "ratio"  # the sanity check: kernel VmRSS vs process_resident_memory_bytes
    rss_peak: str = "rss_peak"  # VmHWM after the bounded load
    load_requests: str = "load_requests"
    cgroup_memory: str = "cgroup_memory"  # the container's memory without page cache
    go_heap_inuse: str = "go_heap_inuse"  # go_memstats_heap_inuse_bytes
    sanity_check: str = _detail("sanity_check")


@dataclass(frozen=True)
class Tls:
    check: str = "tls"
    version: str = "version"
    cipher: str = "cipher"
    alpn_offered_h2: str = "alpn_offered_h2"
    status: str = "status"
    tls12_refused: str = "tls12_refused"
    tls12_error: str = _detail("tls12_error")
    peer: str = _detail("peer")


@dataclass(frozen=True)
class Mtls:
    check: str = "mtls"
    handshakes: str = "handshakes"
    success_rate: str = "success_rate"
    # One request through Traefik: connect + mTLS handshake + GET + answer + close.
    request: str = _samples("request")
    # The TLS handshake alone (the handshake_ms budget's series).
    handshake: str = _samples("tls_handshake")
    # Older reports: this series held what request holds now.
    legacy_handshake: str = _samples("handshake")
    bad_tried: str = "bad_tried"
    bad_let_in: str = "bad_let_in"
    refusals: str = _detail("refusals")  # {kind: Refusal keys}
    valid_errors: str = _detail("valid_errors")


@dataclass(frozen=True)
class Refusal:
    """The keys of one entry of ``details["refusals"]`` (a bad client's probe)."""

    refused: str = "refused"  # the gateway sent a TLS alert
    outcome: str = "outcome"  # the class (tlsprobe): "alert:unknown_ca", "timeout", ...
    stage: str = "stage"
    error: str = "error"
    status: str = "status"


@dataclass(frozen=True)
class ClientIdentity:
    check: str = "client-identity"
    forwarded_info: str = "forwarded_info"
    forwarded_pem: str = "forwarded_pem"


@dataclass(frozen=True)
class Grpc:
    check: str = "grpc"
    health: str = "health"
    linkage: str = "linkage"
    echo: str = _samples("echo")
    echo_reply: str = _detail("echo")


@dataclass(frozen=True)
class HealthMetrics:
    check: str = "health-metrics"
    findings: str = "findings"  # how many
    service_metric_families: str = "service_metric_families"
    service_metrics_content_type: str = "service_metrics_content_type"
    traefik_metric_families: str = "traefik_metric_families"
    traefik_metrics_content_type: str = "traefik_metrics_content_type"
    findings_list: str = _detail("findings")  # what they are


@dataclass(frozen=True)
class Healthcheck:
    """One figure per HEALTHCHECK style (WORKS / UNAVAILABLE), then Docker's verdict."""

    check: str = "healthcheck"
    curl: str = "curl"
    wget: str = "wget"
    shell: str = "shell"
    self_probe: str = "self-probe"
    self_probe_status: str = "self_probe_status"
    healthy_after: str = "healthy_after"  # a fresh container: StartedAt -> first passing probe
    health_interval: str = "health_interval"
    start_period: str = "start_period"
    health_log: str = _detail("health_log")
    styles: str = _detail("styles")  # {style: StyleResult keys}


@dataclass(frozen=True)
class StyleResult:
    """The keys of one entry of the healthcheck's ``details["styles"]``."""

    works: str = "works"
    exit_code: str = "exit_code"
    error: str = "error"


@dataclass(frozen=True)
class Alignment:
    check: str = "alignment"
    health_interval: str = "health_interval"
    removed_after: str = "removed_after"
    restored_after: str = "restored_after"
    routed_right_after_flip: str = "routed_right_after_flip"
    server_status_when_removed: str = _detail("server_status_when_removed")
    flip_to_removed_wall_s: str = _detail("flip_to_removed_wall_s")


@dataclass(frozen=True)
class RuntimeFacts:
    check: str = "runtime-facts"
    uid: str = "uid"
    timezones: str = "timezones"
    timezones_embedded_tzdata: str = "timezones_embedded_tzdata"
    cert_pool_size: str = "cert_pool_size"
    cert_pool_size_bad_ssl_cert_file: str = "cert_pool_size_bad_ssl_cert_file"
    cert_bundle: str = "cert_bundle"
    go_resolver: str = "go_resolver"
    cgo_resolver: str = "cgo_resolver"
    service: str = _detail("service")
    tzdata_build: str = _detail("tzdata_build")


@dataclass(frozen=True)
class TraefikPlugin:
    check: str = "traefik-plugin"
    header: str = "header"  # PLUGIN_VALUE when the plugin ran
    status: str = "status"


@dataclass(frozen=True)
class GoPlugin:
    """A Go -buildmode=plugin host and plugin per linkage (the record's variant)."""

    check: str = "go-plugin"
    outcome: str = "outcome"  # BUILD_FAILED
    predicted: str = "predicted"  # LOADS / FAILS
    observed: str = "observed"  # LOADS / FAILS
    exit_code: str = "exit_code"
    error: str = _detail("error")
    output: str = _detail("output")
    reason: str = _detail("reason")


@dataclass(frozen=True)
class TlsEvidence:
    """Refusals by the TLS alert the server sent, handshake time alone, resumption."""

    check: str = "tls-evidence"
    cases: str = "cases"  # how many refusal cases were probed
    unexpected: str = "unexpected"  # how many did not end in the expected class
    full_handshake: str = _samples("full_handshake")  # ms, session_reused false
    resumed_handshake: str = _samples("resumed_handshake")  # ms, a TLS 1.3 ticket offered
    full_reused: str = "full_reused"  # how many "full" handshakes were resumed (0)
    resumed: str = "resumed"  # how many offered tickets the server accepted
    full_ci_low: str = "full_ci_low"
    full_ci_high: str = "full_ci_high"
    resumed_ci_low: str = "resumed_ci_low"
    resumed_ci_high: str = "resumed_ci_high"
    outcomes: str = _detail("outcomes")  # {case: tlsprobe.TlsProbe.as_dict()}
    findings: str = _detail("findings")
    # {case: the class the check asserts ("alert:unknown_ca", "http:421"), or several
    # joined by "|", or RECORDED where the outcome is recorded only}
    expected: str = _detail("expected")
    routes: str = _detail("routes")  # {host: TLS option} of the gateway the cases ran on
    served_subject: str = "served_subject"  # the gateway certificate's subject (sni-host)
    resumed_offered: str = "resumed_offered"  # tickets offered (handshakes)
    forwarded_entries: str = "forwarded_entries"  # certificates passTLSClientCert forwarded
    noisy: str = "noisy"  # the handshakes were timed on a busy machine
    conditions: str = _detail("conditions")  # measure.Conditions of the timed handshakes


@dataclass(frozen=True)
class CaseOutcome:
    """The keys of one entry of the tls-evidence ``details["outcomes"]`` (one case's
    ``tlsprobe.TlsProbe.as_dict()``)."""

    outcome: str = "outcome"  # the class: "alert:unknown_ca", "http:421", "timeout", ...
    stage: str = "stage"  # connect, handshake, read or ok
    status: str = "status"
    peer_subject: str = "peer_subject"  # the certificate the gateway served
    error: str = "error"


@dataclass(frozen=True)
class GatewayOverhead:
    """Direct vs through Traefik at steady state; the record's variant is
    "<mode>-c<concurrency>" (keepalive-c1, new-connection-c8, ...)."""

    check: str = "gateway-overhead"
    direct: str = _samples("direct")
    traefik: str = _samples("traefik")
    direct_p50: str = "direct_p50"
    direct_p95: str = "direct_p95"
    direct_p99: str = "direct_p99"
    traefik_p50: str = "traefik_p50"
    traefik_p95: str = "traefik_p95"
    traefik_p99: str = "traefik_p99"
    added_median: str = "added_median"
    added_ci_low: str = "added_ci_low"
    added_ci_high: str = "added_ci_high"
    noisy: str = "noisy"  # measured on a busy machine
    errors: str = _detail("errors")
    conditions: str = _detail("conditions")  # measure.Conditions of the series


# The parts of one container start, in order (measure.PARTS; they add up to the total).
START_PARTS: Final[tuple[str, ...]] = ("create", "start", "handoff", "init_ready", "first_answer")
# The sample service's -mode values (in-process start per mode).
SERVICE_MODES: Final[tuple[str, ...]] = ("gin", "grpc", "mixed")


def part_series(series: str, part: str) -> str:
    """The sample series of one part of a start series: ``direct_exec_ready``."""
    return f"{series}_{part}"


def mode_series(mode: str, what: str) -> str:
    """An in-process series per -mode: ``gin_exec_ready``, ``grpc_init_ready``."""
    return f"{mode}_{what}"


@dataclass(frozen=True)
class InProcessStart:
    """The service's own exec -> listeners ready per -mode (series mode_series(mode, ...)),
    run inside a container of each linkage (the record's variant) that starts on the base."""

    check: str = "inprocess-start"
    exec_ready: str = "exec_ready"  # suffix: /proc/self/stat exec -> ready, 10 ms ticks
    init_ready: str = "init_ready"  # suffix: Go init -> ready, sub-ms
    samples: str = "samples"
    exec_resolution: str = "exec_resolution"
    comparisons: str = _detail("comparisons")  # ["gin vs grpc: ...", ...]
    conditions: str = _detail("conditions")


@dataclass(frozen=True)
class TraefikFigures:
    """Traefik's own start (create to /ping 200, decomposed) and memory on this base."""

    check: str = "traefik-figures"
    start: str = _samples("start")
    rss: str = "rss"  # VmRSS after the base's other checks (the last reading)
    rss_readings: str = _samples("rss_readings")  # the traefik_rss_mb budget's series
    rss_peak: str = "rss_peak"  # VmHWM
    cgroup_memory: str = "cgroup_memory"
    conditions: str = _detail("conditions")
    starts: str = _detail("starts")


@dataclass(frozen=True)
class Budget:
    """One --traefik-budget on one base (the record's variant is the budget name)."""

    check: str = "budget"
    outcome: str = "outcome"  # pass / fail / inconclusive / missing
    limit: str = "limit"
    median: str = "median"
    ci_low: str = "ci_low"
    ci_high: str = "ci_high"
    more_samples: str = "more_samples"
    sentence: str = _detail("sentence")


# The dns check's cases, in the order they run (measure.dns.CASE_NAMES), and its
# resolvers, the record's variant (measure.dns.RESOLVERS); tests/unit/test_dns.py keeps
# them equal. Per case, the figure named by the case is its outcome ("40/40", "29/40" or
# the resolver's error); dns_figure(case, suffix) names the rest.
DNS_CASES: Final[tuple[str, ...]] = (
    "large-answer",
    "silent-first-nameserver",
    "search-ndots",
    "aaaa-only",
    "options-timeout",
)
DNS_RESOLVERS: Final[tuple[str, ...]] = ("go", "glibc", "musl")
DNS_MS: Final = "ms"  # the lookup's time inside the probe
DNS_ANSWERED: Final = "answered"  # every address the zone serves, and no error
DNS_PREDICTED: Final = "predicted"  # the documented behaviour of the library and version
DNS_AS_PREDICTED: Final = "as_predicted"
DNS_SUFFIXES: Final[tuple[str, ...]] = (DNS_MS, DNS_ANSWERED, DNS_PREDICTED, DNS_AS_PREDICTED)


def dns_figure(case: str, suffix: str) -> str:
    """A figure of one case of the dns check: ``large-answer_answered``."""
    return f"{case}_{suffix}"


@dataclass(frozen=True)
class Dns:
    """Name resolution against the check's own name servers, one record per resolver
    that runs on the base (the variant: DNS_RESOLVERS); figures per case as above."""

    check: str = "dns"
    libc_version: str = "libc_version"  # the C library's, "-" for Go's resolver
    wall: str = "wall"  # s, the resolver's cases in its probe, first lookup's start to last's end
    cases: str = _detail("cases")  # per case: addresses, error, the queries the servers saw
    mismatches: str = _detail("mismatches")  # {case: what differed from the prediction}
    not_run: str = _detail("not_run")  # {resolver: why it did not run on this base}


@dataclass(frozen=True)
class Posture:
    """How the base's containers run, one record per container (the variant:
    POSTURE_SERVICE, POSTURE_TRAEFIK); engine.hardening applies and reads it."""

    check: str = "posture"
    user: str = "user"  # as configured, e.g. "65532:65532"
    non_root: str = "non_root"  # the process's real uid where the engine is local
    cap_drop_all: str = "cap_drop_all"
    cap_add: str = "cap_add"  # the capabilities given back, a list as str: "[]"
    no_new_privileges: str = "no_new_privileges"
    read_only_root: str = "read_only_root"
    exception: str = "exception"  # the named exception's reason; absent without one
    uid: str = _detail("uid")  # the running process's real uid, where this machine sees it
    writable_paths: str = _detail("writable_paths")  # tmpfs and writable mounts
    excepted: str = _detail("excepted")  # the figures the exception relaxes


POSTURE_SERVICE: Final = "service"
POSTURE_TRAEFIK: Final = "traefik"
# A True -> False change of one of these is a regression.
POSTURE_HOLDS: Final[tuple[str, ...]] = (
    "non_root",
    "cap_drop_all",
    "no_new_privileges",
    "read_only_root",
)


IMAGE_FACTS: Final = ImageFacts()
START_MATRIX: Final = StartMatrix()
STARTUP_LATENCY: Final = StartupLatency()
MEMORY: Final = Memory()
TLS: Final = Tls()
MTLS: Final = Mtls()
REFUSAL: Final = Refusal()
CLIENT_IDENTITY: Final = ClientIdentity()
GRPC: Final = Grpc()
HEALTH_METRICS: Final = HealthMetrics()
HEALTHCHECK: Final = Healthcheck()
STYLE_RESULT: Final = StyleResult()
ALIGNMENT: Final = Alignment()
RUNTIME_FACTS: Final = RuntimeFacts()
TRAEFIK_PLUGIN: Final = TraefikPlugin()
GO_PLUGIN: Final = GoPlugin()
TLS_EVIDENCE: Final = TlsEvidence()
CASE_OUTCOME: Final = CaseOutcome()
GATEWAY_OVERHEAD: Final = GatewayOverhead()
INPROCESS_START: Final = InProcessStart()
TRAEFIK_FIGURES: Final = TraefikFigures()
BUDGET: Final = Budget()
POSTURE: Final = Posture()
DNS: Final = Dns()

# The order the suite reads in (what the image is, whether it starts, how fast...); each
# has a table of its own. Checks not listed here (users' own) follow alphabetically, in
# generic tables.
CHECK_ORDER: Final[tuple[str, ...]] = (
    IMAGE_FACTS.check,
    START_MATRIX.check,
    STARTUP_LATENCY.check,
    INPROCESS_START.check,
    MEMORY.check,
    TRAEFIK_FIGURES.check,
    TLS.check,
    MTLS.check,
    GRPC.check,
    TLS_EVIDENCE.check,
    GATEWAY_OVERHEAD.check,
    CLIENT_IDENTITY.check,
    HEALTH_METRICS.check,
    POSTURE.check,
    HEALTHCHECK.check,
    ALIGNMENT.check,
    RUNTIME_FACTS.check,
    DNS.check,
    GO_PLUGIN.check,
    TRAEFIK_PLUGIN.check,
    BUDGET.check,
)

# Every check the built-in suite writes.
SUITE_CHECKS: Final = (
    IMAGE_FACTS,
    START_MATRIX,
    STARTUP_LATENCY,
    MEMORY,
    TLS,
    MTLS,
    CLIENT_IDENTITY,
    GRPC,
    HEALTH_METRICS,
    HEALTHCHECK,
    ALIGNMENT,
    RUNTIME_FACTS,
    TRAEFIK_PLUGIN,
    GO_PLUGIN,
    TLS_EVIDENCE,
    GATEWAY_OVERHEAD,
    INPROCESS_START,
    TRAEFIK_FIGURES,
    BUDGET,
    POSTURE,
    DNS,
)

HEALTHCHECK_STYLES: Final[tuple[str, ...]] = (
    HEALTHCHECK.curl,
    HEALTHCHECK.wget,
    HEALTHCHECK.shell,
    HEALTHCHECK.self_probe,
)
