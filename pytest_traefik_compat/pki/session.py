"""The session's PKI: a root, an intermediate, the Traefik server leaf, the valid client
and the bad clients the suite must see refused, written to one directory and cleaned up."""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

from cryptography import x509

from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.pki.ca import (
    _PROJECT,
    CLIENT_AUTH,
    DEFAULT_CA_VALIDITY,
    SERVER_AUTH,
    CertificateAuthority,
    KeyType,
    LeafCertificate,
    LeafFiles,
    _now,
)
from pytest_traefik_compat.pki.contexts import client_context, server_context
from pytest_traefik_compat.pki.pem import PathLike

BadKind = Literal[
    "no-certificate",
    "unrelated-ca",
    "expired",
    "not-yet-valid",
    "server-auth-eku",
    "missing-intermediate",
]
BAD_CLIENT_KINDS: tuple[BadKind, ...] = (
    "no-certificate",
    "unrelated-ca",
    "expired",
    "not-yet-valid",
    "server-auth-eku",
    "missing-intermediate",
)


@dataclass(frozen=True)
class BadClient:
    """A client the server must refuse, and how it presents itself."""

    kind: BadKind
    description: str
    leaf: LeafCertificate | None  # None: send no certificate at all
    include_chain: bool  # False: send the leaf without its intermediates
    cert_file: Path | None = None
    key_file: Path | None = None

    def configure(self, ctx: ssl.SSLContext) -> None:
        if self.leaf is not None:
            self.leaf.configure_client(ctx, include_chain=self.include_chain)

    def context(
        self, trust: CertificateAuthority, *, max_version: ssl.TLSVersion | None = None
    ) -> ssl.SSLContext:
        return client_context(
            trust, self.leaf, max_version=max_version, include_chain=self.include_chain
        )


_BAD_DESCRIPTIONS: Mapping[BadKind, str] = {
    "no-certificate": "no client certificate at all",
    "unrelated-ca": "a chain from a separate root the server does not trust",
    "expired": "a valid chain whose leaf expired yesterday",
    "not-yet-valid": "a valid chain whose leaf becomes valid tomorrow",
    "server-auth-eku": "a valid chain whose leaf has only the serverAuth EKU",
    "missing-intermediate": "a valid leaf sent without its intermediate (server trusts the root)",
}


