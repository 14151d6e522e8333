"""Budgets: limits on figures (startup latency, RSS, handshake time, image size) judged
against the figure's confidence interval.

``--traefik-budget=startup_ms=800,rss_mb=64,debian-slim:image_mb=120`` (ini
``traefik_budgets``, env ``PYTEST_TRAEFIK_BUDGETS``) parses into :class:`Budgets`; a
``base:`` prefix overrides the limit on that base only. A budget **passes** when the
upper bound of the figure's 95% interval is within the limit, **fails** when the lower
bound is beyond it, and is **inconclusive** in between, or when the series has too few
samples for a 95% interval (``stats.MIN_N_INTERVAL``); the verdict says about how many
samples would settle it. A figure that is not a sample (an image's size) is exact.
A budget whose figure was not measured is **missing**: the suite fails it with a line
saying which check to include (:func:`missing_sentence`); it is never skipped.

Units: ``ms`` for times; ``mb`` is a mebibyte (2^20 bytes, what ``ps`` and ``docker
stats`` count in) for memory and image sizes.

Pure: no pytest, no engine. The suite maps budget names to its records
(:data:`BUDGETS`); users call ``record.budget(name, limit, unit)`` on their own figures.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pytest_traefik_compat.measure import stats

PASS: Final = "pass"
FAIL: Final = "fail"
INCONCLUSIVE: Final = "inconclusive"
MISSING: Final = "missing"

MIB: Final = 2**20


@dataclass(frozen=True)
class BudgetName:
    """A budget the built-in suite knows: which figure it limits and in what unit."""

    name: str
    unit: str  # the limit's unit: "ms" or "mb"
    what: str


# name -> what it limits; the suite maps each to its records (suite/test_budgets.py).
BUDGETS: Final[dict[str, BudgetName]] = {
    b.name: b
    for b in (
        BudgetName("startup_ms", "ms", "container create to first 200 on /healthz, direct"),
        BudgetName("exec_ready_ms", "ms", "the program's init to listeners ready, as it logs"),
        BudgetName("route_ready_ms", "ms", "service ready to routed by Traefik"),
        BudgetName("rss_mb", "mb", "service VmRSS after warm-up (repeated readings)"),
        BudgetName("peak_rss_mb", "mb", "service VmHWM after the bounded load"),
        BudgetName("handshake_ms", "ms", "the mTLS handshake alone, at Traefik's entrypoint"),
        BudgetName("image_mb", "mb", "the service image (base + static binary)"),
        BudgetName("traefik_startup_ms", "ms", "Traefik container create to /ping 200"),
        BudgetName(
            "traefik_rss_mb", "mb", "Traefik VmRSS after the base's other checks (readings)"
        ),
    )
}

_BASE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


@dataclass(frozen=True)
class Budgets:
    """Limits by name, with per-base overrides."""

    limits: Mapping[str, float] = field(default_factory=dict)
    per_base: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.limits or self.per_base)

    def names(self) -> list[str]:
        """Every budget name set, in the order of :data:`BUDGETS`."""
        used = set(self.limits) | {n for m in self.per_base.values() for n in m}
        return [name for name in BUDGETS if name in used]

    def limit(self, name: str, base: str) -> float | None:
        override = self.per_base.get(base, {})
        return override.get(name, self.limits.get(name))

    def unknown_bases(self, bases: Iterable[str]) -> list[str]:
        return sorted(set(self.per_base) - set(bases))


def _valid() -> str:
    return ", ".join(BUDGETS)


def parse_budgets(value: str) -> Budgets:
    """``name=limit[,base:name=limit...]``; every flaw is an ArgumentTypeError (a usage
    error at parse time) naming the valid names."""
    limits: dict[str, float] = {}
    per_base: dict[str, dict[str, float]] = {}
    items = [item.strip() for item in value.split(",")]
    if not any(items):
        raise argparse.ArgumentTypeError(f"empty budget list; valid names: {_valid()}")
    for item in items:
        if not item:
            raise argparse.ArgumentTypeError(f"empty entry in {value!r}")
        key, sep, raw = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(
                f"malformed budget {item!r}: expected name=limit (e.g. startup_ms=800)"
            )
        base, colon, name = key.strip().rpartition(":")
        name = name.strip()
        if colon and not _BASE.match(base):
            raise argparse.ArgumentTypeError(f"malformed base name {base!r} in {item!r}")
        if name not in BUDGETS:
            raise argparse.ArgumentTypeError(
                f"unknown budget {name!r} in {item!r}; valid: {_valid()}"
            )
        try:
            number = float(raw.strip())
        except ValueError:
            number = float("nan")
        if not number > 0 or number == float("inf"):
            raise argparse.ArgumentTypeError(
                f"budget {key.strip()} must be a positive number "
                f"({BUDGETS[name].unit}), got {raw.strip()!r}"
            )
        target = per_base.setdefault(base, {}) if colon else limits
        if name in target:
            raise argparse.ArgumentTypeError(f"budget {key.strip()} given twice in {value!r}")
        target[name] = number
    return Budgets(limits, per_base, value)


# ---------------------------------------------------------------- units

# unit -> (dimension, factor to the dimension's base unit)
_UNITS: Final[dict[str, tuple[str, float]]] = {
    "ms": ("time", 1.0),
    "s": ("time", 1000.0),
    "us": ("time", 0.001),
    "bytes": ("size", 1.0),
    "kb": ("size", 1024.0),
    "mb": ("size", float(MIB)),
    "mib": ("size", float(MIB)),
    "gb": ("size", float(2**30)),
    "count": ("count", 1.0),
    "ratio": ("ratio", 1.0),
    "": ("none", 1.0),
}


def convert(value: float, unit: str, to: str) -> float:
    """``value`` in ``unit`` expressed in ``to``; ValueError across dimensions."""
    source, target = _UNITS.get(unit.lower()), _UNITS.get(to.lower())
    if source is None or target is None:
        raise ValueError(f"unknown unit {unit if source is None else to!r}; valid: {list(_UNITS)}")
    if source[0] != target[0]:
        raise ValueError(f"cannot compare {unit!r} with {to!r}")
    return value * source[1] / target[1]


# ---------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class Verdict:
    name: str
    limit: float
    unit: str
    outcome: str  # PASS / FAIL / INCONCLUSIVE / MISSING
    median: float | None = None
    low: float | None = None
    high: float | None = None
    n: int = 0
    more_samples: int | None = None
    base: str = ""
    ci_method: str = stats.CI_NONE

    @property
    def judged(self) -> bool:
        """Whether the figure's interval decided it (pass or fail)."""
        return self.outcome in (PASS, FAIL)

    @property
    def sentence(self) -> str:
        where = f"{self.base}: " if self.base else ""
        head = f"{where}{self.name} <= {self.limit:g} {self.unit}"
        if self.outcome == MISSING or self.median is None:
            return f"{head}: no figure measured"
        if self.ci_method == stats.CI_EXACT:
            figure = f"{self.median:.4g} {self.unit}"
        elif self.ci_method == stats.CI_NONE:
            figure = (
                f"median {self.median:.4g} {self.unit}, n={self.n}: no 95% interval "
                f"below n={stats.MIN_N_INTERVAL}"
            )
        else:
            figure = (
                f"median {self.median:.4g} {self.unit}, 95% CI "
                f"[{self.low:.4g}, {self.high:.4g}], n={self.n}"
            )
        if self.outcome == PASS:
            return f"{head}: pass ({figure})"
        if self.outcome == FAIL:
            return f"{head}: FAIL ({figure})"
        more = f"; about {self.more_samples} samples would settle it" if self.more_samples else ""
        if self.ci_method == stats.CI_NONE:
            return f"{head}: inconclusive, not judged ({figure}){more}"
        return f"{head}: inconclusive, the limit lies inside the interval ({figure}){more}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "base": self.base,
            "limit": self.limit,
            "unit": self.unit,
            "outcome": self.outcome,
            "judged": self.judged,
            "median": self.median,
            "ci_low": self.low,
            "ci_high": self.high,
            "ci_method": self.ci_method,
            "n": self.n,
            "more_samples": self.more_samples,
            "sentence": self.sentence,
        }


