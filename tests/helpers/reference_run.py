"""The reference run: the built-in suite once, serial, on the three default bases, with
``--traefik-profile=full``, as a user starts it (a subprocess in a project of its own).

Several test files judge this one run (``tests/engine/conftest.py`` makes it once per
session): the records and figures (``test_suite_run.py``), the security posture
(``test_security.py``), the order (the run goes in reverse: each check establishes
its own preconditions, whatever ran before it) and the progress lines a plain serial
run shows with capture on.

While it goes on it is watched two ways. A :class:`CreateWatcher` listens to the
engine's container ``create`` and ``start`` events and inspects every container at
once (and its process's uid, capabilities and NoNewPrivs from /proc once started). A
probe plugin in the run (``-p ptc_probe``) records every container the run's process
asks the engine for, every file holding a private key under the run's temporary
directories with its mode, and the session CA's public keys.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker.errors
import pytest
from cryptography import x509

from pytest_traefik_compat import engine
from pytest_traefik_compat.plugin.settings import default_cache_dir
from pytest_traefik_compat.report import load_report
from tests.helpers.bad_input_helpers import RUN_ID_CONFTEST
from tests.helpers.secret_scan import point_of

BASES = ("alpine", "debian-slim", "distroless")
SAMPLES = 3  # container starts per series (in-process 3x): enough for an interval
HANDSHAKES = 20  # the floor the TLS evidence check uses whatever is asked
# The fewest the overhead takes (a request per worker and round); p99 not reported.
OVERHEAD_REQUESTS = 80
RUN_TIMEOUT_S = 1800

PROBE_PLUGIN = '''
"""Records what the security tests judge; changes nothing the run does."""
import json
import os
from pathlib import Path

import docker.api.container
import pytest

OUT = Path(os.environ["PTC_PROBE_DIR"])
KEY_MARK = b"PRIVATE KEY-----"
_create = docker.api.container.ContainerApiMixin.create_container


def create_container(self, *args, **kwargs):
    # Every container of the run, however it is made: the watcher must have seen each.
    result = _create(self, *args, **kwargs)
    _append("created.jsonl", {"id": result["Id"]})
    return result


docker.api.container.ContainerApiMixin.create_container = create_container


def _append(name, record):
    with open(OUT / name, "a") as stream:
        stream.write(json.dumps(record) + "\\n")


def _key_files(roots):
    for root in roots:
        for path in Path(root).rglob("*"):
            try:
                small = path.is_file() and path.stat().st_size < 1 << 20
                if small and KEY_MARK in path.read_bytes():
                    yield path
            except OSError:
                continue


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    # Fixtures are set up: the session PKI and the stack's config dir exist now.
    roots = [item.config.option.basetemp, os.environ["TMPDIR"]]
    for path in _key_files(roots):
        info = path.stat()
        _append("keys.jsonl", {"path": str(path), "mode": info.st_mode & 0o7777,
                               "uid": info.st_uid, "test": item.nodeid})
    pki = item.funcargs.get("traefik_pki")
    if pki is not None:
        certs = {"root": pki.root.cert_pem.bytes().decode(),
                 "intermediate": pki.intermediate.cert_pem.bytes().decode()}
        (OUT / "ca.json").write_text(json.dumps(certs))
    return (yield)
'''

# After the suite's own ordering: the whole run in reverse.
REVERSE_PLUGIN = """
def pytest_collection_modifyitems(items):
    items.reverse()
