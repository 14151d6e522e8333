"""The gateway: Traefik's config as a model (``traefik``), rendered to files (``render``),
its binary (``binary``) and log (``logs``); the services behind it (``services``); the
stack in front of them (``stack``: one Gateway class owns start, close and the keep
policy), its readiness polls (``wait``) and its clients.

Must not import pytest, gobuild or report; reaches the engine only through ``engine``.
"""

from __future__ import annotations

from pytest_traefik_compat.gateway.clients import GrpcClient, HttpsClient
from pytest_traefik_compat.gateway.services import RunningService, ServiceSpec
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.gateway.tlsprobe import TlsProbe

__all__ = ["Gateway", "GrpcClient", "HttpsClient", "RunningService", "ServiceSpec", "TlsProbe"]
