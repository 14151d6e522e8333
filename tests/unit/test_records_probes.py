"""Records, percentiles, the metrics audit and xdist grouping: pure functions."""

from __future__ import annotations

import pytest

from pytest_traefik_compat.bases.images import HealthCheck
from pytest_traefik_compat.measure import metrics, waiting
from pytest_traefik_compat.plugin.xdist import base_of
from pytest_traefik_compat.records.record import Record, percentile, summarize


def test_percentile_is_nearest_rank() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 95) == 5.0
    assert percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_record_samples_keep_raw_values_and_stats() -> None:
    values = [30.0, 10.0, 20.0, 50.0, 40.0, 60.0]
    record = Record("alpine", "startup-latency").add_samples("direct", values, "ms")
    assert record.samples["direct"] == values
    assert record.value("direct_median") == 35.0
    assert "direct_p95" not in record.figures  # n=6: no percentile, the report says "max"
    assert record.figures["direct_ci_low"].unit == "ms"
    again = Record.from_json(record.to_json())
    assert again == record


def test_summarize_empty() -> None:
    assert summarize([]) == {}


GOOD = """# HELP requests_total Requests.
# TYPE requests_total counter
requests_total 3
# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 1.2e+07
"""


def test_metrics_audit_accepts_help_and_type() -> None:
    audit = metrics.audit_metrics(GOOD, keep=["process_resident_memory_bytes"])
    assert audit.ok and audit.families == 2
    assert audit.values["process_resident_memory_bytes"] == 1.2e7


def test_metrics_audit_finds_missing_help_and_type() -> None:
    audit = metrics.audit_metrics("# TYPE a gauge\na 1\nb 2\n")
    assert not audit.ok
    assert "a: no HELP line" in audit.findings
    assert "b: no HELP line" in audit.findings and "b: no TYPE line" in audit.findings


def test_metrics_audit_reports_unparseable_text() -> None:
    audit = metrics.audit_metrics("this is { not metrics\n")
    assert not audit.ok and audit.findings


def test_wait_for_is_bounded() -> None:
    assert waiting.wait_for(lambda: False, timeout=0.1) is None
    assert waiting.wait_for(lambda: True, timeout=0.1) is not None


@pytest.mark.parametrize(
    ("nodeid", "base"),
    [
        ("t.py::test_x[alpine]", "alpine"),
        ("t.py::test_x[debian-slim-glibc]", "debian-slim"),
        ("t.py::test_x[distroless-base-static]", "distroless-base"),
        ("t.py::test_x[distroless-static]", "distroless"),
        ("t.py::test_x[other]", None),
        ("t.py::test_plain", None),
    ],
)
def test_xdist_scope_is_the_base(nodeid: str, base: str | None) -> None:
    names = ["alpine", "debian-slim", "distroless", "distroless-base"]
    assert base_of(nodeid, names) == base


def test_healthcheck_forms() -> None:
    check = HealthCheck(("/app", "-healthcheck"), interval_s=1, timeout_s=2, retries=3)
    assert check.dockerfile_line() == (
        'HEALTHCHECK --interval=1s --timeout=2s --retries=3 CMD ["/app", "-healthcheck"]'
    )
    assert check.as_docker()["Test"] == ["CMD", "/app", "-healthcheck"]
