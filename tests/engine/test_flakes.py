"""Zero flakes: each check establishes its own preconditions, whatever ran before it.

Every failure seen on a fresh clone is reproduced here: the gRPC route right after the
startup-latency check replaced the service, the suite in shuffled and reversed order.
"""

from __future__ import annotations

import pytest

SUITE = ["--pyargs", "pytest_traefik_compat.suite", "-p", "no:cacheprovider"]
RUN_TIMEOUT_S = 600
REVERSE_PLUGIN = """
def pytest_collection_modifyitems(items):
    items.reverse()
"""
# The latency check and test_grpc live in different modules: put each base's gRPC
# check directly after its latency check, the order in which the 503 was seen.
GRPC_AFTER_LATENCY_PLUGIN = """
def pytest_collection_modifyitems(items):
    def key(item):
        base = item.callspec.params["traefik_base"].name
        return (base, 0 if item.originalname == "test_startup_latency" else 1)
    items.sort(key=key)
"""


def _suite(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        *SUITE,
        f"--traefik-report-dir={pytester.path / 'report'}",
        "--traefik-samples=3",
        "--traefik-handshakes=20",
        "-rf",
        *args,
        timeout=RUN_TIMEOUT_S,
    )


def _assert_all_passed(result: pytest.RunResult) -> None:
    """The suite grows: judge a run by no failure and no error, and that checks ran."""
    outcomes = result.parseoutcomes()
    assert result.ret == 0, "\n".join(result.outlines[-40:])
    assert outcomes.get("passed", 0) >= 15, outcomes
    assert not outcomes.get("failed") and not outcomes.get("errors"), outcomes


def test_grpc_right_after_the_latency_check_on_every_base(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The latency check replaces the service; gRPC must be back in rotation at once.

    Seen once: ``StatusCode.UNAVAILABLE, Received http2 header with status: 503``.
    """
    (pytester.path / "grpc_after_latency.py").write_text(GRPC_AFTER_LATENCY_PLUGIN)
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    result = _suite(
        pytester,
        "-p",
        "grpc_after_latency",
        "--traefik-images=alpine,debian-slim,distroless",
        "-k",
        "test_startup_latency or test_grpc",
        "-v",
    )
    result.assert_outcomes(passed=6)
    # The order is the point: on each base test_grpc runs right after the latency check.
    ran = [line.split("::")[1].split()[0] for line in result.outlines if "PASSED" in line]
    for base in ("alpine", "debian-slim", "distroless"):
        latency = ran.index(f"test_startup_latency[{base}]")
        assert ran[latency + 1] == f"test_grpc[{base}]", ran


def test_suite_passes_in_shuffled_order(pytester: pytest.Pytester) -> None:
    result = _suite(
        pytester, "--traefik-images=distroless", "--traefik-profile=full", "--random-order"
    )
    result.stdout.fnmatch_lines(["*Using --random-order-bucket=module*"])
    _assert_all_passed(result)


def test_suite_passes_in_reversed_order(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    (pytester.path / "reverse_order.py").write_text(REVERSE_PLUGIN)
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    result = _suite(
        pytester, "--traefik-images=alpine", "--traefik-profile=full", "-p", "reverse_order", "-v"
    )
    _assert_all_passed(result)
    ran = [line for line in result.outlines if "::test_" in line and "PASSED" in line]
    assert ran and "test_image_facts" in ran[-1], "reversed: the first check ran last"


def test_progress_reaches_the_terminal_without_dash_s(pytester: pytest.Pytester) -> None:
    """A plain serial run (capture on) still shows long work as it happens."""
    pytester.makepyfile(
        test_user="""
def test_up(traefik_base, traefik_gateway):
    pass

def test_gateway(traefik_base, traefik_build, traefik_gateway):
    import pathlib
    from pytest_traefik_compat.plugin.session import sample_apps_dir
    build = traefik_build(sample_apps_dir() / "service", traefik_base, ports=(8080,))
    gateway = traefik_gateway(traefik_base, [build])
    gateway.close()
"""
    )
    result = pytester.runpytest_subprocess("--traefik-images=distroless", timeout=RUN_TIMEOUT_S)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "[[]traefik-compat main *] starting stack ptc-*",
            "[[]traefik-compat main *] stack ptc-* ready in *",
        ]
    )
