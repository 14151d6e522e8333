"""Report fixtures shared by the unit and browser tests: the recorded sample run,
synthetic latency records and an HTML element index for asserting on the page."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

from pytest_traefik_compat.records import Record

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
    """A plausible startup-latency record: direct ~600 ms, Traefik ~1100 ms, floor ~350 ms."""
    rng = random.Random(seed)
    record = Record(
        base=base,
        check="startup-latency",
        provenance=dict(template.provenance),
        versions=dict(template.versions),
        outcome="passed",
        test_id=f"test_compat.py::test_startup_latency[{base}]",
        worker="main",
        seconds=12.5,
    )
    record.add_samples("direct", [rng.gauss(600 + shift, 40) for _ in range(5)], "ms")
    record.add_samples("traefik", [rng.gauss(1100 + shift, 60) for _ in range(5)], "ms")
    record.add_samples("floor", [rng.gauss(350, 20) for _ in range(5)], "ms")
    record.figure("samples", 5, "count")
    record.details["definition"] = "container create+start to first 200 on /healthz"
    return record


def sample_records() -> list[Record]:
    records = [Record.from_json(item) for item in json.loads(DATA.read_text())]
    for seed, base in enumerate(BASES):
        template = next(r for r in records if r.base == base)
        records.append(latency_record(base, template, seed=seed, shift=40.0 * seed))
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
    assert len(dom.inside("chart-latency", "rect", "bar-direct")) == len(bases)
    assert len(dom.inside("chart-latency", "rect", "bar-traefik")) == len(bases)
    assert len(dom.inside("chart-latency", "line", "floor")) == len(bases)
    assert len(dom.inside("chart-rss", "rect", "bar")) == len(bases)
    assert len(dom.inside("chart-size", "rect", "bar")) == len(bases)
    matrix = dom.by_id("start-matrix")
    assert matrix is not None and matrix[0] == "table"
    assert len(dom.inside("start-matrix", "tr")) == len(bases) + 1  # header + one per base
    assert len(dom.with_class("table", "report-table")) >= 7
    return dom
