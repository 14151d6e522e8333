"""Session fixtures: the extension points users request or override in conftest.py."""

from __future__ import annotations

import pytest

from pytest_traefik_compat.bases import BaseImage
from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.session import CompatSession, get_session
from pytest_traefik_compat.settings import Settings

__all__ = ["traefik_base", "traefik_compat", "traefik_settings"]


@pytest.fixture(scope="session")
def traefik_compat(pytestconfig: pytest.Config) -> CompatSession:
    """The run's session object (settings, identity, caches, records)."""
    return get_session(pytestconfig)


@pytest.fixture(scope="session")
def traefik_settings(traefik_compat: CompatSession) -> Settings:
    """The resolved options of this run."""
    return traefik_compat.settings


@pytest.fixture(scope="session")
def traefik_base(request: pytest.FixtureRequest, traefik_compat: CompatSession) -> BaseImage:
    """The base under test (parametrized over --traefik-images), built or found locally."""
    name = str(request.param)
    try:
        return traefik_compat.base(name)
    except CompatError as error:
        pytest.fail(f"base {name}: {error}", pytrace=False)
