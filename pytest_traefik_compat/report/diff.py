"""What changed between two reports, as a gate: the ``diff`` command and ``--traefik-baseline``.

Compares records by (base, check, variant). Each change is a regression, an
improvement or a neutral change; any regression makes the exit code 1.

Regressions:

- a key that passed in the baseline and is absent now, and a base that is gone, unless
  the current run's own request explains it (a base it did not ask for, a check
  outside its profile, a test its ``-k``/``-m`` selection left out): those are one
  "not compared" line each;
- a check that passed and now fails, whatever else changed;
- a start that became a failure, a lost CA bundle or zoneinfo, a TLS downgrade, a TLS
  1.2 client or a bad client certificate let in, a lower valid-chain success rate, a
  DNS case that stopped answering, a posture property lost;
- a slowdown of a sampled series that is significant (two-sided Mann-Whitney U,
  p < :data:`ALPHA`) *and* beyond its figure's threshold (:data:`DEFAULT_THRESHOLDS`,
  overridable per figure with ``--traefik-regression`` / ``diff --regression``);
  memory growth on repeated readings the same way. A pair of series too small for
  the test to reach :data:`ALPHA` at all is "not judged (n=3)", never "no difference".

Pure Python plus scipy: no engine, no pytest.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pytest_traefik_compat.measure.stats import compare, median, min_p_unpaired
from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import (
    GATEWAY_OVERHEAD,
    GRPC,
    IMAGE_FACTS,
    INPROCESS_START,
    MEMORY,
    MISSING,
    MTLS,
    POSTURE,
    POSTURE_HOLDS,
    REFUSAL,
    START_MATRIX,
    STARTS,
    STARTUP_LATENCY,
    SUITE_CHECKS,
    TLS,
    TLS_EVIDENCE,
    TLS_HANDSHAKES,
    TRAEFIK_FIGURES,
)
from pytest_traefik_compat.records.profiles import DEFAULT_CHECKS, in_profile
from pytest_traefik_compat.report.document import load_report

Kind = Literal["regression", "improvement", "change"]
KINDS: tuple[Kind, ...] = ("regression", "improvement", "change")
Format = Literal["text", "md", "json"]
FORMATS: tuple[Format, ...] = ("text", "md", "json")

# A shift is real when the two-sided Mann-Whitney p is below ALPHA; the gate's false
# alarm rate per judged series is at most this.
ALPHA = 0.01
SIZE_RELATIVE_CHANGE = 0.05
SIZE_ABSOLUTE_BYTES = 1024 * 1024
MIB = 1024 * 1024
_TLS_ORDER = {"TLSv1": 0, "TLSv1.1": 1, "TLSv1.2": 2, "TLSv1.3": 3}

# The dns check (variant: the resolver) has one figure "<case>_answered" (bool) per case.
DNS_CHECK = "dns"
DNS_ANSWERED_SUFFIX = "_answered"
# The mtls series and the figure each is judged on: one request through Traefik, the
# TLS handshake alone, and the older reports' "handshake" (which held the request).
_MTLS_SERIES = (("request", "request"), ("tls_handshake", "handshake"), ("handshake", "request"))

# The built-in suite's checks: only these are governed by --traefik-profile (a user's
# own check runs in every profile, so the profile never explains its absence).
SUITE_CHECK_NAMES = frozenset({c.check for c in SUITE_CHECKS} | set(DEFAULT_CHECKS) | {DNS_CHECK})


# --------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class Threshold:
    """A slowdown (or growth) is a regression beyond both: ``relative`` of the
    baseline median and ``absolute`` in the series' unit."""

    relative: float
    absolute: float
    unit: str  # "ms" or "bytes"

    def text(self) -> str:
        size = _mib(self.absolute) if self.unit == "bytes" else f"{self.absolute:g} ms"
        return f"{self.relative:.0%} and {size}"


