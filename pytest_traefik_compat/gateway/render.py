"""Traefik's static and dynamic configuration rendered from a :class:`GatewayConfig`,
and the files written for Traefik to read.

The file provider is the only provider ever enabled, so no Docker socket goes near
Traefik. The strict mTLS policy is rendered twice, as ``default`` and as the named
option the routers use (see :mod:`~pytest_traefik_compat.gateway.traefik` on the SNI
trap).
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pytest_traefik_compat.gateway.traefik import (
    ADMIN_ENTRYPOINT,
    CLIENT_CERT_MIDDLEWARE,
    MTLS_OPTION,
    WEBSECURE_ENTRYPOINT,
    Backend,
    GatewayConfig,
    strict_option,
)
from pytest_traefik_compat.pki import SessionPKI

__all__ = [
    "NONROOT_UID",
    "ConfigFiles",
    "container_user",
    "render_dynamic",
    "render_static",
    "to_yaml",
    "write_config_files",
    "write_mounted_config",
]

# The user the Traefik image runs as (distroless "nonroot").
NONROOT_UID = 65532


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
        # JSON so error lines can be picked out reliably (logs.error_lines).
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
    # being served the default certificate; see gateway.traefik on IP SANs.
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
        # h2c backends only. The path is sent nowhere: Traefik 3.7 no longer
        # resolves it, and a check without one runs too. "/" is kept because older
        # 3.x releases resolve it against the server URL, where "/" is harmless and
        # an odd path could change host or port.
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


@dataclass(frozen=True)
class ConfigFiles:
    """Where ``write_config_files`` put things on the host."""

    static: Path
    dynamic_dir: Path
    dynamic: Path


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


def write_mounted_config(
    config: GatewayConfig, config_dir: Path, pki: SessionPKI, plugin_dir: Path | None = None
) -> Path:
    """Everything a Traefik container mounts at ``/etc/traefik``: the config files, the
    server certificate and key for ``config.hosts``, the root CA and local plugins.

    Returns ``config_dir``; run the container as :func:`container_user`.
    """
    certs = config_dir / "certs"
    certs.mkdir(parents=True, exist_ok=True)
    # The gateway's own leaf carries DNS names only: an IP SAN would let a
    # connection without SNI complete its handshake (Traefik matches its IP).
    server = pki.intermediate.issue_server(config.hosts)
    (certs / "server.crt").write_bytes(server.chain_pem.bytes())
    server.key_pem.write_to(certs / "server.key", private=True)
    (certs / "root-ca.crt").write_bytes(pki.root.cert_pem.bytes())
    write_config_files(config, config_dir)
    if plugin_dir is not None:
        shutil.copytree(plugin_dir, config_dir / "plugins-local", dirs_exist_ok=True)
    if os.geteuid() == 0:
        # Traefik runs as nonroot; the key stays 0600, owned by that user.
        for path in [config_dir, *config_dir.rglob("*")]:
            os.chown(path, NONROOT_UID, NONROOT_UID, follow_symlinks=False)
    return config_dir


def container_user() -> str:
    """The ``uid:gid`` that can read the key :func:`write_mounted_config` wrote."""
    if os.geteuid() == 0:
        return f"{NONROOT_UID}:{NONROOT_UID}"
    # Without root we cannot hand the key to uid 65532: run as its owner instead.
    return f"{os.geteuid()}:{os.getegid()}"
