"""Name resolution on the base, per resolver: Go's own and each C library's getaddrinfo."""

from __future__ import annotations

import pytest

from pytest_traefik_compat import engine
from pytest_traefik_compat.bases import BaseImage
from pytest_traefik_compat.plugin.fixtures import TraefikDns
from pytest_traefik_compat.records.checks import DNS, MISSING
from pytest_traefik_compat.suite.common import RecordFactory


def test_dns(
    traefik_base: BaseImage,
    traefik_dns: TraefikDns,
    traefik_record: RecordFactory,
) -> None:
    """The dns cases (docs/dns.md) against name servers of the check's own, with Go's
    resolver (the variant go, from the static build: Traefik's resolver) and glibc's or
    musl's getaddrinfo where that linkage is predicted to start on the base.

    Asserts: Go's resolver answers every answerable case in full; every resolver's
    outcome of every case (addresses, error, time window, TCP and AAAA queries seen)
    is the one predicted from the library and its version, else the failure names the
    case, the prediction and what happened.
    Records: one record per resolver (variant go, glibc or musl) with, per case, its
    outcome (addresses returned of those the zone serves, or the resolver's error), the
    lookup's time, whether it answered, the prediction and whether it held; the C
    library's version and the probe's wall time; details: per case the addresses,
    the error and the queries the servers saw, each mismatch, and why a resolver did not
    run on this base.
    """
    if engine.target().remote:
        pytest.skip(
            "dns: each case's resolv.conf is a file bind-mounted from this machine, which "
            "a remote engine cannot see; run the dns check against a local engine"
        )
    results = traefik_dns(traefik_base)
    problems: list[str] = []
    for run in results.runs:
        record = traefik_record(DNS.check, variant=run.resolver)
        for name, value, unit in run.figures():
            record.figure(name, value, unit)
        record.figure(DNS.libc_version, run.libc_version or MISSING)
        record.figure(DNS.wall, round(run.wall_s, 2), "s")
        details = run.details()
        record.details[DNS.cases] = details["cases"]
        record.details[DNS.mismatches] = details["mismatches"]
        if run.resolver == "go":
            record.details[DNS.not_run] = dict(results.not_run)
            problems += [f"go: {case}: not answered" for case in run.unanswered]
        for comparison in run.comparisons:
            if not comparison.matches:
                problems.append(
                    f"{run.resolver}: {comparison.case}: predicted "
                    f"{comparison.predicted.describe()}; observed {comparison.observed} "
                    f"({'; '.join(comparison.mismatches)})"
                )
    assert results.run("go") is not None, f"Go's resolver did not run: {results.not_run}"
    assert not problems, "\n".join(problems)
