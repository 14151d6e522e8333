"""What a base image is: its facts (libc, shell, tools, CA bundle, zoneinfo, user)
read from its files, never by running it."""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from pytest_traefik_compat.bases.files import ImageFiles
from pytest_traefik_compat.bases.startcheck import GLIBC_LOADER, MUSL_LOADER

# Where Go's crypto/x509 looks for a bundle on Linux, in its order.
GO_CERT_FILES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
)
PATH_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
DEFAULT_PATH = ":".join(PATH_DIRS)


@dataclass
class BaseFacts:
    """What an image really contains, read from its files."""

    name: str
    source: str
    reference: str
    image_id: str
    size_bytes: int
    layers: int
    libc_kind: str  # "glibc", "musl", "glibc+musl" or "none"
    libc_version: str | None
    loaders: list[str]
    shell: str | None  # path that /bin/sh resolves to, or None
    shell_kind: str | None  # bash, dash, busybox
    bash: bool
    curl: str | None
    wget: str | None
    busybox: bool
    ca_bundle: str | None
    zoneinfo: bool
    default_user: str
    default_uid: int | None
    os_name: str | None
    file_count: int
    provenance: str
    recipe_hash: str | None = None
    packages: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BaseImage:
    """A base ready to build on: its tag or reference, facts and file index."""

    name: str
    source: str
    reference: str
    facts: BaseFacts
    files: ImageFiles
    built_now: bool = False
    seconds: float = 0.0
    # Registry digest, pull figures and lock notes, for each record's provenance.
    pinned: dict[str, Any] = field(default_factory=dict)


def _which(files: ImageFiles, program: str) -> str | None:
    return next((f"{d}/{program}" for d in PATH_DIRS if files.is_file(f"{d}/{program}")), None)


def _libc_version(files: ImageFiles, kind: str) -> str | None:
    if kind.startswith("glibc"):
        for path in files.find("libc.so.6"):
            blob = files.read(path) or b""
            match = re.search(rb"release version (\d+\.\d+)", blob)
            if match:
                return match.group(1).decode()
    if "musl" in kind:
        blob = files.read(MUSL_LOADER) or b""
        # musl embeds its version as a bare NUL-terminated string.
        match = re.search(rb"\x00(1\.\d+\.\d+)\x00", blob)
        if match:
            return match.group(1).decode()
    return None


def _user(files: ImageFiles, configured: str) -> tuple[str, int | None]:
    spec = (configured or "root").split(":")[0]
    passwd = (files.read("/etc/passwd") or b"").decode("utf-8", "replace")
    entries = [line.split(":") for line in passwd.splitlines() if line.count(":") >= 3]
    if spec.isdigit():
        uid = int(spec)
        name = next((e[0] for e in entries if e[2] == spec), None)
        return (f"{name} ({uid})" if name else str(uid)), uid
    found = next((e for e in entries if e[0] == spec), None)
    if found is not None and found[2].isdigit():
        return f"{spec} ({found[2]})", int(found[2])
    return (spec, 0) if spec == "root" else (spec, None)


def _os_name(files: ImageFiles) -> str | None:
    blob = files.read("/etc/os-release") or files.read("/usr/lib/os-release")
    if not blob:
        return None
    match = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', blob.decode("utf-8", "replace"), re.M)
    return match.group(1) if match else None


def read_facts(
    *,
    name: str,
    source: str,
    reference: str,
    attrs: dict[str, Any],
    files: ImageFiles,
    provenance: str,
    recipe_hash: str | None = None,
    packages: dict[str, str] | None = None,
) -> BaseFacts:
    """Derive facts from the image's inspect data and its file index."""
    loaders = [p for p in (GLIBC_LOADER, MUSL_LOADER) if files.exists(p)]
    kinds = [k for k, p in (("glibc", GLIBC_LOADER), ("musl", MUSL_LOADER)) if p in loaders]
    libc_kind = "+".join(kinds) or "none"
    shell = files.resolve("/bin/sh") if files.is_file("/bin/sh") else None
    shell_kind = None
    if shell is not None:
        base = os.path.basename(shell)
        shell_kind = "busybox" if "busybox" in base else base
    config = attrs.get("Config") or {}
    user, uid = _user(files, config.get("User") or "")
    return BaseFacts(
        name=name,
        source=source,
        reference=reference,
        image_id=attrs.get("Id", ""),
        size_bytes=int(attrs.get("Size", 0)),
        layers=len((attrs.get("RootFS") or {}).get("Layers") or []),
        libc_kind=libc_kind,
        libc_version=_libc_version(files, libc_kind),
        loaders=loaders,
        shell=shell,
        shell_kind=shell_kind,
        bash=_which(files, "bash") is not None,
        curl=_which(files, "curl"),
        wget=_which(files, "wget"),
        busybox=files.is_file("/bin/busybox"),
        ca_bundle=files.first_existing(GO_CERT_FILES),
        zoneinfo=files.is_file("/usr/share/zoneinfo/America/New_York"),
        default_user=user,
        default_uid=uid,
        os_name=_os_name(files),
        file_count=len(files),
        provenance=provenance,
        recipe_hash=recipe_hash,
        packages=dict(packages or {}),
    )


# --------------------------------------------------------------------------- recipes