"""

# The plugin's containers (a build's intermediate containers carry no run label).
WATCHED: dict[str, Any] = {"type": "container", "label": [f"{engine.LABEL_MANAGED}=true"]}


@dataclass
class Seen:
    """One container as the watcher saw it at create (and at start, from /proc)."""

    id: str
    attrs: dict[str, Any] | None = None  # inspect data at create; None: gone by then
    proc: dict[str, list[str]] = field(default_factory=dict)  # Uid, CapEff, NoNewPrivs


class CreateWatcher:
    """Inspects every labelled container the engine creates, the moment it is created.

    One event stream from before the run to its end (``since`` its start, closed
    after it): every ``create`` event is kept with its attributes (name, image, labels)
    and the container inspected at once; a ``start`` reads its process from /proc. A
    query afterwards (``since``/``until``) would not do: the engine replays only its
    last 256 events, and a run on a shared engine makes thousands.
    """

    def __init__(self) -> None:
        self.client = engine.client()
        self.seen: dict[str, Seen] = {}
        self.created: list[dict[str, Any]] = []
        self.since = int(time.time()) - 1
        self.stream: Any = None
        self.thread = threading.Thread(target=self._watch, name="create-watcher", daemon=True)

    def __enter__(self) -> CreateWatcher:
        self.stream = self.client.events(
            decode=True, since=self.since, filters={**WATCHED, "event": ["create", "start"]}
        )
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        # Bounded: the run's last events reach the stream within this second.
        time.sleep(1)
        self.stream.close()
        self.thread.join(10)

    def _watch(self) -> None:
        try:
            for event in self.stream:
                action = event.get("Action", "")
                if action == "create":
                    self.created.append(event)
                self._on(action, event["Actor"]["ID"])
        except Exception:  # the stream closed under the loop: the run is over
            return

    def _on(self, action: str, ident: str) -> None:
        seen = self.seen.setdefault(ident, Seen(ident))
        try:
            attrs = self.client.api.inspect_container(ident)
        except docker.errors.NotFound:
            return
        if seen.attrs is None:
            seen.attrs = attrs
        number = (attrs.get("State") or {}).get("Pid") or 0
        if action == "start" and number:
            seen.proc = _proc_status(number)


def _proc_status(number: int) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    try:
        for line in Path(f"/proc/{number}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("Uid", "CapEff", "NoNewPrivs"):
                fields[key] = value.split()
    except OSError:
        pass  # the process already ended (a linkage that does not start on this base)
    return fields


def labels_of(event: dict[str, Any]) -> dict[str, str]:
    return dict(event.get("Actor", {}).get("Attributes") or {})


@dataclass
class ReferenceRun:
    project: Path
    basetemp: Path
    tmpdir: Path
    returncode: int
    stdout: str
    stderr: str
    document: dict[str, Any]  # the report as load_report reads it
    created: list[dict[str, Any]]  # the run's create events
    made: list[str]  # the ids of the containers the run's process asked the engine for
    seen: dict[str, Seen]  # what the watcher inspected, by container id (this run's)
    keys: list[dict[str, Any]]
    ca_points: list[bytes]
    run_id: str
    started: float
    seconds: float


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def start(project: Path) -> ReferenceRun:
    """Runs the reference run in ``project`` (an empty directory) and returns it."""
    basetemp, tmpdir, probe = project / "basetemp", project / "tmp", project / "probe"
    tmpdir.mkdir()
    probe.mkdir()
    (project / "ptc_probe.py").write_text(PROBE_PLUGIN)
    (project / "reverse_order.py").write_text(REVERSE_PLUGIN)
    (project / "conftest.py").write_text(RUN_ID_CONFTEST)
    report_dir = project / "report"
    env = {
        **os.environ,
        "PTC_PROBE_DIR": str(probe),
        # The PKI stages keys for ssl in the system temp dir: give the run its own.
        "TMPDIR": str(tmpdir),
        "PYTEST_TRAEFIK_CACHE_DIR": str(default_cache_dir()),
    }
    started = time.time()
    with CreateWatcher() as watcher:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--pyargs",
                "pytest_traefik_compat.suite",
                "-p",
                "ptc_probe",
                "-p",
                "reverse_order",
                "-p",
                "no:cacheprovider",
                "-v",
                f"--traefik-images={','.join(BASES)}",
                "--traefik-profile=full",
                f"--traefik-samples={SAMPLES}",
                f"--traefik-handshakes={HANDSHAKES}",
                f"--traefik-overhead-requests={OVERHEAD_REQUESTS}",
                f"--traefik-report-dir={report_dir}",
                f"--basetemp={basetemp}",
            ],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
    seconds = time.time() - started
    if done.returncode != 0:
        pytest.fail(
            f"the reference run exited {done.returncode}:\n"
            + done.stdout[-4000:]
            + done.stderr[-2000:],
            pytrace=False,
        )
    run_id = (project / ".ptc-run-id").read_text().strip()
    ca = json.loads((probe / "ca.json").read_text())
    points = [
        point_of(x509.load_pem_x509_certificate(pem.encode()).public_key()) for pem in ca.values()
    ]
    document, _records = load_report(report_dir / "report.json")
    # Other tests may run on the engine meanwhile: keep this run's containers only.
    created = [e for e in watcher.created if labels_of(e).get(engine.LABEL_RUN) == run_id]
    ours = {e["Actor"]["ID"] for e in created}
    return ReferenceRun(
        project=project,
        basetemp=basetemp,
        tmpdir=tmpdir,
        returncode=done.returncode,
        stdout=done.stdout,
        stderr=done.stderr,
        document=document,
        created=created,
        made=[r["id"] for r in _jsonl(probe / "created.jsonl")],
        seen={ident: seen for ident, seen in watcher.seen.items() if ident in ours},
        keys=_jsonl(probe / "keys.jsonl"),
        ca_points=points,
        run_id=run_id,
        started=started,
        seconds=seconds,
    )
