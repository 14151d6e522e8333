"""Zero flakes: each check establishes its own preconditions, whatever ran before it.

Every failure seen on a fresh clone is reproduced: the gRPC route right after the
startup-latency check replaced the service (here), the suite in reversed order (the
session's reference run goes in reverse, ``test_suite_run.py``) and in shuffled order
(the suite against the namespaced dockerd runs with ``--random-order``,
``test_remote_engines.py``).
"""

from __future__ import annotations

import pytest

SUITE = ["--pyargs", "pytest_traefik_compat.suite", "-p", "no:cacheprovider"]
RUN_TIMEOUT_S = 600
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
