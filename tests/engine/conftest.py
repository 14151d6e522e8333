"""Everything in this folder needs a real engine (marked ``docker`` by its folder);
the tests share the user's build cache."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_traefik_compat import engine
from pytest_traefik_compat.bases import BaseImage, BaseImages
from pytest_traefik_compat.bases.catalogue import ImageSpec
from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.plugin.settings import default_cache_dir
from tests.helpers import reference_run as reference

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def docker_engine() -> None:
    try:
        engine.client()
    except CompatError as error:
        pytest.fail(f"engine tests need Docker: {error}", pytrace=False)


@pytest.fixture(scope="session")
def run_identity(docker_engine: None) -> Iterator[engine.RunIdentity]:
    identity = engine.RunIdentity.create()
    yield identity
    engine.remove_resources(run_id=identity.run_id)


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    path = default_cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def base_images(cache_dir: Path, run_identity: engine.RunIdentity) -> BaseImages:
    return BaseImages(cache_dir, run_identity, progress=print)


def _go_env(name: str) -> str:
    try:
        done = subprocess.run(["go", "env", name], capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return done.stdout.strip()


@pytest.fixture(scope="session")
def real_caches() -> dict[str, str]:
    """pytester points HOME at its temporary directory; without these the runs it
    starts would rebuild every base and download every Go module into an empty cache.
    Asked of ``go env`` once per session, not at import (no Go: no collection error)."""
    return {
        "PYTEST_TRAEFIK_CACHE_DIR": str(default_cache_dir()),
        "GOCACHE": _go_env("GOCACHE"),
        "GOMODCACHE": _go_env("GOMODCACHE"),
        "GOPATH": _go_env("GOPATH"),
    }


@pytest.fixture(autouse=True)
def _keep_real_caches(monkeypatch: pytest.MonkeyPatch, real_caches: dict[str, str]) -> None:
    for name, value in real_caches.items():
        if value:
            monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def distroless(base_images: BaseImages) -> BaseImage:
    """The base the stack-level tests run on (cheap to build, no shell, nonroot)."""
    return base_images.get(ImageSpec("distroless"))


@pytest.fixture(scope="session")
def reference_run(
    tmp_path_factory: pytest.TempPathFactory, docker_engine: None
) -> reference.ReferenceRun:
    """The built-in suite once per session: serial, three bases, full profile, in reverse
    order, watched by the security probe (``tests/helpers/reference_run.py``). Under
    xdist its files are one unit of work (``tests/conftest.py``), so it runs once."""
    return reference.start(tmp_path_factory.mktemp("reference-run"))
