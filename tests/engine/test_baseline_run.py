"""--traefik-baseline on a run (pytester): regressions fail an otherwise passing run with
one line each, diff.md/diff.json land next to the report, no change passes, a bad
baseline is a usage error. The records come from a user's own checks (no stack), so
the engine is only asked whether it answers."""

from __future__ import annotations

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
