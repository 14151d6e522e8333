"""A lint for a team's own Traefik v3 configuration: the mTLS traps users hit in production.

Reads static and dynamic files (YAML or TOML, file provider layout) together and reports
nine classes of finding, each proven against the real Traefik binary in
``tests/tools/test_traefik_lint.py`` and ``tests/tools/test_traefik_lint_keys.py``
(Traefik 3.7.15):

- ``no-host-rule``: a TLS router with its own TLS option and no ``Host()``/``HostSNI()``
  in its rule gets the ``default`` option instead (Traefik only logs an error line). Seen:
  a client without a certificate gets 200 from a router whose option requires one.
- ``shared-host-options``: routers sharing a host with different TLS options all fall
  back to ``default``. Seen: a client without a certificate gets 200.
- ``weak-default``: the ``default`` option (what no-SNI and unknown-SNI connections get)
  is weaker than a router's (lower minVersion, weaker client auth; a missing ``default``
  is Traefik's built-in: TLS 1.2, no client auth). Seen: without SNI the handshake
  completes with no client certificate at all.
- ``sni-strict-no-certificate``: ``sniStrict`` with no certificate under
  ``tls.certificates`` (a store's ``defaultCertificate`` does not count). Seen: every
  handshake, valid client included, ends in ``unrecognized_name``.
- ``client-auth-ca-files``: ``clientAuth`` that verifies certificates with ``caFiles``
  missing, empty or unreadable. Seen: the TLS config fails to build and every handshake
  on the router ends with a bare EOF (an outage, logged once).
- ``min-version-below-tls12``: ``minVersion`` TLS 1.0 or 1.1. Seen: a TLS 1.1 client
  gets 200.
- ``unknown-key``: a key Traefik's configuration structure does not have, found by the
  bundled binary itself (:mod:`.lint_keys`). Seen: a static file makes Traefik refuse to
  start; a dynamic file is dropped whole and its routers are gone while Traefik runs on.
- ``docker-socket``: the Docker (or Swarm) provider on the engine's socket. Seen: Traefik
  speaks the Engine API on the socket it is given.
- ``api-insecure``: ``api.insecure: true``. Seen: an unauthenticated GET of
  ``/api/rawdata`` returns 200 and the whole configuration.

Files named in the configuration (``caFiles``) are checked where they will be:
``path_map`` maps a path inside Traefik's container to one on this machine; an absolute
path neither mapped nor present here is a note ("not checked here"), not a finding,
unless ``strict_files``. Relative paths resolve against the config file's directory.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.gateway import lint_keys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 reads TOML only with tomli installed
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None

__all__ = [
    "API_INSECURE",
    "CLIENT_AUTH_CA_FILES",
    "DOCKER_SOCKET",
    "FINDING_CLASSES",
    "MIN_VERSION_BELOW_TLS12",
    "NO_HOST_RULE",
    "SHARED_HOST_OPTIONS",
    "SNI_STRICT_NO_CERTIFICATE",
    "UNKNOWN_KEY",
    "WEAK_DEFAULT",
    "Finding",
    "Findings",
    "PathMapArg",
    "lint_command",
    "lint_config",
    "lint_paths",
    "parse_path_map",
]

NO_HOST_RULE = "no-host-rule"
SHARED_HOST_OPTIONS = "shared-host-options"
WEAK_DEFAULT = "weak-default"
SNI_STRICT_NO_CERTIFICATE = "sni-strict-no-certificate"
CLIENT_AUTH_CA_FILES = "client-auth-ca-files"
MIN_VERSION_BELOW_TLS12 = "min-version-below-tls12"
UNKNOWN_KEY = "unknown-key"
DOCKER_SOCKET = "docker-socket"
API_INSECURE = "api-insecure"
FINDING_CLASSES = (
    NO_HOST_RULE,
    SHARED_HOST_OPTIONS,
    WEAK_DEFAULT,
    SNI_STRICT_NO_CERTIFICATE,
    CLIENT_AUTH_CA_FILES,
    MIN_VERSION_BELOW_TLS12,
    UNKNOWN_KEY,
    DOCKER_SOCKET,
    API_INSECURE,
)
# CONTAINER_PATH -> LOCAL_PATH, as a mapping or as "CONTAINER_PATH=LOCAL_PATH" strings.
PathMapArg = Mapping[str, str | Path] | Sequence[str] | None

DEFAULT = "default"
_SUFFIXES = (".yml", ".yaml", ".toml")
_VERSIONS = {"VersionTLS10": 10, "VersionTLS11": 11, "VersionTLS12": 12, "VersionTLS13": 13}
_CLIENT_AUTH = {
    "NoClientCert": 0,
    "RequestClientCert": 1,
    "RequireAnyClientCert": 2,
    "VerifyClientCertIfGiven": 3,
    "RequireAndVerifyClientCert": 4,
}
_VERIFYING = {"VerifyClientCertIfGiven", "RequireAndVerifyClientCert"}
# Traefik's built-in default option: Go's defaults, TLS 1.2 and no client certificate.
_BUILTIN_DEFAULT: dict[str, Any] = {"minVersion": "VersionTLS12"}
# The Docker and Swarm providers' endpoint when none is given.
_DOCKER_DEFAULT_ENDPOINT = "unix:///var/run/docker.sock"
# Endpoints that are the engine's own socket (a proxy is reached over tcp://).
_SOCKET_SCHEMES = ("unix://", "npipe://")
# Host(`a`) / HostSNI(`a`) with backticks or quotes; v2's Host(`a`, `b`) lists too.
_HOST_CALL_RE = re.compile(r"\b(Host|HostSNI)\s*\(([^)]*)\)")
_HOST_ARG_RE = re.compile(r"[`\"']([^`\"']+)[`\"']")


@dataclass(frozen=True)
class Finding:
    code: str
    file: str
    router: str  # a router name, or "tls.options.<name>" where no router is to blame
    why: str
    fix: str

    def line(self) -> str:
        return f"{self.file}: {self.router}: [{self.code}] {self.why}\n    fix: {self.fix}"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class Findings(list[Finding]):
    """The findings of one lint, printed one finding per entry (``Finding.line()``), so
    ``assert not findings, findings`` and a failing test show the readable text.
    ``notes`` lists what was not checked here (e.g. a caFile only Traefik's container
    has); notes never fail a lint."""

    notes: list[str]

    def __init__(self, findings: Iterable[Finding] = (), notes: Iterable[str] = ()) -> None:
        super().__init__(findings)
        self.notes = list(notes)

    def __str__(self) -> str:
        return "\n".join(f.line() for f in self)

    def __repr__(self) -> str:
        return str(self) if self else "no findings"


@dataclass
class _Router:
    name: str
    file: str
    rule: str
    entry_points: list[str] | None  # None: every entry point (Traefik's default)
    tls: Mapping[str, Any] | None
    kind: str  # "http" or "tcp"

    @property
    def option(self) -> str:
        name = str((self.tls or {}).get("options") or DEFAULT)
        return name.split("@", 1)[0]

    @property
    def hosts(self) -> list[str]:
        found: list[str] = []
        for match in _HOST_CALL_RE.finditer(self.rule):
            found += [h.lower() for h in _HOST_ARG_RE.findall(match.group(2))]
        return found


@dataclass
class _Config:
    routers: list[_Router] = field(default_factory=list)
    options: dict[str, tuple[str, Mapping[str, Any]]] = field(default_factory=dict)
    certificates: int = 0
    tls_entry_points: set[str] | None = None  # None: no static configuration was given
    entry_points: set[str] = field(default_factory=set)
    statics: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    path_map: list[tuple[PurePosixPath, Path]] = field(default_factory=list)
    strict_files: bool = False
    notes: list[str] = field(default_factory=list)


def _load(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CompatError(f"cannot read {path}: {error}") from None
    try:
        if path.suffix == ".toml":
            if tomllib is None:
                raise CompatError(f"{path}: reading TOML on Python 3.10 needs tomli")
            return tomllib.loads(text)
        return yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        kind = "TOML" if path.suffix == ".toml" else "YAML"
        raise CompatError(f"{path} is not valid {kind}: {error}") from None


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in _SUFFIXES and p.is_file())
        elif path.exists():
            files.append(path)
        else:
            raise CompatError(f"no such file or directory: {path}")
    if not files:
        raise CompatError("no Traefik configuration files given (YAML or TOML)")
    return files


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _add(config: _Config, data: Mapping[str, Any], file: str) -> None:
    entry_points = _mapping(data.get("entryPoints"))
    if entry_points or "providers" in data:  # static configuration
        config.statics.append((file, data))
        config.tls_entry_points = config.tls_entry_points or set()
        for name, entry in entry_points.items():
            config.entry_points.add(str(name))
            if "tls" in _mapping(_mapping(entry).get("http")):
                config.tls_entry_points.add(str(name))
    for kind in ("http", "tcp"):
        for name, router in _mapping(_mapping(data.get(kind)).get("routers")).items():
            router = _mapping(router)
            eps = router.get("entryPoints")
            tls = router.get("tls")
            config.routers.append(
                _Router(
                    name=str(name),
                    file=file,
                    rule=str(router.get("rule") or ""),
                    entry_points=[str(e) for e in eps] if isinstance(eps, list) else None,
                    tls=_mapping(tls) if tls is not None else None,
                    kind=kind,
                )
            )
    tls = _mapping(data.get("tls"))
    for name, option in _mapping(tls.get("options")).items():
        config.options[str(name)] = (file, _mapping(option))
    certificates = tls.get("certificates")
    if isinstance(certificates, list):
        config.certificates += len(certificates)


def _is_tls(router: _Router, config: _Config) -> bool:
    if router.tls is not None:
        return True
    if config.tls_entry_points is None:
        return False
    eps = router.entry_points if router.entry_points is not None else config.entry_points
    return bool(set(eps) & config.tls_entry_points)


def _option(config: _Config, name: str) -> Mapping[str, Any]:
    if name in config.options:
        return config.options[name][1]
    return _BUILTIN_DEFAULT if name == DEFAULT else {}


def _min_version(option: Mapping[str, Any]) -> int:
    return _VERSIONS.get(str(option.get("minVersion") or "VersionTLS12"), 12)


def _client_auth(option: Mapping[str, Any]) -> tuple[str, int]:
    kind = str(_mapping(option.get("clientAuth")).get("clientAuthType") or "NoClientCert")
    return kind, _CLIENT_AUTH.get(kind, 0)


def _option_findings(config: _Config, routers: Sequence[_Router]) -> list[Finding]:
    findings: list[Finding] = []
    users: dict[str, list[str]] = {}
    for router in routers:
        users.setdefault(router.option, []).append(router.name)
    for name, (file, option) in sorted(config.options.items()):
        who = ", ".join(users.get(name, [])) or f"tls.options.{name}"
        version = str(option.get("minVersion") or "")
        if _min_version(option) < 12:
            findings.append(
                Finding(
                    MIN_VERSION_BELOW_TLS12,
                    file,
                    who,
                    f"TLS option {name!r} has minVersion {version}: TLS 1.0/1.1 clients get in",
                    f"set tls.options.{name}.minVersion to VersionTLS12 (or VersionTLS13)",
                )
            )
        if option.get("sniStrict") and config.certificates == 0:
            findings.append(
                Finding(
                    SNI_STRICT_NO_CERTIFICATE,
                    file,
                    who,
                    f"TLS option {name!r} sets sniStrict but no certificate is listed under "
                    "tls.certificates (a store's defaultCertificate does not count): every "
                    "handshake ends in unrecognized_name",
                    "list the server certificate under tls.certificates (certFile, keyFile)",
                )
            )
        auth = _mapping(option.get("clientAuth"))
        kind, _ = _client_auth(option)
        if auth and kind in _VERIFYING:
            ca_files = auth.get("caFiles")
            problem = ""
            if not ca_files:
                problem = f"clientAuthType {kind} with no caFiles"
            else:
                unreadable: list[str] = []
                for ca in ca_files if isinstance(ca_files, list) else [ca_files]:
                    if str(ca).lstrip().startswith("-----BEGIN"):
                        continue
                    state = _file_state(str(ca), file, config)
                    if state is None:
                        config.notes.append(
                            f"{file}: tls.options.{name}: caFiles {ca} not checked here "
                            "(absent on this machine and not mapped with --path-map)"
                        )
                    elif state:
                        unreadable.append(state)
                if unreadable:
                    problem = f"caFiles not readable: {', '.join(unreadable)}"
            if problem:
                findings.append(
                    Finding(
                        CLIENT_AUTH_CA_FILES,
                        file,
                        who,
                        f"TLS option {name!r}: {problem}; Traefik cannot build the TLS config "
                        "and every handshake on it ends without an answer",
                        f"point tls.options.{name}.clientAuth.caFiles at the CA bundle that "
                        "issues your clients, readable where Traefik runs",
                    )
                )
    return findings


def parse_path_map(value: PathMapArg) -> list[tuple[PurePosixPath, Path]]:
    """``{"/certs": "deploy/certs"}`` or ``["/certs=deploy/certs"]`` as (container path,
    local path) pairs, longest container path first. Raises CompatError on a bad entry."""
    if value is None:
        return []
    pairs: list[tuple[str, str | Path]] = []
    if isinstance(value, Mapping):
        pairs = [(str(k), v) for k, v in value.items()]
    else:
        for entry in [value] if isinstance(value, str) else value:
            inside, sep, here = str(entry).partition("=")
            if not sep or not inside or not here:
                raise CompatError(f"--path-map {entry!r}: expected CONTAINER_PATH=LOCAL_PATH")
            pairs.append((inside, here))
    out: list[tuple[PurePosixPath, Path]] = []
    for container, local in pairs:
        if not PurePosixPath(container).is_absolute():
            raise CompatError(f"--path-map {container}: the container path must be absolute")
        out.append((PurePosixPath(container), Path(local)))
    return sorted(out, key=lambda pair: len(pair[0].parts), reverse=True)


def _readable(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            handle.read(1)
        return True
    except OSError:
        return False


def _file_state(name: str, config_file: str, config: _Config) -> str | None:
    """'' when the file is readable where it will be, a description when it is not,
    None when it cannot be checked here (absolute, unmapped, absent, not strict)."""
    inside = PurePosixPath(name)
    if not inside.is_absolute():
        local = Path(config_file).parent / name
        return "" if _readable(local) else f"{name} (relative to {config_file}: {local})"
    for container, mapped in config.path_map:
        if inside == container or container in inside.parents:
            local = mapped / inside.relative_to(container)
            return "" if _readable(local) else f"{name} (mapped to {local})"
    if _readable(Path(name)):
        return ""
    if Path(name).exists():
        return f"{name} (not readable on this machine)"
    if config.strict_files:
        return f"{name} (absent on this machine and not mapped with --path-map)"
    return None


def _get_folded(data: Any, *keys: str) -> Any:
    """data[k1][k2]... with Traefik's case-insensitive key match; None when absent."""
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = next((v for k, v in data.items() if str(k).lower() == key.lower()), None)
    return data