# The figures a regression is judged on, with their defaults (docs/diff.md, README).
DEFAULT_THRESHOLDS: Mapping[str, Threshold] = {
    "startup": Threshold(0.10, 10.0, "ms"),
    "route_ready": Threshold(0.25, 50.0, "ms"),
    "request": Threshold(0.20, 0.5, "ms"),
    "handshake": Threshold(0.20, 0.3, "ms"),
    "overhead": Threshold(0.20, 0.5, "ms"),
    "inprocess": Threshold(0.20, 0.5, "ms"),
    "traefik_start": Threshold(0.20, 20.0, "ms"),
    "grpc": Threshold(0.20, 0.5, "ms"),
    "memory": Threshold(0.15, 2 * MIB, "bytes"),
}
FIGURE_MEANING: Mapping[str, str] = {
    "startup": "container start to first 200 (relative to the drift control when both "
    "runs have the same one)",
    "route_ready": "the service's first 200 to routed by Traefik",
    "request": "an mTLS request through Traefik (connect, handshake, GET, answer, close)",
    "handshake": "the TLS handshake alone (mTLS; full and resumed)",
    "overhead": "a request through Traefik less the direct median",
    "inprocess": "the service's own exec/init to ready, per mode",
    "traefik_start": "Traefik's own start, create to /ping 200",
    "grpc": "gRPC unary call through Traefik",
    "memory": "resident memory on repeated readings",
}

_THRESHOLD_ITEM = re.compile(r"^(?P<name>[a-z_]+):(?P<number>\d+(?:\.\d+)?)(?P<unit>%|ms|MiB)$")


@dataclass(frozen=True)
class Thresholds:
    """The thresholds of a diff: the defaults with the user's overrides."""

    overrides: tuple[tuple[str, Threshold], ...] = ()

    def of(self, figure: str) -> Threshold:
        return dict(self.overrides).get(figure, DEFAULT_THRESHOLDS[figure])

    def text(self) -> str:
        return ",".join(f"{name}:{t.text()}" for name, t in self.overrides)


def parse_regression(value: str) -> Thresholds:
    """``startup:10%,handshake:25%,overhead:1ms,memory:4MiB`` (the pytest-benchmark
    ``--benchmark-compare-fail=min:5%`` style): a percentage sets a figure's relative
    threshold, ms (or MiB for memory) its absolute one. Raises ArgumentTypeError."""
    found: dict[str, Threshold] = {}
    valid = ", ".join(DEFAULT_THRESHOLDS)
    for raw in value.split(","):
        item = raw.strip()
        match = _THRESHOLD_ITEM.match(item)
        if not match:
            raise argparse.ArgumentTypeError(
                f"malformed regression threshold {item!r}: expected FIGURE:N% or FIGURE:Nms "
                f"(e.g. startup:10%); figures: {valid}"
            )
        name, number, unit = match["name"], float(match["number"]), match["unit"]
        if name not in DEFAULT_THRESHOLDS:
            raise argparse.ArgumentTypeError(
                f"unknown figure {name!r} in {item!r}; figures: {valid}"
            )
        current = found.get(name, DEFAULT_THRESHOLDS[name])
        expected = "MiB" if current.unit == "bytes" else "ms"
        if unit == "%":
            current = Threshold(number / 100, current.absolute, current.unit)
        elif unit == expected:
            absolute = number * MIB if unit == "MiB" else number
            current = Threshold(current.relative, absolute, current.unit)
        else:
            raise argparse.ArgumentTypeError(
                f"{item!r}: {name} takes N% or N{expected}, not {unit}"
            )
        found[name] = current
    return Thresholds(tuple(found.items()))


# --------------------------------------------------------------------------- statistics


def judgeable(n_before: int, n_after: int, alpha: float = ALPHA) -> bool:
    """Can a difference between series of these sizes reach p < ``alpha``?"""
    return min_p_unpaired(n_before, n_after) < alpha


@lru_cache(maxsize=8)
def samples_to_judge(alpha: float = ALPHA) -> int:
    """The smallest n a side for which a Mann-Whitney test can reach ``alpha``."""
    n = 1
    while not judgeable(n, n, alpha):
        n += 1
    return n


def significant_shift(before: Sequence[float], after: Sequence[float]) -> tuple[bool, float]:
    """(is the shift real at this module's ALPHA, p-value); series too small for the
    test to reach ALPHA never are (p 1.0)."""
    if not judgeable(len(before), len(after)):
        return False, 1.0
    p_value = compare(before, after, labels=("baseline", "current"), alpha=ALPHA).p_value
    if p_value is None:
        return False, 1.0
    return p_value < ALPHA, p_value


# --------------------------------------------------------------------------- the result


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
    notes: list[str] = field(default_factory=list)  # noise, not judged, new records
    skipped: list[str] = field(default_factory=list)  # what was not compared, and why

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
            "skipped": list(self.skipped),
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- the request


