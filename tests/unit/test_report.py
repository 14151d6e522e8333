"""The report: schema, tables, merging shards, and a self-contained, escaped HTML page.

The records are a real two-base run (tests/unit/data/records-sample.json) plus a
fabricated startup-latency check, which the sample lacks; the terminal summary of a
default run is read from a real three-base run (report-default-3-bases.json, its study
checks in report-study-3-bases.json).
"""

from __future__ import annotations

import copy
import json
import random
import re
import stat
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pytest_traefik_compat import report
from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.records.record import SCHEMA_VERSION, Record
from pytest_traefik_compat.report import figures, tables
from pytest_traefik_compat.report.cells import NO_COST, Cost, Index, fmt_cost
from tests.helpers.report_samples import (
    BASES,
    GLIBC_LOADER,
    META,
    MUSL_LOADER,
    Elements,
    assert_report_elements,
    sample_records,
)

DATA = Path(__file__).parent / "data"
THREE_BASES = ["alpine", "debian-slim", "distroless"]
SCREEN = 60  # lines: what a CI log shows without scrolling


@pytest.fixture
def records() -> list[Record]:
    return sample_records()


def three_base_run(*names: str) -> list[Record]:
    """Records of a real three-base run: the default profile's checks, and with
    "study" the full profile's others."""
    files = {"default": "report-default-3-bases.json", "study": "report-study-3-bases.json"}
    found: list[Record] = []
    for name in names:
        document = json.loads((DATA / files[name]).read_text())
        found += [Record.from_json(item) for item in document["records"]]
    return found


def with_posture(records: list[Record]) -> list[Record]:
    """The default profile's posture check, which the recorded run predates: the
    service and Traefik of every base hardened alike."""
    for base in THREE_BASES:
        for container, user in (("service", "65532:65532"), ("traefik", "0:0")):
            record = Record(base=base, check="posture", variant=container, outcome="passed")
            record.figure("user", user).figure("cap_add", "[]")
            for name in ("non_root", "cap_drop_all", "no_new_privileges", "read_only_root"):
                record.figure(name, True)
            record.details.update(uid=int(user.split(":")[0]), writable_paths=["/tmp"])
            records.append(record)
    return records


def sections(lines: list[str]) -> list[list[str]]:
    """The summary's blocks between blank lines."""
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line:
            blocks[-1].append(line)
        else:
            blocks.append([])
    return [b for b in blocks if b]


def gutters(block: list[str]) -> int:
    """How many two-space gutters run down every line of ``block``: an aligned table
    has one between each pair of columns; prose has none."""
    size = max(len(line) for line in block)
    lines = [line.ljust(size) for line in block]
    free = [all(line[p : p + 2] == "  " for line in lines) for p in range(size - 1)]
    return sum(1 for p, f in enumerate(free) if f and (p == 0 or not free[p - 1]))


def assert_table(block: list[str]) -> None:
    """A section is its title, a header and rows aligned under it."""
    assert len(block) >= 3, block
    body = [line for line in block[1:] if not re.match(r"^(\d+ (other )?\w+|other )", line)]
    columns = len(block[1].split("  ")) - block[1].count("   ")
    assert gutters(body) >= 1 and columns >= 2, block


@pytest.fixture
def document(records: list[Record]) -> dict[str, Any]:
    return report.build_report(records, meta=META)


def one_line(error: pytest.ExceptionInfo[CompatError]) -> str:
    text = str(error.value)
    assert "\n" not in text, text
    return text


# ---- the document and its schema


def test_document_validates_against_the_schema(document: dict[str, Any]) -> None:
    schema = report.load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(document)
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["bases"] == BASES
    assert document["meta"]["run_id"] == "0fcd7d468160"
    assert document["meta"]["versions"] == {
        "plugin": "0.1.0",
        "go": "go1.26.8",
        "traefik": "3.7.15",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["generated_at"])
    latency = next(r for r in document["records"] if r["check"] == "startup-latency")
    assert len(latency["samples"]["direct"]) == 6 and latency["sample_units"]["direct"] == "ms"
    assert latency["figures"]["direct_median"]["unit"] == "ms"
    assert latency["provenance"]["source"] == "local"