class SessionPKI:
    """Everything one test session needs, generated at once and written to ``directory``.

    The root signs an intermediate, which issues the Traefik server leaf, the valid
    client and the bad clients. Written: public CA certificates, leaf chains and leaf
    keys (0600). The CA keys are kept in memory only: no file here can sign anything.
    """

    ROOT_CA_FILE = "root-ca.pem"
    INTERMEDIATE_CA_FILE = "intermediate-ca.pem"

    def __init__(
        self,
        directory: PathLike,
        *,
        server_names: Sequence[str] = (),
        label: str | None = None,
        key_type: KeyType = "ecdsa-p256",
        valid_for: dt.timedelta = DEFAULT_CA_VALIDITY,
        root: CertificateAuthority | None = None,
    ) -> None:
        if isinstance(server_names, str):
            raise CompatError("server_names must be a list of names, not a string")
        # A random label tells apart the CAs of concurrent sessions in logs.
        self.label = label or secrets.token_hex(4)
        self.directory = Path(directory)
        self._created_dir = False
        self._written: list[Path] = []

        # A team's own root (CertificateAuthority.from_files) or a fresh one.
        self.root = root or CertificateAuthority.root(
            f"{_PROJECT} root CA {self.label}", valid_for=valid_for, key_type=key_type
        )
        self.intermediate = self.root.intermediate(f"{_PROJECT} intermediate CA {self.label}")
        self.server_names: tuple[str, ...] = tuple(
            dict.fromkeys([*server_names, "localhost", "127.0.0.1"])
        )
        self.server = self.intermediate.issue_server(
            self.server_names, common_name=f"{_PROJECT} server {self.label}"
        )
        self.client = self.intermediate.issue_client(
            f"{_PROJECT} client {self.label}", organization=_PROJECT
        )
        self._bad_specs = self._bad_leaves(key_type)

        try:
            self._write_all()
        except OSError as exc:
            self.cleanup()
            raise CompatError(
                f"cannot write session certificates into {self.directory}: {exc}"
            ) from exc

    def _bad_leaves(self, key_type: KeyType) -> dict[BadKind, tuple[LeafCertificate | None, bool]]:
        now = _now()
        day = dt.timedelta(days=1)
        # Distinct names from ours: OpenSSL must not even find a candidate issuer.
        unrelated = CertificateAuthority.root(
            f"unrelated root CA {self.label}", organization="unrelated", key_type=key_type
        ).intermediate(f"unrelated intermediate CA {self.label}", organization="unrelated")

        def bad(
            kind: str,
            ca: CertificateAuthority = self.intermediate,
            *,
            not_before: dt.datetime | None = None,
            not_after: dt.datetime | None = None,
            eku: Sequence[x509.ObjectIdentifier] = (CLIENT_AUTH,),
        ) -> LeafCertificate:
            return ca.issue_client(
                f"bad {kind} {self.label}",
                organization=_PROJECT,
                not_before=not_before,
                not_after=not_after,
                eku=eku,
            )

        return {
            "no-certificate": (None, False),
            "unrelated-ca": (bad("unrelated-ca", unrelated), True),
            "expired": (bad("expired", not_before=now - 2 * day, not_after=now - day), True),
            "not-yet-valid": (
                bad("not-yet-valid", not_before=now + day, not_after=now + 2 * day),
                True,
            ),
            "server-auth-eku": (bad("server-auth-eku", eku=(SERVER_AUTH,)), True),
            "missing-intermediate": (bad("missing-intermediate"), False),
        }

    def _write_all(self) -> None:
        if not self.directory.exists():
            self.directory.mkdir(mode=0o700, parents=True)
            self._created_dir = True
        d = self.directory
        self.root_ca_file = self._track(self.root.cert_pem.write_to(d / self.ROOT_CA_FILE))
        self.intermediate_ca_file = self._track(
            self.intermediate.cert_pem.write_to(d / self.INTERMEDIATE_CA_FILE)
        )
        self.server_cert_file, self.server_key_file = self._track_leaf(
            self.server.write(d, "server")
        )
        self.client_cert_file, self.client_key_file = self._track_leaf(
            self.client.write(d, "client")
        )
        bad_clients: dict[str, BadClient] = {}
        for kind, (leaf, include_chain) in self._bad_specs.items():
            files = (
                None
                if leaf is None
                else self._track_leaf(leaf.write(d, f"bad-{kind}", include_chain=include_chain))
            )
            bad_clients[kind] = BadClient(
                kind=kind,
                description=_BAD_DESCRIPTIONS[kind],
                leaf=leaf,
                include_chain=include_chain,
                cert_file=files.cert if files else None,
                key_file=files.key if files else None,
            )
        self.bad_clients: dict[str, BadClient] = bad_clients

    def _track(self, path: Path) -> Path:
        self._written.append(path)
        return path

    def _track_leaf(self, files: LeafFiles) -> LeafFiles:
        self._written.extend(files)
        return files

    # -- use ---------------------------------------------------------------

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file this object wrote (and cleanup() removes)."""
        return tuple(self._written)

    @property
    def leaves(self) -> tuple[LeafCertificate, ...]:
        """Every leaf whose key may be on disk: server, client and the bad clients."""
        bad = tuple(b.leaf for b in self.bad_clients.values() if b.leaf is not None)
        return (self.server, self.client, *bad)

    def client_context(
        self,
        bad: str | None = None,
        *,
        max_version: ssl.TLSVersion | None = None,
    ) -> ssl.SSLContext:
        """Trust the root; present the valid client, or the bad client named ``bad``."""
        if bad is None:
            return client_context(self.root, self.client, max_version=max_version)
        try:
            return self.bad_clients[bad].context(self.root, max_version=max_version)
        except KeyError:
            raise CompatError(
                f"unknown bad client kind {bad!r}; use one of {', '.join(BAD_CLIENT_KINDS)}"
            ) from None

    def server_context(
        self, *, min_version: ssl.TLSVersion | None = ssl.TLSVersion.TLSv1_3
    ) -> ssl.SSLContext:
        """A stand-in for Traefik's policy: TLS 1.3, client certificate from the root."""
        return server_context(self.server, require_client_from=self.root, min_version=min_version)

    def cleanup(self) -> None:
        """Remove every file written, and the directory if this object created it."""
        for path in reversed(self._written):
            path.unlink(missing_ok=True)
        self._written.clear()
        if self._created_dir:
            with contextlib.suppress(OSError):  # someone else put files there: keep it
                self.directory.rmdir()
            self._created_dir = False

    def __enter__(self) -> SessionPKI:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()

    def __repr__(self) -> str:
        return f"SessionPKI(directory={str(self.directory)!r}, label={self.label!r})"
