"""Image builds that never pull: every FROM must exist before the build starts."""

from __future__ import annotations

import re
from pathlib import Path

import docker.errors

from pytest_traefik_compat.engine.client import client, image_exists
from pytest_traefik_compat.errors import BuildError


def build_image(context: Path, tag: str, labels: dict[str, str]) -> str:
    """``docker build`` a context whose FROM lines are all present; never pulls."""
    check_from_lines_present((context / "Dockerfile").read_text())
    try:
        image, _logs = client().images.build(
            path=str(context), tag=tag, labels=labels, pull=False, rm=True, forcerm=True
        )
    except docker.errors.BuildError as error:
        log = "".join(str(chunk.get("stream", chunk.get("error", ""))) for chunk in error.build_log)
        tail = "\n".join(log.strip().splitlines()[-20:])
        raise BuildError(f"docker build of {tag} failed: {error.msg}", detail=tail) from None
    except docker.errors.APIError as error:
        raise BuildError(f"docker build of {tag} failed: {error.explanation}") from None
    return str(image.id)


def check_from_lines_present(dockerfile: str) -> None:
    """Refuse a build whose FROM image is missing: the engine would pull it."""
    stages: set[str] = set()
    for line in dockerfile.splitlines():
        match = re.match(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", line, re.I)
        if not match:
            continue
        reference, alias = match.group(1), match.group(2)
        if reference != "scratch" and reference not in stages and not image_exists(reference):
            raise BuildError(
                f"base image {reference} is not present locally: build it first "
                "(python -m pytest_traefik_compat bases); builds never pull"
            )
        if alias:
            stages.add(alias)
