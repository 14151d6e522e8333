"""The baseline diff on crafted report pairs: each regression class, improvements,
neutral changes, noise not reported, the three formats and the command's exit code."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest

from pytest_traefik_compat import cli
from pytest_traefik_compat.records import Record
from pytest_traefik_compat.report import build_report
from pytest_traefik_compat.report.diff import diff_records, render, significant_shift
from tests.helpers.report_samples import sample_records


def _find(records: list[Record], base: str, check: str, variant: str = "") -> Record:
    return next(r for r in records if r.key == (base, check, variant))


def _without_control(*records: Record) -> None:
    """A report from before the drift control: raw start times are compared."""
    for record in records:
        for name in ("control", "direct_vs_control"):
            record.samples.pop(name, None)
        record.figures = {
            k: v
            for k, v in record.figures.items()
            if not k.startswith(("control", "direct_vs_control"))
        }


@pytest.fixture
def pair() -> tuple[list[Record], list[Record]]:
    baseline = sample_records()
    return baseline, copy.deepcopy(baseline)


def test_identical_runs_have_no_change(pair: tuple[list[Record], list[Record]]) -> None:
    baseline, current = pair
    diff = diff_records(baseline, current)
    assert diff.changes == []
    assert any("no measurable difference" in note for note in diff.notes)
    assert "no change" in render(diff, "text")


def test_start_that_became_a_failure_is_a_regression(
    pair: tuple[list[Record], list[Record]],
) -> None:
    baseline, current = pair
    row = _find(current, "alpine", "start-matrix", "static")
    assert _find(baseline, "alpine", "start-matrix", "static").value("observed") == "starts"
    row.figure("observed", "fails").figure("observed_reason", "libc too old (GLIBC_2.34)")
    diff = diff_records(baseline, current)
    [change] = diff.regressions
    assert change.line == (
        "regression: alpine start-matrix[static]: started before, now fails "
        "(libc too old (GLIBC_2.34))"
    )


def test_failure_that_now_starts_is_an_improvement(
    pair: tuple[list[Record], list[Record]],
) -> None:
    baseline, current = pair
    row = _find(current, "distroless", "start-matrix", "glibc")
    assert row.value("observed") == "fails"
    row.figure("observed", "starts")
    diff = diff_records(baseline, current)
    assert not diff.regressions
    [change] = diff.of("improvement")
    assert "now starts" in change.line


def test_lost_ca_bundle_and_zoneinfo_are_regressions_shell_is_neutral(
    pair: tuple[list[Record], list[Record]],
) -> None:
    baseline, current = pair
    facts = _find(current, "alpine", "image-facts")
    facts.figure("ca_bundle", "-").figure("shell", "/bin/dash")
    facts_d = _find(current, "distroless", "image-facts")
    facts_d.figure("zoneinfo", False)
    diff = diff_records(baseline, current)
    lines = [c.line for c in diff.regressions]
    assert any(line.startswith("regression: alpine image-facts: ca_bundle lost") for line in lines)
    assert any(
        line.startswith("regression: distroless image-facts: zoneinfo lost") for line in lines
    )
    assert [c.what for c in diff.of("change")] == ["shell"]


def test_size_changes_only_beyond_the_threshold(pair: tuple[list[Record], list[Record]]) -> None:
    baseline, current = pair
    before = _find(baseline, "alpine", "image-facts").value("size")
    _find(current, "alpine", "image-facts").figure("size", before + 1000, "bytes")
    assert diff_records(baseline, current).changes == []
    _find(current, "alpine", "image-facts").figure("size", before + 50 * 1024 * 1024, "bytes")
    [change] = diff_records(baseline, current).changes
    assert change.kind == "change" and change.what == "size"


def test_tls_downgrade_and_tls12_let_in_are_regressions(
    pair: tuple[list[Record], list[Record]],
) -> None:
    baseline, current = pair
    _find(current, "alpine", "tls").figure("version", "TLSv1.2")
    _find(current, "distroless", "tls").figure("tls12_refused", False)
    lines = [c.line for c in diff_records(baseline, current).regressions]
    assert "regression: alpine tls: negotiated TLSv1.3 -> TLSv1.2" in lines
    assert "regression: distroless tls: a client capped at TLS 1.2 is now let in" in lines


def test_bad_client_let_in_is_a_regression(pair: tuple[list[Record], list[Record]]) -> None:
    baseline, current = pair
    mtls = _find(current, "alpine", "mtls")
    refusals = mtls.details["refusals"]
    kind = sorted(refusals)[0]
    refusals[kind]["refused"] = False
    mtls.figure("success_rate", 0.98, "ratio")
    lines = [c.line for c in diff_records(baseline, current).regressions]
    assert f"regression: alpine mtls: bad client {kind} is now let in" in lines
    assert any("valid-chain success rate 1.000 -> 0.980" in line for line in lines)


def test_latency_noise_is_not_reported_a_real_shift_is(
    pair: tuple[list[Record], list[Record]],
) -> None:
    baseline, current = pair
    rng = random.Random(5)
    old = _find(baseline, "alpine", "startup-latency")
    new = _find(current, "alpine", "startup-latency")
    _without_control(old, new)
    old.add_samples("direct", [rng.gauss(600, 40) for _ in range(10)], "ms")
    new.add_samples("direct", [rng.gauss(600, 40) for _ in range(10)], "ms")
    assert diff_records(baseline, current).changes == []
    new.add_samples("direct", [rng.gauss(900, 40) for _ in range(10)], "ms")
    [change] = diff_records(baseline, current).changes
    assert change.kind == "regression" and change.what == "direct"
    assert "Mann-Whitney" in change.line and change.evidence["p_value"] < 0.01
    # Significant but tiny is not news either.
    new.add_samples("direct", [x + 5 for x in old.samples["direct"]], "ms")
    assert diff_records(baseline, current).changes == []


def test_significance_needs_samples() -> None:
    assert significant_shift([1.0, 2.0], [10.0, 11.0]) == (False, 1.0)
    real, p_value = significant_shift([1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 11, 12, 13, 14])
    assert real and p_value < 0.01


def test_memory_one_reading_needs_a_large_move(pair: tuple[list[Record], list[Record]]) -> None:
    baseline, current = pair
    memory = _find(current, "alpine", "memory")
    rss = memory.value("rss_kernel")
    memory.figure("rss_kernel", int(rss * 1.05), "bytes")
    assert diff_records(baseline, current).changes == []
    memory.figure("rss_kernel", int(rss * 1.6), "bytes")
    [change] = diff_records(baseline, current).changes
    assert change.what == "rss_kernel" and change.kind == "change"


def test_a_base_not_asked_for_is_skipped_a_gone_one_a_regression(
    pair: tuple[list[Record], list[Record]],
) -> None:
    baseline, current = pair
    current = [r for r in current if r.base != "distroless"]
    asked_alpine = {"request": {"images": ["alpine"], "profile": "full"}}
    diff = diff_records(baseline, current, current_meta=asked_alpine)
    assert diff.changes == []
    assert diff.skipped == [
        "base distroless not asked for in this run (--traefik-images=alpine): not compared"
    ]
    asked_both = {"request": {"images": ["alpine", "distroless"], "profile": "full"}}
    [gone] = diff_records(baseline, current, current_meta=asked_both).regressions
    assert gone.line.startswith("regression: base distroless is gone: 13 checks passed")


def _write(tmp_path: Path, name: str, records: list[Record]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(build_report(records, meta={"run_id": name})))
    return path


def test_command_formats_and_exit_code(
    pair: tuple[list[Record], list[Record]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    baseline, current = pair
    base_file = _write(tmp_path, "base.json", baseline)
    same_file = _write(tmp_path, "same.json", current)
    assert cli.main(["diff", str(base_file), str(same_file)]) == 0
    assert "0 regressions" in capsys.readouterr().out
    _find(current, "alpine", "tls").figure("version", "TLSv1.2")
    worse = _write(tmp_path, "worse.json", current)
    assert cli.main(["diff", str(base_file), str(worse), "--format", "md"]) == 1
    markdown = capsys.readouterr().out
    assert markdown.startswith("## ❌ Base image compatibility: 1 regressions")
    assert "| ❌ regression | alpine | tls | version | TLSv1.3 | TLSv1.2 |" in markdown
    assert cli.main(["diff", str(base_file), str(worse), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["regression"] == 1
    assert data["changes"][0]["line"] == "regression: alpine tls: negotiated TLSv1.3 -> TLSv1.2"


def test_command_refuses_a_non_report_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "x.json"
    bogus.write_text("{}")
    assert cli.main(["diff", str(bogus), str(bogus)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is not a report" in err


def test_latency_is_not_judged_when_noisy_or_measured_differently(
    pair: tuple[list[Record], list[Record]],
) -> None:
    baseline, current = pair
    rng = random.Random(7)
    old = _find(baseline, "alpine", "startup-latency")
    new = _find(current, "alpine", "startup-latency")
    _without_control(old, new)
    old.add_samples("direct", [rng.gauss(600, 20) for _ in range(10)], "ms")
    new.add_samples("direct", [rng.gauss(900, 20) for _ in range(10)], "ms")
    assert [c.what for c in diff_records(baseline, current).changes] == ["direct"]
    new.figure("noisy", True)
    diff = diff_records(baseline, current)
    assert diff.changes == []
    assert any("current run was noisy" in note for note in diff.notes)
    new.figure("noisy", False)
    new.details["definition"] = "another way of measuring"
    diff = diff_records(baseline, current)
    assert diff.changes == []
    assert "alpine startup-latency: measured differently in the two runs: not compared" in (
        diff.notes
    )


def test_a_slower_machine_is_not_a_slower_service(
    pair: tuple[list[Record], list[Record]],
) -> None:
    """With the same drift control in both runs, the service is judged relative to it:
    today's machine 300 ms slower moves the control as much and is no change; the
    service alone 300 ms slower is."""
    baseline, current = pair
    rng = random.Random(11)
    old = _find(baseline, "alpine", "startup-latency")
    new = _find(current, "alpine", "startup-latency")

    def series(record: Record, service_ms: float, control_ms: float) -> None:
        direct = [rng.gauss(service_ms, 20) for _ in range(10)]
        control = [rng.gauss(control_ms, 20) for _ in range(10)]
        record.add_samples("direct", direct, "ms")
        record.add_samples("control", control, "ms")
        paired = [d - c for d, c in zip(direct, control, strict=True)]
        record.add_samples("direct_vs_control", paired, "ms")

    series(old, 600, 560)
    series(new, 900, 860)  # the whole machine slower
    assert diff_records(baseline, current).changes == []
    series(new, 900, 560)  # the service slower
    [change] = diff_records(baseline, current).changes
    assert change.kind == "regression" and change.what == "direct_vs_control"
    new.figure("control_image", "another-floor:1")  # no common control: raw times
    diff = diff_records(baseline, current)
    assert [c.what for c in diff.changes] == ["direct"]
    assert any("no common drift control" in note for note in diff.notes)
