"""pki: certificate structure, files on disk, and real TLS handshakes on loopback.

The handshakes run a stdlib TLS server in a thread that trusts only the session
root, so every bad client must be refused by OpenSSL for its own reason.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import ssl
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.pki import (
    BAD_CLIENT_KINDS,
    CertificateAuthority,
    KeyType,
    LeafCertificate,
    PemBlob,
    SessionPKI,
    client_context,
    server_context,
)

TIMEOUT = 5.0  # seconds, per socket operation and per server thread

# What OpenSSL on the server side says for each bad kind: proves each one is refused
# for its own reason, not by accident (e.g. an expired leaf refused for a bad chain).
EXPECTED_SERVER_ERROR = {
    "no-certificate": "peer did not return a certificate",
    "unrelated-ca": "unable to get local issuer certificate",
    "expired": "certificate has expired",
    "not-yet-valid": "certificate is not yet valid",
    "server-auth-eku": "certificate purpose",  # OpenSSL 3: "unsuitable", 1.1: "unsupported"
    "missing-intermediate": "unable to get local issuer certificate",
}


# ---------------------------------------------------------------------------
# A one-connection echo server on loopback


@dataclass
class Outcome:
    accepted: bool  # the client's byte came back: the server let it in
    reply: bytes
    version: str | None  # as the client saw it after its handshake
    client_error: BaseException | None
    server_error: BaseException | None


def exchange(
    server_ctx: ssl.SSLContext,
    client_ctx: ssl.SSLContext,
    *,
    server_hostname: str = "localhost",
) -> Outcome:
    """Handshake, send one byte, read the echo.

    Under TLS 1.3 the client finishes its handshake before the server has checked
    the client certificate, so a refusal shows up only on the first read.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(TIMEOUT)
    port = listener.getsockname()[1]
    server_errors: list[BaseException] = []

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError as exc:
            server_errors.append(exc)
            return
        with conn:
            conn.settimeout(TIMEOUT)
            try:
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(tls.recv(1))
            except OSError as exc:  # ssl.SSLError is an OSError
                server_errors.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    version: str | None = None
    reply = b""
    client_error: BaseException | None = None
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw,
            client_ctx.wrap_socket(raw, server_hostname=server_hostname) as tls,
        ):
            version = tls.version()
            tls.sendall(b"x")
            reply = tls.recv(1)
    except TimeoutError:
        # Neither let in nor refused: a hang is a bug, not a refusal.
        raise AssertionError("TLS exchange timed out") from None
    except (ssl.SSLError, ConnectionError) as exc:
        client_error = exc
    finally:
        thread.join(TIMEOUT)
        listener.close()
    assert not thread.is_alive(), "server thread did not finish"
    return Outcome(
        accepted=reply == b"x",
        reply=reply,
        version=version,
        client_error=client_error,
        server_error=server_errors[0] if server_errors else None,
    )


# ---------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionPKI]:
    with SessionPKI(
        tmp_path_factory.mktemp("pki") / "certs", server_names=["gateway.test", "10.0.0.7"]
    ) as session:
        yield session


@pytest.fixture(scope="module")
def server_ctx(pki: SessionPKI) -> ssl.SSLContext:
    return pki.server_context()


def _eku(cert: x509.Certificate) -> list[x509.ObjectIdentifier]:
    return list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def _public_der(key: object) -> bytes:
    assert isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# ---------------------------------------------------------------------------
# Handshakes


def test_server_trusts_only_the_root(pki: SessionPKI, server_ctx: ssl.SSLContext) -> None:
    assert server_ctx.verify_mode == ssl.CERT_REQUIRED
    anchors = server_ctx.get_ca_certs(binary_form=True)
    assert anchors == [pki.root.cert.public_bytes(serialization.Encoding.DER)]


