"""pytest-traefik-compat: measure Go services on container base images behind Traefik."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
