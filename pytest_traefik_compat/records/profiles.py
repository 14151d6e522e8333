"""Run profiles: which checks a run includes.

``default`` is the gate a CI pipeline can afford on every change: does each build
start, how fast next to its floor, memory, TLS 1.3, the mTLS refusals by alert, gRPC,
health and metrics, posture, and budgets. ``full`` adds the study: in-process modes,
Traefik's own figures, gateway overhead, handshake timing and resumption, SNI x Host,
chain variants, HEALTHCHECK timing, alignment, plugins, name resolution.

Membership is by (check, variant): a check with study variants (``tls-evidence``)
keeps its gate variant in ``default``. The suite selects its tests from here, and the
baseline diff reads it to tell an absence the profile explains from a lost check.
Pure data: imports nothing from the package but the vocabulary.
"""

from __future__ import annotations

from typing import Final, Literal

from pytest_traefik_compat.records.checks import TLS_REFUSALS

Profile = Literal["default", "full"]
PROFILES: Final[tuple[Profile, ...]] = ("default", "full")
DEFAULT_PROFILE: Final[Profile] = "default"

# Checks of the default profile, with why a gate needs each; None = every variant.
DEFAULT_CHECKS: Final[dict[str, tuple[str | None, str]]] = {
    "image-facts": (None, "what the base ships (libc, CA bundle, zoneinfo, shell, size)"),
    "start-matrix": (None, "does each linkage start on the base, and why not"),
    "startup-latency": (None, "start time beside its floor and the drift control"),
    "memory": (None, "resident memory of the service after warm-up"),
    "tls": (None, "TLS 1.3 negotiated, a TLS 1.2 client refused"),
    "mtls": (None, "valid chains accepted, every bad client certificate refused"),
    "tls-evidence": (TLS_REFUSALS, "each refusal judged by the TLS alert it ends in"),
    "grpc": (None, "gRPC health and a unary call through Traefik with mTLS"),
    "health-metrics": (None, "health and metrics endpoints answer and parse"),
    "posture": (None, "non-root, no capabilities, no new privileges, read-only root"),
    "budget": (None, "the limits a team set on the figures above"),
}


def parse_profile(value: str) -> Profile:
    """The ``--traefik-profile`` value; raises ValueError naming the valid ones."""
    if value not in PROFILES:
        raise ValueError(f"unknown profile {value!r}; valid: {', '.join(PROFILES)}")
    return value


def in_profile(profile: str, check: str, variant: str | None = None) -> bool:
    """Does a run of ``profile`` include ``check`` (of ``variant``)?"""
    if profile == "full":
        return True
    entry = DEFAULT_CHECKS.get(check)
    if entry is None:
        return False
    only_variant = entry[0]
    return only_variant is None or variant is None or variant == only_variant
