"""gRPC through Traefik with mTLS: the health service and the demo RPC."""

from __future__ import annotations

import time

from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.records.checks import GRPC
from pytest_traefik_compat.suite.common import RecordFactory


def test_grpc(compat_stack: Gateway, traefik_record: RecordFactory) -> None:
    """The gRPC health check and 20 echo calls through Traefik with mTLS.

    Asserts: health is SERVING; the 20th echo answers its own message.
    Records: health status, the service's linkage from the echo reply, echo call
    latency (ms); details: the last echo reply.
    """
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
