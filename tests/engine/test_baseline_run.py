"""--traefik-baseline on a run (pytester): regressions fail an otherwise passing run with
one line each, diff.md/diff.json land next to the report, no change passes, a bad
baseline is a usage error. The records come from a user's own checks (no stack), so
the engine is only asked whether it answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

USER_TESTS = """
import os

def test_tls(traefik_record):
    record = traefik_record("tls", base="alpine")
    record.figure("version", os.environ.get("COMPAT_TLS", "TLSv1.3"))
    record.figure("tls12_refused", True)

def test_facts(traefik_record):
    record = traefik_record("image-facts", base="alpine")
    record.figure("ca_bundle", os.environ.get("COMPAT_CA", "/etc/ssl/certs/ca-certificates.crt"))
"""


def _run(pytester: pytest.Pytester, report: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "--traefik-images=alpine", f"--traefik-report-dir={report}", "-p", "no:randomly", *args
    )


def test_baseline_regressions_fail_the_run_one_line_each(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_own=USER_TESTS)
    base = pytester.path / "base"
    _run(pytester, base).assert_outcomes(passed=2)
    baseline = base / "report.json"

    same = _run(pytester, pytester.path / "same", f"--traefik-baseline={baseline}")
    assert same.ret == 0
    same.stdout.fnmatch_lines(["*against *report.json: 0 regressions, 0 improvements*"])

    # A -k run records its request; the diff skips what it left out in one line.
    selected = _run(pytester, pytester.path / "k", "-k", "tls", f"--traefik-baseline={baseline}")
    assert selected.ret == 0, selected.stdout.str()
    selected.stdout.fnmatch_lines(
        ["skipped: 1 records whose tests this run's selection (-k 'tls') left out (image-facts)*"]
    )
    request = json.loads((pytester.path / "k" / "report.json").read_text())["meta"]["request"]
    assert request["profile"] == "default" and request["images"] == ["alpine"]
    assert request["selection"] == {"keyword": "tls"}
    assert request["deselected"] == {"profile": 0, "keyword": 1}
    assert request["tests_run"] == ["test_own.py::test_tls"]

    monkeypatch.setenv("COMPAT_TLS", "TLSv1.2")
    monkeypatch.setenv("COMPAT_CA", "-")
    worse_dir = pytester.path / "worse"
    worse = _run(pytester, worse_dir, f"--traefik-baseline={baseline}")
    worse.assert_outcomes(passed=2)  # every test passed; the baseline fails the run
    assert worse.ret == pytest.ExitCode.TESTS_FAILED
    worse.stdout.fnmatch_lines(
        [
            "*against *report.json: 2 regressions*",
            "regression: alpine image-facts: ca_bundle lost (/etc/ssl/certs/ca-cert*.crt -> -)",
            "regression: alpine tls: negotiated TLSv1.3 -> TLSv1.2",
        ]
    )
    assert "2 regressions" in (worse_dir / "diff.md").read_text()
    assert (worse_dir / "diff.json").exists()


def test_a_bad_baseline_is_one_usage_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_own=USER_TESTS)
    (pytester.path / "nope.json").write_text("{}")
    result = _run(pytester, pytester.path / "r", "--traefik-baseline=nope.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--traefik-baseline: file nope.json is not a report*"])


# ---- a real slowdown, through the public fixtures: a tiny service of the test's own
# that sleeps before it listens, against the same module without the sleep.

DELAY_MAIN = """\
package main

import (
	"net/http"
	"time"
)

var linkage = "unset"

func main() {
	time.Sleep(DELAY * time.Millisecond)
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	})
	_ = http.ListenAndServe(":8080", nil)
}
"""

START_TESTS = """
import os

from pytest_traefik_compat.measure.startup import time_start

def test_start(traefik_base, traefik_build, traefik_gateway, traefik_record):
    module = os.environ["COMPAT_MODULE"]
    build = traefik_build(module, traefik_base, healthcheck=None, name=f"delay-{module}")
    # The drift control: the same image in every run, started in the same rounds.
    control = traefik_build("fast", traefik_base, healthcheck=None, name="delay-control")
    gateway = traefik_gateway(traefik_base, [build, control])
    specs = {running.spec.image: running.spec for running in gateway.services.values()}
    service, floor = specs[build.tag], specs[control.tag]
    starts, controls = [], []
    for _ in range(SAMPLES):
        starts.append(time_start(gateway, service)[0].total_ms)
        controls.append(time_start(gateway, floor)[0].total_ms)
    record = traefik_record("startup-latency", base=traefik_base.name)
    record.add_samples("direct", starts, "ms")
    record.add_samples("control", controls, "ms")
    record.add_samples("direct_vs_control", [s - c for s, c in zip(starts, controls)], "ms")
    record.figure("control_image", control.tag)
"""
# Six starts a side: Mann-Whitney can reach p=0.002 (fully apart), below the gate's
# p<0.01 (five a side is the least that can); fewer would be "not judged".
SAMPLES = 6


def _delay_module(root: Path, delay_ms: int) -> None:
    root.mkdir()
    (root / "go.mod").write_text(f"module example.com/{root.name}\n\ngo 1.22\n")
    (root / "main.go").write_text(DELAY_MAIN.replace("DELAY", str(delay_ms)))


def test_a_service_300ms_slower_to_start_fails_the_gate(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs of the same service give no regression; the service built to sleep
    300 ms before listening fails ``diff`` (exit 1) and the ``--traefik-baseline`` run.

    Each round starts the service and a drift control (the module without the sleep,
    the same image in every run), and the diff judges service - control: raw starts on
    a shared machine move by up to 70% between runs minutes apart, the difference
    does not."""
    from pytest_traefik_compat import cli
    from tests.engine.test_fixture_api import USER_HOME

    monkeypatch.setenv("HOME", USER_HOME)  # the Go build cache and the plugin's cache
    _delay_module(pytester.path / "fast", 0)
    _delay_module(pytester.path / "slow", 300)
    pytester.makepyfile(test_start=START_TESTS.replace("SAMPLES", str(SAMPLES)))
    monkeypatch.setenv("COMPAT_MODULE", "fast")
    _run(pytester, pytester.path / "base").assert_outcomes(passed=1)
    baseline = pytester.path / "base" / "report.json"

    again = _run(pytester, pytester.path / "again", f"--traefik-baseline={baseline}")
    again.assert_outcomes(passed=1)
    assert again.ret == 0, again.stdout.str()
    assert cli.main(["diff", str(baseline), str(pytester.path / "again" / "report.json")]) == 0

    monkeypatch.setenv("COMPAT_MODULE", "slow")
    slow = _run(pytester, pytester.path / "slow-report", f"--traefik-baseline={baseline}")
    slow.assert_outcomes(passed=1)
    assert slow.ret == pytest.ExitCode.TESTS_FAILED
    slow.stdout.fnmatch_lines(
        ["regression: alpine startup-latency: slower: direct_vs_control median * (+*"]
    )
    slow_report = pytester.path / "slow-report" / "report.json"
    assert cli.main(["diff", str(baseline), str(slow_report)]) == 1
