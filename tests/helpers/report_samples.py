"""Report fixtures shared by the unit and browser tests: the recorded sample run,
synthetic latency records and an HTML element index for asserting on the page."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import part_series

DATA = Path(__file__).parent.parent / "unit" / "data" / "records-sample.json"
BASES = ["alpine", "distroless"]
META = {
    "run_id": "0fcd7d468160",
    "bases": BASES,
    "command_line": ["pytest", "--traefik-images=alpine,distroless"],
}
GLIBC_LOADER = "fails: no /lib64/ld-linux-x86-64.so.2"
MUSL_LOADER = "fails: no /lib/ld-musl-x86_64.so.1"


def latency_record(base: str, template: Record, *, seed: int, shift: float = 0.0) -> Record:
    """A plausible startup-latency record: direct ~600 ms decomposed into its parts,
    floor ~350 ms, route ready ~900 ms (the 1 s health-check cycle)."""
    rng = random.Random(seed)
    record = Record(
        base=base,
        check="startup-latency",
        provenance=dict(template.provenance),
        versions=dict(template.versions),
        outcome="passed",
        test_id=f"test_startup.py::test_startup_latency[{base}]",
        worker="main",
        seconds=12.5,
    )
    parts = {"create": 40.0, "start": 380.0 + shift, "handoff": 5.0, "init_ready": 25.0}
    direct: list[float] = []
    for part, centre in parts.items():
        values = [rng.gauss(centre, centre / 10) for _ in range(6)]
        record.add_samples(part_series("direct", part), values, "ms")
        direct = [a + b for a, b in zip(direct, values, strict=True)] if direct else values
    answer = [rng.uniform(0, 20) for _ in range(6)]
    record.add_samples(part_series("direct", "first_answer"), answer, "ms")
    record.add_samples("direct", [a + b for a, b in zip(direct, answer, strict=True)], "ms")
    record.add_samples("floor", [rng.gauss(350, 20) for _ in range(6)], "ms")
    record.add_samples("route_ready", [rng.uniform(300, 1300) for _ in range(6)], "ms")
    record.figure("samples", 6, "count")
    own = float(record.value("direct_median") or 0) - float(record.value("floor_median") or 0)
    record.figure("service_cost", round(own, 2), "ms")
    # StartedAt -> ready: the program's share, 12 ms for the service vs 4 for the floor
    record.add_samples("direct_program", [12.0 + seed, 12.5, 11.5, 13.0, 12.2, 12.4], "ms")
    record.add_samples("floor_program", [4.0, 4.2, 3.9, 4.1, 4.3, 4.0], "ms")
    record.figure("program_cost", 8.0, "ms")
    record.figure("floor_vs_direct_program_p", 0.0079, "ratio")
    # The drift control: one image in every base's series; service - control per round.
    control = [rng.gauss(340, 15) for _ in range(6)]
    record.add_samples("control", control, "ms")
    totals = record.samples["direct"]
    record.add_samples(
        "direct_vs_control", [d - c for d, c in zip(totals, control, strict=True)], "ms"
    )
    record.figure("control_image", "pytest-traefik-compat/svc-alpine-floor:0123")
    record.details["definition"] = "container create call to first 200 on /healthz"
    return record


def memory_figures(record: Record, seed: int) -> None:
    """The issue-13 memory figures the recorded sample predates."""
    rss = float(record.value("rss_kernel") or 22e6)
    record.figure("rss_peak", rss * 1.2 + seed * 1e6, "bytes")
    record.figure("cgroup_memory", rss * 1.1, "bytes")
    record.figure("go_heap_inuse", rss * 0.2, "bytes")


def sample_records() -> list[Record]:
    records = [Record.from_json(item) for item in json.loads(DATA.read_text())]
    for seed, base in enumerate(BASES):
        template = next(r for r in records if r.base == base)
        records.append(latency_record(base, template, seed=seed, shift=40.0 * seed))
        for record in records:
            if record.base == base and record.check == "memory" and not record.variant:
                memory_figures(record, seed)
    return records


class Elements(HTMLParser):
    """Every start tag with its attributes and the ids of the elements around it."""

    VOID = frozenset({"meta", "link", "br", "img", "input", "hr", "source", "wbr"})

    def __init__(self, text: str) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.found: list[tuple[str, dict[str, str], list[str]]] = []
        self.feed(text)
        self.close()

    def _record(self, tag: str, attrs: list[tuple[str, str | None]]) -> dict[str, str]:
        values = {k: v or "" for k, v in attrs}
        around = [a["id"] for _, a in self.stack if a.get("id")]
        self.found.append((tag, values, around))
        return values

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = self._record(tag, attrs)
        if tag not in self.VOID:
            self.stack.append((tag, values))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._record(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        for position in range(len(self.stack) - 1, -1, -1):
            if self.stack[position][0] == tag:
                del self.stack[position:]
                return

    def by_id(self, element_id: str) -> tuple[str, dict[str, str]] | None:
        return next(((t, a) for t, a, _ in self.found if a.get("id") == element_id), None)

    def inside(self, element_id: str, tag: str, css: str = "") -> list[dict[str, str]]:
        return [
            a
            for t, a, around in self.found
            if t == tag and element_id in around and (not css or css in a.get("class", "").split())
        ]

    def with_class(self, tag: str, css: str) -> list[dict[str, str]]:
        return [a for t, a, _ in self.found if t == tag and css in a.get("class", "").split()]


def assert_report_elements(page: str, bases: Sequence[str]) -> Elements:
    """The charts and tables a reader expects, found by element: one bar per base."""
    dom = Elements(page)
    for chart in ("chart-latency", "chart-rss", "chart-size"):
        found = dom.by_id(chart)
        assert found is not None and found[0] == "svg", f"no <svg id={chart}>"
        groups = dom.inside(chart, "g", "series-base")
        assert [g["data-base"] for g in groups] == list(bases), chart
    # Per base: floor + the service's own cost stacked, whiskers on both medians, the
    # start's five parts stacked, and route-ready apart.
    for css in ("seg-floor", "seg-own", "bar-route"):
        assert len(dom.inside("chart-latency", "rect", css)) == len(bases), css
    assert len(dom.inside("chart-latency", "rect", "part")) == 5 * len(bases)
    for css in ("ci-floor", "ci-direct", "ci-route"):
        assert len(dom.inside("chart-latency", "g", css)) == len(bases), css
    # Memory side by side: VmRSS, peak, cgroup, Go heap per base.
    for css in ("mem-rss", "mem-peak", "mem-cgroup", "mem-heap"):
        assert len(dom.inside("chart-rss", "rect", css)) == len(bases), css
    assert len(dom.inside("chart-size", "rect", "bar")) == len(bases)
    matrix = dom.by_id("start-matrix")
    assert matrix is not None and matrix[0] == "table"
    assert len(dom.inside("start-matrix", "tr")) == len(bases) + 1  # header + one per base
    assert len(dom.with_class("table", "report-table")) >= 7
    return dom
