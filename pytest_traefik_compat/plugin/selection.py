"""The run's profile applied at collection: items outside ``--traefik-profile`` are
deselected (the ``traefik_profile`` marker says which profiles run a test; the
built-in suite marks its study checks), and one line after "collected" says so."""

from __future__ import annotations

import pytest

from pytest_traefik_compat.plugin.markers import PROFILE_MARKER_HELP, item_profiles
from pytest_traefik_compat.plugin.session import settings_key
from pytest_traefik_compat.records import profiles

_profile_line_key = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", PROFILE_MARKER_HELP)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the items outside the run's profile, after every other selection
    (-k, -m, the built-in suite's own marks), and keep one line saying so."""
    profile = config.stash[settings_key].profile
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        wanted = item_profiles(item)
        (kept if wanted is None or profile in wanted else left_out).append(item)
    if not left_out:
        return
    items[:] = kept
    config.hook.pytest_deselected(items=left_out)
    checks_left_out = {getattr(item, "originalname", item.name) for item in left_out}
    study = "study " if profile == profiles.DEFAULT_PROFILE else ""
    other = next(p for p in profiles.PROFILES if p != profile)
    config.stash[_profile_line_key] = (
        f"traefik-compat profile {profile}: {_count(len(checks_left_out), study + 'check')} "
        f"not run ({_count(len(left_out), 'test')}; --traefik-profile={other} runs them)"
    )


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    line = config.stash.get(_profile_line_key, None)
    return [line] if line else []


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
