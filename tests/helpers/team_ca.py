"""A team's own CA built by hand with ``cryptography``, as a tool other than this project
would make it: the tests of "bring your own CA" need a certificate and a private key file
that ``pytest_traefik_compat.pki`` did not write (it never writes a CA key), and a
self-signed certificate that is not a CA at all."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def team_ca_files(directory: Path, *, ca: bool = True) -> tuple[Path, Path, x509.Certificate]:
    """A self-signed P-256 certificate "team root", valid for a day, and its key, as PEM.

    Args:
        directory: where ``team-ca.pem`` and ``team-ca-key.pem`` (PKCS#8, unencrypted) go.
        ca: the BasicConstraints ``ca`` flag; False makes a certificate the PKI must refuse.

    Returns:
        The certificate file, the key file and the certificate.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "team root")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "team-ca.pem", directory / "team-ca-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file, cert
