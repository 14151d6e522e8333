"""The baseline diff as a gate, on the recorded three-base sample run (default and study
checks, tests/unit/data): each crafted regression fails ``diff`` with exit 1, each
absence the current run's request explains is one "skipped" line and exit 0, series
too small for the test are "not judged (n=3)", and the thresholds are per figure."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from pytest_traefik_compat import cli
from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.profiles import in_profile
from pytest_traefik_compat.report import build_report, load_report, merge_reports
from pytest_traefik_compat.report.diff import (
    ALPHA,
    Diff,
    Thresholds,
    diff_records,
    judgeable,
    parse_regression,
    samples_to_judge,
)

DATA = Path(__file__).parent / "data"
BASES = ["alpine", "debian-slim", "distroless"]
Meta = dict[str, Any]


def full_run() -> list[Record]:
    """The sample run with the full profile: its default and its study records."""
    records: list[Record] = []
    for name in ("report-default-3-bases.json", "report-study-3-bases.json"):
        document = json.loads((DATA / name).read_text())
        records += [Record.from_json(item) for item in document["records"]]
    return records


def request(
    *,
    profile: str = "full",
    images: Iterable[str] = BASES,
    selection: dict[str, Any] | None = None,
    tests_run: Iterable[str] | None = None,
) -> Meta:
    return {
        "request": {
            "profile": profile,
            "images": list(images),
            "selection": selection or {},
            "deselected": None,
            "tests_run": None if tests_run is None else sorted(tests_run),
        }
    }


def find(records: list[Record], base: str, check: str, variant: str = "") -> Record:
    return next(r for r in records if r.key == (base, check, variant))


def drop(records: list[Record], keep: Callable[[Record], bool]) -> list[Record]:
    return [r for r in records if keep(r)]


def gate(
    baseline: list[Record],
    current: list[Record],
    meta: Meta | None = None,
    thresholds: Thresholds | None = None,
) -> Diff:
    return diff_records(baseline, current, current_meta=meta or request(), thresholds=thresholds)


def both(
    baseline: list[Record], current: list[Record], base: str, check: str, variant: str = ""
) -> tuple[Record, Record]:
    return find(baseline, base, check, variant), find(current, base, check, variant)


def series(record: Record, name: str, values: list[float], unit: str = "ms") -> None:
    record.add_samples(name, values, unit)


def gauss(seed: int, centre: float, spread: float, n: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(centre, spread) for _ in range(n)]


@pytest.fixture
def runs() -> tuple[list[Record], list[Record]]:
    baseline = full_run()
    return baseline, copy.deepcopy(baseline)


# --------------------------------------------------------------------------- crafted cases
# Each takes (baseline, current) and returns the current run's meta; each must fail.


def base_missing(baseline: list[Record], current: list[Record]) -> Meta:
    """debian-slim's stack failed at set-up: no record of it, though it was asked for."""
    current[:] = drop(current, lambda r: r.base != "debian-slim")
    return request()


def failed_while_cell_starts(baseline: list[Record], current: list[Record]) -> Meta:
    """A start-matrix test that failed while its cell went from fails to starts."""
    cell = find(current, "distroless", "start-matrix", "glibc")
    assert cell.value("observed") == "fails"
    cell.figure("observed", "starts")
    cell.outcome = "failed"
    return request()


def startup_300ms_vs_control(baseline: list[Record], current: list[Record]) -> Meta:
    """debian-slim 300 ms slower relative to the drift control on all six rounds (the
    sample's debian-slim run is flagged noisy: the control cancels that)."""
    record = find(current, "debian-slim", "startup-latency")
    assert len(record.samples["direct_vs_control"]) == 6
    series(record, "direct", [v + 300 for v in record.samples["direct"]])
    series(record, "direct_vs_control", [v + 300 for v in record.samples["direct_vs_control"]])
    return request()


def mtls_request_slower(baseline: list[Record], current: list[Record]) -> Meta:
    record = find(current, "alpine", "mtls")
    series(record, "handshake", [v * 1.5 for v in record.samples["handshake"]])
    return request()