def _static_findings(config: _Config) -> list[Finding]:
    findings: list[Finding] = []
    for file, data in config.statics:
        for provider in ("docker", "swarm"):
            section = _get_folded(data, "providers", provider)
            if section is None or section is False:
                continue
            endpoint = str(_get_folded(section, "endpoint") or _DOCKER_DEFAULT_ENDPOINT)
            if not endpoint.startswith(_SOCKET_SCHEMES):
                continue
            default = "" if _get_folded(section, "endpoint") else " (the default)"
            findings.append(
                Finding(
                    DOCKER_SOCKET,
                    file,
                    f"providers.{provider}",
                    f"the {provider} provider talks to the engine on {endpoint}{default}: the "
                    "Engine API on that socket runs any container with any mount, so whoever "
                    "takes Traefik takes the host",
                    f"point providers.{provider}.endpoint at a socket proxy that allows only "
                    "read-only container listing (tcp://socket-proxy:2375), or use the file "
                    "provider",
                )
            )
        if _get_folded(data, "api", "insecure") is True:
            findings.append(
                Finding(
                    API_INSECURE,
                    file,
                    "api.insecure",
                    "api.insecure: true serves the API and dashboard on the 'traefik' entry "
                    "point (port 8080 unless set) without authentication: anyone who reaches "
                    "it reads every router, service, middleware and TLS option",
                    "remove api.insecure and route to api@internal through a router with "
                    "authentication (a middleware, or mTLS), on an entry point only admins reach",
                )
            )
    return findings