@dataclass(frozen=True)
class Request:
    """What a run asked for (report.json ``meta.request``), as far as it is known:
    ``None`` fields explain nothing."""

    images: tuple[str, ...] | None = None
    profile: str | None = None
    selection: Mapping[str, Any] = field(default_factory=dict)  # -k, -m, --deselect
    tests_run: frozenset[str] | None = None

    @classmethod
    def of(cls, meta: Mapping[str, Any] | None) -> Request:
        meta = meta or {}
        request = meta.get("request")
        if not isinstance(request, Mapping):
            # A report from before meta.request: the bases it was configured with.
            bases = meta.get("bases")
            return cls(images=tuple(bases) if isinstance(bases, list) and bases else None)
        images = request.get("images")
        tests_run = request.get("tests_run")
        return cls(
            images=tuple(images) if isinstance(images, list) else None,
            profile=request.get("profile") if isinstance(request.get("profile"), str) else None,
            selection=dict(request.get("selection") or {}),
            tests_run=(
                frozenset(_test_tail(t) for t in tests_run) if isinstance(tests_run, list) else None
            ),
        )

    def selection_text(self) -> str:
        parts = []
        for name, flag in (("keyword", "-k"), ("markexpr", "-m")):
            if self.selection.get(name):
                parts.append(f"{flag} {self.selection[name]!r}")
        if self.selection.get("deselect"):
            parts.append(f"--deselect ({len(self.selection['deselect'])})")
        return " ".join(parts)

    def left_out(self, test_id: str) -> bool:
        """Did this run's selection leave the test ``test_id`` out?"""
        if not self.selection_text() or self.tests_run is None or not test_id:
            return False
        return _test_tail(test_id) not in self.tests_run


class Requests:
    """The current run's request per base: a merged report keeps each shard's."""

    def __init__(self, meta: Mapping[str, Any] | None) -> None:
        self.run = Request.of(meta)
        self.shards: list[Request] = []
        for shard in (meta or {}).get("merged_from") or []:
            if isinstance(shard, Mapping) and isinstance(shard.get("request"), Mapping):
                self.shards.append(Request.of({"request": shard["request"]}))

    def for_base(self, base: str) -> Request:
        for shard in self.shards:
            if shard.images is not None and base in shard.images:
                return shard
        return self.run

    def asked_for(self, base: str) -> bool | None:
        images = self.run.images
        if self.shards:
            known = [s.images for s in self.shards if s.images is not None]
            images = tuple(name for names in known for name in names) if known else images
        return None if images is None else base in images


def _test_tail(test_id: str) -> str:
    """A test id without its directory: the suite's tests are found from different
    rootdirs (a checkout, an installed wheel)."""
    path, sep, rest = test_id.partition("::")
    return path.rsplit("/", 1)[-1] + sep + rest


# --------------------------------------------------------------------------- comparison


def _present(value: Any) -> bool:
    return value not in (None, "", MISSING, False)


def _where(base: str, check: str, variant: str) -> str:
    return f"{base} {check}" + (f"[{variant}]" if variant else "")


def _counts(n_before: int, n_after: int) -> str:
    return f"n={n_before}" if n_before == n_after else f"n={n_before}/{n_after}"


Key = tuple[str, str, str]


class _Collector:
    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self.changes: list[Change] = []
        self.notes: list[str] = []
        self.skipped: list[str] = []

    def add(
        self,
        kind: Kind,
        key: Key,
        what: str,
        before: Any,
        after: Any,
        text: str,
        **evidence: Any,
    ) -> None:
        base, check, variant = key
        line = f"{kind}: {_where(base, check, variant)}: {text}"
        self.changes.append(Change(kind, base, check, variant, what, before, after, line, evidence))


def _start_matrix(c: _Collector, key: Key, old: Record, new: Record) -> None:
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


def _image_facts(c: _Collector, key: Key, old: Record, new: Record) -> None:
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
    return f"{value / MIB:.1f} MiB"


def _tls(c: _Collector, key: Key, old: Record, new: Record) -> None:
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


def _mtls(c: _Collector, key: Key, old: Record, new: Record) -> None:
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
    _series(c, key, old, new, _MTLS_SERIES)