@pytest.mark.parametrize("hostname", ["localhost", "127.0.0.1"])
def test_valid_client_with_chain_negotiates_tls13(
    pki: SessionPKI, server_ctx: ssl.SSLContext, hostname: str
) -> None:
    outcome = exchange(server_ctx, pki.client_context(), server_hostname=hostname)
    assert outcome.client_error is None
    assert outcome.server_error is None
    assert outcome.accepted
    assert outcome.version == "TLSv1.3"


@pytest.mark.parametrize("kind", BAD_CLIENT_KINDS, ids=str)
def test_bad_client_is_refused(pki: SessionPKI, server_ctx: ssl.SSLContext, kind: str) -> None:
    outcome = exchange(server_ctx, pki.client_context(kind))
    assert not outcome.accepted, f"{kind}: the server let the client in"
    # The client got through its own handshake; the refusal arrived on the read.
    assert outcome.version == "TLSv1.3"
    # A refusal surfaces as an alert (SSLError), a reset, or an empty read.
    assert outcome.client_error is not None or outcome.reply == b""
    assert outcome.server_error is not None
    assert EXPECTED_SERVER_ERROR[kind] in str(outcome.server_error).lower()


def test_tls12_client_is_refused_by_tls13_server(
    pki: SessionPKI, server_ctx: ssl.SSLContext
) -> None:
    outcome = exchange(server_ctx, pki.client_context(max_version=ssl.TLSVersion.TLSv1_2))
    assert not outcome.accepted
    assert outcome.version is None  # refused during the handshake itself
    assert isinstance(outcome.client_error, ssl.SSLError)


def test_client_rejects_server_from_another_root(pki: SessionPKI) -> None:
    other = CertificateAuthority.root("someone else's root")
    ctx = client_context(other, pki.client)
    outcome = exchange(pki.server_context(), ctx)
    assert isinstance(outcome.client_error, ssl.SSLCertVerificationError)
    assert not outcome.accepted


def test_client_checks_the_server_name(pki: SessionPKI, server_ctx: ssl.SSLContext) -> None:
    outcome = exchange(server_ctx, pki.client_context(), server_hostname="not-in-sans.test")
    assert isinstance(outcome.client_error, ssl.SSLCertVerificationError)


@pytest.mark.parametrize("key_type", ["ecdsa-p384", "rsa-2048"])
def test_other_key_types_handshake(key_type: KeyType) -> None:
    root = CertificateAuthority.root(key_type=key_type)
    inter = root.intermediate("inter")
    server = inter.issue_server(["localhost"])
    client = inter.issue_client("client")
    outcome = exchange(
        server_context(server, require_client_from=root),
        client_context(root, client),
    )
    assert outcome.accepted and outcome.version == "TLSv1.3"


def test_leaf_without_chain_is_refused_but_with_chain_accepted(pki: SessionPKI) -> None:
    ctx = server_context(pki.server, require_client_from=pki.root)
    with_chain = exchange(ctx, client_context(pki.root, pki.client, include_chain=True))
    without = exchange(ctx, client_context(pki.root, pki.client, include_chain=False))
    assert with_chain.accepted
    assert not without.accepted


# ---------------------------------------------------------------------------
# Certificate contents


def test_bad_kinds_are_exactly_the_documented_ones(pki: SessionPKI) -> None:
    expected = {
        "no-certificate",
        "unrelated-ca",
        "expired",
        "not-yet-valid",
        "server-auth-eku",
        "missing-intermediate",
    }
    assert set(BAD_CLIENT_KINDS) == expected
    assert set(pki.bad_clients) == expected
    for kind, bad in pki.bad_clients.items():
        assert bad.kind == kind and bad.description
    assert pki.bad_clients["no-certificate"].leaf is None
    assert pki.bad_clients["missing-intermediate"].include_chain is False
    assert all(
        b.include_chain
        for k, b in pki.bad_clients.items()
        if k not in ("no-certificate", "missing-intermediate")
    )


