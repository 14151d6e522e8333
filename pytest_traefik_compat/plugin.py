"""pytest11 entry point: the option group, configuration and fixture wiring.

The engine lives in plain modules and subpackages (engine, bases, gobuild, gateway,
probes, report);
this module only turns options into a :class:`Settings` and registers the run's
:class:`CompatSession`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from pytest_traefik_compat import settings as opts
from pytest_traefik_compat.catalogue import VARIANT_NAMES
from pytest_traefik_compat.session import SESSION_PLUGIN_NAME, CompatSession, settings_key

# The fixtures module is a plugin of its own, registered with this one.
pytest_plugins = ["pytest_traefik_compat.fixtures"]

BASE_FIXTURE = "traefik_base"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(
        "traefik-compat", "Go services on container base images behind Traefik (mTLS)"
    )
    group.addoption(
        "--traefik-images",
        dest="traefik_images",
        type=opts.parse_images,
        default=None,
        metavar="LIST",
        help="comma-separated bases to test: "
        + ", ".join(VARIANT_NAMES)
        + ", or name=image:ref (env PYTEST_TRAEFIK_IMAGES, ini traefik_images)",
    )
    group.addoption(
        "--traefik-source",
        dest="traefik_source",
        type=opts.parse_source,
        default=None,
        metavar="local|registry",
        help="where base images come from: built locally from Debian packages "
        "(default, no registry) or pulled from a registry",
    )
    group.addoption(
        "--traefik-samples",
        dest="traefik_samples",
        type=opts.parse_samples,
        default=None,
        metavar="N",
        help=f"startup latency samples per base ({opts.SAMPLES_RANGE[0]}-"
        f"{opts.SAMPLES_RANGE[1]}, default 5)",
    )
    group.addoption(
        "--traefik-handshakes",
        dest="traefik_handshakes",
        type=opts.parse_handshakes,
        default=None,
        metavar="N",
        help=f"mTLS handshakes per base ({opts.HANDSHAKES_RANGE[0]}-"
        f"{opts.HANDSHAKES_RANGE[1]}, default 100)",
    )
    group.addoption(
        "--traefik-report-dir",
        dest="traefik_report_dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where report.json/.md/.html go (default compat-report/)",
    )
    group.addoption(
        "--traefik-cache-dir",
        dest="traefik_cache_dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="cache for Go builds, packages and image facts "
        "(default ~/.cache/pytest-traefik-compat)",
    )
    group.addoption(
        "--traefik-keep",
        dest="traefik_keep",
        action="store_true",
        default=False,
        help="keep the containers of failed tests for debugging (prints how to remove them)",
    )
    for dest, (_env, ini_key, _convert) in opts.OPTION_SOURCES.items():
        parser.addini(ini_key, help=f"default for --{dest.replace('_', '-')}", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "traefik_bases(*names, linkages=None, requires=None): run this test only on the "
        "named bases / linkages, or only where a base fact holds (e.g. requires='shell')",
    )
    cli: dict[str, Any] = {dest: getattr(config.option, dest, None) for dest in opts.OPTION_SOURCES}
    try:
        resolved = opts.resolve(
            cli, lambda key: str(config.getini(key) or ""), keep=config.option.traefik_keep
        )
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    if resolved.enabled and not hasattr(config, "workerinput"):
        _check_writable(resolved.report_dir, "the report", "--traefik-report-dir")
        _check_writable(resolved.cache_dir, "the build cache", "--traefik-cache-dir")
    config.stash[settings_key] = resolved
    compat = CompatSession(config, resolved)
    config.pluginmanager.register(compat, SESSION_PLUGIN_NAME)
    if config.pluginmanager.hasplugin("xdist"):
        # Imported only here: the module imports xdist, whose hooks exist only with it.
        from pytest_traefik_compat.xdist import XdistHooks

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