def test_schema_rejects_what_is_not_a_report(document: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(report.load_schema())
    broken = copy.deepcopy(document)
    broken["records"][0]["figures"]["size"] = 3140227  # a bare number lost its unit
    assert not validator.is_valid(broken)
    broken = copy.deepcopy(document)
    broken["records"][0]["samples"] = {"direct": ["fast"]}
    assert not validator.is_valid(broken)


def test_records_sort_by_base_order_check_and_linkage(records: list[Record]) -> None:
    shuffled = list(reversed(records))
    random.Random(3).shuffle(shuffled)
    first = report.build_report(records, meta=META, generated_at="2026-01-01T00:00:00Z")
    second = report.build_report(shuffled, meta=META, generated_at="2026-01-01T00:00:00Z")
    assert first == second  # how xdist workers deliver records does not matter
    keys = [(r["base"], r["check"], r["variant"]) for r in first["records"]]
    assert keys[:6] == [
        ("alpine", "image-facts", ""),
        ("alpine", "start-matrix", "static"),
        ("alpine", "start-matrix", "glibc"),
        ("alpine", "start-matrix", "musl"),
        ("alpine", "startup-latency", ""),
        ("alpine", "memory", ""),
    ]
    assert keys[len(keys) // 2][0] == "distroless"
    # The configured order wins over the order records arrive in.
    flipped = report.build_report(records, meta={"bases": ["distroless", "alpine"]})
    assert flipped["bases"] == ["distroless", "alpine"]
    assert flipped["records"][0]["base"] == "distroless"


def test_non_finite_numbers_become_null(records: list[Record]) -> None:
    records[0].figure("size", float("nan"), "bytes")
    records[0].samples["odd"] = [1.0, float("inf")]
    document = report.build_report(records, meta=META)
    assert document["records"][0]["figures"]["size"]["value"] is None
    assert document["records"][0]["samples"]["odd"] == [1.0, None]
    json.dumps(document, allow_nan=False)


def test_written_report_loads_back(tmp_path: Path, records: list[Record]) -> None:
    paths = report.write_reports(records, tmp_path / "out" / "nested", meta=META)
    assert [p.name for p in paths] == ["report.json", "report.md", "report.html"]
    document, loaded = report.load_report(paths.json)
    assert document["bases"] == BASES
    assert [r.to_json() for r in loaded] == document["records"]
    assert sorted(r.key for r in loaded) == sorted(r.key for r in records)
    # Atomic writes leave no temporary files behind; reports are world-readable.
    assert sorted(p.name for p in paths.json.parent.iterdir()) == sorted(p.name for p in paths)
    assert stat.S_IMODE(paths.html.stat().st_mode) == 0o644


def test_load_report_works_without_jsonschema(
    tmp_path: Path, records: list[Record], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = report.write_reports(records, tmp_path, meta=META)
    monkeypatch.setitem(sys.modules, "jsonschema", None)  # import now raises ImportError
    _, loaded = report.load_report(paths.json)
    assert len(loaded) == len(records)


def test_unwritable_directory_is_one_clear_line(tmp_path: Path, records: list[Record]) -> None:
    # Tests run as root, which chmod does not stop: a directory under a file does.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    target = blocker / "reports"
    with pytest.raises(CompatError) as error:
        report.write_reports(records, target, meta=META)
    line = one_line(error)
    assert str(target) in line and "--traefik-report-dir" in line


# ---- the tables


def test_markdown_tables_have_a_row_per_base(document: dict[str, Any]) -> None:
    text = report.render_markdown(document)
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert "| base | static | glibc | musl |" in rows
    assert f"| alpine | starts | {GLIBC_LOADER} | starts |" in rows
    assert f"| distroless | starts | {GLIBC_LOADER} | {MUSL_LOADER} |" in rows
    assert (
        "| base | size | layers | libc | shell | tools | CA certs | user | tzdata | files | OS |"
        in rows
    )
    assert any(
        r.startswith("| alpine | 3.1 MB | 1 | musl 1.2.3 | busybox | wget | yes |") for r in rows
    )
    assert any(r.startswith("| distroless | 2.1 MB | 1 | none | - | none | yes |") for r in rows)
    latency = next(r for r in rows if r.startswith("| alpine | ") and " ms |" in r)
    cells = [c.strip() for c in latency.strip("|").split("|")]
    assert cells[0] == "alpine" and all(c.endswith(" ms") for c in cells[1:4])
    assert cells[5] == "8 ms (p=0.0079)"  # own cost, process: StartedAt -> ready
    assert re.fullmatch(r"-?\d+ \[-?\d+(-| to )-?\d+\] ms", cells[6])  # vs drift control
    assert cells[8] == "22.3 MB" and cells[10] == "3.1 MB"
    assert any("| 6/6 + no-SNI/unknown-SNI |" in r and r.startswith("| alpine") for r in rows)
    assert "| alpine | unavailable | works | works | works | healthy | 4 ms | - |" in rows
    assert "| distroless | 1s | 5 ms | 5 ms |" in rows
    for title in (
        "Image facts",
        "Start matrix",
        "Startup latency, memory and size",
        "TLS, mTLS and gRPC through Traefik",
        "Health and metrics audit",
        "HEALTHCHECK styles",
        "Health alignment with Traefik",
    ):
        assert f"\n## {title}\n" in text
        table = text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
        body = [line for line in table.splitlines() if line.startswith("|")]
        header_cells = body[0].count(" | ")
        assert [line.split(" | ")[0] for line in body[2:]] == ["| alpine", "| distroless"]
        assert all(line.count(" | ") == header_cells for line in body[2:]), title
    assert "alpine (local) is musl+BusyBox from Debian packages, not Alpine Linux" in text


def test_terminal_tables_fit_100_columns(records: list[Record]) -> None:
    lines = report.terminal_tables(records, bases=BASES)
    assert max(len(line) for line in lines) <= 100
    text = "\n".join(lines)
    for title in ("Image facts", "Start matrix", "Startup latency, memory and size"):
        assert title in lines
    assert re.search(rf"^distroless +starts +{re.escape(GLIBC_LOADER)} +{MUSL_LOADER}$", text, re.M)
    assert re.search(
        r"^alpine +TLSv1\.3 +refused +h2 +100/100 .*6/6 \+ no-SNI/unknown-SNI", text, re.M
    )
    # direct, floor, own cost [its interval], route ready, RSS, peak RSS
    assert re.search(
        r"^alpine +\d+ ms +\d+ ms +\d+ ms \[\d+-\d+\] +\d+ ms +22\.3 MB +[\d.]+ MB$",
        text,
        re.M,
    )
    assert (
        "provenance: alpine (local) is musl+BusyBox from Debian packages, not Alpine Linux" in lines
    )


def test_terminal_tables_stay_narrow_with_long_values(records: list[Record]) -> None:
    long_base = "registry.example.com/team/golden-base-image-with-a-long-name"
    for record in records:
        if record.base == "distroless":
            record.base = long_base
    matrix = next(r for r in records if r.check == "start-matrix" and r.variant == "musl")
    matrix.figure("predicted", "starts").figure("observed", "fails")
    matrix.figure("observed_reason", "Error relocating /app: some_symbol: symbol not found " * 3)
    custom = Record(base="alpine", check="my-latency-probe")
    for index in range(30):
        custom.figure(f"figure_number_{index}", index * 1.5, "ms")
    records.append(custom)
    lines = report.terminal_tables(records)
    assert max(len(line) for line in lines) <= 100
    assert "my-latency-probe" in lines


def test_missing_data_shows_as_dash(records: list[Record]) -> None:
    kept = [r for r in records if not (r.base == "distroless" and r.check in ("memory", "tls"))]
    lines = report.terminal_tables(kept, bases=BASES)
    assert any(
        re.fullmatch(r"distroless +\d+ ms +\d+ ms +\d+ ms \[\d+-\d+\] +\d+ ms +- +-", line)
        for line in lines
    )
    tls = next(line for line in lines if line.startswith("distroless") and "100/100" in line)
    assert tls.split()[1:4] == ["-", "-", "-"]


def test_unknown_checks_get_a_generic_table(records: list[Record]) -> None:
    for base, value in (("alpine", 12.4), ("distroless", 8.5)):
        extra = Record(base=base, check="cold-query", outcome="passed")
        extra.figure("p50", value, "ms").figure("rows", 3, "count").figure("cached", True)
        records.append(extra)
    document = report.build_report(records, meta=META)
    text = report.render_markdown(document)
    assert "## cold-query" in text
    assert "| base | p50 | rows (count) | cached |" in text
    assert "| alpine | 12 ms | 3 | yes |" in text
    assert "| distroless | 8.5 ms | 3 | yes |" in text
    lines = report.terminal_tables(records)
    assert "cold-query" in lines
    dom = Elements(report.render_html(document))
    assert dom.by_id("table-check-cold-query") is not None


def test_terminal_gets_no_escape_sequences(records: list[Record]) -> None:
    facts = next(r for r in records if r.check == "image-facts")
    facts.figure("libc", "\x1b[31mred\x1b[0m\x07").figure("default_user", "root\r\nuser")
    text = "\n".join(report.terminal_tables(records))
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "?[31mred?[0m?" in text and "root user" in text


def test_failed_checks_are_listed(records: list[Record]) -> None:
    next(r for r in records if r.check == "tls" and r.base == "alpine").outcome = "failed"
    lines = report.terminal_tables(records)
    assert any(line.startswith("not passed: alpine tls (failed)") for line in lines)


# ---- merging CI shards


def _shards(tmp_path: Path, records: list[Record]) -> list[Path]:
    paths: list[Path] = []
    for base in BASES:
        mine = [r for r in records if r.base == base]
        meta = {**META, "bases": [base], "shard": {"index": len(paths) + 1, "count": 2}}
        paths.append(report.write_reports(mine, tmp_path / base, meta=meta).json)
    return paths


def test_merging_shards_equals_one_combined_run(tmp_path: Path, records: list[Record]) -> None:
    combined = report.build_report(records, meta=META)
    merged = report.merge_reports(_shards(tmp_path, records))
    assert merged["records"] == combined["records"]
    assert merged["bases"] == BASES
    assert [m["bases"] for m in merged["meta"]["merged_from"]] == [["alpine"], ["distroless"]]
    assert merged["meta"]["versions"] == combined["meta"]["versions"]
    jsonschema.Draft202012Validator(report.load_schema()).validate(merged)


def test_merge_command_writes_the_three_files(tmp_path: Path, records: list[Record]) -> None:
    paths = report.merge_command(_shards(tmp_path, records), tmp_path / "merged")
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    _, loaded = report.load_report(paths.json)
    assert len(loaded) == len(records)
    assert "distroless" in paths.markdown.read_text()


def test_merge_refuses_a_base_in_two_shards(tmp_path: Path, records: list[Record]) -> None:
    first = report.write_reports(records, tmp_path / "a", meta=META).json
    second = report.write_reports(
        [r for r in records if r.base == "alpine"], tmp_path / "b", meta=META
    ).json
    with pytest.raises(CompatError) as error:
        report.merge_reports([first, second])
    assert one_line(error).startswith(f"base alpine appears in shard {first} and {second}")


def test_merge_refuses_another_schema_version(tmp_path: Path, records: list[Record]) -> None:
    first, second = _shards(tmp_path, records)
    document = json.loads(second.read_text())
    document["schema_version"] = SCHEMA_VERSION + 1
    second.write_text(json.dumps(document))
    with pytest.raises(CompatError) as error:
        report.merge_reports([first, second])
    line = one_line(error)
    assert str(second) in line and f"schema version {SCHEMA_VERSION + 1}" in line


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"schema_version": 1, "records": [', "invalid JSON"),
        ("[1, 2, 3]", "no schema_version"),
        (b"\xff\xfe\x00", "not UTF-8"),
        ('{"schema_version": 1, "bases": [], "records": []}', "required property"),
    ],
)
def test_merge_refuses_what_is_not_a_report(
    tmp_path: Path, records: list[Record], content: str | bytes, reason: str
) -> None:
    first, _ = _shards(tmp_path, records)
    bad = tmp_path / "bad.json"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_text(content)
    with pytest.raises(CompatError) as error:
        report.merge_reports([first, bad])
    line = one_line(error)
    assert line.startswith(f"shard {bad} is not a report: ") and reason in line


def test_merge_refuses_a_missing_file_and_nothing(tmp_path: Path) -> None:
    with pytest.raises(CompatError) as error:
        report.merge_reports([tmp_path / "nope.json"])
    assert "nope.json is not a report" in one_line(error)
    with pytest.raises(CompatError):
        report.merge_reports([])


# ---- the HTML page


def test_html_has_the_charts_and_tables(document: dict[str, Any]) -> None:
    page = report.render_html(document)
    dom = assert_report_elements(page, BASES)
    cells = dom.inside("start-matrix", "td", "fails")
    assert len(cells) == 3 and all("observed fails" in c["title"] for c in cells)
    assert len(dom.inside("start-matrix", "td", "starts")) == 3


def test_html_is_self_contained(document: dict[str, Any]) -> None:
    page = report.render_html(document)
    dom = Elements(page)
    for tag, attrs, _ in dom.found:
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = attrs.get(name, "")
            assert not re.match(r"\s*(https?:)?//", value), (tag, name, value)
        assert tag not in ("script", "link", "iframe", "object", "embed", "img"), tag
    assert "@import" not in page
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", page)
    assert "default-src 'none'" in page  # the browser may not fetch anything either


def test_html_and_markdown_escape_values_from_containers(records: list[Record]) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    target = next(r for r in records if r.check == "image-facts" and r.base == "alpine")
    target.figure("os_name", attack).figure("shell", attack)
    health = next(r for r in records if r.check == "health-metrics" and r.base == "alpine")
    health.details["findings"] = [attack]
    health.figure("findings", 1, "count")
    matrix = next(r for r in records if r.check == "start-matrix" and r.variant == "glibc")
    matrix.figure("prediction_reason", attack).figure("observed_reason", attack)
    records.append(Record(base='evil"><script>x</script>', check="memory"))
    document = report.build_report(records, meta={**META, "command_line": [attack]})
    page = report.render_html(document)
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;script&gt;" in page
    markdown = report.render_markdown(document)
    assert "<script" not in markdown.lower() and "<img" not in markdown.lower()


def test_html_report_size(tmp_path: Path, records: list[Record]) -> None:
    paths = report.write_reports(records, tmp_path, meta=META)
    assert 5_000 < paths.html.stat().st_size < 200_000


def test_healthy_after_is_shown_in_the_unit_it_was_recorded_in(records: list[Record]) -> None:
    """The suite records it in ms (older reports: s); 1076 ms once read as "1076.20 s"."""
    for record in records:
        if record.check == "healthcheck" and record.base == "alpine":
            record.figure("healthy_after", 1076.2, "ms")
            record.figure("health_interval", 1000.0, "ms")
    text = report.render_markdown(report.build_report(records, meta=META))
    table = text.split("\n## HEALTHCHECK styles\n", 1)[1].split("\n## ", 1)[0]
    assert "| healthy | 1076 ms | 1000 ms |" in table
    assert " s |" not in table.replace(" ms |", "")


def test_bases_are_compared_against_the_drift_control(records: list[Record]) -> None:
    """Bases are measured one after another: with one control image in every series,
    they are compared on service - control and the control's own drift is shown;
    without a common control the raw series are compared."""
    found = {(c.figure, c.pair) for c in figures.comparisons(Index(records), BASES)}
    assert ("start - drift control", "alpine vs distroless") in found
    assert ("drift control", "alpine vs distroless") in found
    assert not any(figure == "start, direct" for figure, _ in found)
    for record in records:
        if record.check == "startup-latency" and record.base == "distroless":
            record.figure("control_image", "another-floor:1")
    found = {(c.figure, c.pair) for c in figures.comparisons(Index(records), BASES)}
    assert ("start, direct", "alpine vs distroless") in found
    assert not any("drift control" in figure for figure, _ in found)


# ---- the report at a glance


def test_terminal_summary_of_a_default_three_base_run_fits_one_screen() -> None:
    meta = {"request": {"profile": "default", "images": THREE_BASES}}
    run = with_posture(three_base_run("default"))
    lines = report.terminal_tables(run, bases=THREE_BASES, meta=meta)
    # The session adds three: the engine above, the section's rule, the report's path.
    assert len(lines) + 3 <= SCREEN, "\n".join(lines)
    assert max(len(line) for line in lines) <= 100
    assert lines[0].startswith("profile default · bases alpine, debian-slim, distroless · ")
    blocks = sections(lines)
    # What ran, then the sections, then the warning about a base.
    assert all(line.startswith(("provenance: ", "not passed: ")) for line in blocks[-1])
    titles = []
    for block in blocks[1:-1]:
        titles.append(block[0].split(": ", 1)[0])
        if len(block) == 1:  # a folded table: "<title>: <what it holds>"
            assert re.search(r": \d+ (cases|comparisons): ", block[0]), block
        else:
            assert_table(block)
    assert titles[:4] == [
        "Image facts",
        "Start matrix",
        "Startup latency, memory and size",
        "Between bases",
    ]
    text = "\n".join(lines)
    assert "key value" not in text and ", debian-slim: " not in text
    # the figures that differ and the verdicts; the study is not in a default run
    assert re.search(
        r"^alpine +starts +fails: no /lib64/ld-linux-x86-64\.so\.2 +starts$", text, re.M
    )
    assert "Gateway overhead" not in text and "In-process start" not in text


def test_terminal_summary_of_a_full_run_is_tables_only() -> None:
    lines = report.terminal_tables(three_base_run("default", "study"), bases=THREE_BASES)
    text = "\n".join(lines)
    assert lines[0].startswith("profile full (from the checks run) · ")
    assert len(lines) < 130  # every section a table: was 214 lines of tables and prose
    for title in (
        "Gateway overhead: latency Traefik adds",
        "Client identity forwarded to the backend",
        "Go plugins (-buildmode=plugin) on the base",
        "Traefik's local plugin (Yaegi) on the base",
    ):
        assert_table(next(b for b in sections(lines) if b[0] == title))
    # no generic dumps headed by check names, no "key value, key value" prose
    for check in ("gateway-overhead", "client-identity", "go-plugin", "traefik-plugin"):
        assert check not in lines
    assert not re.search(r"^\w[\w-]*: variant ", text, re.M)
    overhead = next(b for b in sections(lines) if b[0].startswith("Gateway overhead"))
    assert overhead[1].split()[1:] == [
        "keep-alive",
        "c=1",
        "keep-alive",
        "c=8",
        "new",
        "conn.",
        "c=1",
        "new",
        "conn.",
        "c=8",
    ]
    assert re.match(r"^alpine +\+\d", overhead[2])
    assert re.search(r"^alpine +fails +loads$", text, re.M)  # Go plugins per linkage


def test_a_cost_whose_interval_spans_zero_is_no_measurable_cost() -> None:
    assert fmt_cost(Cost(-27.0, -60.0, 10.0)) == NO_COST
    assert fmt_cost(Cost(-44.0)) == NO_COST  # no interval: a cost that is not above 0
    assert fmt_cost(Cost(3.0, 1.0, 5.0, measurable=False)) == NO_COST  # judged: none
    assert fmt_cost(Cost(3.5, 3.3, 3.7), sign="+") == "+3.5 ms [3.3-3.7]"
    assert fmt_cost(Cost(12.0)) == "12 ms"
    assert fmt_cost(Cost(None)) == "-"


def test_own_cost_and_added_latency_spanning_zero_read_no_measurable_cost() -> None:
    """In the real run the service starts as fast as its floor on every base: the own
    cost's interval holds zero (it once printed "-27 ms" and "floor 307 + -44")."""
    run = three_base_run("default", "study")
    overhead = next(r for r in run if r.check == "gateway-overhead" and r.base == "alpine")
    overhead.figure("added_median", 0.2, "ms").figure("added_ci_low", -0.1, "ms")
    lines = report.terminal_tables(run, bases=THREE_BASES)
    latency = next(b for b in sections(lines) if b[0] == "Startup latency, memory and size")
    assert latency[1].split()[:7] == ["base", "direct", "med", "floor", "med", "own", "cost"]
    assert all(NO_COST in row for row in latency[2:])
    assert not any(re.search(r"  -\d+ ms", row) for row in latency[2:])
    overhead_rows = next(b for b in sections(lines) if b[0].startswith("Gateway overhead"))
    assert NO_COST in overhead_rows[2]
    document = report.build_report(run, meta={"bases": THREE_BASES})
    page = report.render_html(document)
    assert NO_COST in page and " + -" not in page
    assert f"| {NO_COST} |" in report.render_markdown(document)


def test_comparisons_between_bases_are_a_table(records: list[Record]) -> None:
    run = three_base_run("default", "study")
    document = report.build_report(run, meta={"bases": THREE_BASES})
    markdown = report.render_markdown(document)
    section = markdown.split("\n## Between bases\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert rows[0] == "| pair | figure | difference [CI] | p | verdict | n |"
    pairs = ("alpine vs debian-slim", "alpine vs distroless", "debian-slim vs distroless")
    # every pair on every figure: start - drift control, drift control, in-process, Traefik
    assert len(rows) - 2 == 3 * 4
    assert {r.split(" | ")[0].removeprefix("| ") for r in rows[2:]} == set(pairs)
    verdicts = [r.split(" | ")[4] for r in rows[2:]]
    assert all(
        v.startswith(("no measurable difference", "not judged (n=")) or " lower by " in v
        for v in verdicts
    ), verdicts
    # the sentences are gone from the latency table's caption
    latency = markdown.split("\n## Startup latency, memory and size\n", 1)[1].split("\n## ")[0]
    assert not any(f"{pair}:" in latency for pair in pairs)
    dom = Elements(report.render_html(document))
    assert len(dom.inside("table-comparisons", "tr")) == 1 + 12
    # the terminal keeps the pairs that differ and counts the others
    lines = report.terminal_tables(run, bases=THREE_BASES)
    block = next(b for b in sections(lines) if b[0].startswith("Between bases"))
    if len(block) > 1:
        assert block[1].split() == ["pair", "figure", "difference", "[CI]", "p", "verdict"]
    assert re.match(r"^(\d+ other comparisons|Between bases: \d+ comparisons): ", block[-1])


def test_comparisons_render_the_verdict_of_the_statistics() -> None:
    run = three_base_run("default")
    found = figures.comparisons(Index(run), THREE_BASES)
    table = tables.builder("tables_compare:comparison_table")(Index(run, THREE_BASES))
    for comparison, row in zip(found, table.rows, strict=True):
        verdict = comparison.comparison.verdict
        assert verdict.startswith(row[4].text), (verdict, row[4].text)
        assert row[3].text == (
            "-" if comparison.comparison.p_value is None else f"{comparison.comparison.p_value:.2g}"
        )


def test_the_report_header_names_the_profile(tmp_path: Path) -> None:
    run = three_base_run("default")
    stated = {"bases": THREE_BASES, "request": {"profile": "default", "selection": {"-k": "tls"}}}
    markdown = report.render_markdown(report.build_report(run, meta=stated))
    assert "**profile** default" in markdown and "**selection** -k tls" in markdown
    page = report.render_html(report.build_report(run, meta=stated))
    assert "<b>profile</b><code>default</code>" in page
    lines = report.terminal_tables(run, bases=THREE_BASES, meta=stated)
    assert lines[0].startswith("profile default · selection -k tls · bases ")
    # a report without the request: read from the checks run
    inferred = report.render_markdown(report.build_report(run, meta={"bases": THREE_BASES}))
    assert "**profile** default (from the checks run)" in inferred
    full = report.terminal_tables(three_base_run("default", "study"), bases=THREE_BASES)
    assert full[0].startswith("profile full (from the checks run) · ")


def test_every_registered_table_builds_and_a_new_check_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = Index(three_base_run("default", "study"), THREE_BASES)
    built = tables.build_tables(index)
    assert len(built) == len(tables.REGISTRY)  # every check of the run has its table
    assert not any(t.generic for t in built)
    # A check no table covers gets a generic table; registering a builder replaces it.
    extra = Record(base="alpine", check="traefik-plugin-copy", outcome="passed")
    index.records.append(extra)
    assert any(t.generic and t.title == "traefik-plugin-copy" for t in tables.build_tables(index))
    assert all(tables.builder(entry)(Index([])).key for entry in tables.REGISTRY)
