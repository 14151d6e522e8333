"""Budgets (--traefik-budget): the one place figures become pass/fail. A budget asked
for is never skipped: one whose figure this run did not measure fails, naming the check
to include."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_traefik_compat.measure import budgets
from pytest_traefik_compat.plugin.session import CompatSession
from pytest_traefik_compat.plugin.settings import Settings
from pytest_traefik_compat.records.checks import (
    BUDGET,
    MEMORY,
    MTLS,
    START_MATRIX,
    START_PARTS,
    STARTUP_LATENCY,
    STATIC,
    TRAEFIK_FIGURES,
    part_series,
)
from pytest_traefik_compat.suite.common import RecordFactory

# budget name -> (check, variant, sample series or figure, unit of the values)
BUDGET_SOURCES: dict[str, tuple[str, str, str]] = {
    "startup_ms": (STARTUP_LATENCY.check, "", STARTUP_LATENCY.direct),
    "exec_ready_ms": (STARTUP_LATENCY.check, "", part_series(STARTUP_LATENCY.direct, "init_ready")),
    "route_ready_ms": (STARTUP_LATENCY.check, "", STARTUP_LATENCY.route_ready),
    "rss_mb": (MEMORY.check, "", MEMORY.rss_readings),
    "peak_rss_mb": (MEMORY.check, "", MEMORY.rss_peak),
    "handshake_ms": (MTLS.check, "", MTLS.handshake),
    "image_mb": (START_MATRIX.check, STATIC, START_MATRIX.image_size),
    "traefik_startup_ms": (TRAEFIK_FIGURES.check, "", TRAEFIK_FIGURES.start),
    "traefik_rss_mb": (TRAEFIK_FIGURES.check, "", TRAEFIK_FIGURES.rss_readings),
}
assert set(BUDGET_SOURCES) == set(budgets.BUDGETS)
assert START_PARTS[3] == "init_ready"


def test_budget(
    budget_name: str,
    traefik_base: Any,
    traefik_compat: CompatSession,
    traefik_settings: Settings,
    traefik_record: RecordFactory,
) -> None:
    """One --traefik-budget on this base (the variant): pass or FAIL, never skipped.

    Runs after the base's measuring tests and judges their records on the median's
    exact 95% interval (an image's size is exact). Skipped only without
    --traefik-budget or without a limit for this base.

    Asserts: the figure was measured in this run (otherwise one line names the check
    to include with -k or the profile); the upper end of the median's 95% interval is
    at or under the limit (a limit inside the interval, or a series too short for
    one, fails as inconclusive, saying how many samples would settle it).
    Records: outcome, limit, median, the median's 95% interval, how many more samples
    would settle it; details: the verdict as a sentence.
    """
    limit = traefik_settings.budgets.limit(budget_name, traefik_base.name)
    if limit is None:
        pytest.skip(f"no {budget_name} budget for {traefik_base.name}")
    check, variant, name = BUDGET_SOURCES[budget_name]
    unit = budgets.BUDGETS[budget_name].unit
    source = next(
        (
            r
            for r in traefik_compat.records
            if r.base == traefik_base.name and r.check == check and r.variant == variant
        ),
        None,
    )
    values: Any = None
    values_unit = unit
    if source is not None and name in source.samples:
        values, values_unit = source.samples[name], source.sample_units[name]
    elif source is not None and name in source.figures:
        values, values_unit = source.figures[name].value, source.figures[name].unit
    verdict = budgets.judge(
        budget_name, limit, values, unit=unit, values_unit=values_unit, base=traefik_base.name
    )
    record = traefik_record(BUDGET.check, variant=budget_name)
    record.figure(BUDGET.outcome, verdict.outcome).figure(BUDGET.limit, limit, unit)
    record.figure(BUDGET.median, verdict.median, unit)
    record.figure(BUDGET.ci_low, verdict.low, unit).figure(BUDGET.ci_high, verdict.high, unit)
    record.figure(BUDGET.more_samples, verdict.more_samples, "count")
    record.details[BUDGET.sentence] = verdict.sentence
    if verdict.outcome == budgets.MISSING:
        missing = budgets.missing_sentence(
            budget_name,
            limit,
            traefik_base.name,
            check,
            ran=None if source is None else source.outcome,
        )
        record.details[BUDGET.sentence] = missing
        pytest.fail(missing, pytrace=False)
    assert verdict.outcome == budgets.PASS, verdict.sentence
