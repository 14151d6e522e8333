"""Every way a service can fail to come up says what happened, in one line, through the
public fixtures: the exit code, the loader's words, the prediction, nothing pulled."""

from __future__ import annotations

import pytest

from pytest_traefik_compat.plugin.session import sample_apps_dir

RUN_TIMEOUT_S = 600
USER_TEST = """
import pytest

@pytest.mark.parametrize("linkage", {linkages!r})
def test_up(linkage, traefik_base, traefik_build, traefik_gateway):
    build = traefik_build({service!r}, traefik_base, linkage=linkage, ports=(8080,))
    traefik_gateway(traefik_base, [build], health_path="/healthz")
"""


@pytest.mark.parametrize(
    ("base", "linkage"),
    [
        ("alpine", "glibc"),
        ("distroless", "glibc"),
        ("debian-slim", "musl"),
        ("distroless", "musl"),
    ],
)
def test_service_that_cannot_exec_is_one_line(
    pytester: pytest.Pytester, base: str, linkage: str
) -> None:
    """Seen: a bare ``9000`` (KeyError on the port map) when the exit beat the publish."""
    pytester.makepyfile(
        test_user=USER_TEST.format(linkages=[linkage], service=str(sample_apps_dir() / "service"))
    )
    result = pytester.runpytest_subprocess(f"--traefik-images={base}", timeout=RUN_TIMEOUT_S)
    result.assert_outcomes(failed=1)
    loader = "/lib64/ld-linux-x86-64.so.2" if linkage == "glibc" else "/lib/ld-musl-x86_64.so.1"
    result.stdout.fnmatch_lines(
        [
            f"*service ptc-*-app (*-{linkage}*) exited with code * before /healthz answered: "
            f"*exec*no such file or directory; predicted: interpreter {loader} not in image*"
        ]
    )
    result.stdout.no_fnmatch_line("*KeyError*")
    result.stdout.no_fnmatch_line("*Traceback*")


def test_missing_service_tag_is_not_pulled(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
def test_up(traefik_base, traefik_gateway):
    traefik_gateway(traefik_base, ["compat.invalid/team/missing:1"])
"""
    )
    result = pytester.runpytest_subprocess("--traefik-images=distroless", timeout=RUN_TIMEOUT_S)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*image compat.invalid/team/missing:1 is not present locally; build it first "
            "(nothing is pulled implicitly)*"
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*pull access denied*")
