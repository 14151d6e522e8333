"""Measurement records: one per (base, check), with units, raw samples and provenance.

Pure data, no pytest: the suite and users' tests create records through the
``traefik_record`` fixture; the session collects them (also from xdist workers) and
the report module renders them.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

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
        """Keep the raw samples and add min / median / p95 figures for them."""
        values = list(values)
        self.samples[name] = values
        self.sample_units[name] = unit
        for stat, number in summarize(values).items():
            self.figures[f"{name}_{stat}"] = Figure(number, unit)
        return self

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


def summarize(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "min": min(values),
        "median": statistics.median(values),
        "p95": percentile(values, 95),
        "max": max(values),
    }
