"""Registry mode: mirror rewriting, explicit pulls with progress, digests, the lock file.

Nothing here pulls unless asked: :func:`pull` is called only in registry mode (or for a
user's ``name=image:ref`` there). Every pull is bounded (the client's read timeout per
answer and a deadline over the whole stream), says what it moved (layers, bytes,
seconds) and ends in the digest the registry served (``RepoDigests``). Failures are
one line naming the reference and the mirror, in four classes: not found, auth
required, unreachable, TLS error. Must not import pytest, gateway or report.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker.errors
import requests

from pytest_traefik_compat import engine
from pytest_traefik_compat.errors import CompatError

PULL_TIMEOUT_S = 600.0
LOCK_VERSION = 1
DOCKER_HUB = "docker.io"
# Upstream registry -> path prefix under a pull-through mirror (how companies run one
# cache for several upstreams).
MIRROR_PATHS = {DOCKER_HUB: "", "gcr.io": ""}

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


# --------------------------------------------------------------------------- references


@dataclass(frozen=True)
class Reference:
    """A parsed image reference: registry host, repository path, tag and/or digest."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """registry/repository, as the engine names the repository (no tag)."""
        if self.registry == DOCKER_HUB:
            return self.repository.removeprefix("library/")
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.registry, self.repository, None, digest)


def parse_reference(text: str) -> Reference:
    """Docker's normalisation: ``alpine:3.21`` is ``docker.io/library/alpine:3.21``."""
    rest, _, digest = text.partition("@")
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, remainder
    else:
        registry, path = DOCKER_HUB, rest
    tag = None
    if ":" in path.rsplit("/", 1)[-1]:
        path, _, tag = path.rpartition(":")
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if not digest and not tag:
        tag = "latest"
    return Reference(registry, path, tag, digest or None)


def mirror_reference(text: str, mirror: str | None) -> str:
    """Rewrite a reference for a pull-through mirror: ``docker.io/library/X`` ->
    ``MIRROR/library/X``, ``gcr.io/distroless/X`` -> ``MIRROR/distroless/X``. Other
    registries, and every reference when there is no mirror, stay as they are."""
    if not mirror:
        return text
    ref = parse_reference(text)
    if ref.registry not in MIRROR_PATHS:
        return text
    return str(Reference(mirror, ref.repository, ref.tag, ref.digest))


def is_loopback_mirror(mirror: str) -> bool:
    host = mirror.rsplit(":", 1)[0] if re.search(r":\d+$", mirror) else mirror
    return host in ("localhost", "::1") or host.startswith("127.")


# --------------------------------------------------------------------------- errors

ERROR_CLASSES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("TLS error", r"x509|certificate|tls:|server gave HTTP response to HTTPS client"),
        ("auth required", r"unauthorized|authentication required|denied|no basic auth"),
        # 404 as a status only: a mirror's port (127.0.0.1:34049) must not match it.
        ("not found", r"manifest unknown|not found|does not exist|name unknown|\b404\b"),
        (
            "unreachable",
            r"connection refused|no such host|i/o timeout|dial tcp|timeout|timed out|"
            r"network is unreachable|connection reset|EOF",
        ),
    )
)


def classify_pull_error(message: str) -> str:
    for name, pattern in ERROR_CLASSES:
        if pattern.search(message):
            return name
    return "pull failed"


def pull_error(reference: str, mirror: str | None, message: str) -> CompatError:
    kind = classify_pull_error(message)
    where = f"mirror {mirror}" if mirror else "no mirror"
    reason = " ".join(message.split())[:200]
    hint = {
        "TLS error": "; a plain-HTTP registry other than 127.0.0.1 must be in the engine's "
        "insecure-registries",
        "auth required": "; log the engine in (docker login) first",
        "not found": "; check the name and tag, or push it to the mirror",
        "unreachable": "; is the registry running and reachable from the engine?",
    }.get(kind, "")
    return CompatError(f"cannot pull {reference} ({where}): {kind}: {reason}{hint}")