def tls_handshake_slower(baseline: list[Record], current: list[Record]) -> Meta:
    old, new = both(baseline, current, "alpine", "tls-evidence", "handshakes")
    series(old, "full_handshake", gauss(1, 1.3, 0.1, 50))
    series(new, "full_handshake", gauss(2, 1.9, 0.1, 50))
    return request()


def overhead_slower(baseline: list[Record], current: list[Record]) -> Meta:
    old, new = both(baseline, current, "alpine", "gateway-overhead", "keepalive-c1")
    for record, seed in ((old, 3), (new, 4)):
        series(record, "direct", gauss(seed, 1.0, 0.05, 200))
    series(old, "traefik", gauss(5, 1.6, 0.08, 200))
    series(new, "traefik", gauss(6, 2.3, 0.08, 200))
    return request()


def inprocess_slower(baseline: list[Record], current: list[Record]) -> Meta:
    record = find(current, "alpine", "inprocess-start", "static")
    series(record, "gin_exec_ready", [v * 1.5 for v in record.samples["gin_exec_ready"]])
    return request()


def traefik_start_slower(baseline: list[Record], current: list[Record]) -> Meta:
    old, new = both(baseline, current, "alpine", "traefik-figures")
    series(old, "start", gauss(7, 480, 15, 6))
    series(new, "start", gauss(8, 780, 15, 6))
    return request()


def grpc_slower(baseline: list[Record], current: list[Record]) -> Meta:
    old, new = both(baseline, current, "alpine", "grpc")
    series(old, "echo", gauss(11, 1.4, 0.1, 20))
    series(new, "echo", gauss(12, 2.1, 0.1, 20))
    return request()


def memory_grew(baseline: list[Record], current: list[Record]) -> Meta:
    old, new = both(baseline, current, "alpine", "memory")
    mib = 1024 * 1024
    series(old, "rss_readings", gauss(9, 12 * mib, 0.1 * mib, 6), "bytes")
    series(new, "rss_readings", gauss(10, 16 * mib, 0.1 * mib, 6), "bytes")
    return request()


def passed_now_absent(baseline: list[Record], current: list[Record]) -> Meta:
    """alpine's tls record is gone; nothing in the request leaves it out."""
    current[:] = drop(current, lambda r: r.key != ("alpine", "tls", ""))
    return request()


def absent_though_its_test_ran(baseline: list[Record], current: list[Record]) -> Meta:
    """A -k selection, but the absent record's test did run: the selection does not
    explain it."""
    current[:] = drop(current, lambda r: r.key != ("alpine", "tls", ""))
    ran = {r.test_id for r in baseline}
    return request(selection={"keyword": "tls"}, tests_run=ran)


def dns_stopped_answering(baseline: list[Record], current: list[Record]) -> Meta:
    for records, answered in ((baseline, True), (current, False)):
        dns = Record("alpine", "dns", variant="musl", outcome="passed")
        dns.figure("large-answer_answered", answered).figure("aaaa-only_answered", True)
        records.append(dns)
    return request()


def posture_lost(baseline: list[Record], current: list[Record]) -> Meta:
    for records, read_only in ((baseline, True), (current, False)):
        posture = Record("alpine", "posture", variant="service", outcome="passed")
        for name in ("non_root", "cap_drop_all", "no_new_privileges"):
            posture.figure(name, True)
        records.append(posture.figure("read_only_root", read_only))
    return request()


