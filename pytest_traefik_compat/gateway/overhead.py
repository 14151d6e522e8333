"""Temporary: re-exports for call sites being moved to measure.overhead; remove.

The overhead series are measurement; they live in ``measure.overhead`` now. Until the
suite imports them from there this module stands in (the one place gateway/ reaches
into measure/), with ``median_ci`` in the shape the suite still unpacks.
"""

from __future__ import annotations

from collections.abc import Sequence

from pytest_traefik_compat.measure import stats
from pytest_traefik_compat.measure.overhead import CONCURRENCIES as CONCURRENCIES
from pytest_traefik_compat.measure.overhead import MODES as MODES
from pytest_traefik_compat.measure.overhead import SEED
from pytest_traefik_compat.measure.overhead import Target as Target
from pytest_traefik_compat.measure.overhead import compare as compare


def median_ci(values: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    """(median, CI low, CI high): ``stats.median_ci`` with the overhead's seed."""
    import numpy as np

    interval = stats.median_ci(values, seed=SEED)
    median = float(np.median(values)) if len(values) else None
    return (median, *interval) if interval else (median, None, None)
