"""Prometheus exposition text audited with prometheus_client's own parser."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families


@dataclass
class MetricsAudit:
    families: int = 0
    samples: int = 0
    findings: list[str] = field(default_factory=list)
    values: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings and self.families > 0


def audit_metrics(text: str, *, keep: Iterable[str] = ()) -> MetricsAudit:
    """Parse exposition text with prometheus_client's parser; every family needs
    both HELP and TYPE lines. ``keep`` names samples whose values to return."""
    audit = MetricsAudit()
    wanted = set(keep)
    helps = set(re.findall(r"^# HELP (\S+)", text, re.M))
    types = set(re.findall(r"^# TYPE (\S+)", text, re.M))
    try:
        families = list(text_string_to_metric_families(text))
    except ValueError as error:
        audit.findings.append(f"exposition text does not parse: {error}")
        return audit
    for family in families:
        audit.families += 1
        audit.samples += len(family.samples)
        # The parser strips _total from counter family names; the text keeps it.
        names = {family.name, f"{family.name}_total"}
        if not names & helps:
            audit.findings.append(f"{family.name}: no HELP line")
        if not names & types:
            audit.findings.append(f"{family.name}: no TYPE line")
        for sample in family.samples:
            if sample.name in wanted and not sample.labels:
                audit.values[sample.name] = float(sample.value)
    if not families:
        audit.findings.append("no metric families")
    return audit
