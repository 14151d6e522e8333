"""Whether the service starts on the base: predicted from the ELF headers, then run."""

from __future__ import annotations

import time
from contextlib import suppress
from typing import Any

import docker.errors
import grpc
import pytest
import requests
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pytest_traefik_compat import engine, gobuild
from pytest_traefik_compat.bases import BaseImage, startcheck
from pytest_traefik_compat.bases.images import ServiceBuild
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.grpc_stubs.demo.v1 import demo_pb2, demo_pb2_grpc
from pytest_traefik_compat.measure import waiting
from pytest_traefik_compat.records.checks import (
    BUILD_FAILED,
    FAILS,
    MISSING,
    START_MATRIX,
    STARTS,
    STATIC,
)
from pytest_traefik_compat.suite.common import START_TIMEOUT_S, RecordFactory

# Stands in for "failed, no exit code" in the diagnosis only; never recorded.
_NO_EXIT_CODE = 1


@pytest.mark.parametrize("linkage", gobuild.LINKAGES)
def test_start_matrix(
    linkage: str,
    traefik_base: BaseImage,
    sample_builds: dict[str, ServiceBuild | str],
    compat_stack: Gateway,
    traefik_record: RecordFactory,
) -> None:
    """The service per linkage (the variant), predicted from its ELF headers, then started.

    Asserts: the linkage built; the prediction (starts or fails) equals the observation;
    a predicted failure fails for the predicted reason; where the libc is too old, the
    loader names every missing GLIBC version predicted; the static build starts; a
    started build answers /metrics 200, gRPC health SERVING and the echo RPC, runs as
    uid 65532 and reports its own linkage, cgo on for glibc and musl, off for static.
    Records: predicted and observed (starts/fails) with their reasons, the exit code
    ("-" where no process ran: the runtime refused the start, its error in the
    details), seconds to the outcome, binary and image size; details: ELF interpreter and NEEDED
    libraries, what a started build answers, the first log lines, the runtime error,
    the missing GLIBC versions; outcome "build failed" and the build error when the
    linkage did not build.
    """
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
        answered = waiting.wait_for(
            lambda: (
                _exited(container)
                or (
                    port is not None
                    and waiting.http_ok(f"http://{engine.engine_address()}:{port}/healthz")
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
        logs = ""
    finally:
        if container is not None:
            with suppress(docker.errors.DockerException):
                container.remove(force=True)
    observed_starts = exit_code is None and not runtime_error
    # diagnose_exec_failure reads None as "still running"; a start that failed without
    # an exit code (no process ran, or no answer) is classified from the words alone.
    failed_as = exit_code if exit_code is not None or observed_starts else _NO_EXIT_CODE
    diagnosis = startcheck.diagnose_exec_failure(failed_as, f"{runtime_error}\n{logs}")
    record.figure(START_MATRIX.observed, STARTS if observed_starts else FAILS)
    record.figure(START_MATRIX.observed_reason, diagnosis.evidence or diagnosis.category.value)
    record.figure(START_MATRIX.exit_code, exit_code if exit_code is not None else MISSING)
    record.figure(START_MATRIX.seconds, round(time.monotonic() - started, 3), "s")
    record.details[START_MATRIX.first_log_lines] = logs.splitlines()[:10]
    record.details[START_MATRIX.runtime_error] = runtime_error

    assert prediction.starts == observed_starts, (
        f"prediction ({prediction.reason}) disagrees with observation "
        f"(exit {exit_code if exit_code is not None else 'none'}: "
        f"{diagnosis.evidence or runtime_error})"
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
