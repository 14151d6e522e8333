"""Statistics (scipy/numpy) and budgets on synthetic samples: pure, seeded."""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pytest

from pytest_traefik_compat.measure import budgets, stats
from pytest_traefik_compat.records import Record


def _normal(mean: float, sd: float, n: int, seed: int) -> list[float]:
    return list(np.random.default_rng(seed).normal(mean, sd, n))


def test_a_known_shift_is_found() -> None:
    gin, grpc = _normal(12, 2, 20, 1), _normal(29, 4, 20, 2)
    comparison = stats.compare(gin, grpc, labels=("gin", "grpc"))
    assert comparison.significant and comparison.p_value is not None
    assert comparison.p_value < 0.001
    assert comparison.sentence().startswith("gin vs grpc: gin lower by")


def test_identical_distributions_give_no_measurable_difference() -> None:
    a, b = _normal(300, 20, 20, 3), _normal(300, 20, 20, 4)
    sentence = stats.compare(a, b, labels=("alpine", "distroless")).sentence()
    assert sentence.startswith("alpine vs distroless: no measurable difference (p=")
    assert sentence.endswith("n=20 each)")


def test_median_ci_covers_the_median_and_percentiles_need_n() -> None:
    small = stats.describe(_normal(100, 10, 8, 5))
    assert small.ci_low is not None and small.ci_high is not None
    assert small.ci_low <= small.median <= small.ci_high  # type: ignore[operator]
    assert small.p95 is None and small.p99 is None  # n=8: the report says "max"
    large = stats.describe(_normal(100, 10, 40, 6))
    assert large.p95 is not None and large.p99 is None
    assert large.cv is not None and 0.05 < large.cv < 0.2
    assert stats.describe([1.0, 2.0]).ci_low is None


def test_same_samples_same_interval() -> None:
    values = _normal(50, 5, 12, 7)
    assert stats.median_ci(values) == stats.median_ci(values)


def test_record_samples_figures_follow_n() -> None:
    record = Record("b", "c").add_samples("x", [1.0, 2.0, 3.0], "ms")
    assert {"x_min", "x_median", "x_ci_low", "x_ci_high", "x_max", "x_cv", "x_n"} == set(
        record.figures
    )
    assert record.figures["x_cv"].unit == "ratio" and record.figures["x_n"].value == 3


def test_parse_budgets_with_per_base_overrides() -> None:
    parsed = budgets.parse_budgets("startup_ms=800,rss_mb=64,debian-slim:image_mb=120")
    assert parsed.limit("startup_ms", "alpine") == 800
    assert parsed.limit("image_mb", "debian-slim") == 120
    assert parsed.limit("image_mb", "alpine") is None
    assert parsed.names() == ["startup_ms", "rss_mb", "image_mb"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("startup=800", "unknown budget 'startup'"),
        ("startup_ms=fast", "must be a positive number"),
        ("rss_mb=-3", "must be a positive number"),
        ("rss_mb", "expected name=limit"),
        ("rss_mb=1,rss_mb=2", "given twice"),
        ("Bad Base:rss_mb=1", "malformed base name"),
        ("", "empty budget list"),
    ],
)
def test_bad_budgets_are_usage_errors(text: str, says: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=says):
        budgets.parse_budgets(text)


def test_budget_pass_fail_and_inconclusive() -> None:
    samples = _normal(300, 10, 20, 8)
    assert budgets.judge("startup_ms", 400, samples, unit="ms").outcome == budgets.PASS
    assert budgets.judge("startup_ms", 200, samples, unit="ms").outcome == budgets.FAIL
    inside = budgets.judge("startup_ms", 300, samples, unit="ms")
    assert inside.outcome == budgets.INCONCLUSIVE
    assert "inconclusive" in inside.sentence
    missing = budgets.judge("startup_ms", 300, [], unit="ms")
    assert missing.outcome == budgets.MISSING


def test_budget_units_convert_and_exact_figures() -> None:
    image = 80 * budgets.MIB
    verdict = budgets.judge("image_mb", 10, image, unit="mb", values_unit="bytes")
    assert verdict.outcome == budgets.FAIL and verdict.sentence.endswith("FAIL (80 mb)")
    with pytest.raises(ValueError, match="cannot compare"):
        budgets.convert(1, "ms", "mb")


def test_record_budget_on_a_users_series() -> None:
    record = Record("alpine", "mine").add_samples("boot", _normal(50, 3, 15, 9), "ms")
    assert record.budget("boot", 100, "ms").outcome == budgets.PASS
    assert record.details["budgets"]["boot"]["outcome"] == budgets.PASS
    with pytest.raises(AssertionError, match="FAIL"):
        record.budget("boot", 0.01, "s")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record.budget("boot", float(np.median(record.samples["boot"])), "ms")
    assert any(issubclass(w.category, budgets.BudgetInconclusive) for w in caught)
    with pytest.raises(ValueError, match="no series or figure"):
        record.budget("nope", 1, "ms")
