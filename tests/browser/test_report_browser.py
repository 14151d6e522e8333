"""The HTML report as a reader sees it: rendered by headless Chromium (Debian's package).

Asserts by element, not by pixels: the DOM Chromium built from the page must hold
the three charts with one bar per base, the start matrix and the tables; laid out in a
1280 px window, no chart may reach past the window and no figure past its chart's
viewBox (Chromium measures each text). The screenshot only has to exist and not be
blank.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from pytest_traefik_compat import report
from pytest_traefik_compat.records import Record
from tests.helpers.report_samples import BASES, META, assert_report_elements, sample_records

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TIMEOUT_S = 90
WINDOW = (1280, 2400)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="headless Chromium not installed (apt-get install -y chromium)",
    ),
]


def chromium(profile: Path, *args: str) -> str:
    """Run headless Chromium, bounded: on a hang its whole process group goes."""
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # tests run as root in containers
        "--disable-gpu",
        "--disable-dev-shm-usage",  # small /dev/shm in CI containers
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group: zygote and renderers die with it
    )
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"chromium did not finish within {TIMEOUT_S} s: {' '.join(args)}")
    assert process.returncode == 0, f"chromium exited {process.returncode}: {stderr[-2000:]}"
    return stdout


def png_facts(path: Path) -> tuple[int, int, int]:
    """Width, height and the number of distinct bytes in the pixel data."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        if kind == b"IDAT":
            chunks.append(data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    return width, height, len(set(pixels))


@pytest.fixture
def page(tmp_path: Path) -> Path:
    paths = report.write_reports(sample_records(), tmp_path / "report", meta=META)
    return paths.html


def test_chromium_renders_the_charts_and_tables(page: Path, tmp_path: Path) -> None:
    dom = chromium(tmp_path / "profile-dom", "--dump-dom", page.as_uri())
    assert "Traefik compatibility report" in dom
    assert_report_elements(dom, BASES)


def test_chromium_screenshot_is_not_blank(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    chromium(
        tmp_path / "profile-shot",
        f"--screenshot={shot}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        page.as_uri(),
    )
    assert shot.is_file() and shot.stat().st_size > 30_000
    width, height, distinct = png_facts(shot)
    assert (width, height) == WINDOW
    assert distinct > 50, "the screenshot is (nearly) one colour"


# ---- charts fit a 1280 px window

DATA = Path(__file__).parent.parent / "unit" / "data"
# A run of every check on three bases (the default and the study checks of one run),
# one base renamed to the longest name a registry path tends to have.
THREE_BASE_FILES = ("report-default-3-bases.json", "report-study-3-bases.json")
LONG_BASE = "registry.example.com/platform/golden-images/debian-slim-hardened"
FIT_WIDTH = 1280

# Run after layout: every chart's box in the window and each text's box in the chart's
# own units, written into the page for --dump-dom to carry out. The page's CSP forbids
# scripts, so the measured copy drops it; nothing else changes.
MEASURE = """<script>
addEventListener('load', () => {
  const charts = [...document.querySelectorAll('svg[id^="chart-"]')].map(svg => {
    const box = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll('text')].map(t => {
      const b = t.getBBox();
      return {left: b.x, right: b.x + b.width, text: t.textContent};
    });
    return {id: svg.id, viewbox: svg.viewBox.baseVal.width, left: box.left,
            right: box.right, texts};
  });
  const page = {scroll: document.documentElement.scrollWidth, window: innerWidth};
  const out = document.createElement('pre');
  out.id = 'measured';
  out.textContent = JSON.stringify({charts, page});
  document.body.append(out);
});
</script>"""


def three_base_records() -> list[Record]:
    records = []
    for name in THREE_BASE_FILES:
        document = json.loads((DATA / name).read_text())
        records += [Record.from_json(item) for item in document["records"]]
    for record in records:
        if record.base == "debian-slim":
            record.base = LONG_BASE
    return records


def measured_layout(page: Path, profile: Path, width: int) -> dict[str, object]:
    text = page.read_text(encoding="utf-8")
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
    probe = page.with_name("measured.html")
    probe.write_text(text.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = chromium(
        profile,
        f"--window-size={width},2000",
        "--virtual-time-budget=5000",  # the load handler has run when the DOM is dumped
        "--dump-dom",
        probe.as_uri(),
    )
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert found, "the measuring script did not run"
    result: dict[str, object] = json.loads(html.unescape(found.group(1)))
    return result


def test_every_chart_and_its_figures_fit_1280_px(tmp_path: Path) -> None:
    records = three_base_records()
    bases = ["alpine", LONG_BASE, "distroless"]
    paths = report.write_reports(records, tmp_path / "report", meta={**META, "bases": bases})
    layout = measured_layout(paths.html, tmp_path / "profile-fit", FIT_WIDTH)
    charts = layout["charts"]
    assert isinstance(charts, list)
    assert {c["id"] for c in charts} == {
        "chart-latency",
        "chart-rss",
        "chart-size",
        "chart-overhead",
    }
    for chart in charts:
        assert chart["left"] >= 0 and chart["right"] <= FIT_WIDTH, chart["id"]
        assert chart["texts"], chart["id"]
        for text in chart["texts"]:
            # The figures on the right end inside the viewBox, where nothing is clipped.
            where = f"{chart['id']}: {text['text']!r} spans {text['left']:.0f}-{text['right']:.0f}"
            assert text["left"] >= 0 and text["right"] <= chart["viewbox"], where
    overhead = next(c for c in charts if c["id"] == "chart-overhead")
    figures = [t["text"] for t in overhead["texts"] if t["text"].startswith(("+", "no measurable"))]
    assert len(figures) == 3 * 4  # one per base and mode x concurrency, all inside
    page = layout["page"]
    assert isinstance(page, dict) and page["scroll"] <= FIT_WIDTH, page
