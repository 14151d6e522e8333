"""Fixtures of the built-in suite (the sample service on each base, one stack per base)
and the order its checks run in."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from pytest_traefik_compat import engine, gobuild
from pytest_traefik_compat.bases import BaseImage
from pytest_traefik_compat.bases.images import ServiceBuild
from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.gateway import traefik
from pytest_traefik_compat.gateway.services import ServiceSpec
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.plugin.session import CompatSession, sample_apps_dir, settings_key
from pytest_traefik_compat.records import profiles
from pytest_traefik_compat.records.checks import PLUGIN_VALUE, STATIC, TLS_EVIDENCE

HEALTH_INTERVAL = "1s"
PLUGIN_MODULE = "github.com/compat/headerplugin"
HERE = Path(__file__).resolve().parent

# The order the suite's tests run in on each base (pytest then groups the items by
# base); a topic's tests need not be adjacent. The behaviour checks come first, the
# figures after them (gRPC right after the startup series), then the TLS evidence,
# the gateway's overhead and the second gateway's routes; Traefik's own figures after
# all of them (its memory read after the base's last traffic), and the budgets last,
# after every record they judge.
RUN_ORDER: tuple[str, ...] = (
    "test_image_facts",
    "test_start_matrix",
    "test_tls",
    "test_mtls",
    "test_client_identity",
    "test_health_metrics",
    "test_posture",
    "test_healthcheck",
    "test_alignment",
    "test_runtime_facts",
    "test_dns",
    "test_traefik_plugin",
    "test_go_plugin",
    "test_startup_latency",
    # Right after the series that replaced the routed service: every run in this order
    # shows gRPC is back in rotation when the latency check ends.
    "test_grpc",
    "test_inprocess_start",
    "test_memory",
    "test_tls_evidence_refusals",
    "test_tls_evidence_handshakes",
    "test_gateway_overhead",
    "test_tls_evidence_forwarded",
    "test_tls_evidence_sni_host",
    "test_tls_evidence_chains",
    "test_traefik_figures",
    "test_budget",
)


# The record each test writes is named by the test: test_<check> writes the check
# <check> (underscores as hyphens), test_tls_evidence_<variant> the tls-evidence
# variant <variant>. Its profile (records/profiles.py) follows from that.
EVIDENCE_PREFIX = "test_tls_evidence_"


def suite_check(test_name: str) -> tuple[str, str | None]:
    """The (check, variant) a suite test records; variant None: all its variants."""
    if test_name.startswith(EVIDENCE_PREFIX):
        return TLS_EVIDENCE.check, test_name.removeprefix(EVIDENCE_PREFIX).replace("_", "-")
    return test_name.removeprefix("test_").replace("_", "-"), None


def budget_checks(budget_names: Iterable[str]) -> set[str]:
    """The checks whose figures the given budgets judge: a budget asked for is
    measured whatever the profile."""
    from pytest_traefik_compat.suite.test_budgets import BUDGET_SOURCES

    return {BUDGET_SOURCES[name][0] for name in budget_names if name in BUDGET_SOURCES}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put the suite's items in RUN_ORDER and mark those outside the default profile
    ``traefik_profile("full")``; items from elsewhere keep their places and marks.

    A stable sort, so the parameters of one test keep their order. It runs before
    other plugins reorder (pytest's grouping by base, --random-order, a user's -p
    plugin), so theirs has the last word; the plugin deselects by the marks last.
    """
    rank = {name: index for index, name in enumerate(RUN_ORDER)}
    slots = [index for index, item in enumerate(items) if item.path.parent.resolve() == HERE]
    ordered = sorted(
        (items[index] for index in slots),
        key=lambda item: rank.get(getattr(item, "originalname", item.name), len(rank)),
    )
    for index, item in zip(slots, ordered, strict=True):
        items[index] = item
    budgeted = budget_checks(config.stash[settings_key].budgets.names())
    for item in ordered:
        check, variant = suite_check(getattr(item, "originalname", item.name))
        if not profiles.in_profile(profiles.DEFAULT_PROFILE, check, variant) and (
            check not in budgeted
        ):
            item.add_marker(pytest.mark.traefik_profile("full"))


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    path = sample_apps_dir()
    if not (path / "service" / "go.mod").exists():
        pytest.fail(
            f"sample Go modules not found at {path}: run from a checkout or set "
            "PYTEST_TRAEFIK_SAMPLE_APPS",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def sample_builds(
    traefik_base: BaseImage,
    traefik_build: Callable[..., ServiceBuild],
    sample_dir: Path,
) -> dict[str, ServiceBuild | str]:
    """The sample service in each linkage on this base (or why it did not build)."""
    builds: dict[str, ServiceBuild | str] = {}
    for linkage in gobuild.LINKAGES:
        try:
            builds[linkage] = traefik_build(
                sample_dir / "service", traefik_base, linkage=linkage, ports=(8080, 8081, 9090)
            )
        except pytest.fail.Exception as failure:
            builds[linkage] = str(failure)
    return builds


@pytest.fixture(scope="session")
def static_build(sample_builds: dict[str, ServiceBuild | str]) -> ServiceBuild:
    build = sample_builds[STATIC]
    if isinstance(build, str):
        pytest.fail(f"static build failed: {build}", pytrace=False)
    return build


@pytest.fixture(scope="session")
def compat_stack(
    traefik_base: BaseImage,
    static_build: ServiceBuild,
    traefik_gateway: Callable[..., Gateway],
    sample_dir: Path,
) -> Iterator[Gateway]:
    """One stack per base, shared by that base's tests, closed when the base is done
    (kept under --traefik-keep when the base failed)."""
    stack = traefik_gateway(
        traefik_base,
        [ServiceSpec(static_build.tag)],
        health_interval=HEALTH_INTERVAL,
        # The Yaegi-interpreted middleware shows local plugins load on this base.
        plugin=traefik.LocalPlugin(PLUGIN_MODULE, {"value": PLUGIN_VALUE}),
        plugin_dir=sample_dir / "traefik-plugin" / "plugins-local",
    )
    yield stack
    stack.close()


@pytest.fixture(autouse=True)
def _routes_in_service_on_podman(request: pytest.FixtureRequest) -> None:
    """Podman: removing a container from a network stalls traffic between the others
    for a second or two (Traefik's health checks time out, the route answers 503); a
    check starts only once every route is back in service (an engine difference)."""
    if "compat_stack" not in request.fixturenames or not engine.is_podman():
        return
    stack = request.getfixturevalue("compat_stack")
    if stack.started:
        stack.wait_routes_ready(settle=False)


@pytest.fixture(scope="session")
def floor_build(
    traefik_base: BaseImage,
    traefik_build: Callable[..., ServiceBuild],
    sample_dir: Path,
) -> ServiceBuild:
    """The start-latency floor: a net/http-only static server with the service's ports
    and the same self-probe HEALTHCHECK, so only the program differs."""
    return traefik_build(
        sample_dir / "floor", traefik_base, ports=(8080, 8081, 9090), linkage_var=None
    )


@pytest.fixture(scope="session")
def control_build(
    traefik_compat: CompatSession,
    traefik_build: Callable[..., ServiceBuild],
    sample_dir: Path,
) -> ServiceBuild | None:
    """The drift control of the startup series: the floor on the run's first base, one
    and the same image in every base's series. A change in its starts between series is
    the machine drifting, not the base. None when that base cannot be had (the series
    then go without it)."""
    first = traefik_compat.settings.images[0]
    try:
        base = traefik_compat.base(first)
        return traefik_build(sample_dir / "floor", base, ports=(8080, 8081, 9090), linkage_var=None)
    except (CompatError, pytest.fail.Exception) as error:
        traefik_compat.progress(f"startup drift control on {first.name} unavailable: {error}")
        return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test_budget per --traefik-budget name (x base, from the plugin)."""
    if "budget_name" not in metafunc.fixturenames:
        return
    names = metafunc.config.stash[settings_key].budgets.names()
    if names:
        metafunc.parametrize("budget_name", names)
    else:
        metafunc.parametrize(
            "budget_name",
            [pytest.param("", marks=pytest.mark.skip(reason="no --traefik-budget given"))],
            ids=["no-budgets"],
        )
