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
    assert sentence.endswith("n=20 vs 20)")


def test_median_ci_covers_the_median_and_percentiles_need_n() -> None:
    small = stats.describe(_normal(100, 10, 8, 5))
    assert small.ci_low is not None and small.ci_high is not None
    assert small.ci_low <= small.median <= small.ci_high  # type: ignore[operator]
    assert small.p95 is None and small.p99 is None  # n=8: the report says "max"
    large = stats.describe(_normal(100, 10, 40, 6))
    assert large.p95 is not None and large.p99 is None
    assert large.cv is not None and 0.05 < large.cv < 0.2
    assert stats.describe([1.0, 2.0]).ci_low is None
    assert small.ci_method == stats.CI_ORDER_STATISTICS


def test_same_samples_same_interval() -> None:
    values = _normal(50, 5, 12, 7)
    assert stats.median_ci(values) == stats.median_ci(values)


def test_record_samples_figures_follow_n() -> None:
    record = Record("b", "c").add_samples("x", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "ms")
    assert {"x_min", "x_median", "x_ci_low", "x_ci_high", "x_max", "x_cv", "x_n"} == set(
        record.figures
    )
    assert record.figures["x_cv"].unit == "ratio" and record.figures["x_n"].value == 6
    three = Record("b", "c").add_samples("x", [1.0, 2.0, 3.0], "ms")
    assert "x_ci_low" not in three.figures and "x_ci_high" not in three.figures


# ---- intervals only where n allows them


def test_no_95_interval_below_six_samples() -> None:
    assert stats.MIN_N_INTERVAL == 6
    for n in range(1, 6):
        summary = stats.describe([float(v) for v in range(n)])
        assert summary.ci_low is None and summary.ci_high is None
        assert summary.ci_method == stats.CI_NONE
        assert f"n={n}" in summary.ci_note
    assert stats.median_ci([1.0, 2.0, 3.0]) is None


@pytest.mark.parametrize("n", [6, 7, 10, 20, 31, 50, 200])
def test_order_statistic_interval_has_its_stated_coverage(n: int) -> None:
    from scipy.stats import binom

    ranks = stats.order_statistic_ranks(n)
    assert ranks is not None
    low, high = ranks
    assert high == n + 1 - low
    coverage = 1 - 2 * binom.cdf(low - 1, n, 0.5)
    assert coverage >= 0.95
    # the narrowest such: one rank further in falls below 95%
    if low + 1 <= high - 1:
        assert 1 - 2 * binom.cdf(low, n, 0.5) < 0.95


def test_order_statistic_interval_covers_the_true_median() -> None:
    rng = np.random.default_rng(21)
    hits = sum(
        (ci := stats.median_ci(list(rng.exponential(1.0, 10)))) is not None
        and ci[0] <= np.log(2) <= ci[1]
        for _ in range(2000)
    )
    assert hits / 2000 >= 0.95 - 0.015  # 97.9% stated for n=10


def test_median_difference_bootstrap_needs_twenty_each() -> None:
    assert stats.median_difference_ci(list(range(19)), list(range(30))) is None
    found = stats.median_difference_ci(_normal(10, 1, 20, 1), _normal(5, 1, 20, 2))
    assert found is not None and found[1] <= found[0] <= found[2]


# ---- comparisons: judged only where alpha is attainable


def test_min_p_matches_the_exact_distributions() -> None:
    from scipy.stats import mannwhitneyu, wilcoxon

    for n_a, n_b in ((3, 3), (4, 4), (6, 6), (3, 5)):
        separated = mannwhitneyu(range(n_a), range(n_a, n_a + n_b), method="exact").pvalue
        assert stats.min_p_unpaired(n_a, n_b) == pytest.approx(separated)
    for n in (3, 5, 6, 8):
        assert stats.min_p_paired(n) == pytest.approx(
            wilcoxon(np.arange(1.0, n + 1), method="exact").pvalue
        )


def test_three_vs_three_is_not_judged_even_for_a_twofold_gap() -> None:
    comparison = stats.compare([100, 101, 102], [200, 201, 202], labels=("a", "b"))
    assert not comparison.judged and not comparison.significant
    assert comparison.p_value is None
    assert comparison.verdict == "not judged (n=3 vs 3)"
    assert "no measurable difference" not in comparison.sentence()
    assert comparison.min_p == pytest.approx(0.1)


