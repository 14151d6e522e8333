"""Bounded waits and dead owners, without an engine: exec timeouts, zombie owners."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import types
from typing import Any

from pytest_traefik_compat import engine
from pytest_traefik_compat.engine import cleanup


class HangingContainer:
    """exec_run blocks like a command that never ends (the Engine API has no timeout)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def exec_run(self, command: list[str], **_: Any) -> Any:
        self.release.wait(30)
        return types.SimpleNamespace(exit_code=0, output=b"late")


def test_exec_in_honours_its_timeout() -> None:
    container = HangingContainer()
    started = time.monotonic()
    try:
        result = engine.exec_in(container, ["/bin/sh", "-c", "sleep 60"], timeout_s=0.3)
    finally:
        container.release.set()
    assert time.monotonic() - started < 5
    assert result.exit_code is None and not result.ok
    assert result.error == "timed out after 0.3 s"


def test_zombie_owner_counts_as_dead() -> None:
    """A run killed with SIGKILL whose parent has not reaped it yet is a zombie: dead."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 10
        while cleanup._proc_state(child.pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert cleanup._proc_state(child.pid) == "Z", "the child became a zombie"
        os.kill(child.pid, 0)  # the kernel still has the pid: signal 0 says "alive"
        assert not cleanup._pid_alive(child.pid)
    finally:
        child.wait()
    assert cleanup._pid_alive(os.getpid())
    assert not cleanup._pid_alive(child.pid)  # reaped: gone


def test_proc_state_reads_names_with_spaces_and_parentheses(tmp_path: Any) -> None:
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "stat").write_text("42 (odd) name)) Z 1 42 42 0 -1\n")
    assert cleanup._proc_state(42, tmp_path) == "Z"
    assert cleanup._proc_state(43, tmp_path) == ""
