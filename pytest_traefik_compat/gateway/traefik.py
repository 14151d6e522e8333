"""The gateway's Traefik v3 configuration as a model: backends, a local plugin, the
host names and ports, and the names the API gives routers and services.

Pure: :mod:`~pytest_traefik_compat.gateway.render` turns a :class:`GatewayConfig` into
Traefik's files, :mod:`~pytest_traefik_compat.gateway.binary` finds the binary and
:mod:`~pytest_traefik_compat.gateway.logs` reads its log.

The TLS policy is built around one trap: Traefik picks TLS options by SNI. A
connection without SNI, or with a name no router claims, is served with the option
named ``default``. So the strict mTLS policy is rendered twice, as ``default`` and as
the named option the routers use, and ``sniStrict`` refuses handshakes whose SNI
matches no certificate.

What this config answers: valid client + SNI -> TLS 1.3, 200; no client certificate
-> "certificate required" alert on the first read; TLS 1.2 client -> "protocol
version" alert; unknown SNI -> "unrecognized name"; no SNI -> "unrecognized name"
too, *unless* the server certificate carries an IP SAN equal to the address the
client dialled: without SNI Traefik matches its local IP against the certificates,
the handshake then succeeds and only the Host/SNI check answers "421 Misdirected
Request". Hence no IP SANs on the server leaf.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ADMIN_ENTRYPOINT",
    "ADMIN_PORT",
    "APP_HOST",
    "CLIENT_CERT_MIDDLEWARE",
    "DEFAULT_DOMAIN",
    "GRPC_HOST",
    "MTLS_OPTION",
    "WEBSECURE_ENTRYPOINT",
    "WEBSECURE_PORT",
    "Backend",
    "BackendKind",
    "GatewayConfig",
    "LocalPlugin",
    "router_names",
    "sample_backends",
    "service_names",
    "strict_option",
    "tls_router",
]

BackendKind = Literal["http", "grpc"]

# Non-privileged ports: the gateway runs as uid 65532 with every capability
# dropped, so it cannot bind below 1024.
WEBSECURE_PORT = 8443
ADMIN_PORT = 8082

WEBSECURE_ENTRYPOINT = "websecure"
# Traefik serves the insecure API, ping and metrics on the entry point literally
# named "traefik" by default; naming the admin entry point so keeps it that way.
ADMIN_ENTRYPOINT = "traefik"

# The .test TLD is reserved (RFC 2606, RFC 6761): it never resolves on the
# internet, so a leak fails loudly instead of reaching a real host.
DEFAULT_DOMAIN = "compat.test"
APP_HOST = f"app.{DEFAULT_DOMAIN}"
GRPC_HOST = f"grpc.{DEFAULT_DOMAIN}"

MTLS_OPTION = "mtls"
CLIENT_CERT_MIDDLEWARE = "client-cert"

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
# One DNS label of a host name; the whole name is checked label by label.
_LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_DURATION_RE = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")


def _check_host(host: str) -> None:
    """Refuse router host names a client could never present as SNI."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        # Clients never send an IP literal as SNI (RFC 6066), so Host(`<ip>`) would
        # only ever be reached through the default TLS option: the SNI trap.
        raise ValueError(f"router host must be a DNS name, not an IP address: {host!r}")
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.match(label) for label in labels):
        raise ValueError(f"router host is not a dotted DNS name: {host!r}")