# --------------------------------------------------------------------------- pulls


@dataclass
class PullResult:
    reference: str  # what was pulled (mirrored, maybe pinned by digest)
    digest: str | None  # sha256:... the registry served
    repo_digest: str | None  # ref@sha256:... as RepoDigests lists it
    layers: int = 0
    bytes: int = 0
    already_present: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        size = f"{self.bytes / 1_048_576:.1f} MiB"
        cached = f", {self.already_present} already present" if self.already_present else ""
        moved = (
            f"{self.layers} layers, {size}{cached}"
            if self.layers
            else "no layer to download (all present in the engine)"
        )
        return (
            f"pulled {self.reference}: {moved} in {self.seconds:.1f} s -> "
            f"{self.digest or 'no digest'}"
        )


def repo_digest(attrs: dict[str, Any], reference: str) -> str | None:
    """The ``name@sha256:...`` of ``RepoDigests`` that belongs to ``reference``."""
    name = parse_reference(reference).name
    digests = attrs.get("RepoDigests") or []
    return next((d for d in digests if d.split("@")[0] == name), None) or (
        digests[0] if digests else None
    )


def pull(
    reference: str,
    *,
    mirror: str | None = None,
    progress: Progress = _quiet,
    timeout: float = PULL_TIMEOUT_S,
) -> PullResult:
    """Pull ``reference`` explicitly, with progress lines, bounded by ``timeout``."""
    ref = parse_reference(reference)
    repository = ref.name
    tag = ref.digest or ref.tag or "latest"
    started = time.monotonic()
    deadline = started + timeout
    layers: dict[str, int] = {}
    present: set[str] = set()
    last_report = started
    progress(f"pulling {reference} (registry mode{f', mirror {mirror}' if mirror else ''})")
    try:
        stream = engine.client().api.pull(repository, tag=tag, stream=True, decode=True)
        for event in stream:
            if "error" in event:
                raise pull_error(reference, mirror, str(event.get("error")))
            layer = str(event.get("id") or "")
            status = str(event.get("status") or "")
            detail = event.get("progressDetail") or {}
            if layer and status == "Already exists":
                present.add(layer)
            if layer and detail.get("total") and status == "Downloading":
                layers[layer] = int(detail["total"])
            elif layer and status in ("Pull complete", "Download complete"):
                layers.setdefault(layer, 0)
            now = time.monotonic()
            if now > deadline:
                raise CompatError(
                    f"cannot pull {reference} ({f'mirror {mirror}' if mirror else 'no mirror'}):"
                    f" unreachable: no end of the pull within {timeout:.0f} s"
                )
            if now - last_report > 5:
                last_report = now
                progress(
                    f"pulling {reference}: {len(layers)} layers, "
                    f"{sum(layers.values()) / 1_048_576:.1f} MiB so far"
                )
    except docker.errors.APIError as error:
        raise pull_error(reference, mirror, str(error.explanation or error)) from None
    except (docker.errors.DockerException, requests.RequestException) as error:
        raise pull_error(reference, mirror, str(error)) from None
    try:
        attrs = engine.client().images.get(reference).attrs
    except docker.errors.ImageNotFound:
        raise CompatError(
            f"cannot pull {reference}: the engine reported success but has no such image"
        ) from None
    found = repo_digest(attrs, reference)
    result = PullResult(
        reference=reference,
        digest=found.split("@", 1)[1] if found else None,
        repo_digest=found,
        layers=len(layers | dict.fromkeys(present, 0)),
        bytes=sum(layers.values()),
        already_present=len(present),
        seconds=time.monotonic() - started,
    )
    progress(result.line())
    return result


def remote_digest(reference: str, *, mirror: str | None = None) -> str | None:
    """The digest a tag points at now, asked of the registry without pulling."""
    try:
        data = engine.client().api.inspect_distribution(reference)
    except docker.errors.APIError as error:
        raise pull_error(reference, mirror, str(error.explanation or error)) from None
    except (docker.errors.DockerException, requests.RequestException) as error:
        raise pull_error(reference, mirror, str(error)) from None
    digest = (data.get("Descriptor") or {}).get("digest")
    return str(digest) if digest else None


