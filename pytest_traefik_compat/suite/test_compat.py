"""The compatibility suite: one set of checks per base (ids carry the base).

Assert what must hold on every base; record, without failing, what legitimately
differs between bases. Every check writes a record with units and raw samples.
"""

from __future__ import annotations

import ssl
import time
import urllib.parse
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import docker.errors
import grpc
import pytest
import requests
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pytest_traefik_compat import engine, gobuild
from pytest_traefik_compat.bases import BaseImage, images, startcheck
from pytest_traefik_compat.bases.images import ServiceBuild
from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.gateway import tlsprobe as tp
from pytest_traefik_compat.gateway import traefik
from pytest_traefik_compat.gateway.stack import Gateway, ServiceSpec
from pytest_traefik_compat.grpc_stubs.demo.v1 import demo_pb2, demo_pb2_grpc
from pytest_traefik_compat.measure import probes
from pytest_traefik_compat.measure import timing as measure
from pytest_traefik_compat.pki import BAD_CLIENT_KINDS, SessionPKI
from pytest_traefik_compat.plugin.session import CompatSession
from pytest_traefik_compat.plugin.settings import Settings
from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import (
    ALIGNMENT,
    BUILD_FAILED,
    CLIENT_IDENTITY,
    FAILS,
    GLIBC,
    GO_PLUGIN,
    GRPC,
    HEALTH_METRICS,
    HEALTHCHECK,
    HEALTHCHECK_STYLES,
    IMAGE_FACTS,
    LOADS,
    MISSING,
    MTLS,
    MUSL,
    NO_SNI,
    PLUGIN_VALUE,
    REFUSAL,
    RUNTIME_FACTS,
    START_MATRIX,
    STARTS,
    STATIC,
    STYLE_RESULT,
    TLS,
    TLS12,
    TRAEFIK_PLUGIN,
    UNAVAILABLE,
    UNKNOWN_SNI,
    WORKS,
)

RecordFactory = Callable[..., Record]
START_TIMEOUT_S = 20.0
ALIGNMENT_TIMEOUT_S = 20.0
WARMUP_REQUESTS = 200


def test_image_facts(traefik_base: BaseImage, traefik_record: RecordFactory) -> None:
    facts = traefik_base.facts
    record = traefik_record(IMAGE_FACTS.check)
    record.figure(IMAGE_FACTS.size, facts.size_bytes, "bytes")
    record.figure(IMAGE_FACTS.layers, facts.layers, "count")
    record.figure(IMAGE_FACTS.libc, f"{facts.libc_kind} {facts.libc_version or ''}".strip())
    for name, value in (
        (IMAGE_FACTS.shell, facts.shell),
        (IMAGE_FACTS.curl, facts.curl),
        (IMAGE_FACTS.wget, facts.wget),
        (IMAGE_FACTS.ca_bundle, facts.ca_bundle),
        (IMAGE_FACTS.default_user, facts.default_user),
        (IMAGE_FACTS.os_name, facts.os_name),
    ):
        record.figure(name, value or MISSING)
    record.figure(IMAGE_FACTS.zoneinfo, facts.zoneinfo)
    record.figure(IMAGE_FACTS.files, facts.file_count, "count")
    record.details = facts.as_dict()
    assert facts.image_id, "an image id is always known"