@dataclass(frozen=True)
class Backend:
    """One service behind the gateway: a router, a load balancer and a health check.

    ``url`` is what Traefik dials from its own network namespace (a container
    name on the test network, or 127.0.0.1 for host tests). ``host`` is the
    public name the router matches and clients send as SNI; it defaults to
    ``<name>.compat.test``.
    """

    name: str
    url: str
    kind: BackendKind = "http"
    host: str = ""
    health_path: str = "/healthz"
    health_interval: str = "1s"
    health_timeout: str = "1s"

    def __post_init__(self) -> None:
        if not _NAME_RE.match(self.name):
            # The name becomes the router and service key, and "@" or "." would
            # break the "<name>@file" form the API uses.
            raise ValueError(f"backend name must match {_NAME_RE.pattern}: {self.name!r}")
        if self.kind not in ("http", "grpc"):
            raise ValueError(f"backend kind must be 'http' or 'grpc': {self.kind!r}")
        for label, value in (("interval", self.health_interval), ("timeout", self.health_timeout)):
            if not _DURATION_RE.match(value):
                raise ValueError(f"health {label} must be a Go duration like '1s': {value!r}")
        if not self.health_path.startswith("/"):
            # Traefik 3.7 rejects absolute URLs here; a relative path is all we need.
            raise ValueError(f"health path must start with '/': {self.health_path!r}")

        url = self.url
        scheme, sep, rest = url.partition("://")
        if not sep or not rest:
            raise ValueError(f"backend url needs a scheme, e.g. http://host:port: {url!r}")
        if self.kind == "grpc":
            if scheme == "http":
                # Traefik speaks HTTP/1.1 to http:// servers; gRPC needs HTTP/2, which
                # for a plaintext backend is the h2c scheme.
                url = f"h2c://{rest}"
            elif scheme != "h2c":
                # The gRPC health check dials without TLS whatever the server URL
                # says, so a TLS gRPC backend could never be reported healthy.
                raise ValueError(f"grpc backend url must be h2c:// (plaintext HTTP/2): {url!r}")
        elif scheme not in ("http", "https"):
            raise ValueError(f"http backend url must be http:// or https://: {url!r}")
        object.__setattr__(self, "url", url)

        host = self.host or f"{self.name}.{DEFAULT_DOMAIN}"
        _check_host(host)
        object.__setattr__(self, "host", host)

    @property
    def rule(self) -> str:
        # Every router gets a Host() rule: without one Traefik cannot tie the router
        # to an SNI and silently serves it with the default TLS option.
        return f"Host(`{self.host}`)"


@dataclass(frozen=True)
class LocalPlugin:
    """A Yaegi-interpreted middleware plugin loaded from ``plugins-local``.

    Traefik looks for sources in ``./plugins-local/src/<module_name>/`` relative
    to its working directory (with a ``.traefik.yml`` manifest), so the image or
    mount must put them under the container's working directory.
    """

    module_name: str
    middleware_config: Mapping[str, Any] = field(default_factory=dict)
    # Key under experimental.localPlugins and under the middleware's "plugin" map.
    plugin_name: str = "compat"
    middleware_name: str = "compat-plugin"

    def __post_init__(self) -> None:
        if not self.module_name or self.module_name.startswith("/") or ".." in self.module_name:
            raise ValueError(f"plugin module name must be a Go module path: {self.module_name!r}")
        for value in (self.plugin_name, self.middleware_name):
            if not _NAME_RE.match(value):
                raise ValueError(f"plugin/middleware name must match {_NAME_RE.pattern}: {value!r}")


