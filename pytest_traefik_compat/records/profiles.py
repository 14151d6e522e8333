"""Run profiles: which checks a run includes.

``default`` is the gate a CI pipeline can afford on every change: what the base
ships, does each build start, how fast next to its floor, memory, what the running
service finds (trust store, zones, resolver), TLS 1.3, the mTLS refusals by alert and
the client's identity, gRPC, health and metrics, posture, and budgets. ``full`` adds
the study: in-process modes, Traefik's own figures, gateway overhead, handshake timing
and resumption, SNI x Host, chain variants, HEALTHCHECK timing, alignment, plugins,
name resolution.

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
# Each is a question whose answer can break a service on a new base, answered in
# about a second per base, except the start series, which is the gate's own figure.
DEFAULT_CHECKS: Final[dict[str, tuple[str | None, str]]] = {
    "image-facts": (None, "what the base ships (libc, CA bundle, zoneinfo, shell, size)"),
    "start-matrix": (None, "does each linkage start on the base, and why not"),
    "startup-latency": (None, "start time beside its floor and the drift control"),
    "memory": (None, "resident memory of the service after warm-up"),
    "runtime-facts": (None, "the running service finds its trust store, zones, resolver"),
    "tls": (None, "TLS 1.3 negotiated, a TLS 1.2 client refused"),
    "mtls": (None, "valid chains accepted, every bad client certificate refused"),
    "client-identity": (None, "the backend is told which client called (one request)"),
    "tls-evidence": (TLS_REFUSALS, "each refusal judged by the TLS alert it ends in"),
    "grpc": (None, "gRPC health and a unary call through Traefik with mTLS"),
    "health-metrics": (None, "health and metrics endpoints answer and parse"),
    "posture": (None, "non-root, no capabilities, no new privileges, read-only root"),
    "budget": (None, "the limits a team set (a budget brings in the check it judges)"),
}

# Checks only ``full`` runs, with why they are study rather than gate. A check missing
# from both tables (a user's own, a new one) runs only in ``full``.
STUDY_CHECKS: Final[dict[str, str]] = {
    "inprocess-start": "per-mode start inside one container: explains a start, 3 s a linkage",
    "traefik-figures": "Traefik's own start and memory: Traefik's figure, not the service's",
    "gateway-overhead": "latency added by the gateway under load: 8 s a base of load runs",
    "tls-evidence": "handshake timing and resumption, forwarded chain, SNI x Host, chain "
    "variants: how the gateway behaves, on a second gateway for the routes",
    "healthcheck": "which HEALTHCHECK styles run and when a fresh container turns healthy",
    "alignment": "Traefik's health check taking the service out of rotation: seconds of waiting",
    "traefik-plugin": "a Yaegi plugin loading on the base: a Traefik feature, not the service",
    "go-plugin": "Go plugins per linkage: a build mode few services use",
    "dns": "resolver behaviour against crafted name servers: a study of the libc's resolver",
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
