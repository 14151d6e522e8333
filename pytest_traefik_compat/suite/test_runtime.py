"""What the running service sees of its base: time zones, trust store, resolvers, uid."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from pytest_traefik_compat.bases import BaseImage
from pytest_traefik_compat.bases.images import ServiceBuild
from pytest_traefik_compat.gateway.services import ServiceSpec
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.records.checks import MISSING, RUNTIME_FACTS, STATIC
from pytest_traefik_compat.suite.common import RecordFactory


def test_runtime_facts(
    compat_stack: Gateway,
    traefik_base: BaseImage,
    traefik_build: Callable[..., ServiceBuild],
    sample_dir: Any,
    traefik_record: RecordFactory,
) -> None:
    """Time zones, trust store, resolvers and uid as the running service sees them.

    Asserts: the service runs as uid 65532 and is the static build; the Go resolver
    finds the gateway's container name; time zones load exactly when the image has
    /usr/share/zoneinfo; a build with time/tzdata embedded loads them on every base;
    the cert pool is non-empty exactly when the image has a CA bundle.
    Records: uid, whether time zones load, cert pool size and bundle file, whether the
    Go resolver answers, the cgo resolver's error or "ok"; from a second service built
    with -tags tzdata and SSL_CERT_FILE pointing at a missing file: whether time zones
    load, the cert pool size; details: both services' /debug/compat answers.
    """
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
