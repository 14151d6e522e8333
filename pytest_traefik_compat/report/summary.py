"""What a report says about the run as a whole: its line of facts and the bases' provenance.

Shared by the terminal footer, the Markdown and the HTML page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import MISSING, SUITE_CHECKS
from pytest_traefik_compat.records.profiles import DEFAULT_PROFILE, in_profile
from pytest_traefik_compat.report.cells import Index
from pytest_traefik_compat.report.order import base_order

# The provenance note worth a warning: the local "alpine" is not the distribution.
NOT_ALPINE = "not Alpine Linux"


def document_index(document: Mapping[str, Any]) -> Index:
    records = [Record.from_json(item) for item in document.get("records") or ()]
    return Index(records, base_order(records, document.get("bases") or ()))


def run_summary(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    meta: Mapping[str, Any] = document.get("meta") or {}
    versions: Mapping[str, Any] = meta.get("versions") or {}
    items = [("generated", str(document.get("generated_at") or MISSING))]
    if meta.get("run_id"):
        items.append(("run", str(meta["run_id"])))
    for name in ("plugin", "go", "traefik"):
        if versions.get(name):
            items.append((name, str(versions[name])))
    items.append(("bases", ", ".join(str(b) for b in document.get("bases") or ()) or MISSING))
    profile, stated = run_profile(meta, document_index(document).records)
    items.append(("profile", profile if stated else f"{profile} (from the checks run)"))
    selection = request_selection(meta)
    if selection:
        items.append(("selection", selection))
    shard = meta.get("shard")
    if shard:
        items.append(("shard", _shard_text(shard)))
    merged = meta.get("merged_from")
    if merged:
        items.append(("merged from", ", ".join(str(m.get("file")) for m in merged)))
    command = meta.get("command_line")
    if command:
        items.append(("command", command if isinstance(command, str) else " ".join(command)))
    return items


def _request(meta: Mapping[str, Any]) -> Mapping[str, Any]:
    request = meta.get("request")
    return request if isinstance(request, Mapping) else {}


def run_profile(meta: Mapping[str, Any], records: Sequence[Record]) -> tuple[str, bool]:
    """The run's profile and whether the report says it: the request in the meta where
    the report has one, else read from the checks run (a built-in check outside the
    default profile means ``full``)."""
    stated = _request(meta).get("profile") or meta.get("profile")
    if stated:
        return str(stated), True
    suite = {c.check for c in SUITE_CHECKS}
    study = any(
        r.check in suite and not in_profile(DEFAULT_PROFILE, r.check, r.variant) for r in records
    )
    return ("full" if study else DEFAULT_PROFILE), False


def request_selection(meta: Mapping[str, Any]) -> str:
    """The run's test selection (-k, -m, file arguments) as one line, "" without one."""
    selection = _request(meta).get("selection")
    if not selection:
        return ""
    if isinstance(selection, Mapping):
        return "; ".join(
            f"{key} {_flat(value)}"
            for key, value in selection.items()
            if value not in (None, "", [], ())
        )
    return _flat(selection)


def _flat(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)


def _shard_text(shard: Any) -> str:
    if isinstance(shard, Mapping) and "index" in shard and "count" in shard:
        return f"{shard['index']} of {shard['count']}"
    return json.dumps(shard) if not isinstance(shard, str) else shard


def provenance(index: Index, base: str) -> Mapping[str, Any]:
    """The first non-empty provenance among the base's records, else empty."""
    return next((r.provenance for r in index.records if r.base == base and r.provenance), {})


def provenance_notes(index: Index) -> list[str]:
    """What each base image really is; above all that local alpine is not Alpine Linux."""
    notes = []
    for base in index.bases:
        found = provenance(index, base)
        if not found:
            continue
        source = str(found.get("source") or "")
        note = str(found.get("note") or "")
        if NOT_ALPINE.lower() in note.lower():
            notes.append(
                f"{base} ({source or 'local'}) is musl+BusyBox from Debian packages, {NOT_ALPINE}"
            )
        elif note:
            detail = note.split(": ", 1)[1] if note.startswith(f"{source}: ") else note
            notes.append(f"{base} ({source}): {detail}" if source else f"{base}: {detail}")
    return notes
