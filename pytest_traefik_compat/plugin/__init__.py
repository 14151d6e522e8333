"""The pytest glue: the pytest11 entry point (this module: configuration and fixture
wiring), the options table, the run's session object, fixtures, markers, progress
lines, the xdist hooks, the baseline gate and the run's settings.

The engine lives in the domain packages (engine, bases, gobuild, gateway, measure,
records, report, pki); this package only turns options into a :class:`Settings`,
registers the run's :class:`CompatSession` and hands fixtures out. No domain package
may import it; it must not import the built-in suite.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from pytest_traefik_compat.plugin import options
from pytest_traefik_compat.plugin.session import SESSION_PLUGIN_NAME, CompatSession, settings_key

# The fixtures and the profile selection are plugins of their own, registered with this one.
pytest_plugins = ["pytest_traefik_compat.plugin.fixtures", "pytest_traefik_compat.plugin.selection"]

BASE_FIXTURE = "traefik_base"


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "traefik_bases(*names, linkages=None, requires=None): run this test only on the "
        "named bases / linkages, or only where a base fact holds (e.g. requires='shell')",
    )
    resolved = options.resolve_config(config)
    if resolved.enabled and not hasattr(config, "workerinput"):
        _check_writable(resolved.report_dir, "the report", "--traefik-report-dir")
        _check_writable(resolved.cache_dir, "the build cache", "--traefik-cache-dir")
    config.stash[settings_key] = resolved
    compat = CompatSession(config, resolved)
    config.pluginmanager.register(compat, SESSION_PLUGIN_NAME)
    if resolved.suite:
        _add_builtin_suite(config)
    if resolved.baseline is not None and not hasattr(config, "workerinput"):
        from pytest_traefik_compat.plugin.baseline import BASELINE_PLUGIN_NAME, BaselineHooks

        config.pluginmanager.register(
            BaselineHooks(resolved.baseline, resolved.report_dir, compat.records),
            BASELINE_PLUGIN_NAME,
        )
    if config.pluginmanager.hasplugin("xdist"):
        # Imported only here: the module imports xdist, whose hooks exist only with it.
        from pytest_traefik_compat.plugin.xdist import XdistHooks

        config.pluginmanager.register(XdistHooks(compat), "traefik-compat-xdist")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if BASE_FIXTURE not in metafunc.fixturenames:
        return
    resolved = metafunc.config.stash[settings_key]
    specs = list(resolved.images)
    if not specs:
        # Without --traefik-images the plugin stays out of the way: one skipped item.
        metafunc.parametrize(
            BASE_FIXTURE,
            [pytest.param(None, marks=pytest.mark.skip(reason="no --traefik-images given"))],
            ids=["no-images"],
            indirect=True,
            scope="session",
        )
        return
    # The spec objects themselves, ids from their names: no string round trips.
    metafunc.parametrize(
        BASE_FIXTURE, specs, ids=[spec.name for spec in specs], indirect=True, scope="session"
    )


def _add_builtin_suite(config: pytest.Config) -> None:
    """--traefik-suite: collect the built-in matrix next to the user's own tests."""
    from pytest_traefik_compat import suite

    suite_dir = Path(suite.__file__).resolve().parent
    for arg in config.args:
        path = Path(arg.split("::")[0])
        if not path.is_absolute():
            path = config.invocation_params.dir / path
        if path.exists() and (path.resolve() == suite_dir or suite_dir in path.resolve().parents):
            return  # already asked for
    config.args.append(str(suite_dir))


def _check_writable(directory: Path, what: str, option: str) -> None:
    """Fail at the start, not after a long run, when a directory cannot be written."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-check-"):
            pass
    except OSError as error:
        raise pytest.UsageError(
            f"cannot write {what} to {directory}: {error.strerror or error}; "
            f"choose a writable directory with {option}"
        ) from None
