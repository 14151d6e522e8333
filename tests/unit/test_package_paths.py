"""Paths the package finds by itself, relative to its own files (a regroup can break them)."""

from __future__ import annotations

import pytest

from pytest_traefik_compat.plugin.session import sample_apps_dir


def test_sample_apps_are_found_from_a_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_TRAEFIK_SAMPLE_APPS", raising=False)
    assert (sample_apps_dir() / "service" / "go.mod").is_file()