CRAFTED: dict[str, tuple[Callable[[list[Record], list[Record]], Meta], str]] = {
    "base-missing": (base_missing, "regression: base debian-slim is gone: "),
    "failed-while-cell-starts": (
        failed_while_cell_starts,
        "regression: distroless start-matrix[glibc]: check passed before, now failed",
    ),
    "startup-300ms": (
        startup_300ms_vs_control,
        "regression: debian-slim startup-latency: slower: direct_vs_control median",
    ),
    "mtls-request": (mtls_request_slower, "regression: alpine mtls: slower: handshake median"),
    "tls-handshake": (
        tls_handshake_slower,
        "regression: alpine tls-evidence[handshakes]: slower: full_handshake median",
    ),
    "overhead": (
        overhead_slower,
        "regression: alpine gateway-overhead[keepalive-c1]: slower: traefik - direct median",
    ),
    "inprocess": (
        inprocess_slower,
        "regression: alpine inprocess-start[static]: slower: gin_exec_ready median",
    ),
    "traefik-start": (
        traefik_start_slower,
        "regression: alpine traefik-figures: slower: start median",
    ),
    "grpc": (grpc_slower, "regression: alpine grpc: slower: echo median"),
    "memory": (memory_grew, "regression: alpine memory: larger: rss_readings median"),
    "passed-now-absent": (
        passed_now_absent,
        "regression: alpine tls: passed in the baseline, absent now",
    ),
    "absent-though-its-test-ran": (
        absent_though_its_test_ran,
        "regression: alpine tls: passed in the baseline, absent now",
    ),
    "dns": (
        dns_stopped_answering,
        "regression: alpine dns[musl]: large-answer_answered no longer answered",
    ),
    "posture": (posture_lost, "regression: alpine posture[service]: read_only_root lost"),
}


def _write(path: Path, records: list[Record], meta: Meta) -> Path:
    path.write_text(json.dumps(build_report(records, meta={"bases": BASES, **meta})))
    return path


