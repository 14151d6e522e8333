"""The plugin's markers: ``traefik_bases`` (its requirements, validation and
applicability) and ``traefik_profile`` (which ``--traefik-profile`` runs a test)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from pytest_traefik_compat.bases import BaseFacts
from pytest_traefik_compat.records import checks, profiles

# Facts a test can require with @pytest.mark.traefik_bases(requires=...).
REQUIREMENTS: dict[str, Callable[[BaseFacts], bool]] = {
    "shell": lambda f: f.shell is not None,
    "bash": lambda f: f.bash,
    "curl": lambda f: f.curl is not None,
    "wget": lambda f: f.wget is not None,
    "ca_bundle": lambda f: f.ca_bundle is not None,
    "zoneinfo": lambda f: f.zoneinfo,
    "glibc": lambda f: "glibc" in f.libc_kind,
    "musl": lambda f: "musl" in f.libc_kind,
    "libc": lambda f: f.libc_kind != "none",
}


def _as_list(value: Sequence[str] | str | None) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def marker_problem(marker: pytest.Mark) -> str | None:
    """What is wrong with a ``traefik_bases`` marker's arguments (None: nothing)."""
    unknown = sorted(set(marker.kwargs) - {"linkages", "requires"})
    if unknown:
        return f"traefik_bases({unknown[0]}=...): unknown argument; valid: linkages, requires"
    for requirement in _as_list(marker.kwargs.get("requires")):
        if requirement not in REQUIREMENTS:
            return (
                f"traefik_bases(requires={requirement!r}): unknown requirement; "
                f"valid: {', '.join(REQUIREMENTS)}"
            )
    for linkage in _as_list(marker.kwargs.get("linkages")):
        if linkage not in checks.LINKAGE_ORDER:
            return (
                f"traefik_bases(linkages={linkage!r}): unknown linkage; "
                f"valid: {', '.join(checks.LINKAGE_ORDER)}"
            )
    return None


def applicability(
    base: str,
    *,
    names: Sequence[str],
    linkages: Sequence[str] | str | None,
    linkage: object,
    requires: Sequence[str] | str | None,
    facts: Callable[[], BaseFacts],
) -> str | None:
    """Why a marked test does not apply to this base (None: it applies)."""
    if names and base not in names:
        return f"only for bases {', '.join(names)} (this is {base})"
    if linkages is not None and linkage is not None:
        allowed = [linkages] if isinstance(linkages, str) else list(linkages)
        if linkage not in allowed:
            return f"only for linkages {', '.join(allowed)} (this is {linkage})"
    wanted = [requires] if isinstance(requires, str) else list(requires or [])
    for requirement in wanted:
        check = REQUIREMENTS.get(requirement)
        if check is None:
            raise pytest.UsageError(
                f"traefik_bases(requires={requirement!r}): unknown requirement; "
                f"valid: {', '.join(REQUIREMENTS)}"
            )
        if not check(facts()):
            return f"base {base} has no {requirement.replace('_', ' ')}"
    return None


# ---- the traefik_profile marker: which --traefik-profile runs a test

PROFILE_MARKER = "traefik_profile"
PROFILE_MARKER_HELP = (
    "traefik_profile(*profiles): run this test only in these --traefik-profile runs "
    "(e.g. traefik_profile('full') keeps a slow study out of the default CI gate)"
)


def profile_marker_problem(marker: pytest.Mark) -> str | None:
    """What is wrong with a ``traefik_profile`` marker's arguments (None: nothing)."""
    if marker.kwargs:
        return f"traefik_profile({sorted(marker.kwargs)[0]}=...): takes profile names only"
    if not marker.args:
        return f"traefik_profile(): name a profile; valid: {', '.join(profiles.PROFILES)}"
    for name in marker.args:
        if name not in profiles.PROFILES:
            return (
                f"traefik_profile({name!r}): unknown profile; valid: {', '.join(profiles.PROFILES)}"
            )
    return None


def item_profiles(item: pytest.Item) -> tuple[str, ...] | None:
    """The profiles an item runs in (None: every profile). The closest marker wins,
    so a test can widen what its module or class declared."""
    marker = item.get_closest_marker(PROFILE_MARKER)
    if marker is None:
        return None
    problem = profile_marker_problem(marker)
    if problem:
        raise pytest.UsageError(f"{item.nodeid}: {problem}")
    return tuple(str(name) for name in marker.args)