def _lost_flags(
    c: _Collector, key: Key, old: Record, new: Record, names: Iterable[str], lost: str
) -> None:
    """Each True figure of the baseline that is no longer True: a regression; each that
    became True: an improvement."""
    for name in names:
        before, after = old.value(name), new.value(name)
        if before is True and after is not True:
            state = "not recorded" if after is None else str(after)
            c.add("regression", key, name, before, after, f"{name} {lost} (True -> {state})")
        elif before is False and after is True:
            c.add("improvement", key, name, before, after, f"{name} now holds (False -> True)")


def _dns(c: _Collector, key: Key, old: Record, new: Record) -> None:
    cases = sorted(
        name for name in {*old.figures, *new.figures} if name.endswith(DNS_ANSWERED_SUFFIX)
    )
    _lost_flags(c, key, old, new, cases, "no longer answered")


def _posture(c: _Collector, key: Key, old: Record, new: Record) -> None:
    _lost_flags(c, key, old, new, POSTURE_HOLDS, "lost")


def _same_definition(c: _Collector, key: Key, old: Record, new: Record) -> bool:
    definition = STARTUP_LATENCY.definition
    if old.details.get(definition) != new.details.get(definition):
        # Another way of measuring (a newer suite): the numbers do not compare.
        c.notes.append(f"{_where(*key)}: measured differently in the two runs: not compared")
        return False
    return True


def _startup(c: _Collector, key: Key, old: Record, new: Record) -> None:
    """With the same drift control in both runs, the service is judged relative to it
    (service - control per round): a machine that is slower today moves the control as
    much as the service, and is not a change of the service."""
    control = STARTUP_LATENCY.control_image
    if old.value(control) is not None and old.value(control) == new.value(control):
        direct = old.samples.get(STARTUP_LATENCY.direct) or []
        scale = {STARTUP_LATENCY.direct_vs_control: median(direct)} if direct else {}
        series = [
            (STARTUP_LATENCY.direct_vs_control, "startup"),
            (STARTUP_LATENCY.route_ready, "route_ready"),
        ]
        _series(c, key, old, new, series, scale=scale, controlled=True)
        return
    if old.value(control) is not None or new.value(control) is not None:
        c.notes.append(f"{_where(*key)}: no common drift control: raw start times compared")
    series = [
        (STARTUP_LATENCY.direct, "startup"),
        (STARTUP_LATENCY.traefik, "startup"),
        (STARTUP_LATENCY.route_ready, "route_ready"),
    ]
    _series(c, key, old, new, series)


def _overhead(c: _Collector, key: Key, old: Record, new: Record) -> None:
    """A request through Traefik less the same run's direct median: the gateway's
    cost, with the machine's speed of the day taken out."""
    traefik, direct = GATEWAY_OVERHEAD.traefik, GATEWAY_OVERHEAD.direct

    def added(record: Record) -> list[float] | None:
        through, alone = record.samples.get(traefik), record.samples.get(direct)
        if not through or not alone:
            return None
        floor = median(alone)
        return [value - floor for value in through]

    before, after = added(old), added(new)
    if before is None or after is None:
        _series(c, key, old, new, [(traefik, "overhead")])
        return
    scale = median(old.samples[traefik])
    unit = new.sample_units.get(traefik) or "ms"
    _judge(
        c, key, old, new, "overhead", "traefik - direct median", before, after, unit, scale, True
    )


def _inprocess(c: _Collector, key: Key, old: Record, new: Record) -> None:
    suffixes = (f"_{INPROCESS_START.exec_ready}", f"_{INPROCESS_START.init_ready}")
    names = sorted(n for n in set(old.samples) & set(new.samples) if n.endswith(suffixes))
    _series(c, key, old, new, [(name, "inprocess") for name in names])


def _memory(c: _Collector, key: Key, old: Record, new: Record) -> None:
    repeated = sorted(
        name
        for name in set(old.samples) & set(new.samples)
        if (new.sample_units.get(name) or old.sample_units.get(name)) == "bytes"
    )
    if repeated:
        _series(c, key, old, new, [(name, "memory") for name in repeated])
        return
    before, after = old.value(MEMORY.rss_kernel), new.value(MEMORY.rss_kernel)
    if not (isinstance(before, int | float) and isinstance(after, int | float)) or not before:
        return
    delta = after - before
    relative = delta / before
    threshold = c.thresholds.of("memory")
    text = (
        f"{MEMORY.rss_kernel}: {_mib(before)} -> {_mib(after)} ({relative:+.0%}): one "
        "reading per run, not judged (n=1)"
    )
    if abs(delta) >= threshold.absolute and abs(relative) >= threshold.relative:
        kind: Kind = "change" if delta > 0 else "improvement"
        c.add(kind, key, MEMORY.rss_kernel, before, after, text)
    else:
        c.notes.append(f"{_where(*key)} {text}")


