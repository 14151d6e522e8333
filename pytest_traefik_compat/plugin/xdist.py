"""pytest-xdist: the controller/worker hooks and the scheduling (one base, one worker).

Imported only when pytest-xdist is active: its hooks do not exist otherwise.

One stack per base is the point (never one per test, never one per worker), so the
unit of work is the base. pytest-xdist's ``loadgroup`` mode would do this with
``xdist_group`` marks, but it rewrites ``item._nodeid``, which pytest 9 no longer
reads; grouping by the base in the test id works on every version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

from pytest_traefik_compat.plugin.session import (
    KEPT_OUTPUT,
    RECORDS_OUTPUT,
    RUN_ID_INPUT,
    CompatSession,
)
from pytest_traefik_compat.records import Record

_PARAMS = re.compile(r"\[(?P<params>.*)\]$")


def base_of(nodeid: str, bases: Sequence[str]) -> str | None:
    """The base named at the start of a test id's parameters, if any.

    Longest names first, so "distroless-base-static" is not read as "distroless".
    """
    match = _PARAMS.search(nodeid)
    if not match:
        return None
    params = match.group("params")
    for base in sorted(bases, key=len, reverse=True):
        if params == base or params.startswith(f"{base}-"):
            return base
    return None


class BaseScopeScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """LoadScope whose scope is the base; tests without a base are spread per test."""

    def __init__(self, config: pytest.Config, log: Any, bases: Sequence[str]) -> None:
        super().__init__(config, log)
        self.bases = tuple(bases)

    def _split_scope(self, nodeid: str) -> str:
        base = base_of(nodeid, self.bases)
        return f"traefik-base:{base}" if base else nodeid


class XdistHooks:
    """Registered only when pytest-xdist is active: its hooks do not exist otherwise."""

    def __init__(self, compat: CompatSession) -> None:
        self.compat = compat

    @pytest.hookimpl(tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """Keep each base's tests on one worker (default ``-n`` mode only)."""
        if not self.compat.settings.enabled or config.getvalue("dist") != "load":
            return None
        names = [spec.name for spec in self.compat.settings.images]
        return BaseScopeScheduling(config, log, names)

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[RUN_ID_INPUT] = {
            "id": self.compat.identity.run_id,
            "pid": self.compat.identity.pid,
            "host": self.compat.identity.host,
        }

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        output = getattr(node, "workeroutput", {})
        payload = output.get(RECORDS_OUTPUT)
        if payload:
            self.compat.records.extend(Record.from_json(item) for item in json.loads(payload))
        self.compat.kept_stacks.extend(json.loads(output.get(KEPT_OUTPUT) or "[]"))