def test_ca_structure(pki: SessionPKI) -> None:
    root, inter = pki.root.cert, pki.intermediate.cert
    root_bc = root.extensions.get_extension_for_class(x509.BasicConstraints)
    inter_bc = inter.extensions.get_extension_for_class(x509.BasicConstraints)
    assert root_bc.critical and root_bc.value.ca
    assert inter_bc.critical and inter_bc.value.ca and inter_bc.value.path_length == 0
    for ca in (root, inter):
        ku = ca.extensions.get_extension_for_class(x509.KeyUsage)
        assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
    root.verify_directly_issued_by(root)
    inter.verify_directly_issued_by(root)
    root_ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    inter_aki = inter.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert inter_aki.key_identifier == root_ski.digest
    assert pki.root.is_root and not pki.intermediate.is_root
    assert pki.intermediate.parent is pki.root


def test_leaves_are_issued_by_the_intermediate(pki: SessionPKI) -> None:
    inter_ski = pki.intermediate.cert.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier
    ).value
    ours = [pki.server, pki.client] + [
        b.leaf for k, b in pki.bad_clients.items() if b.leaf and k != "unrelated-ca"
    ]
    for leaf in ours:
        leaf.cert.verify_directly_issued_by(pki.intermediate.cert)
        aki = leaf.cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        assert aki.key_identifier == inter_ski.digest
        bc = leaf.cert.extensions.get_extension_for_class(x509.BasicConstraints)
        assert bc.critical and not bc.value.ca
        assert leaf.chain == (pki.intermediate.cert,)
    unrelated = pki.bad_clients["unrelated-ca"].leaf
    assert unrelated is not None
    with pytest.raises((ValueError, TypeError)):
        unrelated.cert.verify_directly_issued_by(pki.intermediate.cert)
    assert unrelated.chain[0].issuer != pki.root.cert.subject


def test_server_sans(pki: SessionPKI) -> None:
    san = pki.server.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["gateway.test", "localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == [
        "10.0.0.7",
        "127.0.0.1",
    ]


def test_ekus(pki: SessionPKI) -> None:
    assert _eku(pki.server.cert) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert _eku(pki.client.cert) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    wrong = pki.bad_clients["server-auth-eku"].leaf
    assert wrong is not None
    assert _eku(wrong.cert) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_validity_windows(pki: SessionPKI) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    expired = pki.bad_clients["expired"].leaf
    future = pki.bad_clients["not-yet-valid"].leaf
    assert expired is not None and future is not None
    assert expired.not_before < expired.not_after < now
    assert now < future.not_before < future.not_after
    for leaf in (pki.server, pki.client):
        assert leaf.not_before < now < leaf.not_after
        assert leaf.not_after <= pki.intermediate.not_after


# ---------------------------------------------------------------------------
# Files


def test_written_files(pki: SessionPKI) -> None:
    assert pki.root_ca_file.read_bytes() == pki.root.cert_pem.bytes()
    assert pki.server_cert_file in pki.files and pki.server_key_file in pki.files
    for path in pki.files:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.name.endswith("-key.pem"):
            assert mode == 0o600, path
        else:
            assert mode & 0o077 == 0o044, path  # certificates are public


def test_chain_files_hold_leaf_and_intermediate(pki: SessionPKI) -> None:
    for path, leaf in [(pki.server_cert_file, pki.server), (pki.client_cert_file, pki.client)]:
        certs = x509.load_pem_x509_certificates(path.read_bytes())
        assert certs == [leaf.cert, pki.intermediate.cert]  # the root is never sent
    bare = pki.bad_clients["missing-intermediate"]
    assert bare.cert_file is not None and bare.leaf is not None
    assert x509.load_pem_x509_certificates(bare.cert_file.read_bytes()) == [bare.leaf.cert]
    assert pki.bad_clients["no-certificate"].cert_file is None


