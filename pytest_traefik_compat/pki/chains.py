"""Client chains that break a CA constraint: the ones :mod:`pki` refuses to make.

``CertificateAuthority.intermediate`` will not sign a CA beyond its own path length,
and nothing in :mod:`pki` writes name constraints, so a verifier's handling of them
needs certificates built by hand. Each chain here is complete (the client sends leaf
and intermediates), under its own fresh root, so the only thing wrong is the
constraint:

- ``pathlen``: root -> intermediate (pathLen 0) -> sub-CA -> leaf: one CA too many;
- ``name``: root -> intermediate permitting only DNS ``allowed.compat.test`` -> leaf
  with DNS ``evil.example``.

Go's crypto/x509 (Traefik) refuses both as verification errors other than an
unknown authority, which its TLS server reports as the ``bad_certificate`` alert.
Keys stay in memory, like :mod:`pki`'s: the root comes back as a
:class:`CertificateAuthority` and the client as a :class:`LeafCertificate`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pytest_traefik_compat.pki import CertificateAuthority, LeafCertificate

__all__ = ["VIOLATIONS", "Violation", "constraint_breaking_client"]

Violation = Literal["pathlen", "name"]
VIOLATIONS: tuple[Violation, ...] = ("pathlen", "name")
PERMITTED_NAME = "allowed.compat.test"
OUTSIDE_NAME = "evil.example"


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _certificate(
    subject: str,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    path_length: int | None = None,
    permitted_dns: str | None = None,
    dns: Sequence[str] = (),
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = issuer if issuer else (name, key)
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    if permitted_dns:
        builder = builder.add_extension(
            x509.NameConstraints(
                permitted_subtrees=[x509.DNSName(permitted_dns)], excluded_subtrees=None
            ),
            critical=True,
        )
    if dns:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def constraint_breaking_client(
    violation: Violation,
) -> tuple[CertificateAuthority, LeafCertificate]:
    """A fresh root (trust it on the server: ``root.cert_pem``) and a client whose
    complete chain under it breaks ``violation`` ("pathlen" or "name")."""
    root_key, inter_key, leaf_key = _key(), _key(), _key()
    root = _certificate(f"{violation} root", None, root_key, ca=True)
    intermediates: list[x509.Certificate]
    leaf: x509.Certificate
    if violation == "pathlen":
        inter = _certificate(
            "pathlen-0 intermediate", (root.subject, root_key), inter_key, ca=True, path_length=0
        )
        sub_key = _key()
        sub = _certificate(
            "sub CA under pathlen 0", (inter.subject, inter_key), sub_key, ca=True, path_length=0
        )
        leaf = _certificate("client under too many CAs", (sub.subject, sub_key), leaf_key, ca=False)
        intermediates = [sub, inter]
    elif violation == "name":
        inter = _certificate(
            "name-constrained intermediate",
            (root.subject, root_key),
            inter_key,
            ca=True,
            path_length=0,
            permitted_dns=PERMITTED_NAME,
        )
        leaf = _certificate(
            "client outside the constraint",
            (inter.subject, inter_key),
            leaf_key,
            ca=False,
            dns=[OUTSIDE_NAME],
        )
        intermediates = [inter]
    else:
        raise ValueError(f"unknown violation {violation!r}; valid: {', '.join(VIOLATIONS)}")
    return CertificateAuthority(root, root_key), LeafCertificate(leaf, leaf_key, intermediates)
