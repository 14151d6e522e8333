"""Bring your own CA: a team's root certificate and key files drive the session PKI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.pki import CertificateAuthority, SessionPKI


def _team_ca(directory: Path, *, ca: bool = True) -> tuple[Path, Path, x509.Certificate]:
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


def test_session_pki_from_team_ca_files(tmp_path: Path) -> None:
    cert_file, key_file, team_cert = _team_ca(tmp_path)
    root = CertificateAuthority.from_files(cert_file, key_file)
    with SessionPKI(tmp_path / "pki", root=root) as pki:
        assert pki.root.cert == team_cert
        pki.intermediate.cert.verify_directly_issued_by(team_cert)
        assert pki.root_ca_file.read_bytes() == cert_file.read_bytes()
        # the team's key is not copied into the session directory
        written = b"".join(path.read_bytes() for path in pki.files)
        assert key_file.read_bytes().strip() not in written


def test_key_of_another_ca_is_refused(tmp_path: Path) -> None:
    cert_file, _, _ = _team_ca(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    _, other_key, _ = _team_ca(other)
    with pytest.raises(CompatError, match="does not belong to the CA certificate"):
        CertificateAuthority.from_files(cert_file, other_key)


def test_non_ca_certificate_is_refused(tmp_path: Path) -> None:
    cert_file, key_file, _ = _team_ca(tmp_path, ca=False)
    with pytest.raises(CompatError, match="is not a CA"):
        CertificateAuthority.from_files(cert_file, key_file)


def test_missing_files_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(CompatError, match="cannot read the CA files"):
        CertificateAuthority.from_files(tmp_path / "nope.pem", tmp_path / "nope-key.pem")
