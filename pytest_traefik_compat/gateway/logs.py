"""Traefik's log read for what matters to a stack: the lines saying it refused its config.

Traefik logs JSON here (the static config asks for it), one object a line:

- a dynamic config it cannot use is logged at level "error" and it keeps running,
  serving what is valid::

    {"level":"error","error":"unable to generate TLS certificate: tls: failed
     to find any PEM data in certificate input","time":"...","message":"Unable
     to parse certificate /etc/tr[...]ver.crt"}   (it elides paths itself)
    {"level":"error","providerName":"file","error":"collecting file configs:
     ...: yaml: line 1: ...","message":"Error occurred during watcher callback"}
    {"level":"error","entryPointName":"websecure","routerName":"app@file",
     "error":"middleware \\"nope@file\\" does not exist","message":"..."}

- a static config it cannot use gives one error line, then exit status 1::

    {"level":"error","error":"command traefik error: field not found, node:
     bogus","message":"Command error"}

- access log records carry "level":"info" (and TLSVersion, TLSCipher,
  TLSClientSubject); health check failures are "warn".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["config_errors", "error_lines"]

_ERROR_LEVELS = frozenset({"error", "fatal", "panic"})
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
# Common (non-JSON) format, e.g. "2026-01-01T00:00:00Z ERR msg error=...".
_COMMON_ERROR_RE = re.compile(r"^\S+\s+(?:ERR|FTL|PNC)\s+(.*)$")
# Context keys worth keeping when a JSON error line is turned into one line.
_CONTEXT_KEYS = (
    "providerName",
    "entryPointName",
    "routerName",
    "serviceName",
    "middlewareName",
    "tlsStoreName",
)


def _json_error_line(record: Mapping[str, Any]) -> str:
    message = str(record.get("message") or "").strip()
    error = str(record.get("error") or "").strip()
    parts = [message] if message else []
    if error and error not in message:
        parts.append(error)
    text = ": ".join(parts) or json.dumps(record, sort_keys=True)
    context = [f"{k}={record[k]}" for k in _CONTEXT_KEYS if record.get(k)]
    return f"{text} ({', '.join(context)})" if context else text


def error_lines(log_text: str) -> list[str]:
    """Every error-or-worse line of a Traefik log, each made one readable line.

    Reads the JSON format the rendered static config sets, and the common format too
    (colours stripped) in case a caller overrides it. Non-log output is skipped.
    """
    found: list[str] = []
    for raw in log_text.splitlines():
        line = _ANSI_RE.sub("", raw).strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if isinstance(record, dict):
                if str(record.get("level", "")).lower() in _ERROR_LEVELS:
                    found.append(_json_error_line(record))
                continue
        match = _COMMON_ERROR_RE.match(line)
        if match:
            found.append(match.group(1))
        elif line.startswith("command traefik error:"):
            found.append(line)
    return found


# Error-level lines about traffic rather than configuration. At INFO Traefik logs
# none of them (handshake failures are DEBUG, health checks WARN), but a DEBUG/TRACE
# gateway must not fail fast because a test sent a bad certificate.
_RUNTIME_NOISE = (
    "TLS handshake error",
    "Health check failed",
    "error while dialing backend",
)


def config_errors(log_text: str) -> list[str]:
    """The error lines meaning Traefik refused (part of) its configuration.

    Traefik does not exit on a bad dynamic configuration: it logs once per
    reload and keeps serving whatever is valid. A missing certificate even
    leaves every router "enabled" in the API while each handshake then fails
    with "unrecognized name", so the log is the only place it shows. The stack
    uses these lines to fail fast with "Traefik refused its config: <line>".
    Repeats (one per watcher event) are dropped, order is kept.
    """
    seen: dict[str, None] = {}
    for line in error_lines(log_text):
        if not any(marker in line for marker in _RUNTIME_NOISE):
            seen.setdefault(line, None)
    return list(seen)