def _noisy(old: Record, new: Record) -> list[str]:
    return [
        label
        for label, record in (("baseline", old), ("current", new))
        if record.value(STARTUP_LATENCY.noisy) is True
    ]


def _series(
    c: _Collector,
    key: Key,
    old: Record,
    new: Record,
    names: Iterable[tuple[str, str]],
    *,
    scale: Mapping[str, float] | None = None,
    controlled: bool = False,
) -> None:
    """Judge each (series, figure) both records have.

    Args:
        scale: what a change is relative to, per series (default its baseline median;
            a difference series near 0 is measured against the start it adjusts).
        controlled: the series are relative to a control measured in the same rounds,
            so a busy machine moves both (see :func:`_judge`).
    """
    if not _same_definition(c, key, old, new):
        return
    for name, figure in names:
        before, after = old.samples.get(name) or [], new.samples.get(name) or []
        if not before or not after:
            continue
        unit = new.sample_units.get(name) or old.sample_units.get(name) or ""
        scaled = (scale or {}).get(name)
        _judge(c, key, old, new, figure, name, before, after, unit, scaled, controlled)


def _amount(value: float, unit: str) -> str:
    return _mib(value) if unit == "bytes" else f"{value:.1f} {unit}".rstrip()


def _judge(
    c: _Collector,
    key: Key,
    old: Record,
    new: Record,
    figure: str,
    name: str,
    before: Sequence[float],
    after: Sequence[float],
    unit: str,
    scale: float | None,
    controlled: bool = False,
) -> None:
    """One series pair: regression, improvement, not judged or no measurable difference.

    A run flagged noisy (busy CPUs, a high CV) is not judged on raw times: the machine,
    not the base, may be what is slower. A series relative to a control measured in the
    same rounds (``controlled``) is judged all the same: the busy machine slowed the
    control too, and the line says the run was noisy."""
    threshold = c.thresholds.of(figure)
    m_before, m_after = median(before), median(after)
    delta = m_after - m_before
    base = scale if scale is not None else m_before
    relative = delta / base if base else 0.0
    counts = _counts(len(before), len(after))
    where = _where(*key)
    story = f"{name} median {_amount(m_before, unit)} -> {_amount(m_after, unit)} ({relative:+.0%}"
    if not judgeable(len(before), len(after)):
        c.notes.append(
            f"{where} {story}): not judged ({counts}; a Mann-Whitney test needs "
            f"{samples_to_judge()} a side to reach p<{ALPHA:g})"
        )
        return
    real, p_value = significant_shift(before, after)
    beyond = abs(relative) >= threshold.relative and abs(delta) >= threshold.absolute
    evidence: dict[str, Any] = {"p_value": p_value, "n_before": len(before), "n_after": len(after)}
    if real and beyond:
        noisy = _noisy(old, new)
        if noisy and not controlled:
            c.notes.append(
                f"{where} {story}, p={p_value:.3g}) but the {' and '.join(noisy)} run was "
                "noisy (busy machine or high CV): not judged"
            )
            return
        if noisy:
            evidence["noisy"] = noisy
        kind: Kind = "regression" if delta > 0 else "improvement"
        word = "slower" if unit != "bytes" else "larger"
        if delta < 0:
            word = "faster" if unit != "bytes" else "smaller"
        c.add(
            kind,
            key,
            name,
            round(m_before, 3),
            round(m_after, 3),
            f"{word}: {story}, Mann-Whitney p={p_value:.3g}, {counts}; "
            f"{figure} threshold {threshold.text()})"
            + (f"; {' and '.join(noisy)} run noisy, judged against the control" if noisy else ""),
            figure=figure,
            **evidence,
        )
    elif real:
        c.notes.append(
            f"{where} {story}, p={p_value:.3g}, {counts}): within the {figure} threshold "
            f"({threshold.text()})"
        )
    else:
        c.notes.append(f"{where} {story}, p={p_value:.3g}, {counts}): no measurable difference")


