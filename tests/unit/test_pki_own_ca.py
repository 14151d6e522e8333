"""Bring your own CA: a team's root certificate and key files drive the session PKI."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.pki import CertificateAuthority, SessionPKI
from tests.helpers.team_ca import team_ca_files


def test_session_pki_from_team_ca_files(tmp_path: Path) -> None:
    cert_file, key_file, team_cert = team_ca_files(tmp_path)
    root = CertificateAuthority.from_files(cert_file, key_file)
    with SessionPKI(tmp_path / "pki", root=root) as pki:
        assert pki.root.cert == team_cert
        pki.intermediate.cert.verify_directly_issued_by(team_cert)
        assert pki.root_ca_file.read_bytes() == cert_file.read_bytes()
        # the team's key is not copied into the session directory
        written = b"".join(path.read_bytes() for path in pki.files)
        assert key_file.read_bytes().strip() not in written


def test_key_of_another_ca_is_refused(tmp_path: Path) -> None:
    cert_file, _, _ = team_ca_files(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    _, other_key, _ = team_ca_files(other)
    with pytest.raises(CompatError, match="does not belong to the CA certificate"):
        CertificateAuthority.from_files(cert_file, other_key)


def test_non_ca_certificate_is_refused(tmp_path: Path) -> None:
    cert_file, key_file, _ = team_ca_files(tmp_path, ca=False)
    with pytest.raises(CompatError, match="is not a CA"):
        CertificateAuthority.from_files(cert_file, key_file)


def test_missing_files_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(CompatError, match="cannot read the CA files"):
        CertificateAuthority.from_files(tmp_path / "nope.pem", tmp_path / "nope-key.pem")
