"""traefik_dns as a team meets it: a user test runs the dns cases on its base through the
public fixture, records them and reads what did not run there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# pytester points HOME at its temporary directory; the user's HOME holds the Go
# build cache and the plugin's cache of bases and images.
USER_HOME = str(Path.home())
RUN_TIMEOUT_S = 600


def test_a_user_test_runs_the_dns_cases_on_its_base(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", USER_HOME)
    pytester.makepyfile(
        test_names="""
        from pytest_traefik_compat.measure.dns import CASES

        # The fast cases: the large answer and the search list after ndots.
        FAST = [c for c in CASES if c.name in ("large-answer", "search-ndots")]

        def test_resolvers_on_my_base(traefik_base, traefik_dns, traefik_record):
            results = traefik_dns(traefik_base, cases=FAST)
            for run in results.runs:
                record = traefik_record("team-dns", variant=run.resolver)
                for name, value, unit in run.figures():
                    record.figure(name, value, unit)
            go, musl = results.run("go"), results.run("musl")
            assert go is not None and go.unanswered == [] and go.matches
            # alpine's musl 1.2.3 keeps what fits in 512 bytes and never asks over TCP.
            assert musl is not None and musl.result("large-answer").outcome == "29/40"
            assert musl.result("search-ndots").error_code == "EAI_NONAME"
            assert musl.matches, musl.details()
            # glibc's loader is not on alpine: the start prediction says so.
            assert "does not start here" in results.not_run["glibc"]
        """
    )
    report_dir = pytester.path / "report"
    result = pytester.runpytest_subprocess(
        "--traefik-images=alpine",
        f"--traefik-report-dir={report_dir}",
        "-p",
        "no:cacheprovider",
        timeout=RUN_TIMEOUT_S,
    )
    result.assert_outcomes(passed=1)
    records = json.loads((report_dir / "report.json").read_text())["records"]
    team = {r["variant"]: r["figures"] for r in records if r["check"] == "team-dns"}
    assert set(team) == {"go", "musl"}
    assert team["musl"]["large-answer_answered"]["value"] is False
    assert team["go"]["large-answer"]["value"] == "40/40"