def _outcome(c: _Collector, key: Key, old: Record, new: Record) -> None:
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


Rule = Callable[[_Collector, Key, Record, Record], None]


def _tls_evidence(c: _Collector, key: Key, old: Record, new: Record) -> None:
    if key[2] == TLS_HANDSHAKES:
        series = [
            (TLS_EVIDENCE.full_handshake, "handshake"),
            (TLS_EVIDENCE.resumed_handshake, "handshake"),
        ]
        _series(c, key, old, new, series)


_RULES: Mapping[str, Rule] = {
    START_MATRIX.check: _start_matrix,
    IMAGE_FACTS.check: _image_facts,
    TLS.check: _tls,
    MTLS.check: _mtls,
    STARTUP_LATENCY.check: _startup,
    MEMORY.check: _memory,
    DNS_CHECK: _dns,
    POSTURE.check: _posture,
    GATEWAY_OVERHEAD.check: _overhead,
    INPROCESS_START.check: _inprocess,
    TRAEFIK_FIGURES.check: lambda c, k, o, n: _series(
        c, k, o, n, [(TRAEFIK_FIGURES.start, "traefik_start")]
    ),
    GRPC.check: lambda c, k, o, n: _series(c, k, o, n, [(GRPC.echo, "grpc")]),
    TLS_EVIDENCE.check: _tls_evidence,
}


# --------------------------------------------------------------------------- absences


def _checks_text(keys: Sequence[Key]) -> str:
    names = sorted({_where("", check, variant).strip() for _, check, variant in keys})
    return ", ".join(names)


def _absences(
    c: _Collector,
    old: Mapping[Key, Record],
    new: Mapping[Key, Record],
    requests: Requests,
) -> None:
    """Keys of the baseline the current run lacks: explained by its request (one line
    per reason), a regression when they passed, else a note."""
    new_bases = {key[0] for key in new}
    not_asked: list[str] = []
    by_profile: dict[str, list[Key]] = {}
    by_selection: dict[str, list[Key]] = {}
    gone: dict[str, list[Key]] = {}
    for key in sorted(set(old) - set(new)):
        base, check, variant = key
        record = old[key]
        request = requests.for_base(base)
        if base not in new_bases and requests.asked_for(base) is False:
            if base not in not_asked:
                not_asked.append(base)
        elif (
            request.profile is not None
            and check in SUITE_CHECK_NAMES
            and not in_profile(request.profile, check, variant or None)
        ):
            by_profile.setdefault(request.profile, []).append(key)
        elif request.left_out(record.test_id):
            by_selection.setdefault(request.selection_text(), []).append(key)
        elif base not in new_bases:
            gone.setdefault(base, []).append(key)
        elif record.outcome == "passed":
            c.add(
                "regression",
                key,
                "record",
                "passed",
                "absent",
                "passed in the baseline, absent now (its test did not run or wrote nothing; "
                "nothing in this run's request leaves it out)",
            )
        else:
            c.notes.append(f"{_where(*key)}: only in the baseline ({record.outcome} there)")
    if not_asked:
        images = requests.run.images or ()
        c.skipped.append(
            f"base {', '.join(not_asked)} not asked for in this run "
            f"(--traefik-images={','.join(images)}): not compared"
        )
    for profile, keys in by_profile.items():
        c.skipped.append(
            f"{len(keys)} records of checks outside this run's {profile} profile "
            f"({_checks_text(keys)}): not compared (--traefik-profile=full compares them)"
        )
    for selection, keys in by_selection.items():
        c.skipped.append(
            f"{len(keys)} records whose tests this run's selection ({selection}) left out "
            f"({_checks_text(keys)}): not compared"
        )
    for base, keys in gone.items():
        passed = [key for key in keys if old[key].outcome == "passed"]
        if passed:
            c.changes.append(
                Change(
                    "regression",
                    base,
                    "",
                    "",
                    "base",
                    f"{len(passed)} passed",
                    "absent",
                    f"regression: base {base} is gone: {len(passed)} checks passed in the "
                    "baseline, none recorded now (did its stack fail at set-up?)",
                )
            )
        else:
            c.notes.append(f"base {base} only in the baseline, where nothing passed")