@pytest.mark.parametrize("linkage", gobuild.LINKAGES)
def test_start_matrix(
    linkage: str,
    traefik_base: BaseImage,
    sample_builds: dict[str, ServiceBuild | str],
    compat_stack: Gateway,
    traefik_record: RecordFactory,
) -> None:
    record = traefik_record(START_MATRIX.check, variant=linkage)
    build = sample_builds[linkage]
    if isinstance(build, str):
        record.figure(START_MATRIX.outcome, BUILD_FAILED).details[START_MATRIX.build_error] = build
        pytest.fail(f"{linkage} build failed: {build}", pytrace=False)
    prediction = build.prediction
    record.figure(START_MATRIX.predicted, STARTS if prediction.starts else FAILS)
    record.figure(START_MATRIX.prediction_reason, prediction.reason)
    record.figure(START_MATRIX.binary_size, build.binary.elf.size_bytes, "bytes")
    record.figure(START_MATRIX.image_size, build.image.size_bytes, "bytes")
    record.details[START_MATRIX.elf] = {
        "interpreter": build.binary.elf.interpreter,
        "needed": list(build.binary.elf.needed),
    }

    started = time.monotonic()
    exit_code: int | None = None
    runtime_error = ""
    container = None
    try:
        container = compat_stack.run_container(build.tag, f"matrix-{linkage}", ports=[8080, 9090])
        # An exec failure ends the container at once: no port is published then.
        ports = engine.host_ports(container)
        port = ports.get(8080)
        answered = probes.wait_for(
            lambda: (
                _exited(container)
                or (
                    port is not None
                    and probes.http_ok(f"http://{engine.engine_address()}:{port}/healthz")
                )
            ),
            timeout=START_TIMEOUT_S,
        )
        container.reload()
        state = container.attrs["State"]
        if state["Status"] in ("exited", "dead"):
            exit_code = int(state["ExitCode"])
            runtime_error = state.get("Error") or ""
        elif answered is None:
            runtime_error = f"no 200 on /healthz within {START_TIMEOUT_S:.0f} s"
        else:
            record.details[START_MATRIX.serves] = _serves(ports, linkage)
        logs = engine.log_tail(container, 10)
    except docker.errors.APIError as error:
        # Some runtimes refuse the exec at start: that is the observation too.
        runtime_error = str(error.explanation or error)
        exit_code, logs = 127, ""
    finally:
        if container is not None:
            with suppress(docker.errors.DockerException):
                container.remove(force=True)
    observed_starts = exit_code is None and not runtime_error
    diagnosis = startcheck.diagnose_exec_failure(exit_code, f"{runtime_error}\n{logs}")
    record.figure(START_MATRIX.observed, STARTS if observed_starts else FAILS)
    record.figure(START_MATRIX.observed_reason, diagnosis.evidence or diagnosis.category.value)
    record.figure(START_MATRIX.exit_code, exit_code if exit_code is not None else MISSING)
    record.figure(START_MATRIX.seconds, round(time.monotonic() - started, 3), "s")
    record.details[START_MATRIX.first_log_lines] = logs.splitlines()[:10]
    record.details[START_MATRIX.runtime_error] = runtime_error

    assert prediction.starts == observed_starts, (
        f"prediction ({prediction.reason}) disagrees with observation "
        f"(exit {exit_code}: {diagnosis.evidence or runtime_error})"
    )
    if not prediction.starts:
        assert diagnosis.category == prediction.category, (
            f"predicted {prediction.category.value}, runtime said {diagnosis.evidence!r}"
        )
    if prediction.category == startcheck.StartCategory.LIBC_TOO_OLD:
        # The loader names each symbol version it lacks; the prediction listed them all.
        said = f"{runtime_error}\n{logs}"
        unseen = [v for v in prediction.missing if f"`{v}' not found" not in said]
        record.details[START_MATRIX.glibc_missing] = list(prediction.missing)
        assert not unseen, f"predicted missing {prediction.missing}; loader did not name {unseen}"
    if linkage == STATIC:
        assert observed_starts, "a static build must start on every base"
    if observed_starts:
        serves = record.details[START_MATRIX.serves]
        assert serves["metrics"] == 200 and serves["grpc_health"] == "SERVING", serves
        assert serves["echo"] == "ping", serves
        assert serves["uid"] == 65532, serves
        assert serves["linkage_label"] == linkage, serves
        assert serves["cgo"] == (linkage != STATIC), serves


def _serves(ports: dict[int, int], linkage: str) -> dict[str, Any]:
    """What a started build answers directly: HTTP, gRPC (h2c) and its own facts."""
    base_url = f"http://{engine.engine_address()}:{ports[8080]}"
    facts = requests.get(f"{base_url}/debug/compat", timeout=5).json()
    with grpc.insecure_channel(f"{engine.engine_address()}:{ports[9090]}") as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=5
        )
        echo = demo_pb2_grpc.DemoServiceStub(channel).Echo(  # type: ignore[no-untyped-call]
            demo_pb2.EchoRequest(message="ping"), timeout=5
        )
    return {
        "metrics": requests.get(f"{base_url}/metrics", timeout=5).status_code,
        "grpc_health": health_pb2.HealthCheckResponse.ServingStatus.Name(health.status),
        "echo": echo.message,
        "uid": facts["uid"],
        "cgo": facts["cgo_enabled"],
        "linkage_label": facts["linkage_label"],
    }


def _exited(container: Any) -> bool:
    return engine.exit_summary(container) is not None


