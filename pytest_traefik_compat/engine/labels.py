"""Labels on every resource the plugin creates, and who owns a run.

Every container, network, volume and temporary image carries :meth:`RunIdentity.labels`,
so a run removes exactly what it made and a later run can find a killed run's leftovers.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any

LABEL_PREFIX = "io.pytest-traefik-compat"
LABEL_MANAGED = f"{LABEL_PREFIX}.managed"
LABEL_RUN = f"{LABEL_PREFIX}.run"
LABEL_PID = f"{LABEL_PREFIX}.pid"
LABEL_HOST = f"{LABEL_PREFIX}.host"
LABEL_KIND = f"{LABEL_PREFIX}.kind"
# Cached images (bases, service images) are kept across runs on purpose.
LABEL_CACHED = f"{LABEL_PREFIX}.cached"
LABEL_STACK = f"{LABEL_PREFIX}.stack"


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class RunIdentity:
    """Who owns a resource: the run, its controlling process and its host."""

    run_id: str
    pid: int
    host: str

    @classmethod
    def create(cls) -> RunIdentity:
        return cls(new_run_id(), os.getpid(), socket.gethostname())

    def labels(self, kind: str, **extra: str) -> dict[str, str]:
        labels = {
            LABEL_MANAGED: "true",
            LABEL_RUN: self.run_id,
            LABEL_PID: str(self.pid),
            LABEL_HOST: self.host,
            LABEL_KIND: kind,
        }
        labels.update({f"{LABEL_PREFIX}.{key}": value for key, value in extra.items()})
        return labels

    def filter(self) -> dict[str, Any]:
        return {"label": [f"{LABEL_RUN}={self.run_id}"]}
