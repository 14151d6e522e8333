"""The posture check's records in the report: one row per base and container."""

from __future__ import annotations

from typing import Any

from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import POSTURE, POSTURE_SERVICE, POSTURE_TRAEFIK
from pytest_traefik_compat.records.profiles import in_profile
from pytest_traefik_compat.report.cells import Index
from pytest_traefik_compat.report.tables_posture import posture_table


def _record(base: str, variant: str, **changes: Any) -> Record:
    record = Record(base=base, check=POSTURE.check, variant=variant)
    figures: dict[str, Any] = {
        POSTURE.user: "65532:65532",
        POSTURE.non_root: True,
        POSTURE.cap_drop_all: True,
        POSTURE.cap_add: "[]",
        POSTURE.no_new_privileges: True,
        POSTURE.read_only_root: True,
    }
    details = {POSTURE.uid: 65532, POSTURE.writable_paths: []}
    for name, value in changes.items():
        (details if name in details or name == POSTURE.excepted else figures)[name] = value
    for name, value in figures.items():
        record.figure(name, value)
    record.details.update(details)
    return record


def test_posture_is_in_the_default_profile() -> None:
    assert in_profile("default", POSTURE.check)


def test_the_table_shows_each_container_and_tells_an_exception_from_a_failure() -> None:
    records = [
        _record("alpine", POSTURE_SERVICE),
        _record("alpine", POSTURE_TRAEFIK, user="1000:1000", uid=1000),
        _record(
            "team",
            POSTURE_SERVICE,
            user="0",
            uid=0,
            non_root=False,
            exception="team base needs root",
            excepted=["non_root"],
        ),
        _record("team", POSTURE_TRAEFIK, read_only_root=False, writable_paths=["/data"]),
    ]
    table = posture_table(Index(records))
    titles = [column.title for column in table.columns]
    rows = {(cells[0].text, cells[1].text): cells for cells in table.rows}
    assert list(rows) == [
        ("alpine", "service"),
        ("alpine", "traefik"),
        ("team", "service"),
        ("team", "traefik"),
    ]

    def cell(key: tuple[str, str], title: str) -> Any:
        return rows[key][titles.index(title)]

    assert cell(("alpine", "traefik"), "user").text == "1000:1000"
    assert cell(("alpine", "traefik"), "uid").text == "1000"
    assert cell(("alpine", "service"), "cap add").text == "none"
    assert cell(("alpine", "service"), "exception").text == "none"
    assert cell(("team", "service"), "non-root").text == "no (exception)"
    assert cell(("team", "service"), "non-root").css == ""
    assert cell(("team", "service"), "exception").text == "team base needs root"
    assert cell(("team", "traefik"), "ro root").css == "failed"
    assert cell(("team", "traefik"), "writable paths").text == "/data"


def test_a_base_without_the_check_gets_dashes() -> None:
    table = posture_table(Index([_record("alpine", POSTURE_SERVICE)], bases=["alpine", "other"]))
    other = [cells for cells in table.rows if cells[0].text == "other"]
    assert len(other) == 2 and all(c.text == "-" for c in other[0][2:])
