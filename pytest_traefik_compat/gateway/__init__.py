"""The gateway: Traefik's config rendered from Python, its binary, the stack in front of
services (one Gateway class owns start, close and the keep policy), and its clients.

Must not import pytest, gobuild or report; reaches the engine only through ``engine``.
"""

from __future__ import annotations

from pytest_traefik_compat.gateway.clients import GrpcClient, HttpsClient, TlsProbe
from pytest_traefik_compat.gateway.stack import Gateway, RunningService, ServiceSpec

__all__ = ["Gateway", "GrpcClient", "HttpsClient", "RunningService", "ServiceSpec", "TlsProbe"]