# --------------------------------------------------------------------------- lock file


@dataclass
class LockEntry:
    reference: str  # as configured (before the mirror), e.g. alpine:3.21
    digest: str  # sha256:...

    def as_dict(self) -> dict[str, str]:
        return {"reference": self.reference, "digest": self.digest}


@dataclass
class LockFile:
    """``--traefik-lock``: base name -> (reference, digest), JSON, written atomically."""

    path: Path
    entries: dict[str, LockEntry] = field(default_factory=dict)
    existed: bool = False

    @classmethod
    def load(cls, path: Path) -> LockFile:
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != LOCK_VERSION:
                raise ValueError(f"version {data.get('version')!r}, expected {LOCK_VERSION}")
            entries = {
                name: LockEntry(str(item["reference"]), str(item["digest"]))
                for name, item in data["images"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise CompatError(
                f"lock file {path} is not a pytest-traefik-compat lock: {error}"
            ) from None
        return cls(path, entries, existed=True)

    def record(self, name: str, reference: str, digest: str) -> None:
        self.entries[name] = LockEntry(reference, digest)
        self.save()

    def save(self) -> None:
        data = {
            "version": LOCK_VERSION,
            "images": {name: e.as_dict() for name, e in sorted(self.entries.items())},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)


@dataclass
class Resolved:
    """What registry mode used for one base: the reference and its digest, and whether
    the tag has moved since the lock."""

    reference: str  # what to build FROM (mirrored; pinned by digest under a lock)
    digest: str | None
    repo_digest: str | None
    pull: PullResult | None = None
    moved: str = ""  # one line when the tag's digest moved since the lock

    def provenance(self) -> dict[str, Any]:
        data: dict[str, Any] = {"digest": self.digest, "repo_digest": self.repo_digest}
        if self.pull is not None:
            data["pull_seconds"] = round(self.pull.seconds, 3)
            data["pull_bytes"] = self.pull.bytes
        if self.moved:
            data["lock"] = self.moved
        return data


def resolve_pinned(
    name: str,
    reference: str,
    *,
    mirror: str | None,
    lock: LockFile | None,
    strict: bool,
    progress: Progress = _quiet,
) -> Resolved:
    """Pull ``reference`` (through the mirror), or exactly the locked digest; record it."""
    mirrored = mirror_reference(reference, mirror)
    entry = lock.entries.get(name) if lock is not None else None
    if entry is not None and entry.reference == reference:
        pinned = str(parse_reference(mirrored).with_digest(entry.digest))
        moved = ""
        current = remote_digest(mirrored, mirror=mirror)
        if current is not None and current != entry.digest:
            moved = (
                f"tag {reference} moved since the lock {lock.path if lock else ''}: locked "
                f"{entry.digest[:19]}, now {current[:19]}; using the locked digest"
            )
            progress(moved)
            if strict:
                raise CompatError(f"{moved} (--traefik-lock-strict)")
        result = _pull_unless_present(pinned, mirror, progress)
        return Resolved(
            pinned, entry.digest, f"{parse_reference(pinned).name}@{entry.digest}", result, moved
        )
    result = _pull_unless_present(mirrored, mirror, progress)
    attrs = engine.client().images.get(mirrored).attrs
    found = repo_digest(attrs, mirrored)
    digest = found.split("@", 1)[1] if found else None
    if lock is not None and digest:
        lock.record(name, reference, digest)
    return Resolved(mirrored, digest, found, result)


def _pull_unless_present(
    reference: str, mirror: str | None, progress: Progress
) -> PullResult | None:
    if engine.image_exists(reference):
        progress(f"{reference} is present locally: not pulled")
        return None
    return pull(reference, mirror=mirror, progress=progress)