def test_six_vs_six_is_judged() -> None:
    comparison = stats.compare(list(range(6)), [v + 12 for v in range(6)], labels=("a", "b"))
    assert comparison.judged and comparison.significant
    assert comparison.verdict == "a lower by 12 ms (p=0.0022, n=6 vs 6)"
    same = stats.compare([1, 5, 2, 6, 3, 4], [2, 6, 1, 5, 4, 3], labels=("a", "b"))
    assert same.judged and same.verdict.startswith("no measurable difference (p=")
    assert same.verdict.endswith("n=6 vs 6)")


def test_paired_rounds_use_wilcoxon_on_the_differences() -> None:
    # A machine drift moves both series alike; the per-round difference is ~5 ms.
    drift = [300, 420, 350, 510, 330, 460]
    floor = [d + 0.1 * i for i, d in enumerate(drift)]
    service = [f + 5 + 0.2 * (i % 2) for i, f in enumerate(floor)]
    unpaired = stats.compare(service, floor, labels=("service", "floor"))
    paired = stats.compare(service, floor, labels=("service", "floor"), paired=True)
    assert not unpaired.significant  # the drift hides a 5 ms shift
    assert paired.paired and paired.test == stats.WILCOXON and paired.significant
    assert paired.verdict.startswith("floor lower by 5")
    assert paired.verdict.endswith("(p=0.031, n=6 pairs)")
    assert paired.ci_method == stats.CI_ORDER_STATISTICS
    assert paired.ci_low is not None and paired.ci_low > 0
    short = stats.compare(service[:5], floor[:5], paired=True)
    assert not short.judged and short.verdict == "not judged (n=5 pairs)"
    with pytest.raises(ValueError, match="differ in length"):
        stats.compare([1, 2], [1], paired=True)


def test_the_comparison_contract_fields() -> None:
    data = stats.compare(list(range(6)), list(range(6)), labels=("a", "b")).as_dict()
    for key in ("judged", "verdict", "ci_method", "p_value", "min_p", "difference"):
        assert key in data


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


def test_a_budget_on_too_few_samples_is_not_judged() -> None:
    verdict = budgets.judge("route_ready_ms", 10_000, [25.0, 30.0, 1003.0], unit="ms")
    assert verdict.outcome == budgets.INCONCLUSIVE and not verdict.judged
    assert verdict.low is None and verdict.ci_method == stats.CI_NONE
    assert "not judged" in verdict.sentence and "no 95% interval below n=6" in verdict.sentence
    assert verdict.more_samples == 6
    enough = budgets.judge("route_ready_ms", 10_000, [25.0, 30.0, 1003.0] * 2, unit="ms")
    assert enough.outcome == budgets.PASS and enough.judged


def test_a_missing_budget_says_which_check_to_include() -> None:
    line = budgets.missing_sentence("image_mb", 10, "debian-slim", "start-matrix")
    assert line == (
        "budget image_mb <= 10 mb on debian-slim: its figure comes from start-matrix, "
        "which did not run: add it to -k (or run a profile that has it) or drop the budget"
    )
    assert "\n" not in line
    ran = budgets.missing_sentence("rss_mb", 64, "alpine", "memory", ran="failed")
    assert "which ran (failed) without recording it" in ran


def test_memory_budget_on_repeated_readings() -> None:
    readings = [30 * budgets.MIB + i * 4096 for i in range(6)]
    verdict = budgets.judge("rss_mb", 64, readings, unit="mb", values_unit="bytes")
    assert verdict.outcome == budgets.PASS and verdict.n == 6
    assert verdict.ci_method == stats.CI_ORDER_STATISTICS


def test_budget_units_convert_and_exact_figures() -> None:
    image = 80 * budgets.MIB
    verdict = budgets.judge("image_mb", 10, image, unit="mb", values_unit="bytes")
    assert verdict.outcome == budgets.FAIL and verdict.sentence.endswith("FAIL (80 mb)")
    assert verdict.ci_method == stats.CI_EXACT and verdict.judged
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
