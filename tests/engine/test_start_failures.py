"""Every way a service can fail to come up says what happened, in one line, through the
public fixtures: the exit code, the loader's words, the prediction, nothing pulled.

One pytester run holds every case (a user project with two test files, on the three
default bases); each case is judged on its own failure section of the output.
"""

from __future__ import annotations

import re
from fnmatch import fnmatch

import pytest

from pytest_traefik_compat.plugin.session import sample_apps_dir

RUN_TIMEOUT_S = 600
# (base, linkage) pairs whose binary cannot exec on the base: the loader is missing.
CANNOT_EXEC = (
    ("alpine", "glibc"),
    ("distroless", "glibc"),
    ("debian-slim", "musl"),
    ("distroless", "musl"),
)
BASES = ("alpine", "debian-slim", "distroless")
LOADERS = {"glibc": "/lib64/ld-linux-x86-64.so.2", "musl": "/lib/ld-musl-x86_64.so.1"}
USER_TEST = """
import pytest

CASES = {cases!r}

@pytest.mark.parametrize("linkage", ["glibc", "musl"])
def test_up(linkage, traefik_base, traefik_build, traefik_gateway):
    if (traefik_base.name, linkage) not in CASES:
        pytest.skip("starts on this base")
    build = traefik_build({service!r}, traefik_base, linkage=linkage, ports=(8080,))
    traefik_gateway(traefik_base, [build], health_path="/healthz")
"""
MISSING_TAG_TEST = """
import pytest

def test_missing_tag(traefik_base, traefik_gateway):
    if traefik_base.name != "distroless":
        pytest.skip("one base is enough")
    traefik_gateway(traefik_base, ["compat.invalid/team/missing:1"])
"""


def _sections(output: str) -> dict[str, str]:
    """Each failure's section of the output (``___ test_x[params] ___`` to the next)."""
    parts = re.split(r"^_{3,} (\S+) _{3,}$", output, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _section_of(sections: dict[str, str], test: str, *params: str) -> str:
    """The section of ``test`` whose parameters are exactly ``params`` (in any order)."""
    for name, text in sections.items():
        match = re.fullmatch(rf"{test}\[(.+)\]", name)
        if match and match.group(1) in ("-".join(params), "-".join(reversed(params))):
            return text
    raise AssertionError(f"no failure section for {test}{list(params)}: {sorted(sections)}")


def test_services_that_fail_to_come_up_say_why_in_one_line(pytester: pytest.Pytester) -> None:
    """A binary that cannot exec on its base, and a service image that is not there.

    Seen: a bare ``9000`` (KeyError on the port map) when the exit beat the publish.
    """
    pytester.makepyfile(
        test_user=USER_TEST.format(
            cases=set(CANNOT_EXEC), service=str(sample_apps_dir() / "service")
        ),
        test_missing=MISSING_TAG_TEST,
    )
    result = pytester.runpytest_subprocess(
        f"--traefik-images={','.join(BASES)}", timeout=RUN_TIMEOUT_S
    )
    # test_up: 3 bases x 2 linkages, the 2 that start skipped; test_missing_tag: 1 base.
    result.assert_outcomes(failed=len(CANNOT_EXEC) + 1, skipped=2 + 2)
    sections = _sections(result.stdout.str())
    for base, linkage in CANNOT_EXEC:
        lines = _section_of(sections, "test_up", base, linkage).splitlines()
        pattern = (
            f"*service ptc-*-app (*-{linkage}*) exited with code * before /healthz answered: "
            f"*exec*no such file or directory; predicted: interpreter {LOADERS[linkage]} "
            "not in image*"
        )
        assert any(fnmatch(line, pattern) for line in lines), (base, linkage, lines[-30:])
    missing = _section_of(sections, "test_missing_tag", "distroless")
    assert (
        "image compat.invalid/team/missing:1 is not present locally; build it first "
        "(nothing is pulled implicitly)" in missing
    ), missing[-3000:]
    result.stdout.no_fnmatch_line("*KeyError*")
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*pull access denied*")
