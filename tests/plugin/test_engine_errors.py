"""A DOCKER_HOST or engine-host value that cannot work ends the run with one line,
before collection and without a traceback (no engine needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.helpers.bad_input_helpers import assert_one_clear_line, output_of

RUN_TIMEOUT_S = 60


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"DOCKER_HOST": "foo://engine:2375"}, "DOCKER_HOST=foo://engine:2375: unsupported scheme"),
        ({"DOCKER_HOST": "tcp://10.216.0.2"}, "DOCKER_HOST=tcp://10.216.0.2: no port"),
        (
            {
                "DOCKER_HOST": "tcp://127.0.0.1:2376",
                "DOCKER_TLS_VERIFY": "1",
                "DOCKER_CERT_PATH": "/nonexistent-certs",
            },
            "DOCKER_TLS_VERIFY is set but DOCKER_CERT_PATH=/nonexistent-certs lacks ca.pem",
        ),
        ({"PYTEST_TRAEFIK_ENGINE_HOST": "tcp://x:1"}, "PYTEST_TRAEFIK_ENGINE_HOST: engine host"),
    ],
    ids=["bad-scheme", "no-port", "tls-files-missing", "bad-engine-host-env"],
)
def test_bad_engine_values_are_one_line(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    words: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile("def test_x(traefik_base): pass")
    result = pytester.runpytest_subprocess("--traefik-images=distroless", timeout=RUN_TIMEOUT_S)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    print(assert_one_clear_line(output_of(result), words))
    assert "Traceback" not in output_of(result)


def test_bad_engine_host_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_subprocess(
        "--traefik-images=distroless", "--traefik-engine-host=10.0.0.1:2375", timeout=RUN_TIMEOUT_S
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "host name or an IP address" in result.stderr.str()


def test_cli_names_a_bad_docker_host_in_one_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "foo://engine:2375")
    done = pytester.run(
        sys.executable, "-m", "pytest_traefik_compat", "cleanup", f"--cache-dir={tmp_path}"
    )
    assert done.ret != 0
    lines = [line for line in done.stderr.lines + done.outlines if line.strip()]
    assert len(lines) == 1 and "unsupported scheme 'foo'" in lines[0], lines
