"""``ssl.SSLContext`` helpers: a client that trusts one CA (and may present a leaf), a
server that presents a leaf (and may demand a client certificate from one CA)."""

from __future__ import annotations

import ssl

from pytest_traefik_compat.pki.ca import CertificateAuthority, LeafCertificate


def client_context(
    trust: CertificateAuthority,
    client: LeafCertificate | None = None,
    *,
    min_version: ssl.TLSVersion | None = None,
    max_version: ssl.TLSVersion | None = None,
    include_chain: bool = True,
) -> ssl.SSLContext:
    """A client context that trusts only ``trust`` and presents ``client`` if given."""
    # PROTOCOL_TLS_CLIENT: hostname checks on, no system store loaded.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    trust.configure_trust(ctx)
    if min_version is not None:
        ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    if client is not None:
        client.configure_client(ctx, include_chain=include_chain)
    return ctx


def server_context(
    leaf: LeafCertificate,
    *,
    require_client_from: CertificateAuthority | None = None,
    min_version: ssl.TLSVersion | None = None,
    max_version: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    """A server context presenting ``leaf``; with ``require_client_from`` it demands a
    client certificate chaining to that CA (and nothing else)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    leaf.configure_server(ctx)
    if min_version is not None:
        ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    if require_client_from is not None:
        ctx.verify_mode = ssl.CERT_REQUIRED
        require_client_from.configure_trust(ctx)
    return ctx
