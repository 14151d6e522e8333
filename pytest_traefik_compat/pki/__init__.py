"""Certificates for one test session: CAs, leaves, bad client certificates, ssl contexts.
Must not import pytest, engine, gateway or report: it is pure Python on `cryptography`.

Modelled on trustme: a ``CertificateAuthority`` issues leaves, PEM blobs write
themselves, and contexts are configured from memory. Two properties the project
relies on and tests:

- CA private keys live only in this process's memory. No method serializes them,
  so they are never written to disk and never enter an image or a container.
- Leaf private keys are written 0600 (created with that mode, never chmod'ed
  afterwards), and ``SessionPKI.cleanup()`` removes every file it wrote.

:mod:`.pem` holds the PEM blobs and file writing, :mod:`.ca` the CAs and leaves,
:mod:`.contexts` the ssl contexts and :mod:`.session` the session's PKI.
"""

from __future__ import annotations

from pytest_traefik_compat.pki.ca import (
    CLIENT_AUTH,
    DEFAULT_CA_VALIDITY,
    KEY_TYPES,
    SERVER_AUTH,
    CertificateAuthority,
    KeyType,
    LeafCertificate,
    LeafFiles,
)
from pytest_traefik_compat.pki.contexts import client_context, server_context
from pytest_traefik_compat.pki.pem import PemBlob
from pytest_traefik_compat.pki.session import BAD_CLIENT_KINDS, BadClient, BadKind, SessionPKI

__all__ = [
    "BAD_CLIENT_KINDS",
    "CLIENT_AUTH",
    "DEFAULT_CA_VALIDITY",
    "KEY_TYPES",
    "SERVER_AUTH",
    "BadClient",
    "BadKind",
    "CertificateAuthority",
    "KeyType",
    "LeafCertificate",
    "LeafFiles",
    "PemBlob",
    "SessionPKI",
    "client_context",
    "server_context",
]
