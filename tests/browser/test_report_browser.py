"""The HTML report as a reader sees it: rendered by headless Chromium (Debian's package).

Asserts by element, not by pixels: the DOM Chromium built from the page must hold
the three charts with one bar per base, the start matrix and the tables. The
screenshot only has to exist and not be blank.
"""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from pytest_traefik_compat import report
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
