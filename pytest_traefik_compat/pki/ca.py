"""Certificate authorities and the leaves they issue: keys, names, extensions.

A CA's private key has no accessor and is never serialized: it lives only in this
process's memory, so it is never written to disk and never enters an image.
"""

from __future__ import annotations

import builtins
import datetime as dt
import ipaddress
import ssl
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, NamedTuple, TypeAlias

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.pki.pem import PathLike, PemBlob, _cert_pem

KeyType = Literal["ecdsa-p256", "ecdsa-p384", "rsa-2048"]
KEY_TYPES: tuple[KeyType, ...] = ("ecdsa-p256", "ecdsa-p384", "rsa-2048")

SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH

# A test session rarely lasts a day; a week leaves room for slow CI without
# producing certificates worth stealing.
DEFAULT_CA_VALIDITY = dt.timedelta(days=7)
# Backdate notBefore so a container clock a little behind the host still accepts.
_CLOCK_SKEW = dt.timedelta(hours=1)
_PROJECT = "pytest-traefik-compat"

_PrivateKey: TypeAlias = "ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey"


# ---------------------------------------------------------------------------
# Building blocks


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _utc(when: dt.datetime) -> dt.datetime:
    # cryptography reads naive datetimes as UTC; compare them the same way.
    return when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when


def _generate_key(key_type: str) -> _PrivateKey:
    if key_type == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ecdsa-p384":
        return ec.generate_private_key(ec.SECP384R1())
    if key_type == "rsa-2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise CompatError(f"unknown key type {key_type!r}; use one of {', '.join(KEY_TYPES)}")


def _hash_for(key: _PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


def _name(common_name: str, organization: str | None) -> x509.Name:
    if not 1 <= len(common_name) <= 64:
        raise CompatError(f"common name must be 1-64 characters, got {common_name!r}")
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attrs)


def _general_names(names: Sequence[str]) -> list[x509.GeneralName]:
    result: list[x509.GeneralName] = []
    for name in dict.fromkeys(names):  # dedupe, keep order
        try:
            result.append(x509.IPAddress(ipaddress.ip_address(name)))
            continue
        except ValueError:
            pass
        if not name or not name.isascii() or any(c.isspace() for c in name):
            # DNSName wants the ASCII (A-label) form; IDNA encoding is the caller's call.
            raise CompatError(f"certificate name {name!r} is neither an IP nor an ASCII DNS name")
        result.append(x509.DNSName(name))
    return result


