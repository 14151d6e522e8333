"""Statistics of measured series, from scipy and numpy (nothing hand-rolled).

- :func:`describe`: n, median with a bootstrap 95% confidence interval, min, max, the
  coefficient of variation, and p95 / p99 only where the sample count supports them
  (:data:`MIN_N_FOR`), else None and the report says "max".
- :func:`median_ci` and :func:`median_difference_ci`: percentile-bootstrap intervals
  of a median and of the difference of two medians.
- :func:`compare`: two series (two bases) with a two-sided Mann-Whitney U test; a
  difference is reported only when it is significant, otherwise "no measurable
  difference (p=..., n=...)".
- :func:`samples_to_settle`: how many samples a budget that sits inside a confidence
  interval would need (the interval narrows as 1/sqrt(n)).

Pure functions; no pytest, no engine. The bootstrap is seeded, so the same samples give
the same interval in every report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

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


@dataclass(frozen=True)
class Summary:
    """One series described: every figure in the series' unit (cv is a ratio)."""

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

    @property
    def ci_half_width(self) -> float | None:
        if self.ci_low is None or self.ci_high is None:
            return None
        return (self.ci_high - self.ci_low) / 2

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


def median_ci(
    values: Sequence[float],
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> tuple[float, float] | None:
    """A percentile-bootstrap interval of the median; None if n < 3.

    With every sample equal the interval is that value (no spread to resample).
    """
    import numpy as np

    data = _array(values)
    if data.size < 3:
        return None
    if np.all(data == data[0]):
        return float(data[0]), float(data[0])
    return _percentile_bootstrap(
        (data,), np.median, confidence=confidence, resamples=resamples, seed=seed
    )


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
    on its own); None when either has fewer than 2 values."""
    x, y = _array(a), _array(b)
    if x.size < 2 or y.size < 2:
        return None
    low, high = _percentile_bootstrap(
        (x, y), _median_difference, confidence=confidence, resamples=resamples, seed=seed
    )
    return float(_median_difference(x, y)), low, high


def describe(values: Sequence[float], *, confidence: float = CONFIDENCE) -> Summary:
    """The series described; percentiles only where ``n`` reaches :data:`MIN_N_FOR`."""
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
    )


@dataclass(frozen=True)
class Comparison:
    """Two series compared: Mann-Whitney U (two-sided) and the median difference."""

    label_a: str
    label_b: str
    n_a: int
    n_b: int
    p_value: float | None
    median_a: float | None
    median_b: float | None
    alpha: float = ALPHA

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < self.alpha

    @property
    def difference(self) -> float | None:
        """median(a) - median(b)."""
        if self.median_a is None or self.median_b is None:
            return None
        return self.median_a - self.median_b

    def sentence(self, unit: str = "ms") -> str:
        """One line for the report, e.g. "alpine vs distroless: no measurable difference
        (p=0.41, n=20 each)"."""
        counts = f"n={self.n_a} each" if self.n_a == self.n_b else f"n={self.n_a}/{self.n_b}"
        head = f"{self.label_a} vs {self.label_b}"
        if self.p_value is None:
            return f"{head}: too few samples to compare ({counts})"
        if not self.significant or self.difference is None:
            return f"{head}: no measurable difference (p={self.p_value:.2g}, {counts})"
        faster = self.label_a if self.difference < 0 else self.label_b
        return (
            f"{head}: {faster} lower by {abs(self.difference):.3g} {unit} in the median "
            f"(p={self.p_value:.2g}, {counts})"
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["significant"] = self.significant
        data["sentence"] = self.sentence()
        return data


MIN_N_COMPARE = 3


def compare(
    a: Sequence[float], b: Sequence[float], *, labels: tuple[str, str] = ("a", "b")
) -> Comparison:
    """Mann-Whitney U between two series (scipy); p is None when either has n < 3."""
    import numpy as np
    from scipy import stats as sps

    x, y = _array(a), _array(b)
    median_a = float(np.median(x)) if x.size else None
    median_b = float(np.median(y)) if y.size else None
    p_value: float | None = None
    if x.size >= MIN_N_COMPARE and y.size >= MIN_N_COMPARE:
        if np.all(x == x[0]) and np.all(y == y[0]) and x[0] == y[0]:
            p_value = 1.0
        else:
            p_value = float(sps.mannwhitneyu(x, y, alternative="two-sided").pvalue)
    return Comparison(labels[0], labels[1], int(x.size), int(y.size), p_value, median_a, median_b)


def samples_to_settle(summary: Summary, limit: float) -> int | None:
    """How many samples would make the median's interval clear ``limit`` (a rough
    1/sqrt(n) estimate), or None when it cannot be said (no interval, limit at the median).
    """
    half = summary.ci_half_width
    if half is None or summary.median is None or not half:
        return None
    distance = abs(summary.median - limit)
    if distance == 0:
        return None
    needed = summary.n * (half / distance) ** 2
    return max(summary.n + 1, math.ceil(needed))