def test_tls13(compat_stack: Gateway, traefik_record: RecordFactory) -> None:
    record = traefik_record(TLS.check)
    probe = compat_stack.tls_probe()
    alpn = compat_stack.tls_probe(alpn=("h2", "http/1.1")).alpn
    # Refused means the gateway sent a TLS alert: a timeout or reset is no evidence.
    capped = tp.timed_handshake(
        compat_stack.https_port,
        compat_stack.pki.client_context(max_version=ssl.TLSVersion.TLSv1_2),
        sni=traefik.APP_HOST,
        path=compat_stack.service_specs[0].health_path,
    )
    record.figure(TLS.version, probe.version).figure(TLS.cipher, probe.cipher)
    record.figure(TLS.alpn_offered_h2, alpn or MISSING).figure(TLS.status, probe.status)
    record.figure(TLS.tls12_refused, tp.refused(capped))
    record.details[TLS.tls12_error] = f"{capped.outcome} at {capped.stage}: {capped.error}"
    record.details[TLS.peer] = {"subject": probe.peer_subject, "issuer": probe.peer_issuer}
    assert probe.accepted and probe.status == 200, probe.error
    assert probe.version == "TLSv1.3"
    assert tp.refused(capped), f"a client capped at TLS 1.2 was not refused: {capped.outcome}"
    assert capped.outcome == tp.EXPECTED_REFUSALS[TLS12], capped


def test_mtls_chain(
    compat_stack: Gateway,
    traefik_pki: SessionPKI,
    traefik_settings: Settings,
    traefik_record: RecordFactory,
) -> None:
    record = traefik_record(MTLS.check)
    port = compat_stack.https_port
    valid = probes.handshakes(
        port, traefik_pki.client_context, sni=traefik.APP_HOST, count=traefik_settings.handshakes
    )
    record.figure(MTLS.handshakes, valid.attempts, "count")
    record.figure(MTLS.success_rate, valid.success_rate, "ratio")
    record.add_samples(MTLS.handshake, [s * 1000 for s in valid.seconds], "ms")
    # Refused means the gateway sent a TLS alert (tlsprobe classes each outcome); a
    # timeout, reset or client-side failure counts as let in: it proves no refusal.
    outcomes: dict[str, tp.Outcome] = {
        kind: tp.timed_handshake(port, traefik_pki.client_context(kind), sni=traefik.APP_HOST)
        for kind in BAD_CLIENT_KINDS
    }
    anonymous = traefik_pki.client_context()
    anonymous.check_hostname = False
    for label, sni in ((NO_SNI, None), (UNKNOWN_SNI, "other.compat.test")):
        outcomes[label] = tp.timed_handshake(port, anonymous, sni=sni)
    refusals: dict[str, dict[str, Any]] = {
        kind: {
            REFUSAL.refused: tp.refused(probe),
            REFUSAL.outcome: probe.outcome,
            REFUSAL.stage: probe.stage,
            REFUSAL.error: probe.error,
            REFUSAL.status: probe.status,
        }
        for kind, probe in outcomes.items()
    }
    let_in = sorted(kind for kind, result in refusals.items() if not result[REFUSAL.refused])
    record.figure(MTLS.bad_tried, len(refusals), "count")
    record.figure(MTLS.bad_let_in, len(let_in), "count")
    record.details[MTLS.refusals] = refusals
    record.details[MTLS.valid_errors] = valid.errors
    assert valid.attempts == traefik_settings.handshakes
    assert valid.success_rate == 1.0, f"valid chain refused: {valid.errors}"
    assert not let_in, f"let in: {let_in}"


def test_forwarded_client_subject(
    compat_stack: Gateway, traefik_pki: SessionPKI, traefik_record: RecordFactory
) -> None:
    """The backend sees which client called (passTLSClientCert)."""
    record = traefik_record(CLIENT_IDENTITY.check)
    with compat_stack.https_client() as client:
        seen = client.get("/api/whoami").json()
    info = urllib.parse.unquote_plus(seen.get("client_cert_info") or "")
    record.figure(CLIENT_IDENTITY.forwarded_info, info[:120] or MISSING)
    record.figure(CLIENT_IDENTITY.forwarded_pem, bool(seen.get("client_cert")))
    common_name = traefik_pki.client.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0]
    assert str(common_name.value) in info, f"backend saw {info!r}"