def _additions(c: _Collector, old: Mapping[Key, Record], new: Mapping[Key, Record]) -> None:
    old_bases = {key[0] for key in old}
    new_keys = sorted(set(new) - set(old))
    new_bases = sorted({key[0] for key in new_keys if key[0] not in old_bases})
    for base in new_bases:
        c.notes.append(f"base {base} is new: nothing to compare with")
    added = [key for key in new_keys if key[0] in old_bases]
    if added:
        c.notes.append(
            f"{len(added)} records only in this run ({_checks_text(added)}): nothing to "
            "compare with"
        )


# --------------------------------------------------------------------------- the diff


def diff_records(
    baseline: Sequence[Record],
    current: Sequence[Record],
    *,
    baseline_name: str = "baseline",
    current_name: str = "current",
    current_meta: Mapping[str, Any] | None = None,
    thresholds: Thresholds | None = None,
) -> Diff:
    """Every change from ``baseline`` to ``current``, classified.

    Args:
        current_meta: the current report's ``meta``: its ``request`` explains absences
            (without it every absence of a passed check is a regression).
        thresholds: per-figure slowdown thresholds (default :data:`DEFAULT_THRESHOLDS`).
    """
    old = {r.key: r for r in baseline}
    new = {r.key: r for r in current}
    c = _Collector(thresholds or Thresholds())
    for key in sorted(set(old) & set(new)):
        before, after = old[key], new[key]
        rule = _RULES.get(key[1])
        if rule is not None:
            rule(c, key, before, after)
        # Whatever else was said: a check that stopped passing is a regression.
        _outcome(c, key, before, after)
    _absences(c, old, new, Requests(current_meta))
    _additions(c, old, new)
    order = {kind: i for i, kind in enumerate(KINDS)}
    changes = sorted(c.changes, key=lambda ch: (order[ch.kind], ch.base, ch.check, ch.variant))
    return Diff(baseline_name, current_name, changes, c.notes, c.skipped)


def diff_files(
    baseline: Path | str, current: Path | str, *, thresholds: Thresholds | None = None
) -> Diff:
    _, old = load_report(baseline)
    document, new = load_report(current)
    return diff_records(
        old,
        new,
        baseline_name=str(baseline),
        current_name=str(current),
        current_meta=document.get("meta"),
        thresholds=thresholds,
    )


# --------------------------------------------------------------------------- rendering


def render(diff: Diff, fmt: Format) -> str:
    if fmt == "json":
        return json.dumps(diff.to_json(), indent=2, default=str) + "\n"
    if fmt == "md":
        return render_markdown(diff)
    return render_text(diff)


def headline(diff: Diff) -> str:
    counts = {kind: len(diff.of(kind)) for kind in KINDS}
    return (
        f"{counts['regression']} regressions, {counts['improvement']} improvements, "
        f"{counts['change']} other changes"
    )


def render_text(diff: Diff) -> str:
    lines = [f"compat diff {diff.baseline} -> {diff.current}: {headline(diff)}"]
    lines += [c.line for c in diff.changes]
    if not diff.changes:
        lines.append("no change")
    lines += [f"skipped: {line}" for line in diff.skipped]
    lines += [f"note: {note}" for note in diff.notes]
    return "\n".join(lines) + "\n"


def _md_cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(diff: Diff) -> str:
    """Fits a CI step summary ($GITHUB_STEP_SUMMARY): a headline, one table, what was
    not compared, notes folded."""
    icon = "❌" if diff.regressions else "✅"
    lines = [
        f"## {icon} Base image compatibility: {headline(diff)}",
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
    if diff.skipped:
        lines += ["", "Not compared:", ""]
        lines += [f"- {_md_cell(line)}" for line in diff.skipped]
    if diff.notes:
        lines += [
            "",
            f"<details><summary>{len(diff.notes)} notes (not judged, no difference, "
            "new or missing)</summary>",
            "",
        ]
        lines += [f"- {_md_cell(note)}" for note in diff.notes]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def exit_code(diff: Diff) -> int:
    return 1 if diff.regressions else 0


def regression_lines(diff: Diff) -> list[str]:
    return [c.line for c in diff.regressions]


def diff_command(
    baseline: Path, current: Path, fmt: Format, *, thresholds: Thresholds | None = None
) -> tuple[str, int]:
    """``python -m pytest_traefik_compat diff BASE.json NEW.json``: (output, exit code)."""
    diff = diff_files(baseline, current, thresholds=thresholds)
    return render(diff, fmt), exit_code(diff)
