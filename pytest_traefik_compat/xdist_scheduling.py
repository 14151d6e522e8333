"""pytest-xdist scheduling: every test of one base runs on one worker.

One stack per base is the point (never one per test, never one per worker), so the
unit of work is the base. pytest-xdist's ``loadgroup`` mode would do this with
``xdist_group`` marks, but it rewrites ``item._nodeid``, which pytest 9 no longer
reads; grouping by the base in the test id works on every version.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

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
