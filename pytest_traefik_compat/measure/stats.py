"""Statistics of measured series, from scipy and numpy (nothing hand-rolled).

Nothing is stated below the sample count where it can mean anything:

- :func:`describe`: n, median with its 95% confidence interval, min, max, the
  coefficient of variation, and p95 / p99 only where the sample count supports them
  (:data:`MIN_N_FOR`), else None and the report says "max".
- :func:`median_ci`: the exact order-statistic interval of a median (its coverage
  from the binomial distribution, ``scipy.stats.binom``). A median of n samples has a
  95% interval only from :data:`MIN_N_INTERVAL` = 6 on: the widest one, [min, max],
  covers 1 - 2 / 2^n, which is 75% for n = 3 and 94% for n = 5. Below that there is
  no interval (``ci_method`` says so), never a narrower one labelled 95%.
- :func:`median_difference_ci`: a percentile-bootstrap interval of the difference of
  two medians, only from :data:`MIN_N_BOOTSTRAP` samples on each side.
- :func:`compare`: two series with a two-sided Mann-Whitney U test, or for paired
  rounds (service and floor started in the same round) a Wilcoxon signed-rank test on
  the per-round differences. A comparison is judged only when the sample sizes can
  reach :data:`ALPHA` at all (:func:`min_p_unpaired`, :func:`min_p_paired`): 3 vs 3
  can never go below p = 0.1, so it is "not judged (n=3 vs 3)", never "no measurable
  difference".
- :func:`samples_to_settle`: how many samples a budget that sits inside a confidence
  interval would need (the interval narrows as 1/sqrt(n)).

Pure functions; no pytest, no engine. The bootstrap is seeded, so the same samples give
the same interval in every report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

CONFIDENCE = 0.95
ALPHA = 0.05
RESAMPLES = 2000
SEED = 13
# The smallest n for which a percentile is not simply the maximum: the nearest rank
# ceil(n * q) is below n only from n = 1 / (1 - q) on (20 for p95, 100 for p99).
# Below that the report prints "max" instead.
MIN_N_FOR = {"p95": 20, "p99": 100}
# Coefficient of variation above which a series is flagged noisy in the report.
NOISY_CV = 0.25
# Below about 20 samples the bootstrap distribution of a median is a handful of order
# statistics and its percentile interval covers less than it says.
MIN_N_BOOTSTRAP = 20

# How an interval was obtained (Summary.ci_method, Comparison.ci_method).
CI_ORDER_STATISTICS: Final = "order statistics (exact binomial)"
CI_BOOTSTRAP: Final = "percentile bootstrap"
CI_EXACT: Final = "exact figure"  # one figure that is not a sample (an image's size)
CI_NONE: Final = "none"

MANN_WHITNEY: Final = "Mann-Whitney U"
WILCOXON: Final = "Wilcoxon signed-rank"


def min_n_for_interval(confidence: float = CONFIDENCE) -> int:
    """The smallest n whose widest order-statistic interval of the median, [min, max],
    reaches ``confidence`` (it covers 1 - 2 * 0.5^n)."""
    return max(1, math.ceil(math.log2(2 / (1 - confidence))))


MIN_N_INTERVAL: Final = min_n_for_interval(CONFIDENCE)  # 6 for 95%


@dataclass(frozen=True)
class Summary:
    """One series described: every figure in the series' unit (cv is a ratio).

    ``ci_method`` says how ``ci_low``/``ci_high`` were obtained, or :data:`CI_NONE`
    when the sample count allows no interval (then both are None).
    """

    n: int
    median: float | None
    ci_low: float | None
    ci_high: float | None
    min: float | None
    max: float | None
    mean: float | None
    cv: float | None
    p95: float | None = None
    p99: float | None = None
    ci_method: str = CI_NONE

    @property
    def ci_half_width(self) -> float | None:
        if self.ci_low is None or self.ci_high is None:
            return None
        return (self.ci_high - self.ci_low) / 2

    @property
    def ci_note(self) -> str:
        """Why there is no interval, or "" when there is one."""
        if self.ci_low is not None:
            return ""
        return f"no 95% interval: n={self.n} (a median's needs n >= {MIN_N_INTERVAL})"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _array(values: Sequence[float]) -> Any:
    import numpy as np

    data = np.asarray([float(v) for v in values], dtype=float)
    return data[np.isfinite(data)]


def median(values: Sequence[float]) -> float:
    """The median of a non-empty series (numpy)."""
    import numpy as np

    data = _array(values)
    if not data.size:
        raise ValueError("the median of no values")
    return float(np.median(data))


def order_statistic_ranks(n: int, confidence: float = CONFIDENCE) -> tuple[int, int] | None:
    """The 1-based ranks (l, n + 1 - l) of the narrowest symmetric order-statistic
    interval of the median that covers at least ``confidence``; None when even
    [min, max] does not (n < :func:`min_n_for_interval`).

    The number of samples below the median is Binomial(n, 1/2), so [x(l), x(n+1-l)]
    covers it with probability 1 - 2 * P(B <= l - 1).
    """
    from scipy.stats import binom

    if n < min_n_for_interval(confidence):
        return None
    tail = (1 - confidence) / 2
    # the largest l with P(B <= l - 1) <= tail
    below = int(binom.ppf(tail, n, 0.5))
    if binom.cdf(below, n, 0.5) > tail:
        below -= 1
    rank = max(1, below + 1)
    return rank, n + 1 - rank


def median_ci(
    values: Sequence[float], *, confidence: float = CONFIDENCE
) -> tuple[float, float] | None:
    """The exact order-statistic interval of the median (:func:`order_statistic_ranks`);
    None below :data:`MIN_N_INTERVAL` samples (for 95%)."""
    import numpy as np

    data = np.sort(_array(values))
    ranks = order_statistic_ranks(int(data.size), confidence)
    if ranks is None:
        return None
    return float(data[ranks[0] - 1]), float(data[ranks[1] - 1])


def _percentile_bootstrap(
    samples: tuple[Any, ...],
    statistic: Callable[..., Any],
    *,
    confidence: float,
    resamples: int,
    seed: int,
) -> tuple[float, float]:
    """The percentile-bootstrap interval of ``statistic`` (scipy.stats.bootstrap, seeded)."""
    import numpy as np
    from scipy import stats as sps

    result = sps.bootstrap(
        samples,
        statistic,
        confidence_level=confidence,
        n_resamples=resamples,
        method="percentile",
        rng=np.random.default_rng(seed),
        vectorized=True,
        axis=-1,
    )
    interval = result.confidence_interval
    return float(interval.low), float(interval.high)


def _median_difference(a: Any, b: Any, axis: int = -1) -> Any:
    import numpy as np

    return np.median(a, axis=axis) - np.median(b, axis=axis)


def median_difference_ci(
    a: Sequence[float],
    b: Sequence[float],
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> tuple[float, float, float] | None:
    """median(a) - median(b) with a bootstrap interval over both samples (each resampled
    on its own); None when either has fewer than :data:`MIN_N_BOOTSTRAP` values."""
    x, y = _array(a), _array(b)
    if x.size < MIN_N_BOOTSTRAP or y.size < MIN_N_BOOTSTRAP:
        return None
    low, high = _percentile_bootstrap(
        (x, y), _median_difference, confidence=confidence, resamples=resamples, seed=seed
    )
    return float(_median_difference(x, y)), low, high


def describe(values: Sequence[float], *, confidence: float = CONFIDENCE) -> Summary:
    """The series described; the interval only from :data:`MIN_N_INTERVAL` samples on,
    percentiles only where ``n`` reaches :data:`MIN_N_FOR`."""
    import numpy as np

    data = _array(values)
    n = int(data.size)
    if n == 0:
        return Summary(0, None, None, None, None, None, None, None)
    mean = float(np.mean(data))
    cv = float(np.std(data, ddof=1) / mean) if n > 1 and mean else None
    interval = median_ci(data, confidence=confidence)
    p95 = float(np.percentile(data, 95, method="inverted_cdf")) if n >= MIN_N_FOR["p95"] else None
    p99 = float(np.percentile(data, 99, method="inverted_cdf")) if n >= MIN_N_FOR["p99"] else None
    return Summary(
        n=n,
        median=float(np.median(data)),
        ci_low=interval[0] if interval else None,
        ci_high=interval[1] if interval else None,
        min=float(data.min()),
        max=float(data.max()),
        mean=mean,
        cv=cv,
        p95=p95,
        p99=p99,
        ci_method=CI_ORDER_STATISTICS if interval else CI_NONE,
    )


def min_p_unpaired(n_a: int, n_b: int) -> float:
    """The smallest two-sided p-value Mann-Whitney U can give for these sizes: both
    tails of the exact null distribution hold one arrangement each (complete
    separation), out of C(n_a + n_b, n_a)."""
    if n_a < 1 or n_b < 1:
        return 1.0
    return min(1.0, 2 / math.comb(n_a + n_b, n_a))


def min_p_paired(n: int) -> float:
    """The smallest two-sided p-value the exact Wilcoxon signed-rank test can give for
    ``n`` non-zero differences: all of one sign, 2 of the 2^n sign patterns."""
    if n < 1:
        return 1.0
    return min(1.0, 0.5 ** (n - 1))


@dataclass(frozen=True)
class Comparison:
    """Two series compared; the contract the report and the diff read:

    - ``judged``: whether the sample sizes can reach ``alpha`` at all (False: no test
      was made and ``p_value`` is None);
    - ``verdict``: "lower by 12 ms (p=0.004, n=6 vs 6)" with the lower label first,
      "no measurable difference (p=0.41, n=6 vs 6)" or "not judged (n=3 vs 3)";
    - ``difference`` (median(a) - median(b), or the median per-round difference when
      ``paired``) with ``ci_low``/``ci_high`` obtained by ``ci_method``.
    """

    label_a: str
    label_b: str
    n_a: int
    n_b: int
    p_value: float | None
    median_a: float | None
    median_b: float | None
    alpha: float = ALPHA
    paired: bool = False
    test: str = MANN_WHITNEY
    min_p: float = 1.0
    judged: bool = False
    verdict: str = ""
    difference: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_method: str = CI_NONE

    @property
    def significant(self) -> bool:
        return self.judged and self.p_value is not None and self.p_value < self.alpha

    def sentence(self, unit: str = "") -> str:
        """One line for the report: "alpine vs distroless: no measurable difference
        (p=0.41, n=20 vs 20)" (``unit`` is ignored: the verdict carries the one given
        to :func:`compare`)."""
        return f"{self.label_a} vs {self.label_b}: {self.verdict}"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["significant"] = self.significant
        data["sentence"] = self.sentence()
        return data


def _counts(n_a: int, n_b: int, paired: bool) -> str:
    return f"n={n_a} pairs" if paired else f"n={n_a} vs {n_b}"


def _verdict(
    labels: tuple[str, str],
    *,
    judged: bool,
    p_value: float | None,
    difference: float | None,
    counts: str,
    alpha: float,
    unit: str,
) -> str:
    if not judged or p_value is None:
        return f"not judged ({counts})"
    if p_value >= alpha or difference is None or difference == 0:
        return f"no measurable difference (p={p_value:.2g}, {counts})"
    lower = labels[0] if difference < 0 else labels[1]
    amount = f"{abs(difference):.3g} {unit}".rstrip()
    return f"{lower} lower by {amount} (p={p_value:.2g}, {counts})"


def compare(
    a: Sequence[float],
    b: Sequence[float],
    *,
    labels: tuple[str, str] = ("a", "b"),
    paired: bool = False,
    unit: str = "ms",
    alpha: float = ALPHA,
) -> Comparison:
    """Series ``a`` against ``b``: Mann-Whitney U (two-sided), or with ``paired`` the
    Wilcoxon signed-rank test on a[i] - b[i] (the rounds must match one to one).

    Judged only when the smallest p-value these sizes can give is below ``alpha``.
    """
    import numpy as np
    from scipy import stats as sps

    x, y = _array(a), _array(b)
    median_a = float(np.median(x)) if x.size else None
    median_b = float(np.median(y)) if y.size else None
    p_value: float | None = None
    interval: tuple[float, float] | None = None
    ci_method = CI_NONE
    if paired:
        if x.size != y.size:
            raise ValueError(f"paired series differ in length: {x.size} vs {y.size}")
        differences = x - y
        nonzero = int(np.count_nonzero(differences))
        min_p = min_p_paired(nonzero)
        judged = min_p < alpha
        difference = float(np.median(differences)) if differences.size else None
        if judged:
            p_value = float(sps.wilcoxon(differences, alternative="two-sided").pvalue)
        interval = median_ci(differences)
        ci_method = CI_ORDER_STATISTICS if interval else CI_NONE
        test = WILCOXON
    else:
        min_p = min_p_unpaired(int(x.size), int(y.size))
        judged = min_p < alpha
        difference = None if median_a is None or median_b is None else median_a - median_b
        if judged:
            if np.all(x == x[0]) and np.all(y == y[0]) and x[0] == y[0]:
                p_value = 1.0
            else:
                p_value = float(sps.mannwhitneyu(x, y, alternative="two-sided").pvalue)
        found = median_difference_ci(x, y)
        if found is not None:
            interval, ci_method = (found[1], found[2]), CI_BOOTSTRAP
        test = MANN_WHITNEY
    counts = _counts(int(x.size), int(y.size), paired)
    return Comparison(
        labels[0],
        labels[1],
        int(x.size),
        int(y.size),
        p_value,
        median_a,
        median_b,
        alpha=alpha,
        paired=paired,
        test=test,
        min_p=min_p,
        judged=judged,
        verdict=_verdict(
            labels,
            judged=judged,
            p_value=p_value,
            difference=difference,
            counts=counts,
            alpha=alpha,
            unit=unit,
        ),
        difference=difference,
        ci_low=interval[0] if interval else None,
        ci_high=interval[1] if interval else None,
        ci_method=ci_method,
    )


def samples_to_settle(summary: Summary, limit: float) -> int | None:
    """How many samples would make the median's interval clear ``limit`` (a rough
    1/sqrt(n) estimate); :data:`MIN_N_INTERVAL` where there is no interval yet; None
    when it cannot be said (the limit at the median).
    """
    if summary.median is None:
        return None
    if summary.ci_low is None:
        return max(MIN_N_INTERVAL, summary.n + 1)
    half = summary.ci_half_width
    if not half:
        return None
    distance = abs(summary.median - limit)
    if distance == 0:
        return None
    needed = summary.n * (half / distance) ** 2
    return max(summary.n + 1, math.ceil(needed))
