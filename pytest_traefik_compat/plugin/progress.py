"""Progress lines on long work, visible in every kind of run.

A serial run writes with pytest's output capture suspended (as live logging does),
so a line written while a fixture builds reaches the terminal without ``-s``. xdist
workers' output never reaches the terminal: they append to a per-run file that the
controller relays.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

RELAY_INTERVAL_S = 0.5


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


class ProgressLines:
    """``[traefik-compat main +12.3s] building base alpine ...`` lines for one process."""

    def __init__(
        self, config: pytest.Config, worker_id: str, started: float, path: Callable[[], Path]
    ) -> None:
        self.config = config
        self.worker_id = worker_id
        self.started = started
        self._path = path
        self._relay: threading.Thread | None = None
        self._relay_stop = threading.Event()

    @property
    def path(self) -> Path:
        return self._path()

    def emit(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        line = f"[traefik-compat {self.worker_id} +{elapsed:5.1f}s] {message}"
        if is_xdist_worker(self.config):
            with contextlib.suppress(OSError), self.path.open("a") as handle:
                handle.write(line + "\n")
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        with self._capture_suspended():
            if reporter is not None:
                reporter.ensure_newline()  # not in the middle of a row of dots
                reporter.write_line(line)
                reporter.flush()
            else:
                sys.stderr.write(line + "\n")

    @contextlib.contextmanager
    def _capture_suspended(self) -> Iterator[None]:
        capture: Any = self.config.pluginmanager.get_plugin("capturemanager")
        if capture is None:
            yield
            return
        with capture.global_and_fixture_disabled():
            yield

    # ---- the controller relays the workers' lines
    def start_relay(self) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        self._relay_stop = threading.Event()

        def relay() -> None:
            offset = 0
            while True:
                stopping = self._relay_stop.wait(RELAY_INTERVAL_S)
                with contextlib.suppress(OSError), path.open() as handle:
                    handle.seek(offset)
                    chunk = handle.read()
                    # Only whole lines: a worker may be mid-write.
                    complete = chunk[: chunk.rfind("\n") + 1]
                    offset += len(complete)
                    for line in complete.splitlines():
                        reporter.ensure_newline()
                        reporter.write_line(line)
                if stopping:
                    return

        self._relay = threading.Thread(target=relay, name="traefik-compat-progress", daemon=True)
        self._relay.start()

    def stop_relay(self) -> None:
        if self._relay is None:
            return
        self._relay_stop.set()
        self._relay.join(timeout=5)
        self._relay = None
        self.path.unlink(missing_ok=True)
