"""Measurement records: one per (base, check), with units, raw samples and provenance.

Pure data, no pytest: the suite and users' tests create records through the
``traefik_record`` fixture; the session collects them (also from xdist workers) and
the report module renders them.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_traefik_compat.measure.budgets import Verdict

SCHEMA_VERSION = 1


@dataclass
class Figure:
    """One number with its unit (``ms``, ``bytes``, ``ratio``, ``count``...)."""

    value: float | int | str | bool | None
    unit: str = ""


@dataclass
class Record:
    base: str
    check: str
    figures: dict[str, Figure] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)
    sample_units: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    variant: str = ""  # e.g. a linkage, for checks that run per linkage
    outcome: str = "recorded"  # passed / failed / error / skipped, set after the test
    test_id: str = ""
    worker: str = ""
    seconds: float = 0.0

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.base, self.check, self.variant)

    def figure(self, name: str, value: Any, unit: str = "") -> Record:
        self.figures[name] = Figure(value, unit)
        return self

    def add_samples(self, name: str, values: Sequence[float], unit: str) -> Record:
        """Keep the raw samples and add their figures (pytest_traefik_compat.measure.stats):
        min, median with its bootstrap 95% interval (ci_low, ci_high), max, cv, n, and
        p95 / p99 only where n supports them."""
        values = list(values)
        self.samples[name] = values
        self.sample_units[name] = unit
        for stat, number in summarize(values).items():
            self.figures[f"{name}_{stat}"] = Figure(number, _STAT_UNITS.get(stat, unit))
        return self

    def budget(self, name: str, limit: float, unit: str = "") -> Verdict:
        """Judge a series (or a figure) of this record against ``limit`` (in ``unit``):
        pass when the median's 95% interval is within it, fail (AssertionError) when
        it is beyond, and otherwise inconclusive (a BudgetInconclusive warning, not a
        failure). The verdict is kept in ``details["budgets"]``."""
        from pytest_traefik_compat.measure import budgets

        if name in self.samples:
            values: Any = self.samples[name]
            values_unit = self.sample_units.get(name, unit)
        elif name in self.figures:
            values, values_unit = self.figures[name].value, self.figures[name].unit
            if not isinstance(values, (int, float)) or isinstance(values, bool):
                raise ValueError(f"figure {name!r} is not a number: {values!r}")
        else:
            known = sorted({*self.samples, *self.figures})
            raise ValueError(f"no series or figure {name!r} in this record; known: {known}")
        verdict = budgets.judge(
            name,
            limit,
            values,
            unit=unit or values_unit,
            values_unit=values_unit,
            base=self.base,
        )
        self.details.setdefault("budgets", {})[name] = verdict.as_dict()
        if verdict.outcome == budgets.FAIL:
            raise AssertionError(verdict.sentence)
        if verdict.outcome == budgets.INCONCLUSIVE:
            warnings.warn(budgets.BudgetInconclusive(verdict.sentence), stacklevel=2)
        return verdict

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["figures"] = {k: asdict(v) for k, v in self.figures.items()}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Record:
        values = dict(data)
        values["figures"] = {
            k: Figure(v["value"], v.get("unit", "")) for k, v in data.get("figures", {}).items()
        }
        return cls(**values)

    def value(self, name: str, default: Any = None) -> Any:
        figure = self.figures.get(name)
        return default if figure is None else figure.value


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: always one of the measured values."""
    if not values:
        raise ValueError("no samples")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil without floats drifting
    return ordered[int(rank) - 1]


# Stats whose unit is not the series' own.
_STAT_UNITS = {"cv": "ratio", "n": "count"}


def summarize(values: Sequence[float]) -> dict[str, float]:
    """min, median, ci_low, ci_high, max, cv, n; p95 and p99 only where n supports them
    (stats.MIN_N_FOR). An interval needs 3 samples, a cv 2: absent below that."""
    if not values:
        return {}
    from pytest_traefik_compat.measure import stats

    summary = stats.describe(values)
    found: dict[str, float | None] = {
        "min": summary.min,
        "median": summary.median,
        "ci_low": summary.ci_low,
        "ci_high": summary.ci_high,
        "max": summary.max,
        "cv": None if summary.cv is None else round(summary.cv, 4),
        "n": summary.n,
        "p95": summary.p95,
        "p99": summary.p99,
    }
    return {stat: number for stat, number in found.items() if number is not None}
