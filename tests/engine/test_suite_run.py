"""The built-in suite run as users run it (subprocess): serial, -n 2, shards.

The reference is the session's serial run over the three default bases
(``reference_run`` in ``tests/engine/conftest.py``, shared with ``test_security.py``);
it runs in reverse order, so it also shows that each check establishes its own
preconditions, and with capture on, so it shows the progress lines reach the terminal
without ``-s``. A ``-n 2`` run and a CI-style shard must produce the same records
(timings differ, keys do not). The issue-13 figures are checked on the reference run's
report (the parts of each start add up, the floor is the service's measurement,
Traefik's figures on every base), and the debian-slim shard carries a budget that
must fail.

The ``-n 2`` run and the shard go in the suite's own order, in which gRPC runs right
after the startup series replaced the routed service: together they show, on every
base, that the route is back in rotation when that check ends.

Every run passes small sample counts. The reference run is ``--traefik-profile=full``
(every check's records are judged there); the ``-n 2`` run (two bases) and the shard
(one base) run the default profile, as a CI gate shards it, and must reproduce the
reference's records of that profile: the suite runs three times for this file, the
reference run included. What xdist and sharding change (which worker and which job
runs a base, how records come back together) is the same for every check.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pytest_traefik_compat.measure import startup, stats
from pytest_traefik_compat.records.profiles import in_profile
from pytest_traefik_compat.report import load_report, merge_reports
from pytest_traefik_compat.suite.conftest import suite_check
from pytest_traefik_compat.suite.test_traefik import TRAEFIK_START_SAMPLES
from tests.helpers.reference_run import BASES as DEFAULT_BASES
from tests.helpers.reference_run import OVERHEAD_REQUESTS, SAMPLES, ReferenceRun

SUITE = ["--pyargs", "pytest_traefik_compat.suite", "-p", "no:cacheprovider"]
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
    "inprocess-start",
    "traefik-figures",
    "tls-evidence",
    "gateway-overhead",
    "posture",
    "dns",
}
RUN_TIMEOUT_S = 900
# The -n 2 run and the shard: the profile a CI gate shards.
GATE = ("--traefik-profile=default",)
BUDGET_BASE = "debian-slim"


def _args(report_dir: Path, *args: str) -> list[str]:
    return [
        *SUITE,
        f"--traefik-report-dir={report_dir}",
        "--traefik-profile=full",
        f"--traefik-samples={SAMPLES}",
        "--traefik-handshakes=20",
        *args,
    ]


def _run(pytester: pytest.Pytester, report_dir: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*_args(report_dir, *args), timeout=RUN_TIMEOUT_S)


def _keys(document: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(r["base"], r["check"], r["variant"]) for r in document["records"]}


@pytest.fixture(scope="module")
def serial(reference_run: ReferenceRun) -> dict[str, Any]:
    """The reference: one serial run over the default bases, as a user would start it."""
    stdout = reference_run.stdout
    assert reference_run.returncode == 0, stdout[-3000:] + reference_run.stderr[-2000:]
    assert " failed" not in stdout.splitlines()[-1]
    document = dict(reference_run.document)
    passed = re.search(r"(\d+) passed", stdout.splitlines()[-1])
    assert passed is not None
    # every passing test of the suite writes at least one record, with its test id
    assert int(passed.group(1)) == sum(_passed_tests(document).values())
    document["_stdout"] = stdout
    return document


def _in(profile: str, record: dict[str, Any]) -> bool:
    """Does a run of ``profile`` write this record? Decided by the test that wrote it
    (test_inprocess_start writes memory records, and is study)."""
    test_name = record["test_id"].split("::")[-1].split("[")[0]
    return in_profile(profile, *suite_check(test_name))


def _passed_tests(document: dict[str, Any], profile: str = "full") -> Counter[str]:
    """Distinct passing tests per base of ``profile``, from the records' test ids."""
    tests = {
        (r["base"], r["test_id"])
        for r in document["records"]
        if r["outcome"] == "passed" and _in(profile, r)
    }
    return Counter(base for base, _ in tests)


def _default_keys(document: dict[str, Any]) -> set[tuple[str, str, str]]:
    """The keys of the records a default-profile run writes."""
    return {(r["base"], r["check"], r["variant"]) for r in document["records"] if _in("default", r)}


def test_serial_run_covers_every_base_and_check(serial: dict[str, Any]) -> None:
    keys = _keys(serial)
    for base in DEFAULT_BASES:
        assert {check for b, check, _ in keys if b == base} == CHECKS
    assert serial["bases"] == list(DEFAULT_BASES)
    assert all(r["outcome"] == "passed" for r in serial["records"])
    stdout = serial["_stdout"]
    assert "Start matrix" in stdout and "report: " in stdout
    assert "test_start.py" in stdout


def test_reference_run_went_in_reverse_order(serial: dict[str, Any]) -> None:
    """Each check establishes its own preconditions: the run went last check first."""
    ran = [
        line for line in serial["_stdout"].splitlines() if "::test_" in line and "PASSED" in line
    ]
    assert ran and "test_image_facts" in ran[-1], "reversed: the first check ran last"
    assert "test_image_facts" not in ran[0], ran[0]