def _ski(key: _PrivateKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


# ---------------------------------------------------------------------------
# Leaves


class LeafFiles(NamedTuple):
    cert: Path
    key: Path


class LeafCertificate:
    """An end-entity certificate, its key, and the intermediates it must send."""

    def __init__(
        self, cert: x509.Certificate, key: _PrivateKey, chain: Sequence[x509.Certificate]
    ) -> None:
        self.cert = cert
        self._key = key
        # Intermediates only: the root is the peer's trust anchor, never sent.
        self.chain: tuple[x509.Certificate, ...] = tuple(chain)

    @property
    def cert_pem(self) -> PemBlob:
        """The leaf alone."""
        return _cert_pem(self.cert)

    @property
    def chain_pem(self) -> PemBlob:
        """The leaf followed by its intermediates."""
        return _cert_pem(self.cert, *self.chain)

    @property
    def key_pem(self) -> PemBlob:
        data = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return PemBlob(data, private=True)

    @property
    def subject(self) -> str:
        return self.cert.subject.rfc4514_string()

    @property
    def not_before(self) -> dt.datetime:
        return self.cert.not_valid_before_utc

    @property
    def not_after(self) -> dt.datetime:
        return self.cert.not_valid_after_utc

    @property
    def fingerprint_sha256(self) -> str:
        return self.cert.fingerprint(hashes.SHA256()).hex()

    def write(self, directory: PathLike, stem: str, *, include_chain: bool = True) -> LeafFiles:
        """Write ``<stem>.pem`` (leaf [+ intermediates]) and ``<stem>-key.pem`` (0600)."""
        directory = Path(directory)
        certs = self.chain_pem if include_chain else self.cert_pem
        return LeafFiles(
            cert=certs.write_to(directory / f"{stem}.pem"),
            key=self.key_pem.write_to(directory / f"{stem}-key.pem"),
        )

    def configure_client(self, ctx: ssl.SSLContext, *, include_chain: bool = True) -> None:
        """Present this leaf as the client certificate (with or without intermediates)."""
        self._load_into(ctx, include_chain=include_chain)

    def configure_server(self, ctx: ssl.SSLContext) -> None:
        self._load_into(ctx, include_chain=True)

    def _load_into(self, ctx: ssl.SSLContext, *, include_chain: bool) -> None:
        # ssl only loads certificates from files: stage them in a private (0700)
        # directory that is gone as soon as OpenSSL has read them.
        with tempfile.TemporaryDirectory(prefix="ptc-pki-") as tmp:
            files = self.write(tmp, "leaf", include_chain=include_chain)
            ctx.load_cert_chain(certfile=files.cert, keyfile=files.key)

    def __repr__(self) -> str:
        return f"LeafCertificate(subject={self.subject!r})"


# ---------------------------------------------------------------------------
# Certificate authorities


class CertificateAuthority:
    """A root or intermediate CA. Its private key has no accessor and is never written."""

    def __init__(
        self,
        cert: x509.Certificate,
        key: _PrivateKey,
        *,
        parent: CertificateAuthority | None = None,
        key_type: KeyType = "ecdsa-p256",
    ) -> None:
        self.cert = cert
        self._key = key
        self.parent = parent
        self.key_type = key_type

    # -- construction ------------------------------------------------------

    @classmethod
    def from_pem(
        cls,
        cert_pem: builtins.bytes,
        key_pem: builtins.bytes,
        *,
        password: builtins.bytes | None = None,
    ) -> CertificateAuthority:
        """A team's existing CA (bring your own): its certificate and private key.

        The key stays in memory like a generated one; nothing here writes it.
        """
        try:
            cert = x509.load_pem_x509_certificate(cert_pem)
            key = serialization.load_pem_private_key(key_pem, password=password)
        except (ValueError, TypeError) as error:
            raise CompatError(f"cannot load the CA certificate or key: {error}") from None
        if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
            raise CompatError("the CA key must be an EC or RSA private key")
        if key.public_key().public_numbers() != cert.public_key().public_numbers():  # type: ignore[union-attr]
            raise CompatError("the CA key does not belong to the CA certificate")
        try:
            constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            constraints = None
        if constraints is None or not constraints.ca:
            raise CompatError("the certificate is not a CA (BasicConstraints ca=TRUE missing)")
        key_type: KeyType = (
            "rsa-2048"
            if isinstance(key, rsa.RSAPrivateKey)
            else ("ecdsa-p384" if key.curve.name == "secp384r1" else "ecdsa-p256")
        )
        return cls(cert, key, key_type=key_type)

    @classmethod
    def from_files(
        cls, cert_file: PathLike, key_file: PathLike, *, password: builtins.bytes | None = None
    ) -> CertificateAuthority:
        try:
            cert_pem, key_pem = Path(cert_file).read_bytes(), Path(key_file).read_bytes()
        except OSError as error:
            raise CompatError(f"cannot read the CA files: {error}") from None
        return cls.from_pem(cert_pem, key_pem, password=password)

    @classmethod
    def root(
        cls,
        common_name: str = f"{_PROJECT} root CA",
        *,
        organization: str | None = _PROJECT,
        valid_for: dt.timedelta = DEFAULT_CA_VALIDITY,
        key_type: KeyType = "ecdsa-p256",
    ) -> CertificateAuthority:
        key = _generate_key(key_type)
        name = _name(common_name, organization)
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW)
            .not_valid_after(now + valid_for)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_CA_KEY_USAGE, critical=True)
            .add_extension(_ski(key), critical=False)
            .sign(key, _hash_for(key))
        )
        return cls(cert, key, key_type=key_type)

    def intermediate(
        self,
        common_name: str,
        *,
        organization: str | None = _PROJECT,
        path_length: int = 0,
        valid_for: dt.timedelta | None = None,
        key_type: KeyType | None = None,
    ) -> CertificateAuthority:
        """A CA signed by this one; with path_length 0 it may issue only leaves."""
        own = self.cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        if own.path_length is not None and own.path_length <= path_length:
            raise CompatError(
                f"{self.subject} has path length {own.path_length} and cannot issue a CA "
                f"with path length {path_length}"
            )
        key_type = key_type or self.key_type
        key = _generate_key(key_type)
        not_before = _now() - _CLOCK_SKEW
        not_after = self.not_after if valid_for is None else not_before + valid_for
        builder = (
            self._builder(_name(common_name, organization), key, not_before, not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(_CA_KEY_USAGE, critical=True)
        )
        return CertificateAuthority(self._sign(builder), key, parent=self, key_type=key_type)

    def issue_server(
        self,
        names: Sequence[str],
        *,
        common_name: str | None = None,
        organization: str | None = None,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        eku: Sequence[x509.ObjectIdentifier] = (SERVER_AUTH,),
        key_type: KeyType | None = None,
    ) -> LeafCertificate:
        """A server leaf whose SANs are ``names`` (IP literals become IP SANs)."""
        if isinstance(names, str) or not names:
            raise CompatError("a server certificate needs a non-empty list of names")
        if common_name is None:
            # The CN is only a label (verifiers read SANs); it must fit in 64 chars.
            common_name = names[0] if len(names[0]) <= 64 else f"{_PROJECT} server"
        return self._issue(
            common_name=common_name,
            organization=organization,
            names=names,
            not_before=not_before,
            not_after=not_after,
            eku=eku,
            key_type=key_type,
        )

    def issue_client(
        self,
        common_name: str,
        *,
        organization: str | None = None,
        names: Sequence[str] = (),
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        eku: Sequence[x509.ObjectIdentifier] = (CLIENT_AUTH,),
        key_type: KeyType | None = None,
    ) -> LeafCertificate:
        """A client leaf; pass not_before/not_after to make expired or future ones."""
        return self._issue(
            common_name=common_name,
            organization=organization,
            names=names,
            not_before=not_before,
            not_after=not_after,
            eku=eku,
            key_type=key_type,
        )

    # -- use ---------------------------------------------------------------

    def configure_trust(self, ctx: ssl.SSLContext) -> None:
        """Trust this CA (meant for a root: OpenSSL anchors only self-signed certs)."""
        ctx.load_verify_locations(cadata=self.cert_pem.text())

    @property
    def cert_pem(self) -> PemBlob:
        return _cert_pem(self.cert)

    @property
    def subject(self) -> str:
        return self.cert.subject.rfc4514_string()

    @property
    def is_root(self) -> bool:
        return self.parent is None

    @property
    def not_before(self) -> dt.datetime:
        return self.cert.not_valid_before_utc

    @property
    def not_after(self) -> dt.datetime:
        return self.cert.not_valid_after_utc

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """What a leaf of this CA must send after itself: this CA up to, not incl., the root."""
        if self.parent is None:
            return ()
        return (self.cert, *self.parent.chain)

    def __repr__(self) -> str:
        return f"CertificateAuthority(subject={self.subject!r}, root={self.is_root})"

    # -- internals ---------------------------------------------------------

    def _builder(
        self,
        subject: x509.Name,
        key: _PrivateKey,
        not_before: dt.datetime,
        not_after: dt.datetime,
    ) -> x509.CertificateBuilder:
        if _utc(not_after) <= _utc(not_before):
            raise CompatError(
                f"not_after ({not_after}) must be later than not_before ({not_before})"
            )
        try:
            issuer_ski = self.cert.extensions.get_extension_for_class(
                x509.SubjectKeyIdentifier
            ).value
        except x509.ExtensionNotFound:
            # A team's own CA may lack an SKI: derive it from its public key.
            issuer_ski = x509.SubjectKeyIdentifier.from_public_key(self.cert.public_key())
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(_ski(key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski),
                critical=False,
            )
        )

    def _sign(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        return builder.sign(self._key, _hash_for(self._key))

    def _issue(
        self,
        *,
        common_name: str,
        organization: str | None,
        names: Sequence[str],
        not_before: dt.datetime | None,
        not_after: dt.datetime | None,
        eku: Sequence[x509.ObjectIdentifier],
        key_type: KeyType | None,
    ) -> LeafCertificate:
        key = _generate_key(key_type or self.key_type)
        builder = self._builder(
            _name(common_name, organization),
            key,
            _now() - _CLOCK_SKEW if not_before is None else not_before,
            self.not_after if not_after is None else not_after,
        )
        builder = builder.add_extension(
            x509.BasicConstraints(ca=False, path_length=None), critical=True
        ).add_extension(
            x509.KeyUsage(
                digital_signature=True,
                # Only RSA keys can be used for TLS 1.2 RSA key transport.
                key_encipherment=isinstance(key, rsa.RSAPrivateKey),
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        if eku:  # an empty list means no EKU extension, i.e. any purpose
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
        if names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(_general_names(names)), critical=False
            )
        return LeafCertificate(self._sign(builder), key, self.chain)


_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    key_cert_sign=True,
    crl_sign=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    encipher_only=False,
    decipher_only=False,
)
