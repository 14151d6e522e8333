"""The stack on a real engine: failures are fast and clear, nothing is left behind."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_traefik_compat import engine
from pytest_traefik_compat.bases import BaseImage
from pytest_traefik_compat.errors import StackError
from pytest_traefik_compat.gateway import traefik
from pytest_traefik_compat.gateway.services import ServiceSpec
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.gateway.tlsprobe import probe_tls
from pytest_traefik_compat.pki import SessionPKI
from tests.helpers import stack_images


@pytest.fixture(scope="module")
def service_tag(distroless: BaseImage, cache_dir: Path) -> str:
    return stack_images.service_tag(distroless, cache_dir)


@pytest.fixture(scope="module")
def traefik_tag(distroless: BaseImage, cache_dir: Path) -> str:
    return stack_images.traefik_tag(distroless, cache_dir)


@pytest.fixture
def pki(tmp_path: Path) -> Iterator[SessionPKI]:
    with SessionPKI(tmp_path / "pki") as session_pki:
        yield session_pki


def _stack(
    run_identity: engine.RunIdentity,
    tmp_path: Path,
    pki: SessionPKI,
    traefik_tag: str,
    spec: ServiceSpec,
    **kwargs: object,
) -> Gateway:
    return Gateway(
        identity=run_identity,
        label=f"t{time.monotonic_ns() % 10**8}",
        workdir=tmp_path / "stack",
        pki=pki,
        traefik_image=traefik_tag,
        services=[spec],
        **kwargs,  # type: ignore[arg-type]
    )


def _leftovers(stack_prefix: str) -> list[str]:
    filters = {"label": [f"{engine.LABEL_PREFIX}.stack={stack_prefix}"]}
    client = engine.client()
    return [c.name for c in client.containers.list(all=True, filters=filters)] + [
        n.name for n in client.networks.list(filters=filters)
    ]


def test_stack_is_hardened_and_removed(
    run_identity: engine.RunIdentity,
    tmp_path: Path,
    pki: SessionPKI,
    traefik_tag: str,
    service_tag: str,
) -> None:
    stack = _stack(run_identity, tmp_path, pki, traefik_tag, ServiceSpec(service_tag))
    with stack:
        for container in [stack.traefik, stack.services["app"].container]:
            container.reload()
            host = container.attrs["HostConfig"]
            assert host["CapDrop"] == ["ALL"] and host["ReadonlyRootfs"]
            assert (
                container.attrs["Config"]["User"] in ("", "65532:65532")
                or container is stack.traefik
            )
            for bindings in (container.attrs["NetworkSettings"]["Ports"] or {}).values():
                assert all(b["HostIp"] == "127.0.0.1" for b in bindings or [])
            mounts = [m.get("Source", "") for m in container.attrs["Mounts"]]
            assert not any("docker.sock" in source for source in mounts)
        assert stack.traefik.attrs["Config"]["User"] == "65532:65532"
        probe = probe_tls(stack.https_port, pki.client_context(), sni=traefik.APP_HOST)
        assert probe.version == "TLSv1.3" and probe.status == 200
        prefix = stack.prefix
        workdir = stack.workdir
        assert _leftovers(prefix)
    assert _leftovers(prefix) == []
    assert not workdir.exists(), "the stack's work dir (with the server key) must go"


def test_traefik_refusing_its_config_fails_fast(
    run_identity: engine.RunIdentity,
    tmp_path: Path,
    pki: SessionPKI,
    traefik_tag: str,
    service_tag: str,
) -> None:
    broken = {
        "tls": {
            "certificates": [
                {
                    "certFile": "/etc/traefik/certs/missing.crt",
                    "keyFile": "/etc/traefik/certs/missing.key",
                }
            ]
        }
    }
    stack = _stack(
        run_identity, tmp_path, pki, traefik_tag, ServiceSpec(service_tag), extra_dynamic=broken
    )
    started = time.monotonic()
    with pytest.raises(StackError) as error, stack:
        pass
    assert time.monotonic() - started < 20, "must not wait for the readiness timeout"
    assert str(error.value).startswith("Traefik refused its config:")
    assert "missing.crt" in str(error.value) or "certificate" in str(error.value).lower()
    assert "--- traefik (last lines)" in error.value.detail
    assert _leftovers(stack.prefix) == []


def test_service_that_never_gets_healthy_fails_with_its_logs(
    run_identity: engine.RunIdentity,
    tmp_path: Path,
    pki: SessionPKI,
    traefik_tag: str,
    service_tag: str,
) -> None:
    spec = ServiceSpec(service_tag, health_path="/no-such-health")
    stack = _stack(run_identity, tmp_path, pki, traefik_tag, spec, ready_timeout=4.0)
    with pytest.raises(StackError) as error, stack:
        pass
    assert "never answered 200 on /no-such-health within 4 s" in str(error.value)
    assert '"msg":"listening"' in error.value.detail
    assert _leftovers(stack.prefix) == []