def test_grpc(compat_stack: Gateway, traefik_record: RecordFactory) -> None:
    record = traefik_record(GRPC.check)
    with compat_stack.grpc_client() as client:
        health = client.health()
        latencies = []
        reply: dict[str, str] = {}
        for index in range(20):
            started = time.perf_counter()
            reply = client.echo(f"ping-{index}")
            latencies.append((time.perf_counter() - started) * 1000)
    record.figure(GRPC.health, health).figure(GRPC.linkage, reply.get("linkage"))
    record.add_samples(GRPC.echo, latencies, "ms")
    record.details[GRPC.echo_reply] = reply
    assert health == "SERVING"
    assert reply["message"] == "ping-19"


def test_health_and_metrics_audit(compat_stack: Gateway, traefik_record: RecordFactory) -> None:
    record = traefik_record(HEALTH_METRICS.check)
    service = compat_stack.services["app"]
    findings: list[str] = []
    healthz = requests.get(service.url(8080, "/healthz"), timeout=5)
    if healthz.status_code != 200 or "application/json" not in healthz.headers["content-type"]:
        findings.append(
            f"service /healthz: {healthz.status_code} {healthz.headers['content-type']}"
        )
    targets = {
        "service": (
            service.url(8080, "/metrics"),
            HEALTH_METRICS.service_metric_families,
            HEALTH_METRICS.service_metrics_content_type,
        ),
        "traefik": (
            compat_stack.admin_url("/metrics"),
            HEALTH_METRICS.traefik_metric_families,
            HEALTH_METRICS.traefik_metrics_content_type,
        ),
    }
    for name, (url, families, content_type) in targets.items():
        answer = requests.get(url, timeout=5)
        audit = probes.audit_metrics(answer.text)
        record.figure(families, audit.families, "count")
        record.figure(content_type, answer.headers.get("content-type", ""))
        if answer.status_code != 200 or not answer.headers.get("content-type", "").startswith(
            "text/plain"
        ):
            findings.append(
                f"{name} /metrics: {answer.status_code} {answer.headers.get('content-type')}"
            )
        findings += [f"{name}: {finding}" for finding in audit.findings]
    ping = requests.get(compat_stack.admin_url("/ping"), timeout=5)
    if ping.status_code != 200 or ping.text.strip() != "OK":
        findings.append(f"traefik /ping: {ping.status_code} {ping.text[:40]!r}")
    with compat_stack.https_client() as client:
        through = client.get("/metrics")
    if through.status_code != 200:
        findings.append(f"service /metrics through Traefik: {through.status_code}")
    record.figure(HEALTH_METRICS.findings, len(findings), "count")
    record.details[HEALTH_METRICS.findings_list] = findings
    assert not findings, "; ".join(findings)


HEALTHCHECK_COMMANDS: dict[str, list[str]] = {
    HEALTHCHECK.curl: ["curl", "-fsS", "http://127.0.0.1:8080/healthz"],
    HEALTHCHECK.wget: ["wget", "-q", "-O", "-", "http://127.0.0.1:8080/healthz"],
    HEALTHCHECK.shell: ["/bin/sh", "-c", "/app -healthcheck"],
    HEALTHCHECK.self_probe: ["/app", "-healthcheck"],
}


def test_healthcheck_styles(compat_stack: Gateway, traefik_record: RecordFactory) -> None:
    record = traefik_record(HEALTHCHECK.check)
    container = compat_stack.services["app"].container
    results = {}
    for style in HEALTHCHECK_STYLES:
        result = probes.exec_in(container, HEALTHCHECK_COMMANDS[style])
        results[style] = {
            STYLE_RESULT.works: result.ok,
            STYLE_RESULT.exit_code: result.exit_code,
            STYLE_RESULT.error: result.error or result.output.strip()[:200],
        }
        record.figure(style, WORKS if result.ok else UNAVAILABLE)
    # On a fresh container: StartedAt to the first passing probe, from the engine's
    # own health log (not from a poll of a container healthy for seconds already).
    fresh = compat_stack.start_service(
        ServiceSpec(compat_stack.service_specs[0].image, alias="hc-fresh"), wait=False
    )
    try:
        status, _ = probes.wait_health_status(fresh.container, "healthy", timeout=30)
        timing = measure.health_timing(fresh.container)
    finally:
        compat_stack.services.pop("hc-fresh", None)
        engine.remove(fresh.container)
    record.figure(HEALTHCHECK.self_probe_status, status or MISSING)
    record.figure(HEALTHCHECK.healthy_after, timing.get("healthy_after_ms"), "ms")
    record.figure(HEALTHCHECK.health_interval, timing.get("interval_ms"), "ms")
    record.figure(HEALTHCHECK.start_period, timing.get("start_period_ms"), "ms")
    record.details[HEALTHCHECK.health_log] = timing.get("log", [])
    record.details[HEALTHCHECK.styles] = results
    self_probe = results[HEALTHCHECK.self_probe]
    assert self_probe[STYLE_RESULT.works], self_probe
    assert status == "healthy", f"container health is {status!r} with the self-probe"


