"""Directories of this machine made visible in containers of an engine elsewhere.

A bind mount names a path on the *engine's* host. A local engine (unix socket, or tcp
on loopback) sees this machine's files, so a read-only bind mount is used; a remote
engine does not, so the directory is copied into a labelled named volume instead
(through a never-started helper container and the archive API, the same stream
``docker cp`` uses) and that volume is mounted read-only. Files keep their modes and
their owners (the archive API extracts as the tar headers say, as ``docker cp -a``
does), so a 0600 key owned by the container's user stays 0600 and readable by it.
Volumes carry the run's labels and go with the run's cleanup.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path

import docker.errors

from pytest_traefik_compat.engine.client import client, target
from pytest_traefik_compat.engine.hardening import hardened
from pytest_traefik_compat.errors import CompatError

HELPER_MOUNT = "/ptc-volume-fill"
MAX_BYTES = 256 * 1024 * 1024


def needs_copy() -> bool:
    """True when the engine cannot see this machine's files (a remote engine)."""
    return target().remote


def _tar_directory(path: Path) -> bytes:
    buffer = io.BytesIO()
    total = 0
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for item in sorted(path.rglob("*")):
            total += item.stat().st_size if item.is_file() else 0
            if total > MAX_BYTES:
                raise CompatError(
                    f"{path} is larger than {MAX_BYTES >> 20} MiB: too big to copy to a "
                    "remote engine"
                )
            archive.add(str(item), arcname=str(item.relative_to(path)), recursive=False)
    return buffer.getvalue()


def volume_from_directory(
    host_path: str,
    *,
    image: str,
    name: str,
    labels: Mapping[str, str],
) -> str:
    """A named volume holding a copy of ``host_path``; its name."""
    source = Path(host_path)
    if not source.is_dir():
        raise CompatError(f"cannot copy {host_path} to the engine: not a directory")
    engine = client()
    engine.volumes.create(name=name, labels=dict(labels))
    # Never started: the posture applies all the same (the archive goes to the volume).
    helper = engine.containers.create(
        image,
        command=["/nonexistent-never-started"],
        name=f"{name}-fill",
        network_disabled=True,
        volumes={name: {"bind": HELPER_MOUNT, "mode": "rw"}},
        **hardened({"labels": labels}),
    )
    failure = ""
    try:
        if not helper.put_archive(HELPER_MOUNT, _tar_directory(source)):
            failure = "the engine refused the archive"
    except docker.errors.APIError as error:
        failure = str(error.explanation or error)
    finally:
        with suppress(docker.errors.DockerException):
            helper.remove(force=True)
    if failure:
        with suppress(docker.errors.DockerException):
            engine.volumes.get(name).remove(force=True)
        raise CompatError(f"copying {host_path} to the engine failed: {failure}")
    return name