def _key_findings(check: lint_keys.KeyCheck) -> list[Finding]:
    findings: list[Finding] = []
    for key in check.keys:
        leaf = key.path.rsplit(".", 1)[-1]
        if key.kind == lint_keys.STATIC:
            what = (
                f"Traefik's static configuration has no key {key.path}: Traefik refuses to "
                f"start (command traefik error: {key.message})"
            )
        else:
            what = (
                f"Traefik's dynamic configuration has no key {key.path}: the file provider "
                f"logs '{key.message}' and drops the whole file (with providers.file.directory "
                "every file of the directory), so every router in it disappears while "
                "Traefik runs on"
            )
        findings.append(
            Finding(
                UNKNOWN_KEY,
                key.file,
                key.path,
                what,
                f"remove {leaf!r} or spell it as Traefik's v3 reference does (keys are checked "
                "by the bundled Traefik binary)",
            )
        )
    return findings


def lint_config(config: _Config) -> list[Finding]:
    routers = [r for r in config.routers if _is_tls(r, config)]
    findings: list[Finding] = []
    for router in routers:
        if not router.hosts and router.option != DEFAULT:
            matcher = "HostSNI" if router.kind == "tcp" else "Host"
            findings.append(
                Finding(
                    NO_HOST_RULE,
                    router.file,
                    router.name,
                    f"rule {router.rule!r} has no {matcher}(): Traefik cannot tie it to an SNI "
                    f"and serves it with the 'default' TLS option, not {router.option!r}",
                    f"add {matcher}(`your.host`) to the rule (or make {router.option!r} the "
                    "default option)",
                )
            )
    by_host: dict[str, list[_Router]] = {}
    for router in routers:
        for host in router.hosts:
            by_host.setdefault(host, []).append(router)
    for host, sharing in sorted(by_host.items()):
        options = sorted({r.option for r in sharing})
        if len(options) > 1:
            for router in sharing:
                findings.append(
                    Finding(
                        SHARED_HOST_OPTIONS,
                        router.file,
                        router.name,
                        f"host {host} is shared by routers with different TLS options "
                        f"({', '.join(options)}): all of them fall back to 'default'",
                        f"give every router of {host} the same tls.options (TLS options are "
                        "chosen per host, by SNI)",
                    )
                )
    default_file, default = config.options.get(DEFAULT, ("(built-in)", _BUILTIN_DEFAULT))
    default_version = _min_version(default)
    default_auth, default_rank = _client_auth(default)
    seen: set[str] = set()
    for router in routers:
        if router.option == DEFAULT or router.option in seen:
            continue
        option = _option(config, router.option)
        weaker: list[str] = []
        if default_version < _min_version(option):
            weaker.append(
                f"minVersion TLS1.{default_version - 10} < TLS1.{_min_version(option) - 10}"
            )
        kind, rank = _client_auth(option)
        if default_rank < rank:
            weaker.append(f"clientAuth {default_auth} < {kind}")
        if weaker:
            seen.add(router.option)
            names = ", ".join(r.name for r in routers if r.option == router.option)
            findings.append(
                Finding(
                    WEAK_DEFAULT,
                    router.file,
                    names,
                    f"the 'default' TLS option ({default_file}) is weaker than "
                    f"{router.option!r} ({'; '.join(weaker)}), and connections without SNI "
                    "or with an unknown one get 'default'",
                    f"make tls.options.default as strict as {router.option!r} (and set sniStrict)",
                )
            )
    findings += _option_findings(config, routers)
    findings += _static_findings(config)
    return findings