def test_health_alignment(compat_stack: Gateway, traefik_record: RecordFactory) -> None:
    """Flip the service unhealthy: Traefik's health check must take it out of rotation.

    The probe path is an API route, not /healthz: /healthz itself answers 503 when
    unhealthy, which would look like removal before Traefik noticed anything.
    """
    record = traefik_record(ALIGNMENT.check)
    service = compat_stack.services["app"]
    record.figure(ALIGNMENT.health_interval, compat_stack.health_interval)
    with compat_stack.https_client() as client:

        def gateway_status() -> int:
            return client.get("/api/fib/10", timeout=2).status_code

        assert gateway_status() == 200
        flipped = time.monotonic()
        requests.post(
            service.url(8081, "/admin/health?state=unhealthy"), timeout=5
        ).raise_for_status()
        still_routed = gateway_status() == 200  # right after the flip Traefik has not looked yet
        removed = probes.wait_for(lambda: gateway_status() == 503, timeout=ALIGNMENT_TIMEOUT_S)
        if removed is not None:
            removed = time.monotonic() - flipped
        removed_status = requests.get(
            compat_stack.admin_url("/api/http/services/app@file"), timeout=5
        ).json()
        requests.post(
            service.url(8081, "/admin/health?state=healthy"), timeout=5
        ).raise_for_status()
        healed = time.monotonic()
        restored = probes.wait_for(lambda: gateway_status() == 200, timeout=ALIGNMENT_TIMEOUT_S)
        if restored is not None:
            restored = time.monotonic() - healed
    removed_ms = round(removed * 1000) if removed is not None else None
    restored_ms = round(restored * 1000) if restored is not None else None
    record.figure(ALIGNMENT.removed_after, removed_ms, "ms")
    record.figure(ALIGNMENT.restored_after, restored_ms, "ms")
    record.figure(ALIGNMENT.routed_right_after_flip, still_routed)
    record.details[ALIGNMENT.server_status_when_removed] = removed_status.get("serverStatus")
    record.details[ALIGNMENT.flip_to_removed_wall_s] = round(time.monotonic() - flipped, 3)
    assert removed is not None, "Traefik kept routing to an unhealthy service"
    assert restored is not None, "Traefik did not route again after the service recovered"


def test_runtime_facts(
    compat_stack: Gateway,
    traefik_base: BaseImage,
    traefik_build: Callable[..., ServiceBuild],
    sample_dir: Any,
    traefik_record: RecordFactory,
) -> None:
    """Time zones, trust store, resolvers and uid as the running service sees them."""
    record = traefik_record(RUNTIME_FACTS.check)
    assert compat_stack.traefik is not None, "the gateway is started"
    gateway_name = compat_stack.traefik.name
    service = compat_stack.services["app"]
    facts = requests.get(service.url(8080, f"/debug/compat?host={gateway_name}"), timeout=10).json()
    tz_ok = all(result["ok"] for result in facts["timezones"].values())
    record.figure(RUNTIME_FACTS.uid, facts["uid"]).figure(RUNTIME_FACTS.timezones, tz_ok)
    record.figure(RUNTIME_FACTS.cert_pool_size, facts["cert_pool"]["size"], "count")
    record.figure(RUNTIME_FACTS.cert_bundle, facts["cert_pool"]["bundle_file"] or MISSING)
    record.figure(RUNTIME_FACTS.go_resolver, bool(facts["dns"]["go"]["addrs"]))
    record.figure(RUNTIME_FACTS.cgo_resolver, facts["dns"]["cgo"]["error"] or "ok")

    embedded = traefik_build(
        sample_dir / "service", traefik_base, tags=["tzdata"], ports=(8080, 8081, 9090)
    )
    extra = compat_stack.start_service(
        ServiceSpec(embedded.tag, alias="tzdata", env={"SSL_CERT_FILE": "/nonexistent.pem"})
    )
    try:
        other = requests.get(extra.url(8080, "/debug/compat"), timeout=10).json()
    finally:
        compat_stack.services.pop("tzdata", None)
        extra.container.remove(force=True)
    embedded_ok = all(result["ok"] for result in other["timezones"].values())
    record.figure(RUNTIME_FACTS.timezones_embedded_tzdata, embedded_ok)
    bad_file_pool = other["cert_pool"]["size"]
    record.figure(RUNTIME_FACTS.cert_pool_size_bad_ssl_cert_file, bad_file_pool, "count")
    record.details.update({RUNTIME_FACTS.service: facts, RUNTIME_FACTS.tzdata_build: other})

    assert facts["uid"] == 65532
    assert facts["linkage"] == STATIC
    assert facts["dns"]["go"]["addrs"], "the Go resolver must find the stack's host name"
    assert tz_ok == traefik_base.facts.zoneinfo, "time.LoadLocation must follow /usr/share/zoneinfo"
    assert embedded_ok, "with time/tzdata embedded every base loads zones"
    assert (facts["cert_pool"]["size"] > 0) == bool(traefik_base.facts.ca_bundle)