def missing_sentence(
    name: str, limit: float, base: str, check: str, *, ran: str | None = None
) -> str:
    """The one line of a budget whose figure this run did not measure, saying which
    check to include: "budget image_mb <= 10 mb on debian-slim: its figure comes from
    start-matrix, which did not run: add it to -k (or run a profile that has it) or
    drop the budget". ``ran``: the check's outcome when it ran without recording it."""
    unit = BUDGETS[name].unit if name in BUDGETS else ""
    head = f"budget {name} <= {limit:g} {unit} on {base}: its figure comes from {check}"
    if ran is not None:
        return f"{head}, which ran ({ran}) without recording it: see that test's failure"
    return (
        f"{head}, which did not run: add it to -k (or run a profile that has it) or drop the budget"
    )


def judge(
    name: str,
    limit: float,
    values: Sequence[float] | float | None,
    *,
    unit: str,
    values_unit: str | None = None,
    base: str = "",
) -> Verdict:
    """The verdict of ``values`` (a series, or one exact figure) against ``limit``.

    A series is judged on the median's 95% interval (exact, order statistics); a
    series too short for one (n < ``stats.MIN_N_INTERVAL``) is inconclusive, never
    judged on its min..max; a single number (image size) is exact.
    """
    if values is None or (not isinstance(values, (int, float)) and len(values) == 0):
        return Verdict(name, limit, unit, MISSING, base=base)
    exact = isinstance(values, (int, float))
    series = [float(values)] if isinstance(values, (int, float)) else [float(v) for v in values]
    if values_unit is not None:
        series = [convert(v, values_unit, unit) for v in series]
    summary = stats.describe(series)
    assert summary.median is not None
    low: float | None
    high: float | None
    if exact:
        low = high = summary.median
        method = stats.CI_EXACT
    else:
        low, high, method = summary.ci_low, summary.ci_high, summary.ci_method
    if low is None or high is None:
        outcome = INCONCLUSIVE
    elif high <= limit:
        outcome = PASS
    elif low > limit:
        outcome = FAIL
    else:
        outcome = INCONCLUSIVE
    more = stats.samples_to_settle(summary, limit) if outcome == INCONCLUSIVE else None
    return Verdict(
        name,
        limit,
        unit,
        outcome,
        summary.median,
        low,
        high,
        summary.n,
        more,
        base=base,
        ci_method=method,
    )


class BudgetInconclusive(UserWarning):
    """A budget whose limit lies inside the figure's confidence interval."""