@dataclass(frozen=True)
class GatewayConfig:
    """Everything the static and dynamic configuration depend on.

    Paths are as seen by Traefik (inside its container by default); addresses
    are entry point bind addresses, ":8443" in a container, "127.0.0.1:<port>"
    when the binary runs on the host in tests.
    """

    backends: tuple[Backend, ...]
    cert_file: str = "/etc/traefik/certs/server.crt"
    key_file: str = "/etc/traefik/certs/server.key"
    ca_file: str = "/etc/traefik/certs/root-ca.crt"
    dynamic_dir: str = "/etc/traefik/dynamic"
    websecure_address: str = f":{WEBSECURE_PORT}"
    admin_address: str = f":{ADMIN_PORT}"
    pass_client_cert: bool = True
    plugin: LocalPlugin | None = None
    # Merged over the rendered dynamic config (dicts recursively, anything else
    # replaced), for checks that need one more middleware, router or option.
    extra_dynamic: Mapping[str, Any] = field(default_factory=dict)
    log_level: str = "INFO"
    access_log: bool = True
    watch: bool = True

    def __post_init__(self) -> None:
        backends = tuple(self.backends)
        object.__setattr__(self, "backends", backends)
        names = [b.name for b in backends]
        if len(set(names)) != len(names):
            raise ValueError(f"backend names must be unique: {names}")
        hosts = [b.host for b in backends]
        if len(set(hosts)) != len(hosts):
            raise ValueError(f"backend hosts must be unique: {hosts}")
        level = self.log_level.upper()
        if level not in ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "PANIC"):
            raise ValueError(f"unknown Traefik log level: {self.log_level!r}")
        object.__setattr__(self, "log_level", level)

    @property
    def extra_routers(self) -> dict[str, Mapping[str, Any]]:
        """Routers ``extra_dynamic`` adds (not the backends' own, which it may amend)."""
        routers = _mapping_at(self.extra_dynamic, "http", "routers")
        own = {b.name for b in self.backends}
        return {
            str(name): router
            for name, router in routers.items()
            if name not in own and isinstance(router, Mapping)
        }

    @property
    def hosts(self) -> list[str]:
        """Public names the server certificate must carry as SANs: every backend's
        host, then the Host() names of routers added through ``extra_dynamic`` (with
        sniStrict, a name the certificate lacks ends in "unrecognized name")."""
        hosts = [b.host for b in self.backends]
        for router in self.extra_routers.values():
            for host in _rule_hosts(str(router.get("rule") or "")):
                if host not in hosts:
                    hosts.append(host)
        return hosts


_RULE_HOST_RE = re.compile(r"\bHost\s*\(\s*[`\"]([^`\"]+)[`\"]\s*\)")


def _rule_hosts(rule: str) -> list[str]:
    """The DNS names of the Host(`...`) calls of a router rule."""
    found = []
    for host in _RULE_HOST_RE.findall(rule):
        try:
            _check_host(host)
        except ValueError:
            continue
        found.append(host.lower())
    return found


def _mapping_at(data: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    for key in keys:
        value = data.get(key)
        data = value if isinstance(value, Mapping) else {}
    return data


def tls_router(host: str, options: str, *, service: str = "app") -> dict[str, Any]:
    """One more websecure router for ``extra_dynamic["http"]["routers"]``: a Host()
    rule (so its TLS option is picked by SNI) and its own TLS option, to an existing
    service. The gateway's certificate then carries ``host`` too."""
    _check_host(host)
    return {
        "rule": f"Host(`{host}`)",
        "entryPoints": [WEBSECURE_ENTRYPOINT],
        "service": service,
        "tls": {"options": options},
    }


def strict_option(ca_files: Sequence[str]) -> dict[str, Any]:
    """The gateway's strict policy (TLS 1.3, sniStrict, RequireAndVerifyClientCert)
    trusting ``ca_files``: paths as Traefik sees them or the PEM text itself (Traefik
    reads a caFiles entry that is not a file as the certificate's content)."""
    return {
        "minVersion": "VersionTLS13",
        "sniStrict": True,
        "clientAuth": {"caFiles": list(ca_files), "clientAuthType": "RequireAndVerifyClientCert"},
    }


def sample_backends(http_url: str, grpc_url: str | None = None) -> tuple[Backend, ...]:
    """The built-in sample: the gin service on app.compat.test, gRPC on grpc.compat.test."""
    backends = [Backend("app", http_url, host=APP_HOST)]
    if grpc_url is not None:
        backends.append(Backend("grpc", grpc_url, kind="grpc", host=GRPC_HOST))
    return tuple(backends)


def router_names(config: GatewayConfig) -> list[str]:
    """Router names as the API spells them: ``/api/http/routers/<name>`` (the
    backends' routers, then those ``extra_dynamic`` adds)."""
    names = [b.name for b in config.backends] + list(config.extra_routers)
    return [f"{name}@file" for name in names]


def service_names(config: GatewayConfig) -> list[str]:
    """Service names for ``/api/http/services/<name>`` (its ``serverStatus``)."""
    return [f"{b.name}@file" for b in config.backends]