def lint_paths(
    paths: Iterable[str | Path],
    *,
    path_map: PathMapArg = None,
    strict_files: bool = False,
    check_keys: bool = True,
) -> Findings:
    """Lint Traefik configuration files (static and dynamic, YAML or TOML; directories
    are read recursively) as one configuration. Raises CompatError on unreadable input.

    Args:
        paths: files or directories.
        path_map: container path -> local path, for the files the configuration names
            (``{"/certs": "deploy/certs"}`` or ``["/certs=deploy/certs"]``).
        strict_files: an absolute path neither mapped nor present is a finding, not a note.
        check_keys: run the bundled Traefik binary for ``unknown-key`` (the other classes
            need no binary).
    """
    config = _Config(path_map=parse_path_map(path_map), strict_files=strict_files)
    parsed: list[tuple[str, Mapping[str, Any]]] = []
    for path in _expand(paths):
        data = _load(path)
        if data is None:
            continue
        if not isinstance(data, Mapping):
            raise CompatError(f"{path}: a Traefik configuration is a mapping at the top level")
        _add(config, data, str(path))
        parsed.append((str(path), data))
    findings = lint_config(config)
    if check_keys:
        check = lint_keys.unknown_keys(parsed, lint_keys.binary_or_error())
        findings = _key_findings(check) + findings
        config.notes += check.notes
    return Findings(findings, config.notes)


def lint_command(
    paths: Sequence[str],
    fmt: str = "text",
    *,
    path_map: PathMapArg = None,
    strict_files: bool = False,
) -> tuple[str, str, int]:
    """``python -m pytest_traefik_compat lint-traefik FILE...``: (output, notes for
    stderr, exit code). Exit 0 without findings, 1 with findings (2, unreadable input,
    comes from the CLI); notes never change the exit code."""
    import json

    findings = lint_paths(paths, path_map=path_map, strict_files=strict_files)
    notes = "".join(f"note: {note}\n" for note in findings.notes)
    if fmt == "json":
        out = json.dumps([f.as_dict() for f in findings], indent=2) + "\n"
        return out, notes, int(bool(findings))
    if not findings:
        return "no findings\n", notes, 0
    lines = [f.line() for f in findings]
    lines.append(f"{len(findings)} finding(s)")
    return "\n".join(lines) + "\n", notes, 1
