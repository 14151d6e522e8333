"""The base image catalogue: each variant's registry reference and local recipe.

Recipes are plain data so their hash names the cached image: change a package list,
a generated file or the Dockerfile and the tag changes with it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Literal

RecipeKind = Literal["mmdebstrap", "debs", "empty"]

# Bump when the way recipes are turned into images changes.
RECIPE_SCHEMA = 1
DEBIAN_SUITE = "bookworm"

_PASSWD_DISTROLESS = (
    "root:x:0:0:root:/root:/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
    "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
)
_GROUP_DISTROLESS = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"
_PASSWD_ALPINE = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n"
_GROUP_ALPINE = "root:x:0:root\nnobody:x:65534:\n"
_NSSWITCH = "hosts: files dns\nnetworks: files\npasswd: files\ngroup: files\n"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def _os_release(pretty: str, ident: str) -> str:
    return (
        f'PRETTY_NAME="{pretty}"\nNAME="{pretty}"\nID={ident}\n'
        'HOME_URL="https://pypi.org/project/pytest-traefik-compat/"\n'
    )


@dataclass(frozen=True)
class Recipe:
    """How to make a variant locally from Debian's packages, with no registry."""

    kind: RecipeKind
    packages: tuple[str, ...] = ()
    # Files written into the root file system: path -> content.
    files: tuple[tuple[str, str], ...] = ()
    # Symlinks created in the root file system: path -> target.
    symlinks: tuple[tuple[str, str], ...] = ()
    directories: tuple[tuple[str, int, int], ...] = ()  # (path, mode, uid)
    busybox_applets: bool = False
    ca_bundle: bool = False
    env: tuple[tuple[str, str], ...] = ()
    user: str = ""
    cmd: tuple[str, ...] = ()
    mmdebstrap_args: tuple[str, ...] = ()
    # The Debian release the packages come from; "" means DEBIAN_SUITE (bookworm).
    suite: str = ""

    @property
    def debian_suite(self) -> str:
        return self.suite or DEBIAN_SUITE

    def digest(self, variant: str) -> str:
        payload = {"schema": RECIPE_SCHEMA, "suite": self.debian_suite, "variant": variant}
        fields = asdict(self)
        # Only the resolved suite counts, so recipes that predate the field keep
        # their hash (and their cached images).
        fields.pop("suite")
        payload.update(fields)
        blob = json.dumps(payload, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


@dataclass(frozen=True)
class Variant:
    name: str
    summary: str
    registry_ref: str
    recipe: Recipe
    provenance_note: str = ""
    aliases: tuple[str, ...] = field(default=())

    @property
    def recipe_hash(self) -> str:
        return self.recipe.digest(self.name)

    @property
    def local_tag(self) -> str:
        return f"pytest-traefik-compat/base-{self.name}:{self.recipe_hash[:16]}"


_SLIM_MMDEBSTRAP_ARGS = (
    "--variant=minbase",
    # Merged /usr through the hook, as debian:12 does; otherwise apt
    # satisfies it with usrmerge, which drags in the whole of perl.
    "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/info/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "--dpkgopt=path-include=/usr/share/locale/locale.alias",
    "--dpkgopt=path-exclude=/usr/share/lintian/*",
    '--aptopt=Acquire::Languages "none"',
    '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*',
)

_DISTROLESS_FILES = (
    ("/etc/passwd", _PASSWD_DISTROLESS),
    ("/etc/group", _GROUP_DISTROLESS),
    ("/etc/nsswitch.conf", _NSSWITCH),
)
_DISTROLESS_DIRS = (("/tmp", 0o1777, 0), ("/home/nonroot", 0o700, 65532), ("/root", 0o700, 0))
_DISTROLESS_PACKAGES = ("base-files", "netbase", "tzdata", "media-types", "ca-certificates")

VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant(
            name="alpine",
            summary="musl libc + static BusyBox + CA bundle, no tzdata",
            registry_ref="alpine:3.21",
            provenance_note=(
                "local: Alpine-like root fs from Debian's musl and busybox-static "
                "packages, NOT Alpine Linux"
            ),
            recipe=Recipe(
                kind="debs",
                packages=("musl", "busybox-static", "ca-certificates"),
                files=(
                    ("/etc/passwd", _PASSWD_ALPINE),
                    ("/etc/group", _GROUP_ALPINE),
                    ("/etc/nsswitch.conf", _NSSWITCH),
                    (
                        "/etc/os-release",
                        _os_release(
                            "Alpine-like musl/BusyBox (Debian packages, not Alpine Linux)",
                            "alpine-like",
                        ),
                    ),
                ),
                directories=(("/tmp", 0o1777, 0), ("/root", 0o700, 0)),
                busybox_applets=True,
                ca_bundle=True,
                cmd=("/bin/sh",),
            ),
        ),
        Variant(
            name="debian-slim",
            summary="Debian 12 minbase: glibc, bash, tzdata; no curl, wget or CA bundle",
            registry_ref="debian:12-slim",
            provenance_note="local: Debian 12 minbase via mmdebstrap",
            recipe=Recipe(
                kind="mmdebstrap",
                mmdebstrap_args=(
                    "--variant=minbase",
                    # Merged /usr through the hook, as debian:12 does; otherwise apt
                    # satisfies it with usrmerge, which drags in the whole of perl.
                    "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
                    "--dpkgopt=path-exclude=/usr/share/doc/*",
                    "--dpkgopt=path-exclude=/usr/share/man/*",
                    "--dpkgopt=path-exclude=/usr/share/info/*",
                    "--dpkgopt=path-exclude=/usr/share/locale/*",
                    "--dpkgopt=path-include=/usr/share/locale/locale.alias",
                    "--dpkgopt=path-exclude=/usr/share/lintian/*",
                    '--aptopt=Acquire::Languages "none"',
                    '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*',
                ),
                cmd=("bash",),
            ),
        ),
        Variant(
            name="debian-11-slim",
            summary="Debian 11 (bullseye) minbase: glibc 2.31, bash, tzdata; no CA bundle",
            registry_ref="debian:11-slim",
            provenance_note="local: Debian 11 (bullseye) minbase via mmdebstrap",
            recipe=Recipe(
                kind="mmdebstrap",
                suite="bullseye",
                # bullseye predates merged /usr by default: keep its own layout.
                mmdebstrap_args=tuple(
                    a for a in _SLIM_MMDEBSTRAP_ARGS if not a.startswith("--hook-dir")
                ),
                cmd=("bash",),
            ),
        ),
        Variant(
            name="debian-13-slim",
            summary="Debian 13 (trixie) minbase: glibc 2.41, bash, tzdata; no CA bundle",
            registry_ref="debian:13-slim",
            provenance_note="local: Debian 13 (trixie) minbase via mmdebstrap",
            recipe=Recipe(
                kind="mmdebstrap",
                suite="trixie",
                # trixie's base-files merges /usr itself.
                mmdebstrap_args=tuple(
                    a for a in _SLIM_MMDEBSTRAP_ARGS if not a.startswith("--hook-dir")
                ),
                cmd=("bash",),
            ),
        ),
        Variant(
            name="distroless",
            summary="distroless static layout: no shell, no libc; CA bundle, tzdata, nonroot",
            registry_ref="gcr.io/distroless/static-debian12:nonroot",
            provenance_note="local: distroless static layout from Debian packages",
            recipe=Recipe(
                kind="debs",
                packages=_DISTROLESS_PACKAGES,
                files=_DISTROLESS_FILES,
                directories=_DISTROLESS_DIRS,
                ca_bundle=True,
                env=(("SSL_CERT_FILE", CA_BUNDLE),),
                user="65532:65532",
            ),
        ),
        Variant(
            name="distroless-base",
            summary="distroless plus glibc (libc6): no shell",
            registry_ref="gcr.io/distroless/base-debian12:nonroot",
            provenance_note="local: distroless layout plus Debian's libc6",
            recipe=Recipe(
                kind="debs",
                packages=(*_DISTROLESS_PACKAGES, "libc6"),
                files=_DISTROLESS_FILES,
                directories=_DISTROLESS_DIRS,
                ca_bundle=True,
                env=(("SSL_CERT_FILE", CA_BUNDLE),),
                user="65532:65532",
            ),
        ),
        Variant(
            name="scratch",
            summary="empty: nothing but what the image adds",
            registry_ref="scratch",
            provenance_note="local: empty image (FROM scratch)",
            recipe=Recipe(kind="empty"),
        ),
    )
}

VARIANT_NAMES: tuple[str, ...] = tuple(VARIANTS)
DEFAULT_VARIANTS: tuple[str, ...] = ("alpine", "debian-slim", "distroless")


def variant(name: str) -> Variant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise KeyError(f"unknown variant {name!r}; valid: {', '.join(VARIANT_NAMES)}") from None


Source = Literal["local", "registry"]
SOURCES: tuple[Source, ...] = ("local", "registry")


@dataclass(frozen=True)
class ImageSpec:
    """One base under test: a catalogue variant, or a user's ``name=image:ref``."""

    name: str
    reference: str | None = None  # set only for user-supplied images

    @property
    def is_custom(self) -> bool:
        return self.reference is not None

    def __str__(self) -> str:
        return self.name if self.reference is None else f"{self.name}={self.reference}"
