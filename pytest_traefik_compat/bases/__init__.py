"""Base images: local recipes built once, registry and custom references resolved, their
facts read from their files, and the service and Traefik images built on them.

Must not import pytest, gobuild's builder internals, gateway or report.
"""

from __future__ import annotations

from pytest_traefik_compat.bases.facts import BaseFacts, BaseImage, read_facts
from pytest_traefik_compat.bases.resolve import BaseImages

__all__ = ["BaseFacts", "BaseImage", "BaseImages", "read_facts"]
