"""What runs behind the gateway: a service's spec, a running service, and the spec made
from what a test hands the ``traefik_gateway`` fixture (a build, an image tag, a dict).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from docker.models.containers import Container

from pytest_traefik_compat import engine
from pytest_traefik_compat.errors import CompatError, StackError

__all__ = [
    "LOG_TAIL",
    "BuiltService",
    "RunningService",
    "ServiceLike",
    "ServiceSpec",
    "service_spec",
    "start_failure",
]

LOG_TAIL = 25


@dataclass(frozen=True)
class ServiceSpec:
    """A service container on the stack network (the sample or a user's service)."""

    image: str
    alias: str = "app"
    http_port: int | None = 8080
    grpc_port: int | None = 9090
    admin_port: int | None = 8081
    health_path: str = "/healthz"
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    # Why the build is expected not to start here ("interpreter ... not in image"),
    # added to a start failure's message; empty when it is predicted to start.
    start_prediction: str = ""

    @property
    def ports(self) -> list[int]:
        return [p for p in (self.http_port, self.grpc_port, self.admin_port) if p]


@dataclass
class RunningService:
    spec: ServiceSpec
    container: Container
    name: str
    host_ports: dict[int, int]
    started_at: float
    ready_seconds: float | None = None

    def url(self, port: int | None, path: str = "") -> str:
        if port is None or port not in self.host_ports:
            raise StackError(f"service {self.name} publishes no port {port}")
        return f"http://{engine.engine_address()}:{self.host_ports[port]}{path}"

    @property
    def http_url(self) -> str:
        return self.url(self.spec.http_port)

    @property
    def admin_url(self) -> str:
        return self.url(self.spec.admin_port)

    def logs(self) -> str:
        return engine.log_tail(self.container, LOG_TAIL)

    def pid(self) -> int:
        return engine.pid(self.container)


def start_failure(spec: ServiceSpec, name: str, what: str) -> str:
    """A start failure's message: the service, what happened, and the prediction."""
    message = f"service {name} ({spec.image}) {what}"
    if spec.start_prediction:
        message += f"; predicted: {spec.start_prediction}"
    return message


# What a service dict may set (start_prediction comes from the build itself).
_SPEC_FIELDS = tuple(
    f.name for f in dataclasses.fields(ServiceSpec) if f.name != "start_prediction"
)


class BuiltService(Protocol):
    """A build on a base (the fixtures' ServiceBuild): an image tag and its ports."""

    tag: str
    ports: tuple[int, ...]


ServiceLike = ServiceSpec | BuiltService | str | Mapping[str, Any]


def service_spec(index: int, service: ServiceLike, defaults: Mapping[str, Any]) -> ServiceSpec:
    """A ServiceSpec from a build, an image tag or a dict, so tests need no internals.

    Unlike a bare ServiceSpec (the sample's three ports), these default to one HTTP
    port: the build's first port, else 8080; gRPC and admin ports only when given.
    """
    if isinstance(service, ServiceSpec):
        return service
    options = dict(service) if isinstance(service, Mapping) else {"image": service}
    unknown = sorted(set(options) - set(_SPEC_FIELDS))
    if unknown:
        raise CompatError(
            f"traefik_gateway: unknown service key {', '.join(unknown)}; "
            f"valid: {', '.join(_SPEC_FIELDS)}"
        )
    image = options.pop("image", None)
    if image is None:
        raise CompatError("traefik_gateway: a service dict needs 'image' (a build or a tag)")
    values: dict[str, Any] = {"alias": "app" if index == 0 else f"app-{index + 1}", **defaults}
    if not isinstance(image, str) and hasattr(image, "tag"):
        if values.get("http_port") is None and image.ports:
            values["http_port"] = image.ports[0]
        prediction = getattr(image, "prediction", None)
        if prediction is not None and not prediction.starts:
            values.setdefault("start_prediction", prediction.reason)
        image = image.tag
    values.update(options)
    values["http_port"] = values.get("http_port") or 8080
    values["args"] = tuple(values.get("args") or ())
    values["env"] = dict(values.get("env") or {})
    return ServiceSpec(image=str(image), **values)
