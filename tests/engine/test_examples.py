"""examples/own-service run exactly as a user runs it: its own directory, its own
pytest.ini, the plugin found through its pytest11 entry point, a real engine.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "own-service"
BASES = ("alpine", "debian-slim", "distroless")
# Cold (nothing cached) means three Go builds and nine small images; warm runs take
# well under a minute. The bound is for a hung engine, not for a slow machine.
RUN_TIMEOUT_S = 900
# pytester points HOME at its temporary directory. The user's HOME holds the Go
# build cache and the plugin's cache of bases and images: a user's run has them.
USER_HOME = str(Path.home())

# Per base: what the example's tests must do there (see its tests/test_orders.py).
EXPECTED = {
    # no tzdata: the opening-hours test skips; no glibc loader: the glibc build xfails
    "alpine": {"PASSED": 6, "SKIPPED": 2, "XFAIL": 1},
    # no musl loader: the musl build xfails
    "debian-slim": {"PASSED": 7, "SKIPPED": 1, "XFAIL": 1},
    # no shell: the shell-form health check skips; no loader at all: both cgo builds xfail
    "distroless": {"PASSED": 5, "SKIPPED": 2, "XFAIL": 2},
}
# Lines of the verbose report (the example's pytest.ini sets -v).
RESULT_LINE = re.compile(
    r"^tests/test_orders\.py::(\w+)\[([\w.-]+)\] (PASSED|SKIPPED|XFAIL|FAILED|ERROR)"
)


def base_of(param_id: str) -> str:
    # ids are "<base>" or "<base>-<linkage>"; base names contain dashes themselves
    return next(b for b in BASES if param_id == b or param_id.startswith(b + "-"))


@pytest.mark.slow
@pytest.mark.docker
def test_own_service_example_on_three_bases(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(EXAMPLE, pytester.path, dirs_exist_ok=True)
    monkeypatch.setenv("HOME", USER_HOME)

    started = time.monotonic()
    result = pytester.runpytest_subprocess(
        "--traefik-images=alpine,debian-slim,distroless",
        "-p",
        "no:cacheprovider",
        timeout=RUN_TIMEOUT_S,
    )
    print(f"example run: {time.monotonic() - started:.1f} s wall")
    output = result.stdout.str()

    assert result.ret == pytest.ExitCode.OK, output[-4000:]
    result.assert_outcomes(passed=18, skipped=5, xfailed=4)
    per_base: dict[str, Counter[str]] = {base: Counter() for base in BASES}
    for line in output.splitlines():
        match = RESULT_LINE.match(line)
        if match:
            per_base[base_of(match.group(2))][match.group(3)] += 1
    assert {base: dict(counts) for base, counts in per_base.items()} == EXPECTED

    # Skip reasons come from the traefik_bases marker and the bases' facts.
    skips = {
        reason: int(count)
        for count, reason in re.findall(r"^SKIPPED \[(\d+)\] \S+: (.+)$", output, re.MULTILINE)
    }
    assert skips == {
        "base alpine has no zoneinfo": 1,
        "base distroless has no shell": 1,
        "only for linkages glibc, musl (this is static)": 3,
    }
    # The cgo test's xfail reason is the start prediction's diagnosis.
    result.stdout.fnmatch_lines_random(
        [
            "XFAIL *test_cgo_checksum[[]alpine-glibc[]] - glibc build on alpine: "
            "interpreter /lib64/ld-linux-x86-64.so.2 not in image",
            "XFAIL *test_cgo_checksum[[]debian-slim-musl[]] - musl build on debian-slim: "
            "interpreter /lib/ld-musl-x86_64.so.1 not in image",
            "XFAIL *test_cgo_checksum[[]distroless-glibc[]] - *interpreter /lib64/ld-linux*",
            "XFAIL *test_cgo_checksum[[]distroless-musl[]] - *interpreter /lib/ld-musl*",
        ]
    )
    assert "Traceback" not in output + result.stderr.str()

    # The user's own measurements land in the run's report next to the plugin's.
    report = json.loads((pytester.path / "compat-report" / "report.json").read_text())
    latency = {r["base"]: r for r in report["records"] if r["check"] == "orders-latency"}
    assert sorted(latency) == sorted(BASES)
    for record in latency.values():
        assert record["figures"]["orders_per_second"]["unit"] == "1/s"
        assert len(record["samples"]["create"]) == 50
        assert record["outcome"] == "passed"