def test_progress_reaches_the_terminal_without_dash_s(serial: dict[str, Any]) -> None:
    """A plain serial run (capture on) still shows long work as it happens."""
    stdout = serial["_stdout"]
    assert re.search(r"\[traefik-compat main [^\]]*\] starting stack ptc-", stdout)
    assert re.search(r"\[traefik-compat main [^\]]*\] stack ptc-\S+ ready in ", stdout)


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


@pytest.fixture(scope="module")
def xdist_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, int]]:
    """alpine and distroless under ``-n 2``: the xdist run, and a CI shard of its own."""
    report_dir = tmp_path_factory.mktemp("xdist") / "report"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *_args(report_dir, *GATE, "--traefik-images=alpine,distroless", "-n", "2", "-v"),
        ],
        cwd=report_dir.parent,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    summary = done.stdout.strip().splitlines()[-1]
    counts = {
        word: int(number)
        for number, word in (
            part.split()[:2] for part in summary.strip("= ").split(", ") if " " in part
        )
        if number.isdigit()
    }
    return report_dir, done.stdout, counts


def _assert_grpc_right_after_latency(lines: list[str], bases: tuple[str, ...]) -> None:
    """In a run in the suite's own order, gRPC passes right after the startup series
    replaced the routed service: once seen as a 503 (``StatusCode.UNAVAILABLE``) when
    the route was not back in rotation yet."""
    ran = [line.split("::")[1].split()[0] for line in lines if "PASSED" in line and "::" in line]
    for base in bases:
        on_base = [name for name in ran if name.endswith(f"[{base}]") or f"[{base}-" in name]
        latency = on_base.index(f"test_startup_latency[{base}]")
        assert on_base[latency + 1] == f"test_grpc[{base}]", on_base


def test_xdist_run_matches_the_serial_records(
    xdist_run: tuple[Path, str, dict[str, int]], serial: dict[str, Any]
) -> None:
    report_dir, stdout, counts = xdist_run
    per_base = _passed_tests(serial, "default")
    assert counts.get("passed") == per_base["alpine"] + per_base["distroless"], stdout[-2000:]
    # the controller relays what each worker is doing, with elapsed time
    assert re.search(
        r"\[traefik-compat gw\d \+ *[\d.]+s\] stack ptc-\S+-gw\d-\S+ ready in ", stdout
    )
    document, _ = load_report(report_dir / "report.json")
    expected = {k for k in _default_keys(serial) if k[0] in ("alpine", "distroless")}
    assert expected and _keys(document) == expected
    workers = {r["worker"] for r in document["records"]}
    assert workers <= {"gw0", "gw1"} and len(workers) == 2
    # one worker per base: never one stack per worker and base
    for base in ("alpine", "distroless"):
        assert len({r["worker"] for r in document["records"] if r["base"] == base}) == 1
    _assert_grpc_right_after_latency(stdout.splitlines(), ("alpine", "distroless"))


def test_shards_merge_into_the_combined_record_set(
    pytester: pytest.Pytester,
    tmp_path_factory: pytest.TempPathFactory,
    serial: dict[str, Any],
    xdist_run: tuple[Path, str, dict[str, int]],
) -> None:
    per_base = _passed_tests(serial, "default")
    first = tmp_path_factory.mktemp("shard-debian")
    # A real budget that must fail: the debian-slim service image is far above 10 MiB.
    result = _run(
        pytester,
        first,
        *GATE,
        "-v",
        "--traefik-images=debian-slim",
        "--traefik-budget=image_mb=10",
    )
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 1 and outcomes["passed"] == per_base[BUDGET_BASE]
    result.stdout.fnmatch_lines(
        [
            f"E * {BUDGET_BASE}: image_mb <= 10 mb: FAIL (* mb)",
            f"FAILED *test_budget[[]image_mb-{BUDGET_BASE}[]]*",
        ]
    )
    # The other CI job: alpine and distroless (the -n 2 run's report, as a job would
    # write it under xdist).
    second = xdist_run[0]
    shard, _ = load_report(first / "report.json")
    # ids carry the base, and every record names the test that produced it
    assert all(
        "[debian-slim" in r["test_id"] or "-debian-slim]" in r["test_id"] for r in shard["records"]
    )
    budget = [r for r in shard["records"] if r["check"] == "budget"]
    assert [(r["variant"], r["outcome"]) for r in budget] == [("image_mb", "failed")]
    assert budget[0]["figures"]["outcome"]["value"] == "fail"
    _assert_grpc_right_after_latency(result.outlines, (BUDGET_BASE,))
    merged = merge_reports([first / "report.json", second / "report.json"])
    assert {k for k in _keys(merged) if k[1] != "budget"} == _default_keys(serial)
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


# ---- issue 13: the figures of the reference run


def _records(serial: dict[str, Any], check: str) -> dict[str, dict[str, Any]]:
    found = {r["base"]: r for r in serial["records"] if r["check"] == check and not r["variant"]}
    assert set(found) == set(DEFAULT_BASES), check
    return found


