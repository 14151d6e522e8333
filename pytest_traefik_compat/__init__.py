"""pytest-traefik-compat: measure Go services on container base images behind Traefik.

The public API: what the fixtures hand out and what a test annotates with. Loaded
lazily, so that importing one domain module does not import them all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pytest_traefik_compat.bases.facts import BaseImage
    from pytest_traefik_compat.bases.images import HealthCheck, ServiceBuild
    from pytest_traefik_compat.errors import CompatError
    from pytest_traefik_compat.gateway.services import ServiceSpec
    from pytest_traefik_compat.gateway.stack import Gateway
    from pytest_traefik_compat.pki import CertificateAuthority, SessionPKI
    from pytest_traefik_compat.records import Record

# name -> the module that owns it
_PUBLIC = {
    "BaseImage": "pytest_traefik_compat.bases.facts",
    "CertificateAuthority": "pytest_traefik_compat.pki",
    "CompatError": "pytest_traefik_compat.errors",
    "Gateway": "pytest_traefik_compat.gateway.stack",
    "HealthCheck": "pytest_traefik_compat.bases.images",
    "Record": "pytest_traefik_compat.records.record",
    "ServiceBuild": "pytest_traefik_compat.bases.images",
    "ServiceSpec": "pytest_traefik_compat.gateway.services",
    "SessionPKI": "pytest_traefik_compat.pki",
}

__all__ = [
    "BaseImage",
    "CertificateAuthority",
    "CompatError",
    "Gateway",
    "HealthCheck",
    "Record",
    "ServiceBuild",
    "ServiceSpec",
    "SessionPKI",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
