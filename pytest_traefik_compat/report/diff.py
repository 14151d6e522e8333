"""What changed between two reports: the ``diff`` command and ``--traefik-baseline``.

Compares records by (base, check, variant). Each change is a regression, an
improvement or a neutral change; regressions are what CI fails on, one line each:
a start that became a failure, a lost CA bundle or zoneinfo, a TLS downgrade, a TLS 1.2
client or a bad client certificate let in, a valid chain refused. Latency series are
compared with a two-sided Mann-Whitney U test (scipy) and reported only when the
difference is both significant and larger than a practical threshold; memory is one
reading per run, so it needs a larger relative change before it is listed. Pure
Python plus scipy: no engine, no pytest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pytest_traefik_compat.measure.stats import compare, median
from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import (
    IMAGE_FACTS,
    MEMORY,
    MISSING,
    MTLS,
    REFUSAL,
    START_MATRIX,
    STARTS,
    STARTUP_LATENCY,
    TLS,
)
from pytest_traefik_compat.report.document import load_report

Kind = Literal["regression", "improvement", "change"]
KINDS: tuple[Kind, ...] = ("regression", "improvement", "change")
Format = Literal["text", "md", "json"]
FORMATS: tuple[Format, ...] = ("text", "md", "json")

# A latency change is reported when p < ALPHA and the medians differ by more than
# MIN_RELATIVE_CHANGE (and MIN_ABSOLUTE_MS): significant *and* large enough to matter.
ALPHA = 0.01
MIN_RELATIVE_CHANGE = 0.10
MIN_ABSOLUTE_MS = 2.0
MIN_SAMPLES = 3
# One reading per run: memory moves only when it moved a lot.
MEMORY_RELATIVE_CHANGE = 0.15
MEMORY_ABSOLUTE_BYTES = 2 * 1024 * 1024
SIZE_RELATIVE_CHANGE = 0.05
SIZE_ABSOLUTE_BYTES = 1024 * 1024
_TLS_ORDER = {"TLSv1": 0, "TLSv1.1": 1, "TLSv1.2": 2, "TLSv1.3": 3}


@dataclass(frozen=True)
class Change:
    kind: Kind
    base: str
    check: str
    variant: str
    what: str  # the figure or aspect, e.g. "observed" or "ca_bundle"
    before: Any
    after: Any
    line: str  # the whole story in one line
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class Diff:
    baseline: str
    current: str
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. tests judged as noise

    def of(self, kind: Kind) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def regressions(self) -> list[Change]:
        return self.of("regression")

    def to_json(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "current": self.current,
            "counts": {kind: len(self.of(kind)) for kind in KINDS},
            "changes": [asdict(c) for c in self.changes],
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- statistics


def _mann_whitney_p(before: Sequence[float], after: Sequence[float]) -> float | None:
    """Two-sided Mann-Whitney U p-value (:func:`pytest_traefik_compat.measure.stats.compare`);
    None with fewer than MIN_SAMPLES on a side."""
    if len(before) < MIN_SAMPLES or len(after) < MIN_SAMPLES:
        return None
    return compare(before, after, labels=("baseline", "current")).p_value


def significant_shift(before: Sequence[float], after: Sequence[float]) -> tuple[bool, float]:
    """(is the shift real at this module's ALPHA, p-value); too few samples never is."""
    p_value = _mann_whitney_p(before, after)
    if p_value is None:
        return False, 1.0
    return p_value < ALPHA, p_value


# --------------------------------------------------------------------------- comparison


def _val(record: Record | None, name: str) -> Any:
    return None if record is None else record.value(name)


def _present(value: Any) -> bool:
    return value not in (None, "", MISSING, False)


def _where(base: str, check: str, variant: str) -> str:
    return f"{base} {check}" + (f"[{variant}]" if variant else "")


class _Collector:
    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.notes: list[str] = []

    def add(
        self,
        kind: Kind,
        key: tuple[str, str, str],
        what: str,
        before: Any,
        after: Any,
        text: str,
        **evidence: Any,
    ) -> None:
        base, check, variant = key
        line = f"{kind}: {_where(base, check, variant)}: {text}"
        self.changes.append(Change(kind, base, check, variant, what, before, after, line, evidence))


def _start_matrix(c: _Collector, key: tuple[str, str, str], old: Record, new: Record) -> None:
    before, after = old.value(START_MATRIX.observed), new.value(START_MATRIX.observed)
    if before is None and old.value(START_MATRIX.outcome):
        before = old.value(START_MATRIX.outcome)
    if after is None and new.value(START_MATRIX.outcome):
        after = new.value(START_MATRIX.outcome)
    if before == after or after is None or before is None:
        return
    reason = new.value(START_MATRIX.observed_reason) or new.value(START_MATRIX.prediction_reason)
    if before == STARTS:
        c.add(
            "regression",
            key,
            START_MATRIX.observed,
            before,
            after,
            f"started before, now {after} ({reason})",
        )
    elif after == STARTS:
        c.add(
            "improvement",
            key,
            START_MATRIX.observed,
            before,
            after,
            f"failed before ({old.value(START_MATRIX.observed_reason)}), now starts",
        )
    else:
        c.add("change", key, START_MATRIX.observed, before, after, f"{before} -> {after}")


def _image_facts(c: _Collector, key: tuple[str, str, str], old: Record, new: Record) -> None:
    for name, lost_is_regression in (
        (IMAGE_FACTS.ca_bundle, True),
        (IMAGE_FACTS.zoneinfo, True),
        (IMAGE_FACTS.libc, False),
        (IMAGE_FACTS.shell, False),
        (IMAGE_FACTS.curl, False),
        (IMAGE_FACTS.wget, False),
        (IMAGE_FACTS.default_user, False),
        (IMAGE_FACTS.os_name, False),
    ):
        before, after = old.value(name), new.value(name)
        if before == after or before is None or after is None:
            continue
        if lost_is_regression and _present(before) and not _present(after):
            c.add("regression", key, name, before, after, f"{name} lost ({before} -> {after})")
        elif lost_is_regression and not _present(before) and _present(after):
            c.add("improvement", key, name, before, after, f"{name} gained ({before} -> {after})")
        else:
            c.add("change", key, name, before, after, f"{name} {before} -> {after}")
    before, after = old.value(IMAGE_FACTS.size), new.value(IMAGE_FACTS.size)
    if isinstance(before, int | float) and isinstance(after, int | float) and before > 0:
        delta = after - before
        if abs(delta) >= SIZE_ABSOLUTE_BYTES and abs(delta) / before >= SIZE_RELATIVE_CHANGE:
            kind: Kind = "improvement" if delta < 0 else "change"
            c.add(
                kind,
                key,
                IMAGE_FACTS.size,
                before,
                after,
                f"size {_mib(before)} -> {_mib(after)} ({delta / before:+.0%})",
            )


def _mib(value: float) -> str:
    return f"{value / 1_048_576:.1f} MiB"


def _tls(c: _Collector, key: tuple[str, str, str], old: Record, new: Record) -> None:
    before, after = old.value(TLS.version), new.value(TLS.version)
    if before != after and before in _TLS_ORDER and after is not None:
        rank_after = _TLS_ORDER.get(str(after), -1)
        kind: Kind = "regression" if rank_after < _TLS_ORDER[before] else "improvement"
        c.add(kind, key, TLS.version, before, after, f"negotiated {before} -> {after}")
    before, after = old.value(TLS.tls12_refused), new.value(TLS.tls12_refused)
    if before is True and after is False:
        c.add(
            "regression",
            key,
            TLS.tls12_refused,
            before,
            after,
            "a client capped at TLS 1.2 is now let in",
        )
    elif before is False and after is True:
        c.add(
            "improvement",
            key,
            TLS.tls12_refused,
            before,
            after,
            "a client capped at TLS 1.2 is now refused",
        )


def _let_in(record: Record) -> set[str]:
    refusals = record.details.get(MTLS.refusals) or {}
    return {
        kind for kind, r in refusals.items() if isinstance(r, dict) and not r.get(REFUSAL.refused)
    }


def _mtls(c: _Collector, key: tuple[str, str, str], old: Record, new: Record) -> None:
    before_in, after_in = _let_in(old), _let_in(new)
    for kind_name in sorted(after_in - before_in):
        c.add(
            "regression",
            key,
            f"refusals.{kind_name}",
            "refused",
            "let in",
            f"bad client {kind_name} is now let in",
        )
    for kind_name in sorted(before_in - after_in):
        c.add(
            "improvement",
            key,
            f"refusals.{kind_name}",
            "let in",
            "refused",
            f"bad client {kind_name} is now refused",
        )
    if not (before_in or after_in):
        b, a = old.value(MTLS.bad_let_in), new.value(MTLS.bad_let_in)
        if isinstance(b, int) and isinstance(a, int) and a > b:
            c.add("regression", key, MTLS.bad_let_in, b, a, f"bad clients let in {b} -> {a}")
    b, a = old.value(MTLS.success_rate), new.value(MTLS.success_rate)
    if isinstance(b, int | float) and isinstance(a, int | float) and a != b:
        kind: Kind = "regression" if a < b else "improvement"
        c.add(kind, key, MTLS.success_rate, b, a, f"valid-chain success rate {b:.3f} -> {a:.3f}")


def _startup(c: _Collector, key: tuple[str, str, str], old: Record, new: Record) -> None:
    """With the same drift control in both runs, the service is judged relative to it
    (service - control per round): a machine that is slower today moves the control as
    much as the service, and is not a change of the service."""
    control = STARTUP_LATENCY.control_image
    if old.value(control) is not None and old.value(control) == new.value(control):
        scale = {
            STARTUP_LATENCY.direct_vs_control: median(
                old.samples.get(STARTUP_LATENCY.direct) or [0.0]
            )
        }
        controlled = (STARTUP_LATENCY.direct_vs_control, STARTUP_LATENCY.route_ready)
        _series(c, key, old, new, controlled, scale=scale)
        return
    if old.value(control) is not None or new.value(control) is not None:
        c.notes.append(f"{_where(*key)}: no common drift control: raw start times compared")
    names = (STARTUP_LATENCY.direct, STARTUP_LATENCY.traefik, STARTUP_LATENCY.route_ready)
    _series(c, key, old, new, names)


def _series(
    c: _Collector,
    key: tuple[str, str, str],
    old: Record,
    new: Record,
    names: Iterable[str],
    *,
    scale: dict[str, float] | None = None,
) -> None:
    """``scale``: what a change is relative to, per series (default its baseline
    median; a difference series near 0 is measured against the start it adjusts)."""
    definition = STARTUP_LATENCY.definition
    if old.details.get(definition) != new.details.get(definition):
        # Another way of measuring (a newer suite): the numbers do not compare.
        c.notes.append(f"{_where(*key)}: measured differently in the two runs: not compared")
        return
    noisy = [
        label
        for label, record in (("baseline", old), ("current", new))
        if record.value(STARTUP_LATENCY.noisy) is True
    ]
    for name in names:
        before, after = old.samples.get(name) or [], new.samples.get(name) or []
        if not before or not after:
            continue
        unit = new.sample_units.get(name) or old.sample_units.get(name) or ""
        m_before, m_after = median(before), median(after)
        real, p_value = significant_shift(before, after)
        base = (scale or {}).get(name, m_before)
        relative = (m_after - m_before) / base if base else 0.0
        large = abs(relative) >= MIN_RELATIVE_CHANGE and (
            unit != "ms" or abs(m_after - m_before) >= MIN_ABSOLUTE_MS
        )
        where = _where(*key)
        if real and large and noisy:
            c.notes.append(
                f"{where} {name}: median {m_before:.1f} -> {m_after:.1f} {unit} "
                f"({relative:+.0%}, p={p_value:.3g}) but the {' and '.join(noisy)} run was "
                "noisy (busy machine or high CV): not judged"
            )
        elif real and large:
            kind: Kind = "change" if relative > 0 else "improvement"
            c.add(
                kind,
                key,
                name,
                round(m_before, 3),
                round(m_after, 3),
                f"{name} median {m_before:.1f} -> {m_after:.1f} {unit} ({relative:+.0%}, "
                f"Mann-Whitney p={p_value:.3g}, n={len(before)}/{len(after)})",
                p_value=p_value,
                n_before=len(before),
                n_after=len(after),
            )
        else:
            c.notes.append(
                f"{where} {name}: median {m_before:.1f} -> {m_after:.1f} {unit} "
                f"({relative:+.0%}, p={p_value:.3g}, n={len(before)}/{len(after)}): "
                "no measurable difference"
            )


def _memory(c: _Collector, key: tuple[str, str, str], old: Record, new: Record) -> None:
    if old.samples or new.samples:  # repeated readings, when a suite writes them
        _series(c, key, old, new, sorted(set(old.samples) & set(new.samples)))
        return
    before, after = old.value(MEMORY.rss_kernel), new.value(MEMORY.rss_kernel)
    if not (isinstance(before, int | float) and isinstance(after, int | float)) or not before:
        return
    delta = after - before
    relative = delta / before
    if abs(delta) >= MEMORY_ABSOLUTE_BYTES and abs(relative) >= MEMORY_RELATIVE_CHANGE:
        kind: Kind = "change" if delta > 0 else "improvement"
        c.add(
            kind,
            key,
            MEMORY.rss_kernel,
            before,
            after,
            f"RSS {_mib(before)} -> {_mib(after)} ({relative:+.0%}; one reading per run, "
            f"threshold {MEMORY_RELATIVE_CHANGE:.0%})",
        )
    else:
        c.notes.append(
            f"{_where(*key)} rss_kernel: {_mib(before)} -> {_mib(after)} ({relative:+.0%}): "
            "within the one-reading threshold"
        )


def _outcome(c: _Collector, key: tuple[str, str, str], old: Record, new: Record) -> None:
    if old.outcome == "passed" and new.outcome in ("failed", "error"):
        c.add(
            "regression",
            key,
            "outcome",
            old.outcome,
            new.outcome,
            f"check passed before, now {new.outcome}",
        )
    elif old.outcome in ("failed", "error") and new.outcome == "passed":
        c.add("improvement", key, "outcome", old.outcome, new.outcome, "check passes now")


def diff_records(
    baseline: Sequence[Record],
    current: Sequence[Record],
    *,
    baseline_name: str = "baseline",
    current_name: str = "current",
) -> Diff:
    """Every change from ``baseline`` to ``current``, classified."""
    old = {r.key: r for r in baseline}
    new = {r.key: r for r in current}
    c = _Collector()
    old_bases = {k[0] for k in old}
    new_bases = {k[0] for k in new}
    for base in sorted(old_bases - new_bases):
        c.notes.append(f"base {base} only in the baseline: not compared")
    for base in sorted(new_bases - old_bases):
        c.notes.append(f"base {base} is new: nothing to compare with")
    for key in sorted(set(old) & set(new)):
        before, after = old[key], new[key]
        check = key[1]
        regressions_before = len(c.changes)
        if check == START_MATRIX.check:
            _start_matrix(c, key, before, after)
        elif check == IMAGE_FACTS.check:
            _image_facts(c, key, before, after)
        elif check == TLS.check:
            _tls(c, key, before, after)
        elif check == MTLS.check:
            _mtls(c, key, before, after)
        elif check == STARTUP_LATENCY.check:
            _startup(c, key, before, after)
        elif check == MEMORY.check:
            _memory(c, key, before, after)
        if len(c.changes) == regressions_before:
            # Nothing specific said: a check that stopped passing is still news.
            _outcome(c, key, before, after)
    for key in sorted(set(old) - set(new)):
        if key[0] in new_bases:
            c.notes.append(f"{_where(*key)} only in the baseline")
    for key in sorted(set(new) - set(old)):
        if key[0] in old_bases:
            c.notes.append(f"{_where(*key)} is new")
    order = {kind: i for i, kind in enumerate(KINDS)}
    changes = sorted(c.changes, key=lambda ch: (order[ch.kind], ch.base, ch.check, ch.variant))
    return Diff(baseline_name, current_name, changes, c.notes)


def diff_files(baseline: Path | str, current: Path | str) -> Diff:
    _, old = load_report(baseline)
    _, new = load_report(current)
    return diff_records(old, new, baseline_name=str(baseline), current_name=str(current))


# --------------------------------------------------------------------------- rendering


def render(diff: Diff, fmt: Format) -> str:
    if fmt == "json":
        return json.dumps(diff.to_json(), indent=2, default=str) + "\n"
    if fmt == "md":
        return render_markdown(diff)
    return render_text(diff)


def _headline(diff: Diff) -> str:
    counts = {kind: len(diff.of(kind)) for kind in KINDS}
    return (
        f"{counts['regression']} regressions, {counts['improvement']} improvements, "
        f"{counts['change']} other changes"
    )


def render_text(diff: Diff) -> str:
    lines = [f"compat diff {diff.baseline} -> {diff.current}: {_headline(diff)}"]
    lines += [c.line for c in diff.changes]
    if not diff.changes:
        lines.append("no change")
    lines += [f"note: {note}" for note in diff.notes]
    return "\n".join(lines) + "\n"


def _md_cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(diff: Diff) -> str:
    """Fits a CI step summary ($GITHUB_STEP_SUMMARY): a headline, one table, notes folded."""
    icon = "❌" if diff.regressions else "✅"
    lines = [
        f"## {icon} Base image compatibility: {_headline(diff)}",
        "",
        f"`{diff.baseline}` -> `{diff.current}`",
        "",
    ]
    if diff.changes:
        lines += [
            "| | base | check | what | before | after | detail |",
            "|---|---|---|---|---|---|---|",
        ]
        marks = {
            "regression": "❌ regression",
            "improvement": "✅ improvement",
            "change": "🔹 change",
        }
        for ch in diff.changes:
            check = ch.check + (f" [{ch.variant}]" if ch.variant else "")
            detail = ch.line.split(": ", 2)[-1]
            lines.append(
                f"| {marks[ch.kind]} | {_md_cell(ch.base)} | {_md_cell(check)} | "
                f"{_md_cell(ch.what)} | {_md_cell(ch.before)} | {_md_cell(ch.after)} | "
                f"{_md_cell(detail)} |"
            )
    else:
        lines.append("No change.")
    if diff.notes:
        lines += [
            "",
            f"<details><summary>{len(diff.notes)} notes (noise, new or missing)</summary>",
            "",
        ]
        lines += [f"- {_md_cell(note)}" for note in diff.notes]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def exit_code(diff: Diff) -> int:
    return 1 if diff.regressions else 0


def regression_lines(diff: Diff) -> list[str]:
    return [c.line for c in diff.regressions]


def diff_command(baseline: Path, current: Path, fmt: Format) -> tuple[str, int]:
    """``python -m pytest_traefik_compat diff BASE.json NEW.json``: (output, exit code)."""
    diff = diff_files(baseline, current)
    return render(diff, fmt), exit_code(diff)