def test_start_parts_add_up_to_the_total(serial: dict[str, Any]) -> None:
    """Each start's parts (engine create, engine start, hand-off, init -> ready, ready ->
    first 200) add up to the client's own total within the poll resolution: the parts
    are wall-clock stamps, the total a monotonic clock. The sample service and the floor
    both log a ready line, so every part is there."""
    tolerance_ms = startup.POLL_S * 1000
    for base, record in _records(serial, "startup-latency").items():
        starts = record["details"]["starts"]
        assert set(starts) == {"direct", "floor", "control"}
        for series, samples in starts.items():
            assert len(samples) == SAMPLES, (base, series)
            for sample in samples:
                parts = sample["parts_ms"]
                assert list(parts) == list(startup.PARTS)
                assert all(value is not None for value in parts.values()), (base, series, parts)
                assert abs(sum(parts.values()) - sample["total_ms"]) <= tolerance_ms, (
                    base,
                    series,
                    parts,
                    sample["total_ms"],
                )
                assert sample["poll_s"] == startup.POLL_S
                # the client polls after the listener is up: never before ready
                assert parts["first_answer"] >= 0 and parts["init_ready"] >= 0
        for part in startup.PARTS:
            assert f"direct_{part}_median" in record["figures"], (base, part)
        assert record["figures"]["poll_interval"]["value"] == tolerance_ms
        # The program's share of each start (StartedAt -> ready) is handoff + init_ready,
        # and own cost is also given from it, with its p-value.
        for series in ("direct", "floor"):
            shares = [
                s["parts_ms"]["handoff"] + s["parts_ms"]["init_ready"] for s in starts[series]
            ]
            assert record["samples"][f"{series}_program"] == pytest.approx(shares, abs=0.01)
        for name in ("program_cost", "floor_below_direct_program", "floor_vs_direct_program_p"):
            assert name in record["figures"], (base, name)


def test_floor_is_measured_exactly_like_the_service(serial: dict[str, Any]) -> None:
    """The floor's definition, from the container specs the run recorded: same published
    ports on the same address, same network, user, hardening, HEALTHCHECK and polling."""
    for base, record in _records(serial, "startup-latency").items():
        specs = record["details"]["container_specs"]
        direct, floor = specs["direct"], specs["floor"]
        assert floor == direct == specs["control"], base
        assert sorted(p.split("->")[0] for p in direct["published"]) == [
            "8080/tcp",
            "8081/tcp",
            "9090/tcp",
        ]
        assert len(direct["networks"]) == 1 and direct["networks"][0].startswith("ptc-")
        assert direct["user"].startswith("65532") and direct["read_only"]
        assert direct["cap_drop"] == ["ALL"]
        assert direct["healthcheck"][-1] == "-healthcheck"
        assert direct["poll"] == {"path": "/healthz", "interval_s": startup.POLL_S}
        assert len(record["samples"]["floor"]) == len(record["samples"]["direct"]) == SAMPLES
        # The drift control: one image in every base's series, service - control per round.
        assert len(record["samples"]["control"]) == SAMPLES
        paired = [
            d - c
            for d, c in zip(record["samples"]["direct"], record["samples"]["control"], strict=True)
        ]
        assert record["samples"]["direct_vs_control"] == pytest.approx(paired)
        # Route ready after each service start, topped up to the fewest with an interval.
        assert len(record["samples"]["route_ready"]) == max(SAMPLES, stats.MIN_N_INTERVAL)
    controls = {
        r["figures"]["control_image"]["value"] for r in _records(serial, "startup-latency").values()
    }
    assert len(controls) == 1 and "floor" in next(iter(controls)), controls


def test_overhead_takes_the_requests_asked_with_the_percentiles_they_support(
    serial: dict[str, Any],
) -> None:
    records = [r for r in serial["records"] if r["check"] == "gateway-overhead"]
    assert {r["base"] for r in records} == set(DEFAULT_BASES), records
    for record in records:
        figures = record["figures"]
        for side in ("direct", "traefik"):
            assert figures[f"requests_{side}"]["value"] == OVERHEAD_REQUESTS
            assert len(record["samples"][side]) == OVERHEAD_REQUESTS
            # 80 requests support a p95, not a p99 (it would be the maximum).
            assert f"{side}_p95" in figures and f"{side}_p99" not in figures, figures


def test_traefik_figures_on_every_base(serial: dict[str, Any]) -> None:
    for base, record in _records(serial, "traefik-figures").items():
        figures = record["figures"]
        assert figures["rss_peak"]["value"] >= figures["rss"]["value"] > 0, base
        assert figures["rss"]["unit"] == "bytes"
        starts = TRAEFIK_START_SAMPLES  # the fewest that give a 95% interval
        assert len(record["samples"]["start"]) == starts, base
        for part in ("create", "start", "first_answer"):
            assert len(record["samples"][f"start_{part}"]) == starts, (base, part)
        assert "load_per_core" in record["details"]["conditions"]
        assert 0 <= record["details"]["conditions"]["cpu_busy"] <= 1