def test_no_ca_key_on_disk(pki: SessionPKI) -> None:
    on_disk: list[bytes] = []
    for path in pki.directory.rglob("*"):
        text = path.read_text()
        blocks = re.findall(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", text, re.S
        )
        assert len(blocks) == text.count("PRIVATE KEY-----") // 2
        for block in blocks:
            key = serialization.load_pem_private_key(block.encode(), password=None)
            on_disk.append(_public_der(key.public_key()))
    leaf_keys = {_public_der(leaf.cert.public_key()) for leaf in pki.leaves}
    assert sorted(on_disk) == sorted(leaf_keys)  # every leaf key once, nothing else
    unrelated = pki.bad_clients["unrelated-ca"].leaf
    assert unrelated is not None
    ca_certs = [pki.root.cert, pki.intermediate.cert, *unrelated.chain]
    assert not {_public_der(c.public_key()) for c in ca_certs} & set(on_disk)


def test_ca_exposes_no_private_key(pki: SessionPKI) -> None:
    for ca in (pki.root, pki.intermediate):
        for name in dir(ca):
            if name.startswith("_"):
                continue
            value = getattr(ca, name)
            assert not isinstance(value, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey), name
            assert not (isinstance(value, PemBlob) and value.private), name
    assert "PRIVATE" not in repr(pki.server.key_pem)


def test_write_to_private_replaces_a_readable_file(tmp_path: Path) -> None:
    target = tmp_path / "key.pem"
    target.write_text("old")
    target.chmod(0o644)
    PemBlob(b"secret", private=True).write_to(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_bytes() == b"secret"
    # private=False cannot loosen a key blob
    PemBlob(b"secret", private=True).write_to(target, private=False)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_leaf_write_and_tempfile(tmp_path: Path, pki: SessionPKI) -> None:
    files = pki.client.write(tmp_path, "me", include_chain=False)
    assert x509.load_pem_x509_certificates(files.cert.read_bytes()) == [pki.client.cert]
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    with pki.client.key_pem.tempfile(dir=tmp_path) as path:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not path.exists()


def test_cleanup_removes_everything(tmp_path: Path) -> None:
    directory = tmp_path / "made-by-pki"
    session = SessionPKI(directory)
    written = session.files
    assert written and all(p.exists() for p in written)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    session.cleanup()
    assert not any(p.exists() for p in written)
    assert not directory.exists()
    session.cleanup()  # idempotent


def test_cleanup_keeps_a_directory_it_did_not_create(tmp_path: Path) -> None:
    (tmp_path / "theirs.txt").write_text("keep me")
    with SessionPKI(tmp_path) as session:
        written = session.files
    assert not any(p.exists() for p in written)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["theirs.txt"]


def test_generation_is_fast(tmp_path: Path) -> None:
    start = time.perf_counter()
    with SessionPKI(tmp_path / "pki", server_names=["a.test", "b.test"]):
        elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"SessionPKI took {elapsed:.3f}s"


# ---------------------------------------------------------------------------
# Errors the user can fix


def test_errors(tmp_path: Path, pki: SessionPKI) -> None:
    with pytest.raises(CompatError, match="non-empty list"):
        pki.intermediate.issue_server([])
    with pytest.raises(CompatError, match="non-empty list"):
        pki.intermediate.issue_server("localhost")
    with pytest.raises(CompatError, match="neither an IP"):
        pki.intermediate.issue_server(["bad name"])
    with pytest.raises(CompatError, match="unknown key type"):
        CertificateAuthority.root(key_type="dsa")  # type: ignore[arg-type]
    with pytest.raises(CompatError, match="path length"):
        pki.intermediate.intermediate("too deep")
    now = dt.datetime.now(dt.timezone.utc)
    with pytest.raises(CompatError, match="later than"):
        pki.intermediate.issue_client("c", not_before=now, not_after=now)
    with pytest.raises(CompatError, match="unknown bad client kind"):
        pki.client_context("nope")
    with pytest.raises(CompatError, match="server_names"):
        SessionPKI(tmp_path, server_names="gateway.test")


def test_reprs_do_not_leak(pki: SessionPKI) -> None:
    assert isinstance(pki.server, LeafCertificate)
    for obj in (pki, pki.root, pki.server, pki.server.key_pem):
        assert "BEGIN" not in repr(obj)
