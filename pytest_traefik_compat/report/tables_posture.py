"""The posture table: how each base's service and Traefik containers run."""

from __future__ import annotations

from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import (
    MISSING,
    POSTURE,
    POSTURE_SERVICE,
    POSTURE_TRAEFIK,
)
from pytest_traefik_compat.report.cells import (
    Cell,
    Column,
    Index,
    Table,
    _get,
    _number,
    _yes_no,
    row,
    text,
)

CONTAINERS = (POSTURE_SERVICE, POSTURE_TRAEFIK)


def posture_table(index: Index) -> Table:
    table = Table(
        POSTURE.check,
        "Container posture",
        [
            Column("base"),
            Column("container"),
            Column("user"),
            Column("uid", numeric=True, terminal=False),
            Column("non-root"),
            Column("drop ALL"),
            Column("cap add"),
            Column("no new priv"),
            Column("ro root"),
            Column("writable paths", terminal=False),
            Column("exception"),
        ],
        caption="As the engine runs them: the configured user and the process's real "
        "uid (Traefik runs as the caller's uid when pytest is not root), capabilities, "
        "no-new-privileges and the root file system. A part that does not hold is "
        "either a named exception (its reason shown) or a failure.",
        checks=(POSTURE.check,),
    )
    for base in index.bases:
        for container in CONTAINERS:
            r = index.get(base, POSTURE.check, container)
            table.rows.append(row(base, container, *_cells(r)))
    return table


def _cells(r: Record | None) -> list[Cell | str]:
    excepted = r.details.get(POSTURE.excepted) if r else None
    writable = r.details.get(POSTURE.writable_paths) if r else None
    cells: list[Cell | str] = [
        text(_get(r, POSTURE.user)),
        _number(r.details.get(POSTURE.uid) if r else None),
    ]
    cap_add = _get(r, POSTURE.cap_add)
    cells += [
        _holds(r, POSTURE.non_root, excepted),
        _holds(r, POSTURE.cap_drop_all, excepted),
        text(None if cap_add == "[]" else cap_add, "none" if r else MISSING),
        _holds(r, POSTURE.no_new_privileges, excepted),
        _holds(r, POSTURE.read_only_root, excepted),
    ]
    paths = ", ".join(writable) if isinstance(writable, list) else None
    cells.append(text(paths, "none" if r else MISSING))
    reason = _get(r, POSTURE.exception)
    cells.append(Cell(text(reason, "none" if r else MISSING), text(excepted, "")))
    return cells


def _holds(r: Record | None, name: str, excepted: object) -> Cell:
    """yes / no; a part that does not hold is marked failed unless the exception names it."""
    value = _get(r, name)
    shown = _yes_no(value)
    if value is False:
        named = isinstance(excepted, list) and name in excepted
        return Cell(f"{shown} (exception)" if named else shown, "", "" if named else "failed")
    return Cell(shown)
