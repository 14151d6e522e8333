"""The run's session object: identity, bases, progress and cleanup.

Registered as a plugin by :mod:`plugin` so its hooks see the run's state without
module globals (the pytest-xdist ``DSession`` pattern).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from pytest_traefik_compat import engine
from pytest_traefik_compat.bases import BaseImage, BaseImages
from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.settings import ImageSpec, Settings

SESSION_PLUGIN_NAME = "traefik-compat-session"
settings_key = pytest.StashKey[Settings]()
RUN_ID_INPUT = "traefik_compat_run"


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


class CompatSession:
    """State of one pytest run (one per process; workers get the controller's run id)."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self.started = time.monotonic()
        self._bases: dict[str, BaseImage] = {}
        worker_input: dict[str, Any] | None = getattr(config, "workerinput", None)
        if worker_input and RUN_ID_INPUT in worker_input:
            run = worker_input[RUN_ID_INPUT]
            self.identity = engine.RunIdentity(run["id"], run["pid"], run["host"])
        else:
            self.identity = engine.RunIdentity.create()
        self.worker_id = str((worker_input or {}).get("workerid", "main"))

    # ---- xdist: the controller hands its identity to every worker
    def pytest_configure_node(self, node: Any) -> None:  # pragma: no cover - xdist hook
        node.workerinput[RUN_ID_INPUT] = {
            "id": self.identity.run_id,
            "pid": self.identity.pid,
            "host": self.identity.host,
        }

    # ---- progress on long work
    def progress(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        line = f"[traefik-compat {self.worker_id} +{elapsed:5.1f}s] {message}"
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and not is_xdist_worker(self.config):
            reporter.write_line(line)
        else:
            sys.stderr.write(line + "\n")

    # ---- lifecycle
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not self.settings.enabled or is_xdist_worker(self.config):
            return
        try:
            engine.client()
            leftovers = engine.remove_resources(dead_only=True)
        except CompatError as error:
            pytest.exit(f"pytest-traefik-compat: {error}", returncode=pytest.ExitCode.USAGE_ERROR)
        if leftovers.total:
            self.progress(f"removed leftovers of killed runs: {leftovers}")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.settings.enabled or is_xdist_worker(self.config):
            return
        # Safety net: anything of this run still around (a fixture that never got to
        # its teardown) goes now; stacks of failed tests stay only with --traefik-keep.
        if self.settings.keep:
            return
        with contextlib.suppress(CompatError):
            engine.remove_resources(run_id=self.identity.run_id)

    # ---- bases
    @cached_property
    def base_images(self) -> BaseImages:
        return BaseImages(
            self.cache_dir,
            self.identity,
            source=self.settings.source,
            progress=self.progress,
        )

    @property
    def cache_dir(self) -> Path:
        path = self.settings.cache_dir
        path.mkdir(parents=True, exist_ok=True)
        return path

    def spec(self, name: str) -> ImageSpec:
        return next(spec for spec in self.settings.images if spec.name == name)

    def base(self, name: str) -> BaseImage:
        if name not in self._bases:
            self._bases[name] = self.base_images.get(self.spec(name))
        return self._bases[name]


def get_session(config: pytest.Config) -> CompatSession:
    plugin = config.pluginmanager.get_plugin(SESSION_PLUGIN_NAME)
    assert isinstance(plugin, CompatSession), "pytest-traefik-compat is not configured"
    return plugin


def pid_label() -> str:
    return str(os.getpid())