@pytest.mark.parametrize("case", list(CRAFTED))
def test_each_crafted_regression_fails_the_diff(
    case: str,
    runs: tuple[list[Record], list[Record]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    baseline, current = runs
    craft, line = CRAFTED[case]
    meta = craft(baseline, current)
    old = _write(tmp_path / "old.json", baseline, request())
    new = _write(tmp_path / "new.json", current, meta)
    assert cli.main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert any(text.startswith(line) for text in out.splitlines()), out


def test_unchanged_runs_pass(
    runs: tuple[list[Record], list[Record]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    baseline, current = runs
    old = _write(tmp_path / "old.json", baseline, request())
    new = _write(tmp_path / "new.json", current, request())
    assert cli.main(["diff", str(old), str(new)]) == 0
    assert "0 regressions, 0 improvements, 0 other changes" in capsys.readouterr().out


def test_failed_while_cell_starts_says_both(runs: tuple[list[Record], list[Record]]) -> None:
    baseline, current = runs
    diff = gate(baseline, current, failed_while_cell_starts(baseline, current))
    assert [c.kind for c in diff.changes] == ["regression", "improvement"]
    assert "now starts" in diff.changes[1].line


def test_the_startup_slowdown_is_p_002_on_six_rounds(
    runs: tuple[list[Record], list[Record]],
) -> None:
    baseline, current = runs
    diff = gate(baseline, current, startup_300ms_vs_control(baseline, current))
    [change] = diff.regressions
    assert change.evidence["n_before"] == change.evidence["n_after"] == 6
    assert change.evidence["p_value"] == pytest.approx(0.002, abs=0.0005)
    assert "debian-slim run noisy, judged against the control" not in change.line
    assert "current run noisy, judged against the control" in change.line


# --------------------------------------------------------------------------- explained absences


def test_a_default_run_against_a_full_baseline_skips_the_study_in_one_line(
    runs: tuple[list[Record], list[Record]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    baseline, current = runs
    current = drop(current, lambda r: in_profile("default", r.check, r.variant))
    study = len(baseline) - len(current)
    assert study > 20
    meta = request(profile="default")
    diff = gate(baseline, current, meta)
    assert diff.regressions == []
    [line] = diff.skipped
    assert line.startswith(f"{study} records of checks outside this run's default profile (")
    assert "gateway-overhead" in line and "tls-evidence[handshakes]" in line
    assert line.endswith("not compared (--traefik-profile=full compares them)")
    old = _write(tmp_path / "old.json", baseline, request())
    new = _write(tmp_path / "new.json", current, meta)
    assert cli.main(["diff", str(old), str(new)]) == 0
    assert f"skipped: {line}" in capsys.readouterr().out


def test_a_keyword_selection_explains_the_tests_it_left_out(
    runs: tuple[list[Record], list[Record]],
) -> None:
    baseline, current = runs
    current = drop(current, lambda r: r.check != "start-matrix")
    ran = {r.test_id for r in current}
    meta = request(selection={"keyword": "not start_matrix"}, tests_run=ran)
    diff = gate(baseline, current, meta)
    assert diff.regressions == []
    assert diff.skipped == [
        "9 records whose tests this run's selection (-k 'not start_matrix') left out "
        "(start-matrix[glibc], start-matrix[musl], start-matrix[static]): not compared"
    ]
    # Without the tests run, the selection explains nothing: never a silent pass.
    meta = request(selection={"keyword": "not start_matrix"})
    assert len(gate(baseline, current, meta).regressions) == 9


def test_images_not_asked_for_are_one_line(runs: tuple[list[Record], list[Record]]) -> None:
    baseline, current = runs
    current = drop(current, lambda r: r.base != "distroless")
    diff = gate(baseline, current, request(images=["alpine", "debian-slim"]))
    assert diff.regressions == []
    assert diff.skipped == [
        "base distroless not asked for in this run (--traefik-images=alpine,debian-slim): "
        "not compared"
    ]


def test_a_users_own_check_is_never_explained_by_the_profile(
    runs: tuple[list[Record], list[Record]],
) -> None:
    baseline, current = runs
    baseline.append(Record("alpine", "team-sla", outcome="passed"))
    diff = gate(baseline, current, request(profile="default"))
    assert "regression: alpine team-sla: passed in the baseline, absent now" in (
        diff.regressions[0].line
    )


def test_a_merged_report_explains_by_each_shards_request(tmp_path: Path) -> None:
    """Shards keep their requests through merge: the alpine shard's -k leaves out its
    start matrix, the others ran theirs, and one lost there is a regression."""
    baseline = full_run()
    current = drop(copy.deepcopy(baseline), lambda r: r.key[:2] != ("alpine", "start-matrix"))
    shards = []
    for images, selection in (
        (["alpine"], {"keyword": "not start"}),
        (["debian-slim", "distroless"], {}),
    ):
        records = [r for r in current if r.base in images]
        meta = request(images=images, selection=selection, tests_run={r.test_id for r in records})
        path = tmp_path / f"{images[0]}.json"
        path.write_text(json.dumps(build_report(records, meta={"bases": images, **meta})))
        shards.append(path)
    merged = merge_reports(shards)
    assert [s["request"]["images"] for s in merged["meta"]["merged_from"]] == [
        ["alpine"],
        ["debian-slim", "distroless"],
    ]
    assert merged["meta"]["request"]["images"] == BASES
    assert merged["meta"]["request"]["selection"] == {}  # the shards differ
    merged_records = [Record.from_json(item) for item in merged["records"]]
    diff = diff_records(baseline, merged_records, current_meta=merged["meta"])
    assert diff.regressions == []
    assert len(diff.skipped) == 1 and "selection (-k 'not start')" in diff.skipped[0]
    lost = [r for r in merged_records if r.key != ("distroless", "start-matrix", "static")]
    [regression] = diff_records(baseline, lost, current_meta=merged["meta"]).regressions
    assert regression.line.startswith("regression: distroless start-matrix[static]: passed")


def test_the_request_validates_against_the_schema(tmp_path: Path) -> None:
    meta = request(selection={"keyword": "tls", "markexpr": "slow"}, tests_run=["t.py::x"])
    meta["request"]["deselected"] = {"profile": 12, "keyword": 3}
    meta["request"]["xdist"] = {"workers": 2, "dist": "load"}
    path = _write(tmp_path / "r.json", full_run(), meta)
    document, _ = load_report(path)
    assert document["meta"]["request"]["deselected"] == {"profile": 12, "keyword": 3}


# --------------------------------------------------------------------------- statistics


def test_not_judged_below_the_samples_the_test_needs(
    runs: tuple[list[Record], list[Record]],
) -> None:
    """Traefik's start sampled 3 times: even a 2x gap is "not judged (n=3)", never
    "no measurable difference"."""
    baseline, current = runs
    record = find(current, "alpine", "traefik-figures")
    assert len(record.samples["start"]) == 3
    series(record, "start", [v * 2 for v in record.samples["start"]])
    diff = gate(baseline, current)
    assert diff.regressions == []
    [note] = [n for n in diff.notes if n.startswith("alpine traefik-figures start median")]
    assert note.endswith(
        f"not judged (n=3; a Mann-Whitney test needs 5 a side to reach p<{ALPHA:g})"
    )
    assert not any("no measurable difference" in n and "n=3" in n for n in diff.notes)


def test_the_samples_needed_are_computed() -> None:
    assert samples_to_judge(0.01) == 5
    assert samples_to_judge(0.05) == 4
    assert not judgeable(3, 3) and judgeable(5, 5) and judgeable(3, 100)


def test_one_memory_reading_is_not_judged(runs: tuple[list[Record], list[Record]]) -> None:
    baseline, current = runs
    record = find(current, "alpine", "memory")
    record.figure("rss_kernel", record.value("rss_kernel") * 2, "bytes")
    diff = gate(baseline, current)
    assert diff.regressions == []
    [change] = diff.of("change")
    assert change.line.endswith("one reading per run, not judged (n=1)")


def test_a_faster_series_is_an_improvement(runs: tuple[list[Record], list[Record]]) -> None:
    baseline, current = runs
    old, new = both(baseline, current, "alpine", "grpc")
    series(old, "echo", gauss(11, 1.4, 0.1, 20))
    series(new, "echo", gauss(12, 0.7, 0.1, 20))
    [change] = gate(baseline, current).changes
    assert change.kind == "improvement" and change.line.startswith(
        "improvement: alpine grpc: faster: echo median"
    )


def test_a_small_significant_slowdown_is_within_the_threshold(
    runs: tuple[list[Record], list[Record]],
) -> None:
    baseline, current = runs
    old, new = both(baseline, current, "alpine", "grpc")
    series(old, "echo", gauss(11, 1.4, 0.02, 20))
    series(new, "echo", gauss(12, 1.5, 0.02, 20))
    diff = gate(baseline, current)
    assert diff.changes == []
    assert any("within the grpc threshold (20% and 0.5 ms)" in n for n in diff.notes)


def test_a_raw_series_on_a_noisy_run_is_not_judged(
    runs: tuple[list[Record], list[Record]],
) -> None:
    baseline, current = runs
    grpc_slower(baseline, current)
    find(current, "alpine", "grpc").figure("noisy", True)
    diff = gate(baseline, current)
    assert diff.regressions == []
    assert any("current run was noisy" in note for note in diff.notes)


# --------------------------------------------------------------------------- thresholds


def test_thresholds_are_per_figure(
    runs: tuple[list[Record], list[Record]],
    tmp_path: Path,
) -> None:
    baseline, current = runs
    meta = startup_300ms_vs_control(baseline, current)
    old = _write(tmp_path / "old.json", baseline, request())
    new = _write(tmp_path / "new.json", current, meta)
    assert cli.main(["diff", str(old), str(new), "--regression", "grpc:5%"]) == 1
    assert cli.main(["diff", str(old), str(new), "--regression", "startup:500%"]) == 0
    assert cli.main(["diff", str(old), str(new), "--regression", "startup:1000ms"]) == 0
    assert gate(baseline, current, meta, parse_regression("startup:500%")).regressions == []


def test_parse_regression() -> None:
    parsed = parse_regression("startup:15%, memory:4MiB,overhead:1ms")
    assert parsed.of("startup").relative == 0.15
    assert parsed.of("memory").absolute == 4 * 1024 * 1024
    assert parsed.of("overhead").absolute == 1.0
    assert parsed.of("grpc").relative == 0.20  # the default
    for bad, message in (
        ("startup", "malformed regression threshold 'startup'"),
        ("nope:5%", "unknown figure 'nope'"),
        ("memory:5ms", "memory takes N% or NMiB"),
    ):
        with pytest.raises(Exception, match=message):
            parse_regression(bad)


def test_diff_refuses_a_bad_regression_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(["diff", "a.json", "b.json", "--regression", "startup"])
    assert stopped.value.code == 2
    assert "malformed regression threshold" in capsys.readouterr().err
