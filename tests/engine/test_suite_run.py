"""The built-in suite run as users run it (pytester, subprocess): serial, -n 2, shards.

One serial run over the three default bases is the reference; a ``-n 2`` run and
two CI-style shards must produce the same records (timings differ, keys do not).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_traefik_compat.report import load_report, merge_reports

SUITE = ["--pyargs", "pytest_traefik_compat.suite", "-p", "no:cacheprovider"]
DEFAULT_BASES = ("alpine", "debian-slim", "distroless")
CHECKS = {
    "image-facts",
    "start-matrix",
    "startup-latency",
    "memory",
    "tls",
    "mtls",
    "grpc",
    "client-identity",
    "health-metrics",
    "healthcheck",
    "alignment",
    "runtime-facts",
    "traefik-plugin",
    "go-plugin",
}
RUN_TIMEOUT_S = 900


def _args(report_dir: Path, *args: str) -> list[str]:
    return [
        *SUITE,
        f"--traefik-report-dir={report_dir}",
        "--traefik-samples=3",
        "--traefik-handshakes=30",
        *args,
    ]


def _run(pytester: pytest.Pytester, report_dir: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*_args(report_dir, *args), timeout=RUN_TIMEOUT_S)


def _keys(document: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(r["base"], r["check"], r["variant"]) for r in document["records"]}


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The reference: one serial run over the default bases, as a user would start it."""
    workdir = tmp_path_factory.mktemp("serial-run")
    report_dir = workdir / "report"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *_args(report_dir, f"--traefik-images={','.join(DEFAULT_BASES)}"),
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert f"{17 * len(DEFAULT_BASES)} passed" in done.stdout
    document, _records = load_report(report_dir / "report.json")
    document["_stdout"] = done.stdout
    return document


def test_serial_run_covers_every_base_and_check(serial: dict[str, Any]) -> None:
    keys = _keys(serial)
    for base in DEFAULT_BASES:
        assert {check for b, check, _ in keys if b == base} == CHECKS
    assert serial["bases"] == list(DEFAULT_BASES)
    assert all(r["outcome"] == "passed" for r in serial["records"])
    stdout = serial["_stdout"]
    assert "Start matrix" in stdout and "report: " in stdout
    assert "test_compat.py" in stdout


def test_start_matrix_is_the_expected_physics(serial: dict[str, Any]) -> None:
    observed = {
        (r["base"], r["variant"]): r["figures"]["observed"]["value"]
        for r in serial["records"]
        if r["check"] == "start-matrix"
    }
    assert observed == {
        ("alpine", "static"): "starts",
        ("alpine", "glibc"): "fails",
        ("alpine", "musl"): "starts",
        ("debian-slim", "static"): "starts",
        ("debian-slim", "glibc"): "starts",
        ("debian-slim", "musl"): "fails",
        ("distroless", "static"): "starts",
        ("distroless", "glibc"): "fails",
        ("distroless", "musl"): "fails",
    }
    glibc_fails = [
        r
        for r in serial["records"]
        if r["check"] == "start-matrix"
        and r["variant"] == "glibc"
        and r["figures"]["observed"]["value"] == "fails"
    ]
    assert len(glibc_fails) == 2
    for record in glibc_fails:
        # the failing cells carry the missing loader in their reason
        assert "/lib64/ld-linux-x86-64.so.2" in record["figures"]["prediction_reason"]["value"]


def test_xdist_run_matches_the_serial_records(
    pytester: pytest.Pytester,
    tmp_path_factory: pytest.TempPathFactory,
    serial: dict[str, Any],
) -> None:
    report_dir = tmp_path_factory.mktemp("xdist")
    result = _run(pytester, report_dir, "--traefik-images=alpine,distroless", "-n", "2")
    result.assert_outcomes(passed=34)
    # the controller relays what each worker is doing, with elapsed time
    result.stdout.fnmatch_lines(["[[]traefik-compat gw? +*s[]] stack ptc-*-gw?-* ready in *"])
    document, _ = load_report(report_dir / "report.json")
    expected = {k for k in _keys(serial) if k[0] in ("alpine", "distroless")}
    assert _keys(document) == expected
    workers = {r["worker"] for r in document["records"]}
    assert workers <= {"gw0", "gw1"} and len(workers) == 2
    # one worker per base: never one stack per worker and base
    for base in ("alpine", "distroless"):
        assert len({r["worker"] for r in document["records"] if r["base"] == base}) == 1
    (report_dir.parent / "xdist-shard.json").write_text(json.dumps(document))


def test_shards_merge_into_the_combined_record_set(
    pytester: pytest.Pytester,
    tmp_path_factory: pytest.TempPathFactory,
    serial: dict[str, Any],
) -> None:
    first = tmp_path_factory.mktemp("shard-debian")
    result = _run(pytester, first, "--traefik-images=debian-slim")
    result.assert_outcomes(passed=17)
    second = tmp_path_factory.mktemp("shard-rest")
    result = _run(pytester, second, "--traefik-images=alpine,distroless")
    result.assert_outcomes(passed=34)
    shard, _ = load_report(first / "report.json")
    # ids carry the base, and every record names the test that produced it
    assert all("[debian-slim" in r["test_id"] for r in shard["records"])
    merged = merge_reports([first / "report.json", second / "report.json"])
    assert _keys(merged) == _keys(serial)
    out = tmp_path_factory.mktemp("merged")
    done = pytester.run(
        sys.executable,
        "-m",
        "pytest_traefik_compat",
        "merge",
        str(first / "report.json"),
        str(second / "report.json"),
        "-o",
        str(out),
    )
    assert done.ret == 0, done.stderr.str()
    assert (out / "report.html").exists() and (out / "report.md").exists()
    again = pytester.run(
        sys.executable,
        "-m",
        "pytest_traefik_compat",
        "merge",
        str(first / "report.json"),
        str(first / "report.json"),
        "-o",
        str(out),
    )
    assert again.ret == 2
    again.stderr.fnmatch_lines(["*base debian-slim appears in shard*"])
