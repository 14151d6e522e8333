"""Cached image tags for tests that start a Gateway by hand (no pytest run around it).

The same requests as the suite makes for the sample's static build, so a warm
cache builds nothing (see tests/engine/test_gateway.py).
"""

from __future__ import annotations

from pathlib import Path

from pytest_traefik_compat import gobuild
from pytest_traefik_compat.bases import BaseImage, images
from pytest_traefik_compat.gateway.binary import traefik_binary_path, traefik_version
from pytest_traefik_compat.plugin.session import sample_apps_dir


def service_tag(base: BaseImage, cache_dir: Path) -> str:
    built = gobuild.GoBuilder(cache_dir / "go").build(
        gobuild.BuildRequest(sample_apps_dir() / "service", output_name="app")
    )
    request = images.service_request(
        base,
        built.path,
        built.key,
        name="service-static",
        ports=(8080, 8081, 9090),
        healthcheck=images.self_probe(),
    )
    return images.ensure_image(request, cache_dir / "locks").tag


def traefik_tag(base: BaseImage, cache_dir: Path) -> str:
    binary = traefik_binary_path()
    request = images.traefik_request(base, binary, traefik_version(binary))
    return images.ensure_image(request, cache_dir / "locks").tag