def test_traefik_local_plugin(compat_stack: Gateway, traefik_record: RecordFactory) -> None:
    """Traefik plugins are Go source run by Yaegi, not .so files: one loads on every base."""
    record = traefik_record(TRAEFIK_PLUGIN.check)
    with compat_stack.https_client() as client:
        answer = client.get("/healthz")
    value = answer.headers.get("X-Compat-Plugin")
    record.figure(TRAEFIK_PLUGIN.header, value or MISSING)
    record.figure(TRAEFIK_PLUGIN.status, answer.status_code)
    assert value == PLUGIN_VALUE, f"the local plugin's header is {value!r}"


@pytest.mark.parametrize("linkage", [GLIBC, MUSL])
def test_go_plugin_loading(
    linkage: gobuild.Linkage,
    traefik_base: BaseImage,
    traefik_compat: CompatSession,
    sample_dir: Any,
    compat_stack: Gateway,
    traefik_record: RecordFactory,
) -> None:
    """Where does a Go -buildmode=plugin load? Only where its libc's loader is."""
    record = traefik_record(GO_PLUGIN.check, variant=linkage)
    module = sample_dir / "goplugin"
    try:
        host = traefik_compat.build_go(
            gobuild.BuildRequest(module, package="./host", linkage=linkage, output_name="host")
        )
        plugin = traefik_compat.build_go(
            gobuild.BuildRequest(
                module,
                package="./greeter",
                linkage=linkage,
                buildmode="plugin",
                output_name="greeter.so",
            )
        )
    except CompatError as error:
        record.figure(GO_PLUGIN.outcome, BUILD_FAILED).details[GO_PLUGIN.error] = str(error)
        pytest.fail(str(error), pytrace=False)
    request = images.ImageRequest(
        base=traefik_base,
        binary=host.path,
        binary_identity=f"{host.key}+{plugin.key}",
        kind="svc",
        name=f"goplugin-{linkage}",
        entrypoint=("/app", "/greeter.so"),
        extra_files=((plugin.path, "/greeter.so"),),
    )
    image = images.ensure_image(request, traefik_compat.lock_dir)
    prediction = startcheck.predict_start(
        host.elf, traefik_base.files, image_glibc=startcheck.glibc_version_of(traefik_base.facts)
    )
    container = compat_stack.run_container(image.tag, f"goplugin-{linkage}")
    try:
        code, _ = probes.container_exit(container, timeout=START_TIMEOUT_S)
        output = engine.log_tail(container, 5)
    finally:
        container.remove(force=True)
    loads = code == 0 and "hello" in output.lower()
    record.figure(GO_PLUGIN.predicted, LOADS if prediction.starts else FAILS)
    record.figure(GO_PLUGIN.observed, LOADS if loads else FAILS)
    record.figure(GO_PLUGIN.exit_code, code if code is not None else MISSING)
    record.details.update({GO_PLUGIN.output: output, GO_PLUGIN.reason: prediction.reason})
    assert loads == prediction.starts, f"predicted {prediction.reason}; got {code}: {output}"
