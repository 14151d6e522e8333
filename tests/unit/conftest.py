"""Unit tests give the same answer whatever the caller's environment holds."""

from __future__ import annotations

import os

import pytest

PLUGIN_PREFIX = "PYTEST_TRAEFIK_"


@pytest.fixture(autouse=True)
def _no_plugin_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop every ``PYTEST_TRAEFIK_*`` variable: a Go, bases or sample count chosen for
    a real run must not steer a unit test; a test that needs one sets it itself."""
    for name in list(os.environ):
        if name.startswith(PLUGIN_PREFIX):
            monkeypatch.delenv(name)
