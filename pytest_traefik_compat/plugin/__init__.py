"""The pytest glue: the pytest11 entry point (this module: the option group,
configuration and fixture wiring), the run's session object, fixtures, markers,
progress lines, the xdist hooks, the baseline gate and the run's settings.

The engine lives in the domain packages (engine, bases, gobuild, gateway, measure,
records, report, pki); this package only turns options into a :class:`Settings`,
registers the run's :class:`CompatSession` and hands fixtures out. No domain package
may import it; it must not import the built-in suite.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from pytest_traefik_compat.bases.catalogue import VARIANT_NAMES
from pytest_traefik_compat.measure.budgets import BUDGETS, parse_budgets
from pytest_traefik_compat.plugin import settings as opts
from pytest_traefik_compat.plugin.session import SESSION_PLUGIN_NAME, CompatSession, settings_key

# The fixtures module is a plugin of its own, registered with this one.
pytest_plugins = ["pytest_traefik_compat.plugin.fixtures"]

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
        help=f"container starts per startup series and base ({opts.SAMPLES_RANGE[0]}-"
        f"{opts.SAMPLES_RANGE[1]}, default {opts.DEFAULT_SAMPLES}; in-process starts 3x)",
    )
    group.addoption(
        "--traefik-budget",
        dest="traefik_budgets",
        type=parse_budgets,
        default=None,
        metavar="NAME=LIMIT,...",
        help="limits judged on each figure's 95%% interval, one test per budget and base: "
        "startup_ms=800,rss_mb=64,handshake_ms=20,image_mb=100, per base as "
        "debian-slim:image_mb=120 (names: " + ", ".join(BUDGETS) + "; env "
        "PYTEST_TRAEFIK_BUDGETS, ini traefik_budgets)",
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
        "--traefik-engine-host",
        dest="traefik_engine_host",
        type=opts.parse_engine_host,
        default=None,
        metavar="HOST",
        help="address that reaches the ports the engine publishes (default: the "
        "engine's address from DOCKER_HOST or the docker context, 127.0.0.1 for a "
        "local socket; env PYTEST_TRAEFIK_ENGINE_HOST, ini traefik_engine_host)",
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
    group.addoption(
        "--traefik-suite",
        dest="traefik_suite",
        action="store_const",
        const=True,
        default=None,
        help="add the built-in compatibility matrix to this run, next to your own tests "
        "(env PYTEST_TRAEFIK_SUITE, ini traefik_suite = true)",
    )
    group.addoption(
        "--traefik-baseline",
        dest="traefik_baseline",
        type=Path,
        default=None,
        metavar="BASE.json",
        help="compare this run with an earlier report.json: regressions fail the run, "
        "one line each; diff.md/diff.json go next to the report",
    )
    group.addoption(
        "--traefik-registry-mirror",
        dest="traefik_registry_mirror",
        type=opts.parse_mirror,
        default=None,
        metavar="HOST:PORT",
        help="registry mode: pull docker.io/library/X as HOST:PORT/library/X and "
        "gcr.io/distroless/X as HOST:PORT/distroless/X (a pull-through cache)",
    )
    group.addoption(
        "--traefik-lock",
        dest="traefik_lock",
        type=Path,
        default=None,
        metavar="FILE",
        help="registry mode: write the pulled digests to FILE, or, when it exists, pull "
        "exactly those digests and report tags that moved",
    )
    group.addoption(
        "--traefik-lock-strict",
        dest="traefik_lock_strict",
        action="store_const",
        const=True,
        default=None,
        help="with --traefik-lock: a tag whose digest moved fails the run",
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
    registry_only = [
        option
        for option, value in (
            ("--traefik-registry-mirror", resolved.registry_mirror),
            ("--traefik-lock", resolved.lock),
            ("--traefik-lock-strict", resolved.lock_strict),
        )
        if value
    ]
    if registry_only and resolved.source != "registry":
        raise pytest.UsageError(
            f"{', '.join(registry_only)} only apply to registry mode: add "
            "--traefik-source=registry (local bases are built, never pulled)"
        )
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
