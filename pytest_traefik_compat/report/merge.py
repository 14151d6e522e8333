"""Joining CI shards' report.json files into one report: the ``merge`` command."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.records import Record
from pytest_traefik_compat.report.document import (
    ReportPaths,
    build_report,
    load_document,
    write_document,
)
from pytest_traefik_compat.report.order import base_order


def merge_reports(paths: Sequence[Path | str]) -> dict[str, Any]:
    """Join shard reports (one per CI matrix job) into one document.

    Refuses, with one line naming the file: unreadable or corrupt shards, other schema
    versions, and a base that appears in two shards (it would be counted twice).
    """
    if not paths:
        raise CompatError("merge needs at least one shard report.json")
    owner: dict[str, Path] = {}
    records: list[Record] = []
    bases: list[str] = []
    shards: list[dict[str, Any]] = []
    for raw in paths:
        path = Path(raw)
        document, shard_records = load_document(path, "shard")
        shard_bases = base_order(shard_records, document.get("bases") or ())
        for base in shard_bases:
            if base in owner:
                raise CompatError(
                    f"base {base} appears in shard {owner[base]} and {path}: "
                    "give each matrix job its own --traefik-images"
                )
            owner[base] = path
        bases += shard_bases
        records += shard_records
        shards.append({"file": str(path), "meta": document.get("meta") or {}})
    return build_report(records, meta=_merged_meta(shards, bases))


def _merged_meta(shards: Sequence[Mapping[str, Any]], bases: list[str]) -> dict[str, Any]:
    metas = [shard["meta"] for shard in shards]
    meta: dict[str, Any] = {"bases": bases}
    notes: list[str] = []
    # A run-level value survives only if every shard agrees; disagreement is a note.
    for key in ("versions",):
        values = [m.get(key) or {} for m in metas]
        merged: dict[str, Any] = {}
        for name in dict.fromkeys(n for v in values for n in v):
            seen = sorted({str(v[name]) for v in values if name in v})
            merged[name] = ", ".join(seen)
            if len(seen) > 1:
                notes.append(f"shards ran different {name} versions: {', '.join(seen)}")
        meta[key] = merged
    meta["merged_from"] = [
        {
            "file": shard["file"],
            "run_id": shard["meta"].get("run_id"),
            "bases": shard["meta"].get("bases"),
            "shard": shard["meta"].get("shard"),
            "engine": shard["meta"].get("engine"),
            **({"request": shard["meta"]["request"]} if "request" in shard["meta"] else {}),
        }
        for shard in shards
    ]
    requests = [m["request"] for m in metas if isinstance(m.get("request"), Mapping)]
    if requests:
        meta["request"] = _merged_request(requests, notes)
    # Shards may run on different engines (a local one, a remote build host, Podman):
    # their figures are then not measured under the same conditions; say so.
    engines = sorted(
        {
            f"{e.get('kind')} {e.get('version')} at {e.get('address')}"
            for e in (m.get("engine") for m in metas)
            if isinstance(e, Mapping)
        }
    )
    if len(engines) > 1:
        notes.append(f"shards ran on different engines: {'; '.join(engines)}")
    if notes:
        meta["notes"] = notes
    return meta


def _merged_request(requests: Sequence[Mapping[str, Any]], notes: list[str]) -> dict[str, Any]:
    """The shards' requests as one: every image asked for, the tests run and the
    deselections added up; the profile and the selection only where every shard
    agrees (each shard's own stays in ``merged_from``, where the diff reads it)."""
    merged: dict[str, Any] = {
        "images": list(dict.fromkeys(i for r in requests for i in r.get("images") or [])),
        "shards": len(requests),
    }
    profiles = sorted({str(r.get("profile")) for r in requests})
    merged["profile"] = profiles[0] if len(profiles) == 1 else None
    if len(profiles) > 1:
        notes.append(f"shards ran different profiles: {', '.join(profiles)}")
    selections = [r.get("selection") or {} for r in requests]
    merged["selection"] = selections[0] if all(s == selections[0] for s in selections) else {}
    runs = [r.get("tests_run") for r in requests]
    merged["tests_run"] = (
        sorted({t for run in runs if run for t in run})
        if all(isinstance(run, list) for run in runs)
        else None
    )
    counts = [r.get("deselected") for r in requests]
    merged["deselected"] = (
        {
            reason: sum(int(c.get(reason) or 0) for c in counts if isinstance(c, Mapping))
            for reason in ("profile", "keyword")
        }
        if all(isinstance(c, Mapping) for c in counts)
        else None
    )
    return merged


def merge_command(paths: Sequence[Path], out_dir: Path) -> ReportPaths:
    """``python -m pytest_traefik_compat merge SHARD.json... -o DIR``."""
    return write_document(merge_reports(paths), out_dir, option="-o")
